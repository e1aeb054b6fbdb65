"""Transcriptions refined frame by frame against the render: analysis by synthesis, note by note.

A transcription's notes get their waveform, pulse width and envelope from analysis (harmonic
profiles, loudness contours), which cannot see what the chip will make of them. Here each guess
is put to the real renderer: a *move* (another waveform, the sustain a few steps down, …) is
applied to every note of one voice at once, the whole tune rendered by reSIDfp, and each note
keeps the move where its own frames sound closer to the recording. One render thus tries one
alternative for every note of a voice: the voice's notes do not overlap in time and the other
voices are unchanged while it is judged, so each note's frames tell its own change's worth.

**The score** is the benchmark's (``sidlang.c64.compare``): log power in semitone bands, 110 Hz
to 11 kHz, on both scales it is read on (samples ±1, where band power has a floor of 1e-3 that
hides quiet bands, and 16-bit, where it does not), standardised by the recording's mean and
spread, the squared difference summed per hop (a hop is 11.6 ms). A correlation is one minus
half the mean of that, so a note's hops add up to its share of the figure.

**The budget**: a render of the whole tune costs about 0.06–0.1 s per second of audio on this
project's 2-core machine, so :data:`SECONDS_PER_SECOND` (1.3 s per second of audio) allows a
dozen; the moves are tried in :data:`MOVES` order, voice by voice, until it is spent. A last
render checks the whole: if it scores worse than the draft, the draft is kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

import numpy as np

from .features import power_spectrogram
from .synth import RATE
from .transcribe import REST, Draft, Note

WINDOW, HOP = 2048, 256  #: 93 ms windows, 11.6 ms hops: the benchmark's resolution at RATE
LOW_HZ, HIGH_HZ = 110.0, 11000.0
#: The ±1 scale's floor, at this window: compare's 4096 samples at 44.1 kHz give a tone 4x the power.
FLOOR_PM1 = 1e-3 / 4
SCALE_16 = float(1 << 30)  #: power of 16-bit samples against ±1 ones
SECONDS_PER_SECOND = 1.3  #: refinement time allowed per second of audio
MIN_SECONDS = 4.0  #: and at least this much, for short recordings
HARMONICS = 8  #: harmonics whose bands measure a note's level against the recording
METHOD = "resample"  #: reSIDfp's sampling for the refinement's renders
Progress = Callable[[int, int], None]


@lru_cache(maxsize=2)
def band_centres(rate: int = RATE, window: int = WINDOW) -> np.ndarray:
    """Centre frequency (Hz) of each band :func:`_bands` keeps."""
    m = _bands(rate, window)
    freqs = np.fft.rfftfreq(window, 1 / rate)
    return (freqs @ m) / m.sum(axis=0)


@lru_cache(maxsize=2)
def _bands(rate: int = RATE, window: int = WINDOW) -> np.ndarray:
    """``(bins, bands)`` 0/1: FFT bins into semitone bands from LOW_HZ to HIGH_HZ."""
    freqs = np.fft.rfftfreq(window, 1 / rate)
    edges = LOW_HZ * 2 ** ((np.arange(0, 12 * np.log2(HIGH_HZ / LOW_HZ) + 1) - 0.5) / 12)
    band = np.digitize(freqs, edges) - 1
    m = np.zeros((len(freqs), len(edges) - 1))
    ok = (band >= 0) & (band < len(edges) - 1)
    m[np.nonzero(ok)[0], band[ok]] = 1.0
    return m[:, m.sum(axis=0) > 0]


def levels(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(±1 scale, 16-bit scale)`` log band power, each ``(hops, bands)``, of mono ``x`` at RATE."""
    p = power_spectrogram(x, WINDOW, HOP) @ _bands()
    return np.log10(p + FLOOR_PM1), np.log10(p * SCALE_16 + 1e-3)


class Scorer:
    """The recording's standardised band levels; scores renders per hop against them."""

    def __init__(self, x: np.ndarray) -> None:
        raw = levels(x)
        self.raw16 = raw[1]
        self.ref = [self._z(a, a) for a in raw]
        self.hops = len(self.ref[0])
        self.norm: list[np.ndarray] | None = None

    @staticmethod
    def _z(a: np.ndarray, by: np.ndarray) -> np.ndarray:
        return (a - by.mean()) / max(float(by.std()), 1e-9)

    def per_cell(self, y: np.ndarray) -> np.ndarray:
        """``(hops, bands)`` squared standardised difference of a render ``y`` (at RATE) from the
        recording, both scales summed; the first render scored sets the standardisation of all
        later ones (so a change's worth is not blurred by a new mean)."""
        got = levels(y)
        if self.norm is None:
            self.norm = list(got)
        out = np.zeros(self.ref[0].shape)
        for g, n, r in zip(got, self.norm, self.ref):
            z = self._z(g, n)
            k = min(len(z), self.hops)
            out[:k] += (z[:k] - r[:k]) ** 2
            out[k:] += r[k:] ** 2
        return out

    def correlations(self, y: np.ndarray) -> tuple[float, float]:
        """The band correlations of ``y`` with the recording on the two scales (lag 0)."""
        got = levels(y)
        out = []
        for g, r in zip(got, self.ref):
            k = min(len(g), len(r))
            out.append(float(np.corrcoef(g[:k].ravel(), r[:k].ravel())[0, 1]))
        return out[0], out[1]


