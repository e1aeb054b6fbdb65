"""The first SID's voice-3 oscillator, so that reads of OSC3 (`$D41B`) give what the chip gives.

Tunes read OSC3 as a random source (voice 3 on noise) and, in sample players such as
SID-Wizard's echo test, as a signal: the IRQ reads voice 3's waveform every ~100 cycles and
plays it back, delayed, through the volume register. A pseudo-random byte there turns the echo
into white noise, so the oscillator is modelled the way reSID/reSIDfp do it:

* a 24-bit phase accumulator that adds the frequency every cycle and is held at 0 while the
  test bit is set;
* sawtooth ``acc >> 12``, triangle ``acc >> 11`` folded at bit 23, pulse ``acc >> 12 >= pw``
  (high while testing), noise from the 23-bit LFSR (taps 22 and 17) clocked when accumulator
  bit 19 rises, its eight output bits as in reSID;
* combined waveforms as the AND of their parts (real chips differ in detail), no waveform as 0.

Not modelled: sync and ring modulation (they need voice 2), the noise register's write-back
under combined waveforms, the DAC's fade of a floating waveform. Like everything on the bus the
state is lazy ("accumulator ``ACC`` at cycle ``T0``"): a read or a write brings it up to date.
"""

from __future__ import annotations

from sidlang.c64.jit import njit

# dev[] layout, from V3_BASE (the bus places it after its own fields)
V3_BASE = 72
V3_T0 = V3_BASE + 0  #: cycle the accumulator and LFSR below are valid at
V3_ACC = V3_BASE + 1
V3_FREQ = V3_BASE + 2
V3_PW = V3_BASE + 3
V3_CTRL = V3_BASE + 4
V3_LFSR = V3_BASE + 5
V3_SIZE = 6
LFSR_RESET = 0x7FFFF8  #: the noise register after power-on (reSID)
_LFSR_PERIOD = (1 << 23) - 1
_BIT19 = 1 << 19


@njit
def _advance(dev, t) -> None:
    """Bring accumulator and noise register from dev[V3_T0] to cycle ``t``."""
    dt = t - dev[V3_T0]
    if dt <= 0:
        return
    dev[V3_T0] = t
    if dev[V3_CTRL] & 0x08:  # test bit: the accumulator is held at zero
        return
    acc = dev[V3_ACC]
    end = acc + dev[V3_FREQ] * dt
    # Rising edges of bit 19: the accumulator passing k * 2**20 + 2**19.
    n = (end - _BIT19) // (_BIT19 * 2) - (acc - _BIT19) // (_BIT19 * 2)
    if n > 0:
        n %= _LFSR_PERIOD
        lfsr = dev[V3_LFSR]
        for _ in range(n):
            lfsr = ((lfsr << 1) & 0x7FFFFF) | (((lfsr >> 22) ^ (lfsr >> 17)) & 1)
        dev[V3_LFSR] = lfsr
    dev[V3_ACC] = end & 0xFFFFFF


@njit
def write(dev, reg, v, t) -> None:
    """A write to register ``reg`` (0x00–0x1F) of the first SID at cycle ``t``."""
    if reg < 0x0E or reg > 0x12:
        return
    _advance(dev, t)
    if reg == 0x0E:
        dev[V3_FREQ] = (dev[V3_FREQ] & 0xFF00) | v
    elif reg == 0x0F:
        dev[V3_FREQ] = (dev[V3_FREQ] & 0x00FF) | (v << 8)
    elif reg == 0x10:
        dev[V3_PW] = (dev[V3_PW] & 0xF00) | v
    elif reg == 0x11:
        dev[V3_PW] = (dev[V3_PW] & 0x0FF) | ((v & 0x0F) << 8)
    else:
        if v & 0x08:
            dev[V3_ACC] = 0
            dev[V3_LFSR] = LFSR_RESET  # held in test long enough, the register refills with ones
        dev[V3_CTRL] = v


@njit
def osc3(dev, t) -> int:
    """What `$D41B` reads at cycle ``t``: the upper 8 of voice 3's 12 waveform bits."""
    _advance(dev, t)
    ctrl = dev[V3_CTRL]
    wave = ctrl >> 4
    if wave == 0:
        return 0
    acc = dev[V3_ACC]
    out = 0xFFF
    if wave & 1:  # triangle
        folded = acc ^ 0xFFFFFF if acc & 0x800000 else acc
        out &= (folded >> 11) & 0xFFF
    if wave & 2:  # sawtooth
        out &= acc >> 12
    if wave & 4:  # pulse
        if not (ctrl & 0x08) and (acc >> 12) < dev[V3_PW]:
            out = 0
    if wave & 8:  # noise
        s = dev[V3_LFSR]
        out &= (((s & 0x400000) >> 11) | ((s & 0x100000) >> 10) | ((s & 0x010000) >> 7)
                | ((s & 0x002000) >> 5) | ((s & 0x000800) >> 4) | ((s & 0x000080) >> 1)
                | ((s & 0x000010) << 1) | ((s & 0x000004) << 2))
    return out >> 4
