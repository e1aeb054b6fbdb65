"""The KERNAL entry points sidlang's C64 has, through small programs assembled here."""

from __future__ import annotations

import numpy as np
import pytest

import sidlang
from sidlang.c64 import cpu
from sidlang.c64.asm import assemble
from sidlang.c64.kernal import ENTRIES, VECTORS, kernal_image
from sidlang.c64.machine import C64
from tests.sidfiles import rsid

PAL_HZ = 985248


def call(src: str, *, ntsc: bool = False, booted: bool = True, budget: int = 3_000_000, setup=None):
    """Assemble ``src`` at $1000 and call it on a booted C64: (machine, writes as (cycle, addr, val))."""
    code, _ = assemble(src, 0x1000)
    m = C64(ntsc=ntsc, booted=booted)
    m.load(0x1000, code)
    if setup:
        setup(m)
    m.call(0x1000, 0, budget, "test")
    c, a, v = m.writes()
    return m, list(zip(c.tolist(), a.tolist(), v.tolist()))


def regs(m: C64) -> tuple[int, int, int]:
    return int(m.regs[cpu.A]), int(m.regs[cpu.X]), int(m.regs[cpu.Y])


def test_rom_has_every_entry_point_where_the_c64_has_it():
    rom = kernal_image()
    at = lambda a, n: rom[a - 0xE000 : a - 0xE000 + n].tobytes()  # noqa: E731
    assert at(0xFFFA, 6) == bytes.fromhex("43fee2fc48ff")  # NMI $fe43, RESET $fce2, IRQ $ff48
    assert at(0xEA81, 6) == bytes.fromhex("68a868aa6840")  # PLA TAY PLA TAX PLA RTI
    assert at(0xFFD2, 3) == bytes.fromhex("6c2603")  # CHROUT: JMP ($0326)
    assert at(0xFFD5, 1) == b"\x02"  # LOAD is not there
    assert ENTRIES["scnkey"] == 0xEA87 and ENTRIES["irqent"] == 0xFF48


# An RSID that counts its interrupts, starts a note at the 60th (one second of the KERNAL's
# 60 Hz timer) and stores the jiffy clock's low byte in a SID register on each; the handler
# ends in the KERNAL in the way given.
COUNTER = """
        sei
        lda #<handler
        sta $0314
        lda #>handler
        sta $0315
        lda #$0f
        sta $d418
        cli
loop:   jmp loop
handler: inc count
        lda $a2
        sta $d400
        lda count
        cmp #60
        bne skip
        lda #$21
        sta $d404
skip:   {exit}
count:  .byte 0
"""


@pytest.mark.parametrize(
    "exit_",
    [
        "jmp $ea31",
        "jmp $ea7e",
        "lda $dc0d\njmp $ea81",
        "jsr $ea87\njmp $ea7e",
        "jsr $ff9f\njsr $ffea\njmp $ea7e",  # SCNKEY and UDTIM through the jump table
    ],
)
def test_irq_handler_ending_in_the_kernal_plays_at_the_timers_rate(exit_):
    tune = sidlang.load(rsid(COUNTER.format(exit=exit_)), format="sid", seconds=2)
    w = tune.writes
    gate = w["cycle"][w["reg"] == 4]
    assert len(gate) == 1 and abs(gate[0] / PAL_HZ - 1.0) < 0.02  # the 60th IRQ, not at once
    assert tune.meta["sid"]["interrupts taken"].startswith("119 IRQ")


def test_default_handler_runs_the_jiffy_clock():
    tune = sidlang.load(rsid(COUNTER.format(exit="jmp $ea31")), format="sid", seconds=0.5)
    clock = tune.writes["val"][tune.writes["reg"] == 0].astype(int)
    assert np.all(np.diff(clock) == 1)  # $a2 counts once per interrupt


def test_scnkey_with_no_key_down():
    m, w = call("jsr $ea87\nrts")
    assert regs(m) == (0x7F, 0xFF, 0)
    assert (m.peek(0xCB), m.peek(0xC5), m.peek(0x028D), m.peek(0x028E)) == (0x40, 0x40, 0, 0)
    assert m.io[0xC00] == 0x7F  # column output left at $7f for the STOP key


