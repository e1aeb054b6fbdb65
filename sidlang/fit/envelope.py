"""The SID's ADSR envelope as a model, to fit attack, decay, sustain, release and gate length fast.

Rendering every one of the 65,536 ADSR settings (times the gate lengths) is out of reach, but
the envelope generator is simple enough to model: a rate counter steps the 8-bit level once per
``RATE_PERIODS[value]`` cycles; the attack climbs linearly to 255, then decay and release fall
with the counter slowed down at lower levels (the chip's piecewise-exponential curve,
``EXP_STEPS``) down to the sustain level ``17 * s`` or 0. :func:`fit_envelope` simulates that in
1 ms steps for every attack/decay/sustain at once, tabulates the release from every level for
every release value, and scores each combination and gate length against the recording's
per-frame loudness (decibels under its peak, floored at -50 dB). The best few go on to be
rendered by reSIDfp, which has the last word (the model ignores the 6581's DAC curve and the
envelope's rate-counter wrap-around bug).
"""

from __future__ import annotations

import numpy as np

from sidlang.pitch import PAL_FRAME, PAL_HZ

#: Cycles per envelope step for each rate value 0–15 (reSIDfp's ``adsrtable``).
RATE_PERIODS = np.array(
    [9, 32, 63, 95, 149, 220, 267, 313, 392, 977, 1954, 3126, 3907, 11720, 19532, 31251], dtype=np.float64
)
#: (level at or above, counter slow-down) for decay and release.
EXP_STEPS = ((93, 1), (54, 2), (26, 4), (14, 8), (6, 16), (1, 30))
STEP_CYCLES = 985  #: simulation step: about 1 ms
FLOOR_DB = -50.0
#: Offsets (dB) tried between the recording's loudest frame and full level: a gate-on click can make
#: the first frame louder than the note itself.
GAINS_DB = np.arange(-3.0, 9.1, 1.5)


def _slowdown(level: np.ndarray) -> np.ndarray:
    out = np.full(level.shape, 30.0)
    for lo, k in reversed(EXP_STEPS):
        out[level >= lo] = k
    return out


