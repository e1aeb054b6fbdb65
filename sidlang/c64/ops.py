"""What the 6510 loop dispatches on: operation and addressing-mode codes, the per-opcode
tables of what each operation reads and writes (and on which cycles), and ADC/SBC with NMOS
decimal mode. :mod:`sidlang.c64.opcodes` is the instruction table itself, shared with the
assembler; this module turns it into the integer codes the compiled loop (:mod:`cpu`) compares.
"""

from __future__ import annotations

import numpy as np

from sidlang.c64.jit import njit
from sidlang.c64.opcodes import CYCLES, MODE, MODES, OP, op_code

_OP = OP
_MODE = MODE
_CYC = CYCLES

# Mode codes.
M_IMPL, M_ACC, M_IMM, M_ZP, M_ZPX, M_ZPY, M_ABS, M_ABSX, M_ABSY, M_IND, M_INDX, M_INDY, M_REL = (
    MODES.index(m) for m in MODES
)
# Operation codes the loop dispatches on.
(
    ADC,
    AND,
    ASL,
    BCC,
    BCS,
    BEQ,
    BIT,
    BMI,
    BNE,
    BPL,
    BRK,
    BVC,
    BVS,
    CLC,
    CLD,
    CLI,
    CLV,
    CMP,
    CPX,
    CPY,
    DEC,
    DEX,
    DEY,
    EOR,
    INC,
    INX,
    INY,
    JMP,
    JSR,
    LDA,
    LDX,
    LDY,
    LSR,
    NOP,
    ORA,
    PHA,
    PHP,
    PLA,
    PLP,
    ROL,
    ROR,
    RTI,
    RTS,
    SBC,
    SEC,
    SED,
    SEI,
    STA,
    STX,
    STY,
    TAX,
    TAY,
    TSX,
    TXA,
    TXS,
    TYA,
    ALR,
    ANC,
    ANE,
    ARR,
    DCP,
    ISC,
    JAM,
    LAS,
    LAX,
    LXA,
    RLA,
    RRA,
    SAX,
    SBX,
    SHA,
    SHX,
    SHY,
    SLO,
    SRE,
    TAS,
) = range(76)
assert TAS == op_code("TAS")
#: Operations whose value is read from memory (the others only write, or use no operand).
READS = np.zeros(76, dtype=np.int64)
for _o in (
    ADC,
    AND,
    BIT,
    CMP,
    CPX,
    CPY,
    EOR,
    LDA,
    LDX,
    LDY,
    ORA,
    SBC,
    LAX,
    LAS,
    ANC,
    ALR,
    ARR,
    ANE,
    LXA,
    SBX,
):
    READS[_o] = 1
RMW = np.zeros(76, dtype=np.int64)
for _o in (ASL, LSR, ROL, ROR, INC, DEC, SLO, RLA, SRE, RRA, DCP, ISC):
    RMW[_o] = 1

#: Per opcode, the cycles that write (index of the first, count), which a bad line does not
#: stop: the VIC-II pulls BA three cycles before it takes the bus, and the 6510 halts only on
#: a read. Stores write on their last cycle, read-modify-writes on their last two, PHA/PHP on
#: their third, JSR pushes on its fourth and fifth, BRK on its third to fifth.
WRITE_FROM = np.zeros(256, dtype=np.int64)
WRITE_COUNT = np.zeros(256, dtype=np.int64)
for _c in range(256):
    _o, _m, _n = _OP[_c], _MODE[_c], _CYC[_c]
    if _o in (STA, STX, STY, SAX, SHA, SHX, SHY, TAS):
        WRITE_FROM[_c], WRITE_COUNT[_c] = _n - 1, 1
    elif RMW[_o] and _m != M_ACC:
        WRITE_FROM[_c], WRITE_COUNT[_c] = _n - 2, 2
    elif _o in (PHA, PHP):
        WRITE_FROM[_c], WRITE_COUNT[_c] = 2, 1
    elif _o == JSR:
        WRITE_FROM[_c], WRITE_COUNT[_c] = 3, 2
    elif _o == BRK:
        WRITE_FROM[_c], WRITE_COUNT[_c] = 2, 3


@njit
def adc(a, v, c, d):
    """(a, carry, zero, negative, overflow) after ADC, binary or NMOS decimal."""
    if not d:
        s = a + v + c
        r = s & 0xFF
        return r, 1 if s > 0xFF else 0, 1 if r == 0 else 0, r >> 7, 1 if (~(a ^ v) & (a ^ s) & 0x80) else 0
    t = (a & 0xF) + (v & 0xF) + c
    if t > 9:
        t += 6
    if t <= 0x0F:
        t = (t & 0xF) + (a & 0xF0) + (v & 0xF0)
    else:
        t = (t & 0xF) + (a & 0xF0) + (v & 0xF0) + 0x10
    z = 1 if ((a + v + c) & 0xFF) == 0 else 0
    n = (t >> 7) & 1
    ov = 1 if ((a ^ t) & 0x80) and not ((a ^ v) & 0x80) else 0
    if (t & 0x1F0) > 0x90:
        t += 0x60
    return t & 0xFF, 1 if (t & 0xFF0) > 0xF0 else 0, z, n, ov


@njit
def sbc(a, v, c, d):
    """(a, carry, zero, negative, overflow) after SBC, binary or NMOS decimal."""
    s = a - v - (1 - c)
    r = s & 0xFF
    carry = 1 if s >= 0 else 0
    ov = 1 if ((a ^ s) & 0x80) and ((a ^ v) & 0x80) else 0
    if not d:
        return r, carry, 1 if r == 0 else 0, r >> 7, ov
    t = (a & 0xF) - (v & 0xF) - (1 - c)
    if t & 0x10:
        t = ((t - 6) & 0xF) | ((a & 0xF0) - (v & 0xF0) - 0x10)
    else:
        t = (t & 0xF) | ((a & 0xF0) - (v & 0xF0))
    if t & 0x100:
        t -= 0x60
    return t & 0xFF, carry, 1 if r == 0 else 0, r >> 7, ov


#: Opcodes of an absolute read whose only effect is on registers or flags, the same for the
#: same value read: LDA LDX LDY CMP CPX CPY BIT.
POLL_READ = np.zeros(256, dtype=np.int64)
for _c in (0xAD, 0xAE, 0xAC, 0xCD, 0xEC, 0xCC, 0x2C):
    POLL_READ[_c] = 1