def test_clock_wraps_after_a_day_and_reads_back():
    def day(m):
        m.ram[0xA0:0xA3] = [0x4F, 0x1A, 0x00]

    m, _ = call("jsr $ffea\nrts", setup=day)
    assert m.ram[0xA0:0xA3].tolist() == [0, 0, 0] and m.peek(0x91) == 0xFF
    m, _ = call("lda #3\nldx #2\nldy #1\njsr $ffdb\nlda #0\ntax\ntay\njsr $ffde\nrts")
    assert regs(m) == (3, 2, 1) and m.ram[0xA0:0xA3].tolist() == [1, 2, 3]


def test_restor_and_vector():
    m, _ = call("lda #0\nsta $0314\nsta $0315\njsr $ff8a\nldx #$00\nldy #$20\nsec\njsr $ff8d\nrts")
    vectors = [int(m.ram[0x0314 + 2 * k]) | int(m.ram[0x0315 + 2 * k]) << 8 for k in range(16)]
    assert vectors == list(VECTORS)
    assert m.ram[0x2000:0x2020].tobytes() == m.ram[0x0314:0x0334].tobytes()  # copied out with C set


@pytest.mark.parametrize("ntsc, latch, pal_flag", [(False, 0x4025, 1), (True, 0x4295, 0)])
def test_cint_sets_the_vic_finds_the_video_standard_and_starts_the_60hz_timer(ntsc, latch, pal_flag):
    def dirty(m):
        m.ram[0x0400:0x07E8] = 0x55

    m, _ = call("lda #0\nsta $02a6\njsr $ff81\nrts", ntsc=ntsc, setup=dirty)
    assert m.peek(0x02A6) == pal_flag
    assert m.cia1_period() == latch + 1
    assert m.io[0x11] == 0x9B and m.io[0x12] == 0x37 and m.io[0x1A] == 0  # raster 311, VIC IRQ off
    assert np.all(m.ram[0x0400:0x07E8] == 0x20) and m.peek(0x07E8) == 0  # the screen, not past it
    assert (m.peek(0xD3), m.peek(0xD6)) == (0, 0)


def test_ioinit_silences_the_sid_and_stops_cia_2():
    m, w = call("lda #$81\nsta $dd0d\njsr $ff84\nrts")
    assert (0xD418, 0) in [(a, v) for _, a, v in w]
    assert m.dev[48 + 13] == 0  # CIA 2's interrupt mask (bus.CIA_BASE + CIA_SIZE + C_ICR_MASK)
    assert m.cia1_period() == 0x4026 and m.peek(0x00) == 0x2F


def test_ramtas_finds_basic_at_a000_and_keeps_ram():
    m, _ = call("jsr $ff87\nrts")
    assert (m.peek(0x0283), m.peek(0x0284), m.peek(0x0282), m.peek(0x0288)) == (0, 0xA0, 0x08, 4)
    assert m.peek(0x1000) == 0x20 and m.peek(0x0314) == 0  # its own code kept, page 3 cleared
    assert 1_900_000 < m.clock < 2_200_000  # the RAM test: about 50 cycles a byte, and bad lines


def test_chrout_getin_and_stop_return_as_with_nothing_attached():
    m, _ = call("lda #$41\njsr $ffd2\nsta $2000\njsr $ffe4\nsta $2001\njsr $ffe1\nphp\npla\nsta $2002\nrts")
    assert (m.peek(0x2000), m.peek(0x2001)) == (0x41, 0)
    assert m.peek(0x2002) & 0x02 == 0  # Z clear: STOP is not down


def test_default_nmi_handler_turns_cia_2_off():
    src = """
        lda #<99
        sta $dd04
        lda #0
        sta $dd05
        lda #$81
        sta $dd0d
        lda #$11
        sta $dd0e
        lda #$0f
        sta $d418
loop:   jmp loop
"""
    tune = sidlang.load(rsid(src), format="sid", seconds=0.1)
    assert tune.meta["sid"]["interrupts taken"].endswith("1 NMI")
