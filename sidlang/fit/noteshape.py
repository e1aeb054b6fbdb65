"""What a single note's recording says before anything is rendered: noise or pitch, and how the
pitch moves (a slide, a vibrato), so the search starts near the answer instead of finding it.

A render costs about 0.1 s per second of sound on this project's loaded 2-core machine, so a
search of 10 s affords a few dozen; a vibrato found by coordinate descent alone spends most of
them. Here the pitch is measured frame by frame instead, and the patch's own frequency program
(``freq + slide * k + vibrato(k)``, :meth:`sidlang.fit.patch.Patch.frames`) is fitted to it by
least squares for every vibrato period, each basis smoothed by the same window the measurement
looked through. :func:`flatness` tells noise (flat spectrum) from a waveform with harmonics.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sidlang.pitch import PAL_HZ

from .synth import RATE

WINDOW = 1024  #: samples (46 ms at RATE): short enough to follow a vibrato of 8 frames
PAD = 8  #: zero padding factor of the pitch FFT
HARMONICS = 3  #: harmonics whose peaks are averaged for a frame's pitch
LOUD_DB = -30.0  #: frames under this (dB under the loudest) say nothing about the pitch
PERIODS = range(2, 33)  #: vibrato periods tried (frames), as :data:`~sidlang.fit.patch.BOUNDS`
MIN_GAIN = 0.3  #: a vibrato must explain this share of the pitch variance left by a slide
NOISE_FLATNESS = 0.25  #: spectral flatness over which a sound is taken for noise
TONE_FLATNESS = 0.05  #: and under which for a waveform with harmonics


def flatness(x: np.ndarray, rate: int = RATE) -> float:
    """Spectral flatness (geometric over arithmetic mean of power, 200 Hz–8 kHz) of the loud part
    of ``x``: near 0 for a waveform with harmonics, 0.3–0.6 for the SID's noise."""
    from .features import power_spectrogram

    spec = power_spectrogram(x, 2048, 512)
    energy = spec.sum(axis=1)
    loud = energy > energy.max() * 0.05
    mean = spec[loud].mean(axis=0)
    freqs = np.fft.rfftfreq(2048, 1 / rate)
    band = mean[(freqs >= 200) & (freqs <= 8000)] + 1e-20
    return float(np.exp(np.mean(np.log(band))) / np.mean(band))


def frame_pitch(
    x: np.ndarray, frames: int, spf: float, f0: float | np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(hz (frames,), loud (frames,) bool)``: each frame's fundamental within 4 % of ``f0`` (one
    for all, or one per frame), from the interpolated peaks of its first harmonics in a window
    around the frame's middle."""
    n = WINDOW * PAD
    half = WINDOW // 2
    xp = np.pad(np.asarray(x, dtype=np.float64), (half, half + WINDOW))
    centers = (np.arange(frames) * spf + spf / 2).astype(int) + half
    idx = centers[:, None] - half + np.arange(WINDOW)[None, :]
    seg = xp[idx] * np.hanning(WINDOW)
    mag = np.abs(np.fft.rfft(seg, n=n, axis=1))  # (frames, n/2+1)
    energy = (seg**2).sum(axis=1)
    loud = 10 * np.log10(energy / max(float(energy.max()), 1e-30) + 1e-30) > LOUD_DB
    hz = np.zeros(frames)
    weight = np.zeros(frames)
    rows = np.arange(frames)
    f0 = np.broadcast_to(np.asarray(f0, dtype=np.float64), (frames,))
    for h in range(1, HARMONICS + 1):
        centre = h * f0 * n / RATE
        lo, hi = (centre * 0.96).astype(int), np.ceil(centre * 1.04).astype(int) + 1
        if hi.max() + 1 >= mag.shape[1] or lo.min() < 1:
            continue
        width = int((hi - lo).max())
        cols = np.minimum(lo[:, None] + np.arange(width)[None, :], hi[:, None] - 1)
        k = cols[rows, np.argmax(mag[rows[:, None], cols], axis=1)]
        a, b, c = (np.log(mag[rows, k + d] + 1e-20) for d in (-1, 0, 1))
        denom = a - 2 * b + c
        shift = np.where(np.abs(denom) > 1e-12, 0.5 * (a - c) / np.where(denom == 0, 1, denom), 0.0)
        peak = (k + np.clip(shift, -0.5, 0.5)) * RATE / n / h
        w = mag[rows, k]
        hz += w * peak
        weight += w
    ok = weight > 0
    hz[ok] /= weight[ok]
    return hz, loud & ok


