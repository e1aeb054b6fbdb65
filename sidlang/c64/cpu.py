"""The NMOS 6510 core: one compiled loop over integer state, every opcode, exact cycle counts.

:func:`execute` runs from the state in ``cpu`` until something the caller must see happens
(see the ``ST_*`` codes) and stores the state back. Two modes:

* *call* (``free == 0``): a subroutine (PSID init or play) runs with interrupts ignored, the
  way a player's own interrupt handler calls it; it ends when an ``RTS`` lifts the stack pointer
  back to ``stop_sp``, or fails at ``until`` (the per-call cycle budget).
* *free* (``free == 1``): the machine runs as a C64 does: IRQs (VIC raster, CIA 1) and NMIs
  (CIA 2) are taken through the vectors at ``$FFFE``/``$FFFA`` as banked in, until cycle
  ``until``. ``cpu[IDLE]`` set means the main program has ended and the CPU only waits for
  interrupts; an ``RTI`` that brings the stack back to where the interrupt found it returns to
  waiting. Waiting, and a tune's own ``JMP *`` or branch-to-itself loop, skip straight to the
  next device event instead of spinning.
* *driver* (``free == 2``): a PSID's play routine is called again and again, as *call* runs
  it, on the tick grid, without returning to Python in between (``drv``, layout ``D_*``): each
  call starts ``drv[D_PERIOD]`` cycles after the last one started (CIA 1's latch + 1 for CIA
  songs, read again after every call), or when the last one returned if that is later; ``$01``
  is set to ``drv[D_IOMAP]``; the start is logged in ``irqlog``. Each call has
  ``drv[D_BUDGET]`` cycles; no call starts at or after ``until``.

The cycle an instruction's memory access lands on is its last (stores, reads of I/O); a
read-modify-write writes twice (the unchanged value, then the new one), as the chip does and as
VICE logs it, which is what makes ``INC $D019`` acknowledge a raster interrupt.

numba caches the compiled loop under this file's time stamp alone, yet :mod:`bus` and
:mod:`voice3` are compiled into it: after changing only those, delete
``sidlang/c64/__pycache__/*.nb?`` (or change this file) or the old devices are reused.
"""

from __future__ import annotations

import numpy as np

from sidlang.c64 import bus
from sidlang.c64.jit import njit, njit_inline
from sidlang.c64.opcodes import CYCLES, EXTRA, MODE, MODES, OP, op_code

# cpu[] layout
A, X, Y, SP, PC, P, CLK, IDLE, IDLE_SP, JAM_PC = range(10)
CPU_SIZE = 10

ST_RETURNED = 0  #: the called routine returned (or init ended, in free mode)
ST_UNTIL = 1  #: the clock reached ``until``
ST_JAM = 2  #: a JAM opcode halted the CPU at cpu[JAM_PC]
ST_LOGFULL = 3  #: the write log is full; grow it and call again
ST_HANG = 4  #: a call spins in a loop to itself with interrupts ignored
ST_UNSUPPORTED = 5  #: the tune programmed a device feature that is not emulated
ST_BUDGET = 6  #: driver mode: a play call did not return within its budget
ST_TOOFAST = 7  #: driver mode: the tick is below drv[D_MINPERIOD], or drv[D_MAXCALLS] calls were made
ST_EVFULL = 8  #: driver mode: the call log (irqlog) is full; grow it and call again
ST_TOOMANY = 9  #: free mode: more interrupts than dev[EV_PER_FRAME] a video frame

# drv[] layout (driver mode)
(
    D_PLAY,
    D_IOMAP,
    D_CIA,
    D_PERIOD,
    D_BUDGET,
    D_NCALLS,
    D_REGULAR,
    D_START,
    D_PENDING,
    D_MINPERIOD,
    D_MAXCALLS,
) = range(11)
DRV_SIZE = 11

_OP = OP
_MODE = MODE
_CYC = CYCLES
_EXTRA = EXTRA

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
_READS = np.zeros(76, dtype=np.int64)
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
    _READS[_o] = 1
_RMW = np.zeros(76, dtype=np.int64)
for _o in (ASL, LSR, ROL, ROR, INC, DEC, SLO, RLA, SRE, RRA, DCP, ISC):
    _RMW[_o] = 1

