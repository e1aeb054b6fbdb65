"""Frames of register writes, rendered in-process through reSIDfp, cheaply, for the search.

A fitter renders hundreds of short candidates, so this skips the Tune (no write array, no frames
view): a candidate is a list of frames, each a list of ``(reg, val)`` writes made at the frame's
start, and :func:`render_frames` clocks a fresh low-level ``pyresidfp`` SID one frame at a time.
Measured here (PAL, one core): about 55 ms per second of audio whatever the output rate, since
reSIDfp's cost is clocking the chip at 985 kHz; a fresh chip costs about 0.3 ms. The result is
what :mod:`sidlang.formats.render` gives for the same writes (the same reSIDfp, the same idle
pre-roll before frame 0), so what the fitter finds is what ``sidlang render`` plays.

Register numbers come from :mod:`sidlang.registers`, never from here.
"""

from __future__ import annotations

import numpy as np

from sidlang.formats.render import PREROLL_CYCLES
from sidlang.pitch import PAL_FRAME, PAL_HZ
from sidlang.registers import FIELDS, MODE_BITS, ROUTE_BITS, VOICE_STRIDE, WAVE_BITS
from sidlang.tune import Header, Tune, make_writes

RATE = 22050  #: analysis rate: bands up to 10 kHz are all the loss looks at
Writes = list[tuple[int, int]]


def _reg(name: str, voice: int | None = None, part: int = 0) -> int:
    f = FIELDS[name]
    return f.regs[part] + (voice * VOICE_STRIDE if f.voiced else 0)


def voice_writes(
    voice: int,
    *,
    freq: int | None = None,
    pw: int | None = None,
    wave: int | None = None,
    ad: int | None = None,
    sr: int | None = None,
) -> Writes:
    """The writes that set one voice's fields (those given), in the order a player makes them."""
    out: Writes = []
    if freq is not None:
        lo = FIELDS["freq"].lo_bits
        out += [(_reg("freq", voice, 0), freq & ((1 << lo) - 1)), (_reg("freq", voice, 1), freq >> lo)]
    if pw is not None:
        lo = FIELDS["pw"].lo_bits
        out += [(_reg("pw", voice, 0), pw & ((1 << lo) - 1)), (_reg("pw", voice, 1), pw >> lo)]
    if ad is not None:
        out.append((_reg("ad", voice), ad))
    if sr is not None:
        out.append((_reg("sr", voice), sr))
    if wave is not None:
        out.append((_reg("wave", voice), wave))
    return out


def filter_writes(
    *, cut: int | None = None, res: int = 0, route: int = 0, mode: int = 0, vol: int = 15
) -> Writes:
    """The writes that set the filter and volume: cutoff (11 bits), resonance, routing, mode bits."""
    out: Writes = []
    if cut is not None:
        lo = FIELDS["cut"].lo_bits
        out += [(_reg("cut", None, 0), cut & ((1 << lo) - 1)), (_reg("cut", None, 1), cut >> lo)]
    rr, mv = FIELDS["res"], FIELDS["vol"]
    out.append((rr.regs[0], (res << rr.shift) | (route << FIELDS["route"].shift)))
    out.append((mv.regs[0], (mode << FIELDS["mode"].shift) | (vol << mv.shift)))
    return out


def wave_bits(names: str) -> int:
    """``"pulse,gate"`` to its control-register bits."""
    return sum(WAVE_BITS[n] for n in names.split(",") if n)


def route_bit(voice: int) -> int:
    return ROUTE_BITS[f"v{voice + 1}"]


def mode_bits(names: str) -> int:
    return sum(MODE_BITS[n] for n in names.split(",") if n)


def _sid(model: int, rate: int, clock_hz: int):
    from pyresidfp._pyresidfp import SID, ChipModel, SamplingMethod

    chip = ChipModel.MOS8580 if model == 8580 else ChipModel.MOS6581
    sid = SID(chip, SamplingMethod.RESAMPLE, float(clock_hz), float(rate))
    sid.enable_filter(True)
    return sid


def render_frames(
    frames: list[Writes],
    *,
    model: int = 6581,
    rate: int = RATE,
    clock_hz: int = PAL_HZ,
    frame_cycles: int = PAL_FRAME,
    muted: tuple[int, ...] = (),
) -> np.ndarray:
    """Mono float64 samples (int16 units / 32768) of ``frames``, each frame's writes at its start.

    Gives exactly ``len(frames) * frame_cycles * rate // clock_hz`` samples, like the renderer.
    """
    sid = _sid(model, rate, clock_hz)
    for v in muted:
        sid.mute(v, True)
    sid.clock(PREROLL_CYCLES)
    out: list[int] = []
    extend, clock, write = out.extend, sid.clock, sid.write
    for writes in frames:
        for reg, val in writes:
            write(reg, val)
        extend(clock(frame_cycles))
    want = len(frames) * frame_cycles * rate // clock_hz
    while len(out) < want:
        extend(clock(64))
    return np.asarray(out[:want], dtype=np.float64) / 32768.0


def frames_to_tune(
    frames: list[Writes],
    *,
    model: int = 6581,
    clock_hz: int = PAL_HZ,
    frame_cycles: int = PAL_FRAME,
    title: str = "",
    tail: int = 0,
) -> Tune:
    """A Tune of ``frames`` (writes at each frame's start), lasting ``len(frames) + tail`` frames."""
    cycles, regs, vals = [], [], []
    for n, writes in enumerate(frames):
        for reg, val in writes:
            cycles.append(n * frame_cycles)
            regs.append(reg)
            vals.append(val)
    header = Header(
        title=title, clock_hz=clock_hz, frame_cycles=frame_cycles, models=(model,), frames=len(frames) + tail
    )
    return Tune(header, make_writes(cycles, [0] * len(cycles), regs, vals))
