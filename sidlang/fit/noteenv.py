"""Per-note envelopes for transcription: attack, decay and sustain fitted to each note's loudness.

A transcribed note knows its harmonic amplitude frame by frame (:mod:`sidlang.fit.transcribe`).
The SID's output is linear in the envelope level, so one constant ties amplitude to level: the
loudest notes are taken to reach full level (the 99th percentile of all note amplitudes). Each
note's contour, in decibels under that reference, is compared with the chip's attack/decay/sustain
curves for all 4,096 settings (the model of :mod:`sidlang.fit.envelope`, averaged per frame),
and the nearest is the note's. Notes are compared over at most :data:`MAX_FRAMES` frames.
"""

from __future__ import annotations

import numpy as np

from .envelope import STEP_CYCLES, ads_curves

MAX_FRAMES = 100  #: frames of a note compared (2 s at PAL)
FLOOR_DB = -40.0


class NoteEnvelopes:
    """The per-frame levels of every attack/decay/sustain setting, ready to match contours."""

    def __init__(self, frame_cycles: int) -> None:
        per = frame_cycles / STEP_CYCLES
        steps = int(np.ceil(MAX_FRAMES * per)) + 1
        levels, self.combos = ads_curves(steps)  # (steps, 4096)
        frame_of = np.minimum((np.arange(steps) / per).astype(int), MAX_FRAMES - 1)
        starts = np.searchsorted(frame_of, np.arange(MAX_FRAMES))
        counts = np.bincount(frame_of, minlength=MAX_FRAMES)[:, None]
        rms = np.sqrt(np.add.reduceat(levels**2, starts, axis=0) / counts)  # (frames, 4096)
        self.db = np.maximum(20 * np.log10(np.maximum(rms, 1e-3) / 255.0), FLOOR_DB)

    def fit(self, contour_db: np.ndarray) -> tuple[int, int, int]:
        """``(attack, decay, sustain)`` whose curve is nearest ``contour_db`` (dB under full level)."""
        n = min(len(contour_db), MAX_FRAMES)
        target = np.maximum(np.asarray(contour_db[:n], dtype=np.float64), FLOOR_DB)
        err = np.abs(self.db[:n] - target[:, None]).sum(axis=0)
        a, d, s = (int(v) for v in self.combos[int(np.argmin(err))])
        return a, d, s


def reference(amps: list[np.ndarray]) -> float:
    """The amplitude taken as full level: the 99th percentile over every note's frames."""
    every = np.concatenate([a[a > 0] for a in amps if len(a)]) if amps else np.zeros(0)
    return float(np.percentile(every, 99)) if len(every) else 1.0


def contour_db(amp: np.ndarray, ref: float) -> np.ndarray:
    return 20 * np.log10(np.maximum(amp, 1e-9) / ref)