#: Per opcode, the cycles that write (index of the first, count), which a bad line does not
#: stop: the VIC-II pulls BA three cycles before it takes the bus, and the 6510 halts only on
#: a read. Stores write on their last cycle, read-modify-writes on their last two, PHA/PHP on
#: their third, JSR pushes on its fourth and fifth, BRK on its third to fifth.
_WS = np.zeros(256, dtype=np.int64)
_WN = np.zeros(256, dtype=np.int64)
for _c in range(256):
    _o, _m, _n = _OP[_c], _MODE[_c], _CYC[_c]
    if _o in (STA, STX, STY, SAX, SHA, SHX, SHY, TAS):
        _WS[_c], _WN[_c] = _n - 1, 1
    elif _RMW[_o] and _m != M_ACC:
        _WS[_c], _WN[_c] = _n - 2, 2
    elif _o in (PHA, PHP):
        _WS[_c], _WN[_c] = 2, 1
    elif _o == JSR:
        _WS[_c], _WN[_c] = 3, 2
    elif _o == BRK:
        _WS[_c], _WN[_c] = 2, 3


@njit_inline
def _rd(addr, t, ram, rom, pmap, io, dev) -> int:
    k = pmap[addr >> 8]
    if k == bus.P_RAM:
        return np.int64(ram[addr])
    if k == bus.P_ZERO:
        if addr == 0:
            return dev[bus.PORT_DDR]
        if addr == 1:
            return (dev[bus.PORT_DATA] & dev[bus.PORT_DDR]) | (0x17 & ~dev[bus.PORT_DDR] & 0xFF)
        return np.int64(ram[addr])
    if k == bus.P_ROM:
        return np.int64(rom[addr])
    return bus.io_read(addr, t, io, dev)


@njit_inline
def _wr(addr, v, t, ram, pmap, io, dev, log_clk, log_addr, log_val) -> None:
    if addr < 2:
        if addr == 0:
            dev[bus.PORT_DDR] = v
        else:
            dev[bus.PORT_DATA] = v
        ram[addr] = v
        bus.set_banks(pmap, dev)
    elif dev[bus.IO_ON] and 0xD000 <= addr < 0xE000:
        bus.io_write(addr, v, t, io, dev, log_clk, log_addr, log_val)
    else:
        ram[addr] = v


@njit
def _adc(a, v, c, d):
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
def _sbc(a, v, c, d):
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
_POLL_READ = np.zeros(256, dtype=np.int64)
for _c in (0xAD, 0xAE, 0xAC, 0xCD, 0xEC, 0xCC, 0x2C):
    _POLL_READ[_c] = 1


@njit_inline
def _raster_poll_skip(dest, clk, cyc, until, ram, pmap, dev) -> int:
    """Cycles of whole iterations a raster-poll loop can skip: 0 if it is not one.

    The loop is an absolute read of ``$D011``/``$D012`` at ``dest`` (4 cycles, just executed,
    reading at ``clk - 1``) and the taken branch back to it at ``clk`` (``cyc`` cycles). Until
    the raster line changes, or a device event may interrupt, each iteration reads the same
    value and changes nothing, so the result is exactly that of running them.
    """
    if pmap[dest >> 8] != bus.P_RAM or not _POLL_READ[ram[dest]] or not dev[bus.IO_ON]:
        return 0
    addr = np.int64(ram[(dest + 1) & 0xFFFF]) | (np.int64(ram[(dest + 2) & 0xFFFF]) << 8)
    r = addr & 0x3F
    if addr < 0xD000 or addr >= 0xD400 or (r != 0x11 and r != 0x12):
        return 0
    cpl = dev[bus.CPL]
    line_end = clk - 1 - (clk - 1) % cpl + cpl  # the read at clk - 1 saw this line
    period = 4 + cyc
    first_read = clk + cyc + 3
    if first_read >= line_end:
        return 0
    n = (line_end - 1 - first_read) // period + 1
    lim = dev[bus.NEXT_EV]
    if lim > until:
        lim = until
    if lim > dev[bus.BL_NEXT]:
        lim = dev[bus.BL_NEXT]  # a bad line would hold the loop: run through it
    k = (lim - clk - 1) // period
    if k < n:
        n = k
    return n * period if n > 0 else 0


