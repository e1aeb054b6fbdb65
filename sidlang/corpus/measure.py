"""How faithful an arrangement is to its source: melody notes kept, pitch-class similarity.

Both read the arranged Tune itself (through :mod:`sidlang.formats.sidnotes`), not the arranger's
plan, so whatever the player routine, drums or hard restart do to the notes is counted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from sidlang.formats.sidnotes import NOISE, notes, voice_frames
from sidlang.registers import VOICES
from sidlang.tune import Tune

from .arranger import QNote, line, quantize


def reference_melody(source_score, fps: float) -> list[QNote]:
    """The melody as the score writes it: the skyline of the part named Soprano, or else of the
    first part (violin 1, the tune of a folk song).

    ``source_score`` is a music21 stream; the part is written to MIDI on its own, so the
    reference shares nothing with the arranger's choice of melody.
    """
    from .sources import score_to_midi

    parts = list(getattr(source_score, "parts", [])) or [source_score]
    part = next((p for p in parts if "soprano" in str(p.partName or "").lower()), parts[0])
    melodic, _, _ = quantize(score_to_midi(part), fps)
    return line([q for part in melodic for q in part])[0]


def melody_kept(
    reference: Sequence[QNote], tune: Tune, voice: int, transpose: int = 0, slack: int = 1
) -> float:
    """Share of ``reference`` notes that the tune plays on ``voice`` (chip 1): same pitch (plus
    ``transpose``), onset within ``slack`` frames. 1.0 for an empty reference."""
    if not reference:
        return 1.0
    played = {(n.start, n.pitch) for n in notes(tune) if n.chip == 0 and n.voice == voice and not n.drum}
    kept = sum(
        any((q.start + d, q.pitch + transpose) in played for d in range(-slack, slack + 1)) for q in reference
    )
    return kept / len(reference)


def pitch_class_histogram(qnotes: Iterable[QNote]) -> np.ndarray:
    """Duration-weighted pitch-class histogram (12 values summing to 1, or zeros)."""
    h = np.zeros(12)
    for q in qnotes:
        h[q.pitch % 12] += q.end - q.start
    return h / h.sum() if h.sum() else h


def tune_pitch_classes(tune: Tune) -> np.ndarray:
    """Pitch-class histogram of what the tune sounds: every gated frame of every pitched voice."""
    h = np.zeros(12)
    for chip in range(tune.header.chips):
        for voice in range(VOICES):
            vf = voice_frames(tune, chip, voice)
            on = vf.gate & ((vf.ctrl & NOISE) == 0) & ~np.isnan(vf.pitch)
            pcs = np.round(vf.pitch[on]).astype(np.int64) % 12
            h += np.bincount(pcs, minlength=12)
    return h / h.sum() if h.sum() else h


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two histograms (0 where either is empty)."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return float(a @ b / (na * nb)) if na and nb else 0.0
