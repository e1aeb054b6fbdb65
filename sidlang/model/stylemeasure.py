"""A style measure: how close two stretches of frames are in the way they use the chip.

From the register state after each frame (``tune.frames.state``; every SID's voices pooled as
more voices) a stretch of frames becomes :class:`Features`:

* histograms: the control register while the gate is on (its waveform, ring, sync and test
  bits: 128 bins), and at each note onset the attack/decay byte, the sustain/release byte
  (256 bins each), the pitch class (12) and the octave (0–8, 9 bins) of the frequency;
* the onset rate (onsets per second of the tune's clock);
* change rates: for each of the seven voice registers (pooled over the voices) and the four
  global ones (``cut_lo`` … ``mode_vol``, pooled over the chips), the share of frame-to-frame
  transitions where its value changes.

An **onset** is a rising edge of the gate bit, followed through every write to the control
register in time order, so a retrigger inside one frame (gate off and on again, or a hard
restart's ``test`` write followed by ``pulse,gate``) counts as well as a gate that was off
after the previous frame and is on after this one. What an onset's envelope and pitch are is
read from the state after its frame.

:func:`distance` is the sum of the Jensen–Shannon divergences of the five histograms (base 2,
each 0–1), :data:`RATE_SCALE` times the mean absolute difference of the eleven change rates,
and ``|log(rate_a / rate_b)|`` of the onset rates, each floored at :data:`ONSET_FLOOR`.
An empty histogram against an empty one is 0, against a full one 1 (no onsets at all is as
far from a tune with notes as a histogram can be).

:func:`kept` turns distances into "how much of a tune's style a continuation keeps": 1 as
close to the prompt as the tune's own next frames, 0 no closer than another tune's.
:func:`new_frames` is the share of a continuation's frames whose register state never occurs
in the prompt (a loop of the prompt scores about 0). ``benchmarks/bench_style.py`` runs them
on real tunes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from sidlang.pitch import reg_to_midi
from sidlang.registers import FIELDS, REGISTERS, VOICE_STRIDE, VOICES, WAVE_BITS
from sidlang.tune import Tune

_CTRL = FIELDS["wave"].regs[0]  #: the control register inside a voice block
_AD, _SR = FIELDS["ad"].regs[0], FIELDS["sr"].regs[0]
_FREQ_LO, _FREQ_HI = FIELDS["freq"].regs
_GATE = WAVE_BITS["gate"]
GLOBAL_REGS = tuple(r.offset for r in REGISTERS if r.voice is None and r.writable)  #: 21–24
VOICE_REG_NAMES = tuple(r.name for r in REGISTERS[:VOICE_STRIDE])
RATE_NAMES = VOICE_REG_NAMES + tuple(REGISTERS[r].name for r in GLOBAL_REGS)
HISTOGRAMS = {"wave": 128, "ad": 256, "sr": 256, "pitch_class": 12, "octave": 9}  #: name: bins

#: Weight of the change-rate term. Between different tunes the mean absolute difference of the
#: eleven change rates is about a quarter of the mean JS divergence of one histogram (0.14
#: against 0.59: the six default SID-Wizard exports of ``benchmarks/bench_style.py``, each
#: one's frames 0-999 against the others' 1000-1499), so 4 makes the term weigh about as much
#: as one histogram.
RATE_SCALE = 4.0
ONSET_FLOOR = 0.1  #: onsets per second: one note in ten seconds; keeps the log finite


@dataclass(frozen=True)
class Features:
    """What :func:`distance` compares, from one stretch of frames.

    ``hists`` are raw counts by name (:data:`HISTOGRAMS`); ``rates`` the change rate of each
    register in :data:`RATE_NAMES` order; ``rows`` the register state after each frame of the
    stretch, one row per frame (the registers measured, every chip side by side), for
    :func:`new_frames`.
    """

    hists: dict[str, np.ndarray]
    rates: np.ndarray  #: (11,) float64
    onsets: int
    seconds: float
    rows: np.ndarray  #: (frames, registers) uint8

    @property
    def onset_rate(self) -> float:
        """Onsets per second, at least :data:`ONSET_FLOOR`."""
        return max(self.onsets / self.seconds if self.seconds > 0 else 0.0, ONSET_FLOOR)


def onsets(tune: Tune, chip: int = 0) -> np.ndarray:
    """Gate rising edges of each voice in each frame: an int64 ``(len(tune.frames), 3)`` matrix.

    The gate is followed through every control-register write in time order from the reset
    state (gate off), so a gate turned off and on inside one frame counts there.
    """
    w, fr = tune.writes, tune.frames
    out = np.zeros((len(fr), VOICES), np.int64)
    mine = w["chip"] == chip
    for v in range(VOICES):
        idx = np.flatnonzero(mine & (w["reg"] == v * VOICE_STRIDE + _CTRL))
        gate = (w["val"][idx] & _GATE) != 0
        rise = gate & ~np.r_[False, gate[:-1]]
        out[:, v] = np.bincount(fr.index[idx[rise]], minlength=len(fr))
    return out


def features(
    tune: Tune, start: int = 0, stop: int | None = None, *, voices: Iterable[int] = (1, 2, 3)
) -> Features:
    """The features of frames ``start`` to ``stop`` (not included) of ``tune``.

    ``voices`` (1–3, of every chip) are pooled; the global registers always count. Frames
    past the tune's end are not there: ``stop`` is clipped to its length.
    """
    fr = tune.frames
    stop = len(fr) if stop is None else min(stop, len(fr))
    start = max(0, min(start, stop))
    vs = sorted({v - 1 for v in voices})
    if any(not 0 <= v < VOICES for v in vs):
        raise ValueError(f"voices are 1, 2 or 3, got {sorted(v + 1 for v in vs)}")
    cols = [v * VOICE_STRIDE + r for v in vs for r in range(VOICE_STRIDE)] + list(GLOBAL_REGS)
    states = [fr.state(c)[start:stop] for c in range(tune.header.chips)]  # (n, 25) each
    n = stop - start
    wave, ad, sr, freq, counts, voice_changes = [], [], [], [], [], []
    for chip, st in enumerate(states):
        on = onsets(tune, chip)[start:stop]
        for v in vs:
            b = v * VOICE_STRIDE
            ctrl = st[:, b + _CTRL]
            wave.append(ctrl[(ctrl & _GATE) != 0] >> 1)
            k = on[:, v]
            ad.append(np.repeat(st[:, b + _AD], k))
            sr.append(np.repeat(st[:, b + _SR], k))
            freq.append(
                np.repeat(st[:, b + _FREQ_LO].astype(np.int64) | st[:, b + _FREQ_HI].astype(np.int64) << 8, k)
            )
            counts.append(int(k.sum()))
            voice_changes.append(np.diff(st[:, b : b + VOICE_STRIDE].astype(np.int16), axis=0) != 0)
    glob = [np.diff(st[:, list(GLOBAL_REGS)].astype(np.int16), axis=0) != 0 for st in states]
    steps = max(n - 1, 1)
    voice_rates = (
        np.sum([c.sum(axis=0) for c in voice_changes], axis=0) / (steps * len(voice_changes))
        if voice_changes
        else np.zeros(VOICE_STRIDE)
    )
    global_rates = np.sum([g.sum(axis=0) for g in glob], axis=0) / (steps * len(glob))
    freq = np.concatenate(freq) if freq else np.zeros(0, np.int64)
    midi = np.round(_midi(freq[freq > 0], tune.header.clock_hz)).astype(np.int64)
    hists = {
        "wave": _hist(wave, HISTOGRAMS["wave"]),
        "ad": _hist(ad, HISTOGRAMS["ad"]),
        "sr": _hist(sr, HISTOGRAMS["sr"]),
        "pitch_class": np.bincount(midi % 12, minlength=12),
        "octave": np.bincount(
            np.clip(midi // 12 - 1, 0, HISTOGRAMS["octave"] - 1), minlength=HISTOGRAMS["octave"]
        ),
    }
    rows = np.concatenate([st[:, cols] for st in states], axis=1) if states else np.zeros((n, 0), np.uint8)
    return Features(
        hists,
        np.concatenate([voice_rates, global_rates]).astype(np.float64),
        int(sum(counts)),
        n / tune.header.frame_hz,
        np.ascontiguousarray(rows),
    )


def _hist(parts: list[np.ndarray], bins: int) -> np.ndarray:
    vals = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
    return np.bincount(vals, minlength=bins)


_reg_to_midi = np.vectorize(reg_to_midi, otypes=[np.float64])


def _midi(freq: np.ndarray, clock_hz: int) -> np.ndarray:
    return _reg_to_midi(freq, clock_hz) if len(freq) else np.zeros(0)


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon divergence (base 2, 0–1) of two count histograms of equal length.

    Two empty histograms are 0 apart; an empty one and a full one 1.
    """
    sp, sq = float(np.sum(p)), float(np.sum(q))
    if sp == 0 or sq == 0:
        return 0.0 if sp == sq else 1.0
    p, q = np.asarray(p, np.float64) / sp, np.asarray(q, np.float64) / sq
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        kp = np.where(p > 0, p * np.log2(p / m), 0.0).sum()
        kq = np.where(q > 0, q * np.log2(q / m), 0.0).sum()
    return float(min(max(0.5 * (kp + kq), 0.0), 1.0))


