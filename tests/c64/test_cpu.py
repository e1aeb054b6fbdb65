"""The 6510 core and the C64 around it, through tiny programs assembled in the tests."""

from __future__ import annotations

import numpy as np
import pytest

from sidlang.c64.asm import AsmError, assemble
from sidlang.c64.machine import C64, MachineError
from sidlang.c64.opcodes import CYCLES, ENTRIES, OPCODE


def run(src: str, *, a: int = 0, budget: int = 100_000, port: int | None = None) -> tuple[C64, list]:
    """Assemble ``src`` at $1000, call it, return the machine and its (cycle, addr, val) writes."""
    code, _ = assemble(src, 0x1000)
    m = C64()
    m.load(0x1000, code)
    if port is not None:
        m.set_port(port)
    m.call(0x1000, a, budget, "test")
    c, ad, v = m.writes()
    return m, list(zip(c.tolist(), ad.tolist(), v.tolist()))


def test_table_has_every_opcode_with_documented_cycles():
    assert len(ENTRIES) == 256
    assert ENTRIES[0xA9] == ("LDA", "imm", 2, False)
    assert ENTRIES[0xB1] == ("LDA", "indy", 5, True)
    assert ENTRIES[0x9D][:3] == ("STA", "absx", 5)
    assert ENTRIES[0xA7][:2] == ("LAX", "zp") and ENTRIES[0x02][0] == "JAM"
    assert OPCODE[("JMP", "ind")] == 0x6C and CYCLES[0x20] == 6


def test_assembler_modes_labels_and_errors():
    code, names = assemble("x = $fb\nstart: lda (x),y\n sta $d400,x\n bne start\n .word start", 0xC000)
    assert code == bytes.fromhex("b1fb9d00d4d0f900c0")
    assert names["start"] == 0xC000
    with pytest.raises(AsmError, match="unknown instruction"):
        assemble("foo #1", 0)
    with pytest.raises(AsmError, match="out of range"):
        assemble("bne far\n" + ".byte 0\n" * 200 + "far: rts", 0)


def test_store_lands_on_its_last_cycle():
    _, w = run("lda #$0f\nsta $d418\nrts")
    assert w == [(5, 0xD418, 15)]  # LDA # (2 cycles), STA abs writes on its 4th


def test_page_crossing_and_taken_branch_add_cycles():
    _, w = run("ldx #$ff\nlda $10ff,x\nsta $d400\nrts")  # crosses: 5 cycles, not 4
    assert w[0][0] == 2 + 5 + 3
    _, w = run("ldx #1\ndex\nbeq skip\nskip: sta $d400\nrts")  # taken branch, same page: 3
    assert w[0][0] == 2 + 2 + 3 + 3


def test_read_modify_write_writes_twice():
    _, w = run("lda #5\nsta $d405\ninc $d405\nrts")
    assert [x[2] for x in w] == [5, 0, 1]  # SID reads give 0; INC writes the old, then the new value
    assert w[1][0] + 1 == w[2][0]


@pytest.mark.parametrize(
    "src, value",
    [
        ("sed\nclc\nlda #$15\nadc #$27", 0x42),  # decimal ADC
        ("sed\nsec\nlda #$42\nsbc #$15", 0x27),  # decimal SBC
        ("clc\nlda #$7f\nadc #1", 0x80),
        ("lda #$c3\nsta $20\nlax $20\ntxa", 0xC3),  # LAX (illegal)
        ("lda #$f0\nldx #$3c\nsax $20\nlda $20", 0x30),  # SAX
        ("lda #5\nsta $20\ndcp $20\nlda $20", 4),  # DCP
        ("lda #$40\nsta $20\nlda #0\nslo $20", 0x80),  # SLO
        ("lda #$ff\nldx #$0f\nsbx #2", None),  # SBX: checked through X below
    ],
)
def test_arithmetic_and_illegal_opcodes(src, value):
    _, w = run(src + "\nsta $d400\nstx $d401\nrts")
    if value is None:
        assert w[1][2] == 0x0D
    else:
        assert w[0][2] == value


def test_banking_at_01():
    m, w = run("lda $e000\nsta $d400\nlda #$35\nsta $01\nlda #$aa\nsta $e000\nlda $e000\nsta $d401\nrts")
    assert w[0][2] == 0x02  # KERNAL ROM: outside the routines sidlang has it holds JAM opcodes
    assert w[1][2] == 0xAA  # RAM under the KERNAL once $01 = $35
    m, w = run("lda #$34\nsta $01\nlda #1\nsta $d400\nrts")
    assert w == [] and m.peek(0xD400) == 1  # I/O banked out: the write went to RAM


def test_raster_counter_moves():
    _, w = run("wait: lda $d012\ncmp #$80\nbne wait\nsta $d400\nrts")
    line = w[0][0] // 63
    assert line in (0x80, 0x81)


def test_cia_timer_counts_down():
    _, w = run(
        "lda #$ff\nsta $dc04\nsta $dc05\nlda #$11\nsta $dc0e\nlda $dc04\nsta $d400\nnop\nnop\n"
        "lda $dc04\nsta $d401\nrts"
    )
    assert (w[0][2] - w[1][2]) % 256 == 4 + 4 + 2 + 2  # STA + LDA + 2 NOPs between the reads


