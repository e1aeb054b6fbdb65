"""The first SID's voice 3, so that reads of OSC3 (`$D41B`) and ENV3 (`$D41C`) give what the chip gives.

Tunes read OSC3 as a random source (voice 3 on noise) and, in sample players such as
SID-Wizard's echo test, as a signal: the IRQ reads voice 3's waveform every ~100 cycles and
plays it back, delayed, through the volume register. A pseudo-random byte there turns the echo
into white noise, so the oscillator is modelled the way reSID/reSIDfp do it:

* a 24-bit phase accumulator that adds the frequency every cycle and is held at 0 while the
  test bit is set;
* sawtooth ``acc >> 12``, triangle ``acc >> 11`` folded at bit 23, pulse ``acc >> 12 >= pw``
  (high while testing), noise from the 23-bit LFSR (taps 22 and 17) clocked when accumulator
  bit 19 rises, its eight output bits as in reSID;
* combined waveforms as the AND of their parts (real chips differ in detail), no waveform as 0;
* the envelope generator as reSID has it: a 15-bit rate counter against the period of the
  current attack, decay or release rate (with the ADSR delay bug: a period set below the
  counter waits for it to wrap at `$8000`), the exponential counter that slows decay and
  release below `$5D`, `$36`, `$1A`, `$0E`, `$06`, attack to `$FF`, decay to the sustain level
  (`S * $11`), release to 0 where the counter freezes until the next attack. ENV3 is that
  counter. SID-Wizard's echo test reads it once a frame and uses its top two bits to choose
  the echo's amplitude table, so with ENV3 at 0 the echo was silent. reSIDfp adds a few
  cycles of pipeline delay to state changes, which this model leaves out.

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
V3_AD = V3_BASE + 6  #: attack/decay register
V3_SR = V3_BASE + 7  #: sustain/release register
V3_ENV = V3_BASE + 8  #: envelope counter, 0–255: what ENV3 reads
V3_RATE = V3_BASE + 9  #: rate counter, 15 bits
V3_PERIOD = V3_BASE + 10  #: the rate counter's period for the current state
V3_EXP = V3_BASE + 11  #: exponential counter
V3_EXP_PERIOD = V3_BASE + 12
V3_STATE = V3_BASE + 13  #: ATTACK, DECAY or RELEASE
V3_HOLD = V3_BASE + 14  #: 1 while the counter is frozen at zero
V3_TEST_T = V3_BASE + 15  #: cycle the test bit was set at
V3_FLOAT = V3_BASE + 16  #: the waveform output held while no waveform is selected
V3_FLOAT_T = V3_BASE + 17  #: cycle the waveform was switched off at
V3_SIZE = 18
ATTACK, DECAY, RELEASE = 0, 1, 2
#: Cycles per envelope step for the 16 rate settings (reSID's table: 2 ms … 8 s per 256 steps).
RATE_PERIODS = (9, 32, 63, 95, 149, 220, 267, 313, 392, 977, 1954, 3126, 3907, 11720, 19532, 31251)
LFSR_RESET = 0x7FFFFF  #: the noise register after power-on, and once the test bit has held it long
TEST_RESET = 50_000  #: cycles of test bit after which the noise register is all ones (6581R3)
FLOAT_TTL = 54_000  #: cycles a waveform output is held after the waveform is switched off (6581R3)
NOISE_DELAY = 2  #: cycles from accumulator bit 19 rising to the noise register's shift
_LFSR_PERIOD = (1 << 23) - 1
_BIT19 = 1 << 19


def reset(dev) -> None:
    """Power-on state: noise register full, envelope released and held at zero."""
    dev[V3_LFSR] = LFSR_RESET
    dev[V3_STATE] = RELEASE
    dev[V3_PERIOD] = RATE_PERIODS[0]
    dev[V3_EXP_PERIOD] = 1
    dev[V3_HOLD] = 1


@njit
def _rate_period(i) -> int:
    # A tuple indexed by a runtime value is not compiled; a chain of tests is cheap enough.
    if i < 8:
        if i < 4:
            return 9 if i == 0 else 32 if i == 1 else 63 if i == 2 else 95
        return 149 if i == 4 else 220 if i == 5 else 267 if i == 6 else 313
    if i < 12:
        return 392 if i == 8 else 977 if i == 9 else 1954 if i == 10 else 3126
    return 3907 if i == 12 else 11720 if i == 13 else 19532 if i == 14 else 31251


@njit
def _envelope(dev, dt) -> None:
    """Clock the envelope generator ``dt`` cycles, one rate-counter period at a time."""
    rate = dev[V3_RATE]
    left = dt
    # `while left > 0`, not `while True`: numba 0.68.1 compiled the `while True` form of this
    # loop wrongly (the `rate = 0` below was lost; tests/c64/test_voice3.py catches it).
    while left > 0:
        period = dev[V3_PERIOD]
        # Cycles until the counter next equals the period; past it, it first wraps at $8000
        # (to 1, as reSID counts) -- the ADSR delay bug.
        if rate < period:
            need = period - rate
        else:
            need = 0x8000 - rate + period - 1
        if need > left:
            rate += left
            if rate >= 0x8000:
                rate -= 0x7FFF
            left = 0
            break
        left -= need
        rate = 0
        state = dev[V3_STATE]
        if state != ATTACK:
            dev[V3_EXP] += 1
            if dev[V3_EXP] != dev[V3_EXP_PERIOD]:
                continue
        dev[V3_EXP] = 0
        if dev[V3_HOLD]:
            continue
        env = dev[V3_ENV]
        if state == ATTACK:
            env = (env + 1) & 0xFF
            if env == 0xFF:
                dev[V3_STATE] = DECAY
                dev[V3_PERIOD] = _rate_period(dev[V3_AD] & 0x0F)
        elif state == DECAY:
            if env != (dev[V3_SR] >> 4) * 0x11:
                env -= 1
        else:
            env = (env - 1) & 0xFF
        dev[V3_ENV] = env
        if env == 0xFF:
            dev[V3_EXP_PERIOD] = 1
        elif env == 0x5D:
            dev[V3_EXP_PERIOD] = 2
        elif env == 0x36:
            dev[V3_EXP_PERIOD] = 4
        elif env == 0x1A:
            dev[V3_EXP_PERIOD] = 8
        elif env == 0x0E:
            dev[V3_EXP_PERIOD] = 16
        elif env == 0x06:
            dev[V3_EXP_PERIOD] = 30
        elif env == 0:
            dev[V3_EXP_PERIOD] = 1
            dev[V3_HOLD] = 1
    dev[V3_RATE] = rate


@njit
def _advance(dev, t) -> None:
    """Bring accumulator, noise register and envelope from dev[V3_T0] to cycle ``t``."""
    dt = t - dev[V3_T0]
    if dt <= 0:
        return
    dev[V3_T0] = t
    _envelope(dev, dt)
    if dev[V3_CTRL] & 0x08:  # test bit: the accumulator is held at zero, the noise register fills
        if t - dev[V3_TEST_T] >= TEST_RESET:
            dev[V3_LFSR] = LFSR_RESET
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
    if reg < 0x0E or reg > 0x14:
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
    elif reg == 0x12:
        old = dev[V3_CTRL]
        if v >> 4 == 0 and old >> 4 != 0:  # no waveform: the output floats at its last value
            dev[V3_FLOAT] = _output(dev)
            dev[V3_FLOAT_T] = t
        if v & 0x08 and not old & 0x08:
            dev[V3_ACC] = 0
            dev[V3_TEST_T] = t
        elif old & 0x08 and not v & 0x08:
            # The test bit held the register in the first phase of a shift; releasing it
            # completes the shift, with the test bit standing in for bit 22 in the feedback.
            lfsr = dev[V3_LFSR]
            dev[V3_LFSR] = ((lfsr << 1) & 0x7FFFFF) | ((1 ^ (lfsr >> 17)) & 1)
        gate = old & 1
        if v & 1 and not gate:
            dev[V3_STATE] = ATTACK
            dev[V3_PERIOD] = _rate_period(dev[V3_AD] >> 4)
            dev[V3_HOLD] = 0
        elif gate and not v & 1:
            dev[V3_STATE] = RELEASE
            dev[V3_PERIOD] = _rate_period(dev[V3_SR] & 0x0F)
        dev[V3_CTRL] = v
    elif reg == 0x13:
        dev[V3_AD] = v
        if dev[V3_STATE] == ATTACK:
            dev[V3_PERIOD] = _rate_period(v >> 4)
        elif dev[V3_STATE] == DECAY:
            dev[V3_PERIOD] = _rate_period(v & 0x0F)
    else:
        dev[V3_SR] = v
        if dev[V3_STATE] == RELEASE:
            dev[V3_PERIOD] = _rate_period(v & 0x0F)


@njit
def _noise(dev) -> int:
    """The noise waveform's 12 bits, from the register as it was ``NOISE_DELAY`` cycles ago."""
    s = dev[V3_LFSR]
    if not dev[V3_CTRL] & 0x08:
        acc = dev[V3_ACC]
        back = acc - dev[V3_FREQ] * NOISE_DELAY
        if (acc - _BIT19) // (_BIT19 * 2) != (back - _BIT19) // (_BIT19 * 2):
            s = (s >> 1) | (((s ^ (s >> 18)) & 1) << 22)  # the shift has not reached the output yet
    return (
        ((s & 0x100000) >> 9)
        | ((s & 0x040000) >> 8)
        | ((s & 0x004000) >> 5)
        | ((s & 0x000800) >> 3)
        | ((s & 0x000200) >> 2)
        | ((s & 0x000020) << 1)
        | ((s & 0x000004) << 3)
        | ((s & 0x000001) << 4)
    )