@njit_inline
def _badline(clk, cyc, io, dev, ws, wn) -> int:
    """The clock at which this instruction (from ``clk``, ``cyc`` cycles, of which ``wn`` from
    index ``ws`` write) starts once the bad line it runs into is counted.

    BA falls at the DMA's start ``bl`` and the CPU halts on its first read from then on (writes
    go on for at most three cycles); it goes on at ``bl + BL_LEN``. An instruction that starts
    inside the DMA waits for its end; one that halts on its cycle ``i`` finishes ``cyc - i``
    cycles after the DMA; one whose cycles from ``bl`` on are all writes finishes on time, and
    the next instruction waits instead. Moves ``dev[BL_NEXT]`` on once the CPU has halted."""
    bl = dev[bus.BL_NEXT]
    if clk >= bl + bus.BL_LEN:  # time was skipped past it (waiting for an event)
        bl = bus.next_badline(dev, io, clk)
        dev[bus.BL_NEXT] = bl
        if clk + cyc <= bl:
            return clk
    if clk >= bl:
        clk = bl + bus.BL_LEN
    else:
        i = bl - clk
        while i < cyc and i < bl - clk + 3 and ws <= i < ws + wn:
            i += 1
        if i == cyc:  # it writes through BA's three cycles and ends before the halt
            return clk
        clk = bl + bus.BL_LEN - i
    dev[bus.BL_NEXT] = bus.next_badline(dev, io, bl + bus.BL_LEN)
    return clk