@pytest.mark.parametrize(
    "src, match",
    [
        (".byte $02", "JAM opcode"),
        ("loop: jmp loop", "loops forever"),
        ("loop: dex\nbne loop\nloop2: inx\nbne loop2\njmp $1000", "did not return within"),
        ("jsr $ffd5\nrts", "the KERNAL's LOAD \\(\\$ffd5\\)"),
        ("jsr $e097\nrts", "KERNAL ROM code at \\$e097"),
        ("jsr $bdcd\nrts", "BASIC ROM code at \\$bdcd"),
        ("nop\n.byte 0", "BRK at \\$1001"),
    ],
)
def test_errors_name_the_problem(src, match):
    with pytest.raises(MachineError, match=match):
        run(src, budget=20_000)


def test_log_grows_past_its_first_capacity():
    code, _ = assemble("ldy #40\nouter: ldx #0\nloop: sta $d400\ninx\nbne loop\ndey\nbne outer\nrts", 0x1000)
    m = C64(log_capacity=1024)
    m.load(0x1000, code)
    m.call(0x1000, 0, 10**6, "test")
    c, _, _ = m.writes()
    assert len(c) == 40 * 256 and np.diff(c)[0] == 9  # STA + INX + BNE


@pytest.mark.parametrize("d011, stalls", [(0x1B, 5), (0x0B, 0)])  # display on, then off
def test_bad_lines_hold_the_cpu(d011, stalls):
    # About 5150 cycles from line 0, 5370 with the stalls: the bad lines $33, $3b, $43, $4b,
    # $53 (YSCROLL 3) fall inside.
    src = f"lda #${d011:02x}\nsta $d011\nldy #4\nouter: ldx #0\ninner: dex\nbne inner\ndey\nbne outer\nsta $d400\nrts"
    code, _ = assemble(src, 0x1000)
    ends = []
    for badlines in (True, False):
        m = C64(badlines=badlines)
        m.load(0x1000, code)
        m.call(0x1000, 0, 100_000, "test")
        ends.append(int(m.writes()[0][0]))
    assert 40 * stalls <= ends[0] - ends[1] <= 43 * stalls


def _stall(before_bl: int, head: str) -> int:
    """Cycles the bad line at line $33 (YSCROLL 3, the DMA from cycle 3224) adds to the write
    of a ``sta $d418`` that follows ``head``, where ``head`` starts ``before_bl`` cycles before
    the DMA (the time is reached with NOPs and one 3-cycle BIT)."""
    start = 3224 - before_bl - 6  # after LDA #/STA $d011
    pad = "bit $ea\n" if start % 2 else ""
    src = "lda #$1b\nsta $d011\n" + pad + "nop\n" * ((start - 3 * (start % 2)) // 2) + head + "sta $d418\nrts"
    code, _ = assemble(src, 0x1000)
    ends = []
    for badlines in (True, False):
        m = C64(badlines=badlines)
        m.load(0x1000, code)
        m.call(0x1000, 0, 100_000, "test")
        c, ad, _ = m.writes()
        ends.append(int(c[ad == 0xD418][-1]))
    return ends[0] - ends[1]


@pytest.mark.parametrize(
    "before_bl, head, stall",
    [
        # BA falls three cycles before the VIC takes the bus and the 6510 halts only on a read:
        (3, "sta $d418\n", 42),  # the store's write is the DMA's first cycle: it goes through,
        # and the next instruction waits from one cycle into the DMA
        (4, "sta $d418\n", 43),  # its write comes just before: the next STA waits it all
        (2, "sta $d418\n", 43),  # halted on its last read, the write comes 43 cycles later
        (4, "nop\nnop\n", 43),  # reads only
        (4, "clc\nbcc next\nnext: ", 43),  # a taken branch's third cycle (a read) is halted too
    ],
)
def test_bad_line_stalls_by_cycle_kind(before_bl, head, stall):
    assert _stall(before_bl, head) == stall


def test_ram_powers_up_in_libsidplayfps_pattern():
    m = C64()
    assert m.ram[0x1030:0x1038].tolist() == [0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0]
    assert m.ram[0x4030:0x4038].tolist() == [
        0xFF,
        0xFF,
        0,
        0,
        0,
        0,
        0xFF,
        0xFF,
    ]  # every other 16 KiB inverted
    assert not m.ram[0x0000:0x0200].any() and m.peek(0x02A6) == 1  # cleared but for the PAL flag


def test_wide_is_a_python_int_interpreted_and_an_int64_compiled():
    from sidlang import jitcache
    from sidlang.c64 import jit

    ram = np.array([0xFF, 0x80], dtype=np.uint8)
    assert jit.wide in (int, jit._wide)  # int until the compiled core takes over
    assert type(jit._wide(ram[0])) is int and jit._wide(ram[0]) << 8 == 0xFF00
    numba = jit._numba()
    if numba is None or jitcache.disabled():
        pytest.skip("numba is off")
    f = numba.njit(lambda r: jit._wide(r[0]))
    assert f(ram) == 0xFF
    assert f.nopython_signatures[0].return_type == numba.int64  # int() would keep the uint8