def distance_terms(a: Features, b: Features) -> dict[str, float]:
    """Each term of :func:`distance`: one per histogram, ``"rates"`` and ``"onset_rate"``."""
    terms = {name: js_divergence(a.hists[name], b.hists[name]) for name in HISTOGRAMS}
    terms["rates"] = RATE_SCALE * float(np.mean(np.abs(a.rates - b.rates)))
    terms["onset_rate"] = abs(float(np.log(a.onset_rate / b.onset_rate)))
    return terms


def distance(a: Features, b: Features) -> float:
    """D(a, b): the sum of :func:`distance_terms`; 0 for equal features, symmetric."""
    return float(sum(distance_terms(a, b).values()))


def kept(prompt: Features, continuation: Features, truth: Features, others: Sequence[Features]) -> float:
    """``(D(prompt, others) - D(prompt, continuation)) / (D(prompt, others) - D(prompt, truth))``.

    ``D(prompt, others)`` is the mean distance of the prompt to each other tune's stretch: 1
    means the continuation is as close to the prompt as the tune's own next frames (``truth``),
    0 no closer than another tune, below 0 further. NaN without other tunes, or where the
    truth is no closer to the prompt than the other tunes are (nothing to measure against).
    """
    if not others:
        return float("nan")
    far = float(np.mean([distance(prompt, o) for o in others]))
    span = far - distance(prompt, truth)
    if span <= 0:
        return float("nan")
    return (far - distance(prompt, continuation)) / span


def new_frames(prompt: Features, continuation: Features) -> float:
    """Share of the continuation's frames whose register state never occurs in the prompt.

    Both must measure the same registers (the same ``voices``). 0 for an empty continuation.
    """
    if prompt.rows.shape[1] != continuation.rows.shape[1]:
        raise ValueError("prompt and continuation measure different registers")
    if not len(continuation.rows):
        return 0.0
    seen = {r.tobytes() for r in prompt.rows}
    return sum(r.tobytes() not in seen for r in continuation.rows) / len(continuation.rows)


__all__ = [
    "Features",
    "GLOBAL_REGS",
    "HISTOGRAMS",
    "ONSET_FLOOR",
    "RATE_NAMES",
    "RATE_SCALE",
    "distance",
    "distance_terms",
    "features",
    "js_divergence",
    "kept",
    "new_frames",
    "onsets",
]