@njit
def execute(
    cpu, ram, rom, pmap, io, dev, log_clk, log_addr, log_val, irqlog, nmilog, free, stop_sp, until, drv
) -> int:
    """Run until a ``ST_*`` condition; returns it. State is read from and written to ``cpu``."""
    a = cpu[A]
    x = cpu[X]
    y = cpu[Y]
    sp = cpu[SP]
    pc = cpu[PC]
    clk = cpu[CLK]
    idle = cpu[IDLE]
    idle_sp = cpu[IDLE_SP]
    p = cpu[P]
    fc, fz, fi, fd, fv, fn = p & 1, (p >> 1) & 1, (p >> 2) & 1, (p >> 3) & 1, (p >> 6) & 1, p >> 7
    logmax = dev[bus.LOGCAP] - 8
    status = ST_UNTIL
    at = -1
    at_clk = -1
    limit = until  # the cycle at which to stop; in driver mode the running call's budget
    pending = 0  # driver mode: the last call returned, the next is to be started
    if free == 2:
        pending = drv[D_PENDING]
        limit = drv[D_START] + drv[D_BUDGET]
    while True:
        if pending:
            sp = stop_sp
            period = drv[D_PERIOD]
            if drv[D_CIA]:
                new = dev[bus.CIA_BASE + bus.T_LATCH] + 1
                if new != period:
                    drv[D_REGULAR] = 0
                    period = new
                    drv[D_PERIOD] = new
            t = drv[D_START] + period
            if clk > t:
                drv[D_REGULAR] = 0
                t = clk
            if t >= until:
                status = ST_UNTIL
                break
            n = drv[D_NCALLS]
            if period < drv[D_MINPERIOD] or n >= drv[D_MAXCALLS]:
                status = ST_TOOFAST
                break
            if n >= dev[bus.EVCAP]:
                status = ST_EVFULL
                break
            irqlog[n] = t
            drv[D_NCALLS] = n + 1
            drv[D_START] = t
            limit = t + drv[D_BUDGET]
            clk = t
            dev[bus.PORT_DATA] = drv[D_IOMAP]
            ram[1] = drv[D_IOMAP]
            bus.set_banks(pmap, dev)
            ram[0x100 | sp] = 0xFF  # the return address $FFFF: the final RTS lifts SP to stop_sp
            ram[0x100 | ((sp - 1) & 0xFF)] = 0xFE
            sp = (sp - 2) & 0xFF
            pc = drv[D_PLAY]
            a = 0
            fi = 1
            at = -1
            pending = 0
        if clk >= limit:
            status = ST_BUDGET if free == 2 else ST_UNTIL
            break
        if dev[bus.NLOG] > logmax:
            status = ST_LOGFULL
            break
        if dev[bus.UNSUPPORTED]:
            status = ST_UNSUPPORTED
            break
        if idle:
            nxt = dev[bus.NEXT_EV]
            clk = until if nxt > until else (nxt if nxt > clk else clk)
            if clk >= dev[bus.NEXT_EV]:
                bus.update(dev, clk)
        else:
            prev_at = at  # the instruction before this one, for the raster-poll skip
            prev_clk = at_clk
            at = pc
            at_clk = clk
            op = _rd(pc, clk, ram, rom, pmap, io, dev)
            o = _OP[op]
            m = _MODE[op]
            cyc = _CYC[op]
            pc = (pc + 1) & 0xFFFF
            ea = 0
            base = 0
            cross = 0
            if m == M_IMPL or m == M_ACC:
                # The second cycle reads the next byte and throws it away; from I/O that read
                # has effects: an RTI stored at $DC0C acknowledges CIA 1 by reading $DC0D.
                if pmap[pc >> 8] == bus.P_IO:
                    _rd(pc, clk + 1, ram, rom, pmap, io, dev)
            elif m == M_IMM:
                ea = pc
                pc = (pc + 1) & 0xFFFF
            elif m == M_ZP:
                ea = _rd(pc, clk, ram, rom, pmap, io, dev)
                pc = (pc + 1) & 0xFFFF
            elif m == M_ABS:
                ea = _rd(pc, clk, ram, rom, pmap, io, dev) | (
                    _rd((pc + 1) & 0xFFFF, clk, ram, rom, pmap, io, dev) << 8
                )
                pc = (pc + 2) & 0xFFFF
            elif m == M_ZPX or m == M_ZPY:
                ea = (_rd(pc, clk, ram, rom, pmap, io, dev) + (x if m == M_ZPX else y)) & 0xFF
                pc = (pc + 1) & 0xFFFF
            elif m == M_ABSX or m == M_ABSY:
                base = _rd(pc, clk, ram, rom, pmap, io, dev) | (
                    _rd((pc + 1) & 0xFFFF, clk, ram, rom, pmap, io, dev) << 8
                )
                ea = (base + (x if m == M_ABSX else y)) & 0xFFFF
                cross = 1 if (base ^ ea) & 0xFF00 else 0
                pc = (pc + 2) & 0xFFFF
            elif m == M_INDY:
                z = _rd(pc, clk, ram, rom, pmap, io, dev)
                base = _rd(z, clk, ram, rom, pmap, io, dev) | (
                    _rd((z + 1) & 0xFF, clk, ram, rom, pmap, io, dev) << 8
                )
                ea = (base + y) & 0xFFFF
                cross = 1 if (base ^ ea) & 0xFF00 else 0
                pc = (pc + 1) & 0xFFFF
            elif m == M_INDX:
                z = (_rd(pc, clk, ram, rom, pmap, io, dev) + x) & 0xFF
                ea = _rd(z, clk, ram, rom, pmap, io, dev) | (
                    _rd((z + 1) & 0xFF, clk, ram, rom, pmap, io, dev) << 8
                )
                pc = (pc + 1) & 0xFFFF
            elif m == M_IND:
                ptr = _rd(pc, clk, ram, rom, pmap, io, dev) | (
                    _rd((pc + 1) & 0xFFFF, clk, ram, rom, pmap, io, dev) << 8
                )
                ea = _rd(ptr, clk, ram, rom, pmap, io, dev) | (
                    _rd((ptr & 0xFF00) | ((ptr + 1) & 0xFF), clk, ram, rom, pmap, io, dev) << 8
                )
                pc = (pc + 2) & 0xFFFF
            elif m == M_REL:
                ea = _rd(pc, clk, ram, rom, pmap, io, dev)
                pc = (pc + 1) & 0xFFFF
            if _EXTRA[op] and cross and m != M_REL:
                cyc += 1
            if clk + cyc > dev[bus.BL_NEXT]:
                clk = _badline(clk, cyc, io, dev, _WS[op], _WN[op])
            t = clk + cyc - 1  # the cycle of the data access
            v = 0
            if _READS[o]:
                v = _rd(ea, t, ram, rom, pmap, io, dev)
            elif _RMW[o]:
                if m == M_ACC:
                    v = a
                else:
                    v = _rd(ea, t, ram, rom, pmap, io, dev)
                    if dev[bus.IO_ON] and 0xD000 <= ea < 0xE000:
                        _wr(ea, v, t - 1, ram, pmap, io, dev, log_clk, log_addr, log_val)
            r = 0
            # -- the operation ------------------------------------------------------------
            if o == LDA or o == LAX:
                a = v
                if o == LAX:
                    x = v
                fz = 1 if v == 0 else 0
                fn = v >> 7
            elif o == STA or o == STX or o == STY or o == SAX:
                w = a if o == STA else (x if o == STX else (y if o == STY else a & x))
                _wr(ea, w, t, ram, pmap, io, dev, log_clk, log_addr, log_val)
            elif o == LDX or o == LDY:
                if o == LDX:
                    x = v
                else:
                    y = v
                fz = 1 if v == 0 else 0
                fn = v >> 7
            elif m == M_REL:  # branches
                if o == BNE:
                    take = fz == 0
                elif o == BEQ:
                    take = fz == 1
                elif o == BCC:
                    take = fc == 0
                elif o == BCS:
                    take = fc == 1
                elif o == BPL:
                    take = fn == 0
                elif o == BMI:
                    take = fn == 1
                elif o == BVC:
                    take = fv == 0
                else:
                    take = fv == 1
                if take:
                    dest = (pc + (ea - 256 if ea > 127 else ea)) & 0xFFFF
                    cyc += 1 + (1 if (dest ^ pc) & 0xFF00 else 0)
                    if clk + cyc > dev[bus.BL_NEXT]:  # the taken branch's own cycles
                        clk = _badline(clk, cyc, io, dev, 0, 0)
                    if dest == at:  # a branch to itself: nothing changes until an interrupt
                        if free != 1:
                            status = ST_HANG
                            break
                        nxt = dev[bus.NEXT_EV]
                        if nxt > until:
                            nxt = until
                        if nxt > clk + cyc:
                            clk += ((nxt - clk) // cyc) * cyc - cyc
                    elif dest == prev_at and dest + 3 == at and prev_clk == clk - 4:
                        clk += _raster_poll_skip(dest, clk, cyc, limit, ram, pmap, dev)
                    pc = dest
            elif o == ADC or o == SBC or o == RRA or o == ISC:
                if o == RRA:
                    r = (v >> 1) | (fc << 7)
                    fc = v & 1
                    _wr(ea, r, t, ram, pmap, io, dev, log_clk, log_addr, log_val)
                    v = r
                elif o == ISC:
                    v = (v + 1) & 0xFF
                    _wr(ea, v, t, ram, pmap, io, dev, log_clk, log_addr, log_val)
                if o == ADC or o == RRA:
                    a, fc, fz, fn, fv = _adc(a, v, fc, fd)
                else:
                    a, fc, fz, fn, fv = _sbc(a, v, fc, fd)
            elif o == AND or o == ORA or o == EOR or o == ANC:
                if o == ORA:
                    a |= v
                elif o == EOR:
                    a ^= v
                else:
                    a &= v
                fz = 1 if a == 0 else 0
                fn = a >> 7
                if o == ANC:
                    fc = fn
            elif o == CMP or o == CPX or o == CPY or o == DCP:
                reg = a
                if o == CPX:
                    reg = x
                elif o == CPY:
                    reg = y
                elif o == DCP:
                    v = (v - 1) & 0xFF
                    _wr(ea, v, t, ram, pmap, io, dev, log_clk, log_addr, log_val)
                d = reg - v
                fc = 1 if d >= 0 else 0
                fz = 1 if d == 0 else 0
                fn = (d >> 7) & 1
            elif _RMW[o]:
                if o == ASL or o == SLO:
                    fc = v >> 7
                    r = (v << 1) & 0xFF
                elif o == LSR or o == SRE:
                    fc = v & 1
                    r = v >> 1
                elif o == ROL or o == RLA:
                    r = ((v << 1) | fc) & 0xFF
                    fc = v >> 7
                elif o == ROR:
                    r = (v >> 1) | (fc << 7)
                    fc = v & 1
                elif o == INC:
                    r = (v + 1) & 0xFF
                else:  # DEC
                    r = (v - 1) & 0xFF
                if m == M_ACC:
                    a = r
                else:
                    _wr(ea, r, t, ram, pmap, io, dev, log_clk, log_addr, log_val)
                if o == SLO:
                    a |= r
                    r = a
                elif o == RLA:
                    a &= r
                    r = a
                elif o == SRE:
                    a ^= r
                    r = a
                fz = 1 if r == 0 else 0
                fn = r >> 7
            elif o == JMP:
                if ea == at and m == M_ABS:  # JMP *: wait for the next device event
                    if free != 1:
                        status = ST_HANG
                        break
                    nxt = dev[bus.NEXT_EV]
                    if nxt > until:
                        nxt = until
                    if nxt > clk + 3:
                        clk += ((nxt - clk) // 3) * 3 - 3
                pc = ea
            elif o == JSR:
                ret = (pc - 1) & 0xFFFF
                ram[0x100 | sp] = ret >> 8
                sp = (sp - 1) & 0xFF
                ram[0x100 | sp] = ret & 0xFF
                sp = (sp - 1) & 0xFF
                pc = ea
            elif o == RTS:
                sp = (sp + 1) & 0xFF
                lo = np.int64(ram[0x100 | sp])
                sp = (sp + 1) & 0xFF
                pc = ((np.int64(ram[0x100 | sp]) << 8) | lo) + 1 & 0xFFFF
                if sp >= stop_sp and not idle:
                    clk += cyc
                    if free == 2:
                        pending = 1
                        continue
                    status = ST_RETURNED
                    break
            elif o == RTI:
                sp = (sp + 1) & 0xFF
                p = np.int64(ram[0x100 | sp])
                fc, fz, fi, fd, fv, fn = p & 1, (p >> 1) & 1, (p >> 2) & 1, (p >> 3) & 1, (p >> 6) & 1, p >> 7
                sp = (sp + 1) & 0xFF
                lo = np.int64(ram[0x100 | sp])
                sp = (sp + 1) & 0xFF
                pc = (np.int64(ram[0x100 | sp]) << 8) | lo
                if idle_sp >= 0 and sp >= idle_sp:
                    idle = 1
                    idle_sp = -1
            elif o == BIT:
                fz = 1 if (a & v) == 0 else 0
                fn = v >> 7
                fv = (v >> 6) & 1
            elif o == INX or o == DEX or o == INY or o == DEY:
                if o == INX:
                    x = r = (x + 1) & 0xFF
                elif o == DEX:
                    x = r = (x - 1) & 0xFF
                elif o == INY:
                    y = r = (y + 1) & 0xFF
                else:
                    y = r = (y - 1) & 0xFF
                fz = 1 if r == 0 else 0
                fn = r >> 7
            elif o == TAX or o == TAY or o == TXA or o == TYA or o == TSX:
                if o == TAX:
                    x = r = a
                elif o == TAY:
                    y = r = a
                elif o == TXA:
                    a = r = x
                elif o == TYA:
                    a = r = y
                else:
                    x = r = sp
                fz = 1 if r == 0 else 0
                fn = r >> 7
            elif o == TXS:
                sp = x
            elif o == PHA or o == PHP:
                ram[0x100 | sp] = (
                    a if o == PHA else (fc | fz << 1 | fi << 2 | fd << 3 | 0x30 | fv << 6 | fn << 7)
                )
                sp = (sp - 1) & 0xFF
            elif o == PLA:
                sp = (sp + 1) & 0xFF
                a = np.int64(ram[0x100 | sp])
                fz = 1 if a == 0 else 0
                fn = a >> 7
            elif o == PLP:
                sp = (sp + 1) & 0xFF
                p = np.int64(ram[0x100 | sp])
                fc, fz, fi, fd, fv, fn = p & 1, (p >> 1) & 1, (p >> 2) & 1, (p >> 3) & 1, (p >> 6) & 1, p >> 7
            elif o == CLC or o == SEC:
                fc = 1 if o == SEC else 0
            elif o == CLI or o == SEI:
                fi = 1 if o == SEI else 0
            elif o == CLD or o == SED:
                fd = 1 if o == SED else 0
            elif o == CLV:
                fv = 0
            elif o == NOP:
                pass
            elif o == BRK:
                ret = (pc + 1) & 0xFFFF
                ram[0x100 | sp] = ret >> 8
                sp = (sp - 1) & 0xFF
                ram[0x100 | sp] = ret & 0xFF
                sp = (sp - 1) & 0xFF
                ram[0x100 | sp] = fc | fz << 1 | fi << 2 | fd << 3 | 0x30 | fv << 6 | fn << 7
                sp = (sp - 1) & 0xFF
                fi = 1
                pc = _rd(0xFFFE, clk, ram, rom, pmap, io, dev) | (
                    _rd(0xFFFF, clk, ram, rom, pmap, io, dev) << 8
                )
            elif o == JAM:
                cpu[JAM_PC] = at
                pc = at
                status = ST_JAM
                break
            elif o == ALR:
                a &= v
                fc = a & 1
                a >>= 1
                fz = 1 if a == 0 else 0
                fn = 0
            elif o == ARR:
                a = ((a & v) >> 1) | (fc << 7)
                fz = 1 if a == 0 else 0
                fn = a >> 7
                fc = (a >> 6) & 1
                fv = ((a >> 6) ^ (a >> 5)) & 1
            elif o == SBX:
                d = (a & x) - v
                fc = 1 if d >= 0 else 0
                x = d & 0xFF
                fz = 1 if x == 0 else 0
                fn = x >> 7
            elif o == ANE or o == LXA:
                a = (a | 0xEE) & v & (x if o == ANE else 0xFF)
                if o == LXA:
                    x = a
                fz = 1 if a == 0 else 0
                fn = a >> 7
            elif o == LAS:
                a = x = sp = v & sp
                fz = 1 if a == 0 else 0
                fn = a >> 7
            elif o == SHA or o == SHX or o == SHY or o == TAS:
                hi = ((base >> 8) + 1) & 0xFF
                if o == TAS:
                    sp = a & x
                    w = sp & hi
                elif o == SHA:
                    w = a & x & hi
                elif o == SHX:
                    w = x & hi
                else:
                    w = y & hi
                _wr(ea, w, t, ram, pmap, io, dev, log_clk, log_addr, log_val)
            clk += cyc
            if dev[bus.UNSUPPORTED]:
                continue
        if clk >= dev[bus.NEXT_EV]:
            bus.update(dev, clk)
        if free == 1:
            nmi = dev[bus.NMI_EDGE]
            if nmi or (dev[bus.IRQ_LINE] and fi == 0):
                if dev[bus.EV_PER_FRAME]:
                    span = clk if clk > dev[bus.ONE_SEC] else dev[bus.ONE_SEC]
                    if dev[bus.NIRQ] + dev[bus.NNMI] > dev[bus.EV_PER_FRAME] * span // dev[bus.FRAME]:
                        status = ST_TOOMANY
                        break
                vec = 0xFFFA if nmi else 0xFFFE
                if nmi:
                    dev[bus.NMI_EDGE] = 0
                    k = dev[bus.NNMI]
                    if k < dev[bus.EVCAP]:
                        nmilog[k] = clk
                    dev[bus.NNMI] = k + 1
                else:
                    k = dev[bus.NIRQ]
                    if k < dev[bus.EVCAP]:
                        irqlog[k] = clk
                    dev[bus.NIRQ] = k + 1
                if idle:
                    idle = 0
                    idle_sp = sp
                ram[0x100 | sp] = pc >> 8
                sp = (sp - 1) & 0xFF
                ram[0x100 | sp] = pc & 0xFF
                sp = (sp - 1) & 0xFF
                ram[0x100 | sp] = fc | fz << 1 | fi << 2 | fd << 3 | 0x20 | fv << 6 | fn << 7
                sp = (sp - 1) & 0xFF
                fi = 1
                if clk + 7 > dev[bus.BL_NEXT]:
                    clk = _badline(clk, 7, io, dev, 2, 3)
                pc = _rd(vec, clk, ram, rom, pmap, io, dev) | (
                    _rd(vec + 1, clk, ram, rom, pmap, io, dev) << 8
                )
                clk += 7
                at = -1
    cpu[A] = a
    cpu[X] = x
    cpu[Y] = y
    cpu[SP] = sp
    cpu[PC] = pc
    cpu[CLK] = clk
    cpu[IDLE] = idle
    cpu[IDLE_SP] = idle_sp
    cpu[P] = fc | fz << 1 | fi << 2 | fd << 3 | 0x20 | fv << 6 | fn << 7
    if free == 2:
        drv[D_PENDING] = pending
    return status