@njit
def _output(dev) -> int:
    """The 12-bit waveform output for the state as advanced."""
    ctrl = dev[V3_CTRL]
    wave = ctrl >> 4
    acc = dev[V3_ACC]
    out = 0xFFF
    if wave & 1:  # triangle
        folded = acc ^ 0xFFFFFF if acc & 0x800000 else acc
        out &= (folded >> 11) & 0xFFF
    if wave & 2:  # sawtooth
        out &= acc >> 12
    if wave & 4:  # pulse: the comparison is a cycle late
        if not (ctrl & 0x08) and (((acc - dev[V3_FREQ]) & 0xFFFFFF) >> 12) < dev[V3_PW]:
            out = 0
    if wave & 8:  # noise
        out &= _noise(dev)
    return out


@njit
def osc3(dev, t) -> int:
    """What `$D41B` reads at cycle ``t``: the upper 8 of voice 3's 12 waveform bits."""
    _advance(dev, t)
    if dev[V3_CTRL] >> 4 == 0:
        return dev[V3_FLOAT] >> 4 if t - dev[V3_FLOAT_T] < FLOAT_TTL else 0
    return _output(dev) >> 4


@njit
def env3(dev, t) -> int:
    """What `$D41C` reads at cycle ``t``: voice 3's envelope counter."""
    _advance(dev, t)
    return dev[V3_ENV]
