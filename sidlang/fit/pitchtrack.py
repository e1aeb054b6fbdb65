"""Pitch from spectra by harmonic sums: one pitch for a note, or up to three per frame for a tune.

The salience of a candidate fundamental ``f`` in a magnitude spectrum is a weighted sum of the
(compressed) magnitudes at ``f, 2f, … Hf``, each read as the largest of the three nearest bins
so a harmonic that falls between bins still counts. SID waveforms are exactly harmonic (or
noise), which is the case a harmonic sum does best; a sub-octave is held back by weighting the
fundamental most. :func:`multi_pitch` picks the best candidate, removes its harmonics from the
spectrum and picks again, up to ``voices`` times, keeping a pick only while it is a fair share of
the first one's salience: polyphony by iterative cancellation (Klapuri's scheme, much simplified).
"""

from __future__ import annotations

import numpy as np

HARMONICS = 10
#: Weight of harmonic h: the fundamental counts most, which keeps f/2 from winning.
WEIGHTS = np.array([1.6] + [0.85**h for h in range(1, HARMONICS)])
LOW_MIDI, HIGH_MIDI = 28, 100  #: E-1 … E-7, the range SID tunes use


def _spread(mag: np.ndarray) -> np.ndarray:
    """Each bin as the largest of itself and its two neighbours: (hops, bins)."""
    out = mag.copy()
    out[:, 1:] = np.maximum(out[:, 1:], mag[:, :-1])
    out[:, :-1] = np.maximum(out[:, :-1], mag[:, 1:])
    return out


def harmonic_bins(f0: np.ndarray, rate: int, window: int) -> tuple[np.ndarray, np.ndarray]:
    """``(bins (notes, H), valid (notes, H))``: the bin of every harmonic, and whether it is below Nyquist."""
    hz = f0[:, None] * np.arange(1, HARMONICS + 1)[None, :]
    bins = np.rint(hz * window / rate).astype(int)
    valid = hz < 0.45 * rate
    return np.where(valid, bins, 0), valid


def salience(mag: np.ndarray, f0: np.ndarray, rate: int, window: int) -> np.ndarray:
    """``(hops, notes)`` harmonic-sum salience of each candidate ``f0`` (Hz) in ``mag`` (hops, bins)."""
    bins, valid = harmonic_bins(f0, rate, window)
    spread = _spread(mag)
    picked = spread[:, bins] * valid[None]  # (hops, notes, H)
    return picked @ WEIGHTS


def midi_hz(midi: np.ndarray) -> np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(midi, dtype=np.float64) - 69) / 12)


def note_pitch(power: np.ndarray, rate: int, window: int, step_cents: float = 5.0) -> float:
    """The one fundamental (fractional MIDI) of a held note, from its mean power spectrum (bins,)."""
    mag = np.sqrt(np.sqrt(power))[None, :]
    grid = np.arange(LOW_MIDI - 12, HIGH_MIDI + 8, step_cents / 100)
    s = salience(mag, midi_hz(grid), rate, window)[0]
    return float(grid[int(np.argmax(s))])


def multi_pitch(
    power: np.ndarray,
    rate: int,
    window: int,
    voices: int = 3,
    share: float = 0.35,
    floor: float = 0.0,
    contrast: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``voices`` pitches per hop: ``(midi (hops, voices), strength (hops, voices))``.

    ``midi`` is the semitone of each pick (NaN where none); ``strength`` its salience. A pick is
    kept while its salience is at least ``share`` of the hop's first pick and above ``floor``, and
    while it stands ``contrast`` times over the median salience of the hop's first search: a click
    or a noise burst raises every candidate alike, a pitched note only its own.
    """
    mag = np.sqrt(np.sqrt(power))  # power ** 0.25: compressed magnitude
    grid = np.arange(LOW_MIDI, HIGH_MIDI + 1)
    f0 = midi_hz(grid)
    bins, valid = harmonic_bins(f0, rate, window)
    hops = len(mag)
    notes = np.full((hops, voices), np.nan)
    strength = np.zeros((hops, voices))
    work = mag.copy()
    first = None
    rows = np.arange(hops)
    for k in range(voices):
        s = salience(work, f0, rate, window)  # (hops, notes)
        best = np.argmax(s, axis=1)
        val = s[rows, best]
        if first is None:
            first = val
            median = np.median(s, axis=1)
        keep = (val >= share * first) & (val > floor) & (val >= contrast * median)
        notes[keep, k] = grid[best[keep]]
        strength[keep, k] = val[keep]
        # cancel the pick's harmonics (and their neighbours) before the next pick
        for h in range(HARMONICS):
            b = bins[best, h]
            ok = valid[best, h] & keep
            for d in (-1, 0, 1):
                bb = np.clip(b + d, 0, work.shape[1] - 1)
                work[rows[ok], bb[ok]] = 0.0
    return notes, strength