# -- the moves ------------------------------------------------------------------------------------


def _ad(n: Note) -> tuple[int, int]:
    return n.ad >> 4, n.ad & 15


def _wave(rank: int) -> Callable[[Note], Note | None]:
    """The note played with its ``rank``-th nearest waveform by harmonics (0: its own)."""

    def move(n: Note) -> Note | None:
        if len(n.timbres) <= rank:
            return None
        wave, pw = n.timbres[rank]
        if (wave, pw) == (n.wave, n.pw):
            return None
        return replace(n, wave=wave, pw=pw, pws=[] if wave != "pulse" else n.pws)

    return move


def _combined(n: Note) -> Note | None:
    """Saw and triangle combined: a tone between the two (the SID's combined waveforms)."""
    if n.wave not in ("saw", "tri"):
        return None
    return replace(n, wave="saw,tri", pws=[])


def _noise(n: Note) -> Note | None:
    """Noise instead of a pitch: a drum that the pitch tracker took for a note."""
    if n.end - n.start > 8 or n.wave == "noise":
        return None
    return replace(n, wave="noise", pws=[])


def _rest(n: Note) -> Note | None:
    """No note at all: a pitch the analysis heard twice (a bass doubled on a second voice, a
    resonant filter's peak taken for a note) only adds what the recording does not have."""
    return replace(n, wave=REST, pws=[])


def _sustain(delta: int) -> Callable[[Note], Note | None]:
    def move(n: Note) -> Note | None:
        level = min(15, max(0, n.level + delta))
        return None if level == n.level or n.sr is not None else replace(n, level=level)

    return move


def _decay(delta: int) -> Callable[[Note], Note | None]:
    def move(n: Note) -> Note | None:
        a, d = _ad(n)
        d2 = min(15, max(0, d + delta))
        return None if d2 == d else replace(n, ad=a << 4 | d2)

    return move


def _attack(delta: int) -> Callable[[Note], Note | None]:
    def move(n: Note) -> Note | None:
        a, d = _ad(n)
        a2 = min(15, max(0, a + delta))
        return None if a2 == a else replace(n, ad=a2 << 4 | d)

    return move


def _pulse_width(factor: float) -> Callable[[Note], Note | None]:
    """A pulse note's width (every frame's) scaled: harmonics 2–6 say little about a width near 50 %."""

    def move(n: Note) -> Note | None:
        if n.wave != "pulse":
            return None
        scale = lambda w: int(min(2048, max(16, round(w * factor))))  # noqa: E731
        return replace(n, pw=scale(n.pw), pws=[scale(w) for w in n.pws])

    return move


#: (name, move) in the order tried (the measured gains' order; the level from the render comes
#: second): each is tried on every voice before the next. "rest" first: on four exports at 10 s
#: it gained more than every other move together (+-1 scale median 0.820 -> 0.837).
MOVES: tuple[tuple[str, Callable[[Note], Note | None]], ...] = (
    ("rest", _rest),
    ("second waveform", _wave(1)),
    ("sustain +3", _sustain(3)),
    ("decay +2", _decay(2)),
    ("sustain -3", _sustain(-3)),
    ("pulse width x0.6", _pulse_width(0.6)),
    ("third waveform", _wave(2)),
    ("attack +2", _attack(2)),
    ("saw+tri", _combined),
    ("noise", _noise),
)
#: The rounds of :func:`refine`: the moves, with the level from the render (no move function:
#: :func:`level_moves` says each note's) second.
ROUNDS = (MOVES[0], ("level from the render", None), *MOVES[1:])


# -- the search -----------------------------------------------------------------------------------


def _render(draft: Draft, notes: list[Note]) -> np.ndarray:
    from sidlang.formats.render import RenderOptions, render

    y = render(
        draft.tune(notes),
        RenderOptions(rate=RATE, chip=draft.opts.chip, seconds=len(draft.x) / RATE, method=METHOD),
    )
    y = y.astype(np.float64)
    return (y.mean(axis=1) if y.ndim == 2 else y) / 32768