def _fall(level: np.ndarray, period: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """One step of decay or release from ``level`` towards ``floor``."""
    return np.maximum(level - STEP_CYCLES / (period * _slowdown(level)), floor)


def ads_curves(steps: int) -> tuple[np.ndarray, np.ndarray]:
    """``(levels (steps, 4096), combos (4096, 3))``: the level with the gate held, per a/d/s."""
    a, d, s = (g.ravel() for g in np.meshgrid(np.arange(16), np.arange(16), np.arange(16), indexing="ij"))
    pa, pd, sus = RATE_PERIODS[a], RATE_PERIODS[d], 17.0 * s
    level = np.zeros(len(a))
    attacking = np.ones(len(a), bool)
    out = np.empty((steps, len(a)))
    for t in range(steps):
        up = np.minimum(level + STEP_CYCLES / pa, 255.0)
        down = _fall(level, pd, np.minimum(sus, level))
        level = np.where(attacking, up, down)
        attacking &= level < 255.0
        out[t] = level
    return out, np.stack([a, d, s], axis=1)


def release_table(steps: int) -> np.ndarray:
    """``(16, 256, steps)``: the level ``t`` steps after the gate closes, per release value and start level."""
    r, start = np.meshgrid(np.arange(16), np.arange(256), indexing="ij")
    level = start.astype(np.float64).ravel()
    period = RATE_PERIODS[r.ravel()]
    out = np.empty((steps, level.size))
    for t in range(steps):
        level = _fall(level, period, np.zeros_like(level))
        out[t] = level
    return out.T.reshape(16, 256, steps)


def frame_loudness(x: np.ndarray, rate: int, frames: int) -> np.ndarray:
    """Per-frame RMS of ``x`` (high-passed) in dB under its loudest frame, floored at :data:`FLOOR_DB`."""
    # High-passed first: the 6581's output steps with its DC level when the envelope moves, and
    # that step would count as loudness; the notes' own energy is almost all above 120 Hz.
    # (In the frequency domain with numpy's FFT: scipy.signal's import alone costs 1-3 s here.)
    spec = np.fft.rfft(x)
    spec[np.fft.rfftfreq(len(x), 1 / rate) < 120] = 0
    x = np.fft.irfft(spec, len(x))
    spf = rate * PAL_FRAME / PAL_HZ
    edges = np.rint(np.arange(frames + 1) * spf).astype(int)
    rms = np.array(
        [
            np.sqrt(np.mean((seg - seg.mean()) ** 2)) if len(seg := x[a:b]) else 0.0
            for a, b in zip(edges[:-1], edges[1:])
        ]
    )
    db = 20 * np.log10(np.maximum(rms, 1e-9) / max(float(rms.max()), 1e-9))
    return np.maximum(db, FLOOR_DB)


def _db(level: np.ndarray) -> np.ndarray:
    return np.maximum(20 * np.log10(np.maximum(level, 1e-3) / 255.0), FLOOR_DB)


def fit_envelope(
    x: np.ndarray, rate: int, frames: int, keep: int = 4, gates: np.ndarray | None = None
) -> list[tuple[float, dict[str, int]]]:
    """The ``keep`` best ``(loss, {a, d, s, r, gate})`` for the loudness of ``x`` under the model."""
    target = frame_loudness(x, rate, frames)  # (frames,)
    # Frame 0 is left out: the volume write that starts a tune steps the 6581's DC level, a click
    # that the envelope has no part in (the rendered candidates have it too).
    target = np.maximum(target - target[1:].max(), FLOOR_DB) if frames > 1 else target
    # The recording's own floor (noise, or the 6581's leak once the envelope is down): below it
    # the model's level is not heard, so a release that falls under it costs nothing.
    floor = max(FLOOR_DB, float(np.percentile(target, 5)) + 3.0)
    per = PAL_FRAME / STEP_CYCLES  # steps per frame, about 20
    steps = int(np.ceil(frames * per)) + 1
    ads, combos = ads_curves(steps)
    rel = release_table(steps)
    frame_of = np.minimum((np.arange(steps) / per).astype(int), frames - 1)
    counts = np.bincount(frame_of, minlength=frames).astype(np.float64)

    starts = np.searchsorted(frame_of, np.arange(frames))

    def per_frame(levels: np.ndarray) -> np.ndarray:
        """(steps, …) levels to (frames, …) dB of their mean power in each frame."""
        power = np.add.reduceat(levels**2, starts, axis=0)
        return _db(np.sqrt(power / counts.reshape((-1,) + (1,) * (levels.ndim - 1))))

    ads_db = per_frame(ads)  # (frames, 4096)
    # the release from every start level, the gate closing on a frame boundary: (frames, 16*256)
    rel_db = per_frame(rel.reshape(16 * 256, steps).T)
    if gates is None:
        gates = np.unique(np.linspace(1, frames, min(frames, 40)).astype(int))
    found: list[tuple[float, dict[str, int]]] = []
    idx = np.arange(ads.shape[1])
    for g in gates:
        g = int(g)
        start = np.rint(ads[min(int(round(g * per)), steps - 1)]).astype(int)  # level at gate off
        best_total, best_r = np.full(len(start), np.inf), np.zeros(len(start), int)
        for gain in GAINS_DB:  # the recording's level against the chip's: a few offsets tried
            t, low = target + gain, floor + gain
            total = np.abs(np.maximum(ads_db[1:g], low) - np.maximum(t[1:g, None], low)).sum(
                axis=0
            )  # (4096,)
            r_best = np.zeros(len(start), int)
            if g < frames:
                tail = np.maximum(t[g:, None], low)
                rel_loss = np.abs(np.maximum(rel_db[: frames - g], low) - tail).sum(axis=0).reshape(16, 256)
                post = rel_loss[:, start]  # (16, 4096)
                r_best = np.argmin(post, axis=0)
                total = total + post[r_best, idx]
            better = total < best_total
            best_total[better], best_r[better] = total[better], r_best[better]
        for i in np.argsort(best_total)[:keep]:
            a, d, s = (int(v) for v in combos[i])
            found.append(
                (float(best_total[i]) / frames / 10, {"a": a, "d": d, "s": s, "r": int(best_r[i]), "gate": g})
            )
    found.sort(key=lambda f: f[0])
    out, seen = [], set()
    for loss, params in found:
        key = tuple(params.values())
        if key not in seen:
            seen.add(key)
            out.append((loss, params))
        if len(out) == keep:
            break
    return out
