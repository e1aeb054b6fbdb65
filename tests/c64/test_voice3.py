"""Voice 3 of the first SID as the CPU sees it: OSC3 (`$D41B`) and ENV3 (`$D41C`)."""

from __future__ import annotations

import numpy as np

from sidlang.c64 import bus, voice3
from sidlang.c64.asm import assemble
from sidlang.c64.machine import C64


def fresh() -> np.ndarray:
    dev = np.zeros(bus.DEV_SIZE, dtype=np.int64)
    voice3.reset(dev)
    return dev


def test_sawtooth_is_the_accumulators_top_byte():
    dev = fresh()
    voice3.write(dev, 0x0F, 0x10, 0)  # frequency $1000
    voice3.write(dev, 0x12, 0x20, 0)  # sawtooth
    for t in (1, 255, 4095, 5000):
        assert voice3.osc3(dev, t) == (t * 0x1000 >> 16) & 0xFF


def test_envelope_attack_decay_sustain_release():
    dev = fresh()
    assert voice3.env3(dev, 100_000) == 0  # held at zero from power-on
    t0 = 9 * 11_111  # the rate counter runs from power-on with period 9: at t0 it is at 0
    voice3.write(dev, 0x13, 0x00, t0)  # attack 0 and decay 0: a step every 9 cycles
    voice3.write(dev, 0x14, 0x81, t0)  # sustain 8 ($88), release 1 (32 cycles per step)
    voice3.write(dev, 0x12, 0x01, t0)  # gate on
    assert voice3.env3(dev, t0 + 8) == 0
    assert voice3.env3(dev, t0 + 9) == 1
    top = t0 + 9 * 255
    assert voice3.env3(dev, top - 1) == 254 and voice3.env3(dev, top) == 255
    # Decay to $88: 119 steps, each a period (the exponential counter is 1 above $5D).
    sustain = top + 9 * 119
    assert voice3.env3(dev, sustain - 1) == 0x89 and voice3.env3(dev, sustain) == 0x88
    assert voice3.env3(dev, sustain + 1_000_000) == 0x88  # sustain holds
    t1 = sustain + 1_000_000
    voice3.write(dev, 0x12, 0x00, t1)  # gate off: release
    # The rate counter runs on from its phase; the first release step is within a period.
    assert voice3.env3(dev, t1 + 33) == 0x87
    # Below $5D the exponential counter slows release (every 2nd, 4th, 8th, 16th, 30th step).
    steps = (
        (0x88 - 0x5D)
        + 2 * (0x5D - 0x36)
        + 4 * (0x36 - 0x1A)
        + 8 * (0x1A - 0x0E)
        + 16 * (0x0E - 0x06)
        + 30 * 6
    )
    assert voice3.env3(dev, t1 + 32 * (steps - 2)) > 0
    assert voice3.env3(dev, t1 + 32 * (steps + 2)) == 0
    assert voice3.env3(dev, t1 + 32 * (steps + 2) + 1_000_000) == 0  # frozen at zero


def test_adsr_delay_bug_waits_for_the_rate_counter_to_wrap():
    dev = fresh()
    voice3.write(dev, 0x13, 0xF0, 0)  # attack 15: 31251 cycles per step
    voice3.write(dev, 0x12, 0x01, 0)
    assert voice3.env3(dev, 20_000) == 0
    voice3.write(dev, 0x13, 0x00, 20_000)  # period 9, but the counter is at 20000 already
    assert voice3.env3(dev, 20_000 + 9) == 0
    wrap = 20_000 + (0x8000 - 20_000) + 9 - 1
    assert voice3.env3(dev, wrap - 1) == 0 and voice3.env3(dev, wrap) == 1


def test_env3_reads_through_the_bus():
    # Gate voice 3 with attack 0, wait, then read ENV3 and store it where the log sees it.
    src = """
        lda #$00
        sta $d413
        lda #$f0
        sta $d414
        lda #$01
        sta $d412
        ldx #200
    wait: dex
        bne wait
        lda $d41c
        sta $d400
        rts
    """
    code, _ = assemble(src, 0x1000)
    m = C64()
    m.load(0x1000, code)
    m.call(0x1000, 0, 100_000, "test")
    c, a, v = m.writes()
    gate = int(c[a == 0xD412][0])
    read = int(c[a == 0xD400][0]) - 4  # LDA abs reads on its last cycle, 4 before the STA writes
    # The rate counter has counted to 9 and restarted since power-on: steps fall on multiples of 9.
    assert v[a == 0xD400][0] == read // 9 - gate // 9 > 100


def test_noise_shifts_two_cycles_after_bit_19_rises():
    dev = fresh()
    voice3.write(dev, 0x0F, 0x80, 0)  # frequency $8000: bit 19 of the accumulator rises at cycle 16
    voice3.write(dev, 0x12, 0x80, 0)  # noise
    assert voice3.osc3(dev, 17) == 0xFF  # all ones from power-on
    assert voice3.osc3(dev, 18) == 0xFE  # shifted in: bit 22 ^ bit 17 = 0, the output's low bit


def test_test_bit_keeps_the_noise_register_unless_held_long():
    def noise_after(test_cycles: int) -> int:
        dev = fresh()
        voice3.write(dev, 0x0F, 0x80, 0)
        voice3.write(dev, 0x12, 0x80, 0)
        voice3.osc3(dev, 40)  # one shift (at 16; the next is at 48): bit 0 is 0
        voice3.write(dev, 0x12, 0x88, 40)  # test on
        voice3.write(dev, 0x12, 0x80, 40 + test_cycles)  # and off: the held shift completes
        return int(dev[voice3.V3_LFSR])

    # released soon: the register kept, shifted once with the test bit as bit 22: 1 ^ bit 17 (1)
    assert noise_after(1000) == 0x7FFFFC
    assert noise_after(voice3.TEST_RESET) == 0x7FFFFE  # held long: all ones, then that shift


def test_waveform_off_holds_the_last_output_for_a_while():
    dev = fresh()
    voice3.write(dev, 0x0F, 0x10, 0)
    voice3.write(dev, 0x12, 0x20, 0)  # sawtooth
    held = voice3.osc3(dev, 5000)
    voice3.write(dev, 0x12, 0x00, 5000)
    assert held and voice3.osc3(dev, 5000 + voice3.FLOAT_TTL - 1) == held
    assert voice3.osc3(dev, 5000 + voice3.FLOAT_TTL) == 0


def test_pulse_compares_a_cycle_late():
    dev = fresh()
    voice3.write(dev, 0x0F, 0x10, 0)  # $1000 a cycle: the top 12 bits step by 1
    voice3.write(dev, 0x11, 0x00, 0)
    voice3.write(dev, 0x10, 0x10, 0)  # pulse width 16
    voice3.write(dev, 0x12, 0x40, 0)
    assert voice3.osc3(dev, 16) == 0 and voice3.osc3(dev, 17) == 0xFF