def note_cells(draft: Draft, hops: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """For every note, ``(hops, bands)``: the hops whose window centre falls in its frames (and
    the frame after, where its release sounds, unless the voice's next note starts there), and
    the bands of its first :data:`HARMONICS` harmonics (noise and drums: every band)."""
    spf = RATE * draft.header.frame_cycles / draft.header.clock_hz
    frame_of = ((np.arange(hops) * HOP + WINDOW // 2) / spf).astype(int)
    starts: dict[int, list[int]] = {}
    for n in draft.notes:
        starts.setdefault(n.voice, []).append(n.start)
    for v in starts:
        starts[v].sort()
    centres = np.log2(band_centres())
    out = []
    for n in draft.notes:
        after = [s for s in starts[n.voice] if s >= n.end]
        stop = min(n.end + 1, after[0]) if after else n.end + 1
        lo, hi = np.searchsorted(frame_of, [n.start, stop])
        f0 = 440.0 * 2 ** ((float(np.median(n.midi)) - 69) / 12) if n.midi else 0.0
        hz = f0 * np.arange(1, HARMONICS + 1)
        hz = hz[(hz >= LOW_HZ) & (hz <= HIGH_HZ)]
        bands = np.unique(np.argmin(np.abs(centres[None, :] - np.log2(hz)[:, None]), axis=1))
        out.append((np.arange(lo, hi), bands))
    return out


def level_moves(draft: Draft, scorer: Scorer, base: np.ndarray, cells) -> dict[int, int]:
    """Per note, the sustain level that the render says it needs: the level difference (dB) of
    recording and render in the power of the note's harmonic bands over its hops (so the loud
    harmonics rule, and a wrong waveform's weak upper ones do not ask for more level), turned
    into an envelope level (the output is linear in it). Only where it moves the sustain by 2
    steps or more. (Not relative to the median note: the benchmark's ±1 scale hears the absolute
    level, and the draft's levels come out low on the whole, as "sustain +3" gaining more than
    "sustain -3" showed.)"""
    ref, got = scorer.raw16, levels(base)[1]
    k = min(len(ref), len(got))
    diff = []
    for h, b in cells:
        h = h[h < k]
        if not (len(h) and len(b)):
            diff.append(np.nan)
            continue
        r, g = (10.0 ** a[h[:, None], b[None, :]] for a in (ref, got))
        diff.append(10 * float(np.log10(r.sum() / max(float(g.sum()), 1e-30))))
    diff = np.array(diff)
    if not np.isfinite(diff).any():
        return {}
    out = {}
    for i, n in enumerate(draft.notes):
        if not np.isfinite(diff[i]) or n.sr is not None:
            continue
        level = int(np.clip(round(max(n.level, 1) * 10 ** (diff[i] / 20)), 0, 15))
        if abs(level - n.level) >= 2:
            out[i] = level
    return out


def refine(draft: Draft, seconds: float | None = None, progress: Progress | None = None) -> dict:
    """Refine ``draft.notes`` in place against ``draft.x`` (see the module); returns what it did:
    renders, notes changed per move and what each move gained, the two correlations (this
    module's bands) before and after, seconds taken."""
    t0 = time.perf_counter()
    audio_s = len(draft.x) / RATE
    budget = seconds if seconds is not None else max(MIN_SECONDS, SECONDS_PER_SECOND * audio_s)
    scorer = Scorer(draft.x)
    notes = list(draft.notes)
    base = _render(draft, notes)
    err = scorer.per_cell(base).sum(axis=1)  # (hops,)
    cells = note_cells(draft, scorer.hops)
    levelled = level_moves(draft, scorer, base, cells)
    renders, kept, gained = 1, {}, {}
    voices = sorted({n.voice for n in notes})
    per_render = time.perf_counter() - t0
    for r, (name, move) in enumerate(ROUNDS):
        for v in voices:
            # a render must fit in what is left, with one more for the final check
            if time.perf_counter() - t0 + 2 * per_render > budget:
                break
            cand, changed = list(notes), []
            for i, n in enumerate(notes):
                if n.voice != v or n.wave == REST:  # a rest stays one
                    continue
                if move is not None:
                    m = move(n)
                else:
                    m = replace(n, level=levelled[i]) if i in levelled and levelled[i] != n.level else None
                if m is not None:
                    cand[i] = m
                    changed.append(i)
            if not changed:
                continue
            t1 = time.perf_counter()
            e = scorer.per_cell(_render(draft, cand)).sum(axis=1)
            per_render = max(per_render, time.perf_counter() - t1)
            renders += 1
            for i in changed:
                h = cells[i][0]
                if len(h) and e[h].sum() < err[h].sum() * 0.98:
                    gained[name] = gained.get(name, 0.0) + float(err[h].sum() - e[h].sum())
                    notes[i] = cand[i]
                    err[h] = e[h]
                    kept[name] = kept.get(name, 0) + 1
        if progress:
            progress(r + 1, len(ROUNDS))
    before = scorer.correlations(base)
    after = before
    if kept:
        final = _render(draft, notes)
        renders += 1
        after = scorer.correlations(final)
        if sum(after) > sum(before):
            draft.notes[:] = notes
        else:
            kept, after = {}, before
    said = {
        "renders": renders,
        "kept": kept,
        "gained": {k: round(v / err.size, 4) for k, v in gained.items()},
        "before": before,
        "after": after,
        "seconds": time.perf_counter() - t0,
    }
    draft.info["refined"] = f"{sum(kept.values())} note changes kept in {renders} renders"
    return said