def smoothing(frames: int, spf: float) -> np.ndarray:
    """``(frames, frames)`` weights: how much each frame's frequency counts in each frame's
    measurement (the window's squared Hann shape laid over the frames)."""
    half = WINDOW // 2
    w = np.hanning(WINDOW) ** 2
    out = np.zeros((frames, frames))
    for k in range(frames):
        start = int(k * spf + spf / 2) - half
        pos = start + np.arange(WINDOW)
        frame_of = np.floor(pos / spf).astype(int)
        ok = (frame_of >= 0) & (frame_of < frames)
        np.add.at(out[k], frame_of[ok], w[ok])
        out[k] /= max(out[k].sum(), 1e-12)
    return out


def triangle(period: int, frames: int) -> np.ndarray:
    """The patch's vibrato shape at depth 1 (:meth:`sidlang.fit.patch.Patch._vibrato`)."""
    phase = (np.arange(frames) % period) / period
    return np.where(phase < 0.5, 4 * phase - 1, 3 - 4 * phase)


@dataclass(frozen=True)
class Motion:
    """A note's frequency program in register units: ``freq + slide * k + depth * tri(k)``."""

    freq: int
    slide: int = 0
    vib_depth: int = 0
    vib_period: int = 8


def fit_motion(x: np.ndarray, frames: int, spf: float, f0: float, clock_hz: int = PAL_HZ) -> Motion | None:
    """The frequency program that best explains the per-frame pitch of ``x`` (None: too few loud
    frames to say). A vibrato is kept only when it explains :data:`MIN_GAIN` of what a slide
    leaves; a slide only when it moves the note by more than 5 cents over the loud frames."""
    found = _fit(x, frames, spf, f0, clock_hz)
    if found is None:
        return None
    # again, each frame searched near the last answer's program: a slide leaves a fixed band
    for _ in range(2):
        k = np.arange(frames)
        program = found.freq + found.slide * k + found.vib_depth * triangle(found.vib_period, frames)
        found = _fit(x, frames, spf, np.maximum(program, 1) * clock_hz / (1 << 24), clock_hz) or found
    return found


def _fit(x: np.ndarray, frames: int, spf: float, f0: float | np.ndarray, clock_hz: int) -> Motion | None:
    hz, loud = frame_pitch(x, frames, spf, f0)
    rows = np.nonzero(loud)[0]
    if len(rows) < 4:
        return None
    reg = hz * (1 << 24) / clock_hz
    smooth = smoothing(frames, spf)[rows]  # (loud, frames)
    k = np.arange(frames, dtype=np.float64)
    y = reg[rows]

    def solve(basis: list[np.ndarray]) -> tuple[np.ndarray, float]:
        a = np.stack([smooth @ b for b in basis], axis=1)
        coef, *_ = np.linalg.lstsq(a, y, rcond=None)
        return coef, float(((a @ coef - y) ** 2).sum())

    (base, slide), plain = solve([np.ones(frames), k])
    best = Motion(int(round(base)), int(round(slide)))
    span = abs(slide) * (rows[-1] - rows[0]) / max(base, 1.0)
    if span < 2 ** (5 / 1200) - 1:
        best = Motion(int(round(float(np.mean(y)))))
    best_err = plain * (1 - MIN_GAIN)
    for p in PERIODS:
        if p * 1 > frames:
            break
        (f, s, d), err = solve([np.ones(frames), k, triangle(p, frames)])
        if err < best_err and d > 0:
            best, best_err = Motion(int(round(f)), int(round(s)), int(round(d)), p), err
    return best
