"""CIA timers beyond the system clock: timer B counting timer A's underflows, CNT counting."""

from __future__ import annotations

import numpy as np
import pytest

import sidlang
from sidlang.c64.asm import assemble
from sidlang.c64.machine import C64
from tests.sidfiles import rsid

#: An RSID whose IRQ comes from CIA 1's timer B counting timer A's underflows: timer A every
#: 100 cycles (latch 99), timer B every ``{count}`` of them; each IRQ writes the ICR it read
#: to $D400. ``{crb}`` is timer B's control value.
CASCADE = """
        sei
        lda #$35
        sta $01
        lda #<irq
        sta $fffe
        lda #>irq
        sta $ffff
        lda #$7f
        sta $dc0d
        lda #99
        sta $dc04
        lda #0
        sta $dc05
        lda #{count}
        sta $dc06
        lda #0
        sta $dc07
        lda #$82
        sta $dc0d
        lda #{crb}
        sta $dc0f
        lda #$11
        sta $dc0e
        cli
main:   jmp main
irq:    pha
        lda $dc0d
        sta $d400
        pla
        rti
"""


def irq_writes(count: int, crb: int, seconds: float = 0.5) -> np.ndarray:
    tune = sidlang.load(rsid(CASCADE.format(count=count, crb=crb)), format="sid", seconds=seconds)
    w = tune.writes
    return w[w["reg"] == 0]


@pytest.mark.parametrize("crb", [0x51, 0x71])  # counts TA underflows; the same while CNT is high
def test_timer_b_counting_timer_a_underflows_interrupts_every_count_of_them(crb):
    w = irq_writes(49, crb)
    t = w["cycle"].astype(np.int64)
    # (49 + 1) underflows of 100 cycles; each IRQ's entry waits for an instruction to end and
    # for a bad line's DMA, so single gaps move by up to one of those.
    assert len(t) > 90 and abs((t[-1] - t[0]) / (len(t) - 1) - 5000) < 1
    assert np.all(np.abs(np.diff(t) - 5000) < 50)
    assert set(w["val"].tolist()) == {0x83}  # the ICR: timer B's IRQ, timer A's bit latched too


def test_one_shot_cascaded_timer_b_interrupts_once():
    w = irq_writes(9, 0x59)
    assert len(w) == 1 and int(w["val"][0]) == 0x83


def test_timer_b_counting_cnt_never_underflows():
    # On a C64 with nothing on the user port the CNT pins have no edges.
    assert len(irq_writes(3, 0x31)) == 0


def read_twice(start: str) -> list[int]:
    """Timer A's low byte read twice, 26 cycles apart, after ``start`` (writes to $D400/1)."""
    src = f"lda #$40\nsta $dc04\nlda #0\nsta $dc05\n{start}\nlda $dc04\nsta $d400\n"
    src += "ldx #3\nw: dex\nbne w\nnop\nlda $dc04\nsta $d401\nrts"
    code, _ = assemble(src, 0x1000)
    m = C64()
    m.load(0x1000, code)
    m.call(0x1000, 0, 100_000, "test")
    return m.writes()[2].tolist()


def test_timer_a_counting_cnt_holds_its_value():
    a, b = read_twice("lda #$31\nsta $dc0e")  # start, force load, count CNT
    assert a == b == 0x40


def test_timer_a_counting_the_clock_moves():
    a, b = read_twice("lda #$11\nsta $dc0e")
    assert a - b == 4 + 2 + 3 * 5 - 1 + 2 + 4  # STA, LDX, the loop, NOP, LDA between the reads
