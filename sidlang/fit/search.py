"""Patch fitting by analysis by synthesis: guess from the sound, then search, rendering every try.

:func:`fit_patch` takes a short recording (one note or hit) and returns the :class:`Patch` whose
reSIDfp render scores best against it (:class:`~sidlang.fit.features.Target`). In order:

1. **Analysis** of the recording: leading silence cut, the pitch from the harmonic sum of its
   mean spectrum (:func:`~sidlang.fit.pitchtrack.note_pitch`), then attack, decay, sustain,
   release and the gate length from a model of the chip's envelope generator fitted to the
   per-frame loudness over all 65,536 settings (:mod:`sidlang.fit.envelope`); its best five
   are rendered and the best kept.
2. **Grid over the discrete fields**, on the first 0.6 s only: every waveform of
   :data:`~sidlang.fit.patch.WAVES` unfiltered (those with pulse at four widths), then the best two through each filter mode at
   three cutoffs and two resonances.
3. **Local search** (coordinate descent with shrinking steps) over the integer fields, the
   envelope first (a, d, s, r, gate length), then pulse width and sweep, cutoff, resonance and
   sweep, frequency, slide and vibrato, on the whole sound, until the steps are spent or the
   budget (renders and seconds) runs out.

Renders are cached by patch, so a candidate is never rendered twice.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sidlang.errors import FormatError
from sidlang.pitch import PAL_FRAME, PAL_HZ, hz_to_reg, reg_to_hz

from .features import Target, power_spectrogram, to_rate
from .noteshape import NOISE_FLATNESS, TONE_FLATNESS, fit_motion, flatness
from .patch import BOUNDS, MODES, WAVES, Patch
from .pitchtrack import midi_hz, note_pitch
from .synth import RATE, render_frames

SPF = RATE * PAL_FRAME / PAL_HZ  #: samples per PAL frame at the analysis rate (about 440)
SHORT_S = 0.3  #: seconds the grid stage compares (a short render costs half a long one)
#: SID attack times (ms) per attack value; decay and release take three times as long.
ATTACK_MS = (2, 8, 16, 24, 38, 56, 68, 80, 100, 250, 500, 800, 1000, 3000, 5000, 8000)
MAX_SECONDS = 20.0
PULSE_WIDTHS = (0x100, 0x200, 0x400, 0x800)  #: widths the grid tries for waveforms with pulse
NOISE_LOW, NOISE_STEPS = 0x0200, 13  #: the noise colour grid: 13 frequencies, $0200 to $ffff (x1.6)
GOLDEN_STEPS = 7  #: golden-section steps after the colour grid (to about 2 % of the frequency)
Progress = Callable[[int, int], None]  #: (renders so far, render budget)


@dataclass
class FitResult:
    patch: Patch
    loss: float
    renders: int
    seconds: float
    frames: int  #: length of the fitted note in frames
    lead_frames: int  #: frames of silence cut from the start of the recording
    model: int

    def render(self, rate: int = RATE) -> np.ndarray:
        """The fitted patch's render (mono float) at ``rate``."""
        return render_frames(self.patch.frames(self.frames), model=self.model, rate=rate)


class Search:
    """A target, a chip, and a cache of candidate losses; counts renders and keeps the best."""

    def __init__(
        self,
        target: Target,
        frames: int,
        model: int,
        budget: int,
        deadline: float,
        progress: Progress | None = None,
    ) -> None:
        self.target, self.frames, self.model = target, frames, model
        self.budget, self.deadline, self.progress = budget, deadline, progress
        self.seconds = max(deadline - time.perf_counter(), 1e-9)
        self.cache: dict[tuple[Patch, int], float] = {}
        self.renders = 0
        self.best: Patch | None = None
        self.best_loss = math.inf

    @property
    def spent(self) -> bool:
        return self.renders >= self.budget or time.perf_counter() > self.deadline

    def spent_share(self) -> float:
        """How much of the budget is gone (0–1), by renders or by the clock, whichever is more."""
        left = (self.deadline - time.perf_counter()) / max(self.seconds, 1e-9)
        return max(self.renders / self.budget, 1 - left)

    def count(self) -> None:
        """One render made outside :meth:`loss` (the noise colour's)."""
        self.renders += 1
        if self.progress is not None:
            self.progress(self.renders, self.budget)

    def loss(self, patch: Patch, frames: int | None = None) -> float:
        n = frames or self.frames
        key = (patch, n)
        if key not in self.cache:
            x = render_frames(patch.frames(n), model=self.model)
            hops = None if n == self.frames else max(1, (len(x) - 2048) // 256 + 1)
            self.cache[key] = self.target.loss(x, hops)
            self.renders += 1
            if self.progress is not None:
                self.progress(self.renders, self.budget)
        value = self.cache[key]
        if n == self.frames and value < self.best_loss:
            self.best, self.best_loss = patch, value
        return value

    def descend(self, start: Patch, steps: dict[str, int], passes: int = 4) -> Patch:
        """Coordinate descent: try ±step on each field, keep what helps, halve steps that do not."""
        cur, cur_loss = start, self.loss(start)
        steps = dict(steps)
        for _ in range(passes):
            moved = False
            for name in list(steps):
                step = steps[name]
                if step <= 0 or self.spent:
                    continue
                improved = False
                for sign in (1, -1):
                    value = getattr(cur, name) + sign * step
                    lo, hi = BOUNDS[name]
                    if not lo <= value <= hi:
                        continue
                    cand = cur.replace(**{name: value})
                    loss = self.loss(cand)
                    if loss < cur_loss - 1e-6:
                        cur, cur_loss, improved, moved = cand, loss, True, True
                        break
                if not improved:
                    steps[name] = step // 2
            if not moved and all(s <= 0 for s in steps.values()):
                break
            if self.spent:
                break
        return cur


def _trim(x: np.ndarray) -> tuple[np.ndarray, int]:
    """The recording from its first loud frame on, and how many whole frames were cut."""
    spf = int(round(SPF))
    n = len(x) // spf
    if n == 0:
        return x, 0
    rms = np.sqrt(np.mean(x[: n * spf].reshape(n, spf) ** 2, axis=1))
    loud = np.nonzero(rms > rms.max() * 0.03)[0]
    lead = int(loud[0]) if len(loud) else 0
    return x[lead * spf :], lead


def _nearest(table: tuple[int, ...], ms: float) -> int:
    return int(np.argmin([abs(math.log(max(ms, 1.0) / t)) for t in table]))


def guess(x: np.ndarray) -> Patch:
    """A first patch from the recording's pitch and envelope (at RATE, trimmed)."""
    window = 8192
    spec = power_spectrogram(x, window, 1024)
    loudness = spec.sum(axis=1)
    loud = loudness > loudness.max() * 0.1
    midi = note_pitch(spec[loud].mean(axis=0), RATE, window)
    freq = min(hz_to_reg(float(midi_hz(midi)), PAL_HZ), BOUNDS["freq"][1])
    spf = int(round(SPF))
    n = max(1, len(x) // spf)
    rms = np.sqrt(np.mean(x[: n * spf].reshape(n, spf) ** 2, axis=1)) if len(x) >= spf else np.array([1.0])
    peak = int(np.argmax(rms))
    a = _nearest(ATTACK_MS, 20.0 * peak)
    late = rms[peak + (n - peak) * 2 // 3] if n - peak > 3 else rms[peak]
    s = int(min(15, round(15 * late / max(rms[peak], 1e-12))))
    below = np.nonzero(rms[peak:] < rms[peak] * 0.05)[0]
    gate = int(peak + below[0]) if len(below) else n
    gate = max(1, min(n, gate if s == 0 else max(gate - 5, peak + 1)))
    d = _nearest(tuple(3 * t for t in ATTACK_MS), 20.0 * max(1, gate - peak))
    return Patch(freq=max(1, freq), a=a, d=d, s=s, r=0, gate=gate)


def fit_patch(
    samples: np.ndarray,
    rate: int,
    *,
    model: int = 6581,
    budget: int = 400,
    seconds: float = 9.0,
    progress: Progress | None = None,
) -> FitResult:
    """Fit one voice to ``samples`` (mono float, any rate); see the module's steps."""
    t0 = time.perf_counter()
    x = to_rate(samples, rate)
    if len(x) / RATE > MAX_SECONDS:
        raise FormatError(
            f"a sound to fit a patch to is at most {MAX_SECONDS:.0f} s; this one is "
            f"{len(x) / RATE:.1f} s (cut it, or transcribe it with 'sidlang convert')"
        )
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak < 1e-4:
        raise FormatError("the sound is silent (peak under -80 dBFS): nothing to fit")
    x, lead = _trim(x)
    if len(x) < SPF * 3:
        raise FormatError(
            f"the sound is {1000 * len(x) / RATE:.0f} ms long after its leading silence; "
            "at least 3 frames (60 ms) are needed"
        )
    frames = int(math.ceil(len(x) / SPF))
    target = Target.of(x, RATE)
    search = Search(target, frames, model, budget, t0 + seconds, progress)
    flat = flatness(x)
    start = guess(x)
    if flat < NOISE_FLATNESS:  # the pitch's motion, measured rather than searched
        motion = fit_motion(x, frames, SPF, reg_to_hz(start.freq, PAL_HZ))
        if motion is not None:
            start = start.replace(
                freq=motion.freq, slide=motion.slide, vib_depth=motion.vib_depth, vib_period=motion.vib_period
            )
    # 1b. the envelope from the model of the chip's ADSR, the best few rendered
    from .envelope import fit_envelope

    shapes = [start.replace(**params) for _, params in fit_envelope(x, RATE, frames, keep=3)]
    start = min([start, *shapes], key=search.loss)
    short = min(frames, max(4, int(SHORT_S * RATE / SPF)))

    # 2. the waveform: noise by its colour, a waveform with harmonics by the grid
    found = []
    if flat > TONE_FLATNESS:
        found.append(_noise_colour(search, start.replace(wave="noise", vib_depth=0, slide=0), short))
    if flat < NOISE_FLATNESS:
        found.append(_wave_grid(search, start, short))
    cur = min(found, key=search.loss)

    # 3. local search: the envelope, then the continuous fields the choice uses
    cur = search.descend(cur, {"a": 2, "d": 2, "s": 2, "r": 2, "gate": 2}, passes=2)
    if cur.wave == "noise":  # the colour, finely: the grid's step was 4 %
        steps = {"freq": max(1, cur.freq // 100)}
    else:
        moving = cur.vib_depth > 0
        steps = {
            "freq": max(1, cur.freq // 400),
            "slide": max(1, abs(cur.slide) // 4, cur.freq // 2000),
            "vib_depth": max(1, cur.vib_depth // 4) if moving else max(1, cur.freq // 100),
            "vib_period": 1 if moving else 4,
        }
    if "pulse" in cur.wave:
        steps.update(pw=512, pw_sweep=16)
    if cur.mode:
        steps.update(cut=256, res=4, cut_sweep=8)
    cur = search.descend(cur, steps, passes=6)
    cur = search.descend(cur, {"a": 1, "d": 1, "s": 1, "r": 1, "gate": 2}, passes=2)
    best = search.best or cur
    return FitResult(best, search.best_loss, search.renders, time.perf_counter() - t0, frames, lead, model)


def _wave_grid(search: Search, start: Patch, short: int) -> Patch:
    """The best waveform (and pulse width) on the first ``short`` frames, then the best two
    through each filter mode at three cutoffs and two resonances; the winner judged whole."""
    # a pulse's width changes its harmonics as much as the waveform does: four widths each
    plain = [
        start.replace(wave=w, pw=pw)
        for w in WAVES
        if w != "noise"
        for pw in (PULSE_WIDTHS if "pulse" in w else (start.pw,))
    ]
    plain.sort(key=lambda p: search.loss(p, short))
    grid = plain[:2]
    for i, p in enumerate(plain[:2]):
        if i and search.spent_share() > 0.5:  # the second only while the budget allows
            break
        for mode in MODES[1:]:
            for cut in (0x180, 0x400, 0x900):
                for res in (0, 10):
                    grid.append(p.replace(mode=mode, cut=cut, res=res))
    best = min(
        grid,
        key=lambda p: search.loss(p, short) if (p, short) in search.cache or not search.spent else math.inf,
    )
    # the grid judged the first frames; judge its winner and the plain best wave on the whole
    return min((best, plain[0]), key=search.loss)


def _noise_colour(search: Search, start: Patch, short: int) -> Patch:
    """Noise at the frequency whose colour (mean spectrum over the first ``short`` frames) is
    nearest: a log grid of :data:`NOISE_STEPS` frequencies, then a golden-section search between
    the best one's neighbours. The band powers of noise are random frame by frame, so the loss
    that compares them is rough; the mean spectrum is smooth in the frequency."""
    cache: dict[int, float] = {}

    def colour(f: int) -> float:
        f = int(min(max(f, 1), BOUNDS["freq"][1]))
        if f not in cache:
            if search.spent:
                return math.inf
            x = render_frames(start.replace(freq=f).frames(short), model=search.model)
            hops = max(1, (len(x) - 2048) // 256 + 1)
            cache[f] = search.target.colour_loss(x, hops)
            search.count()
        return cache[f]

    grid = np.geomspace(NOISE_LOW, BOUNDS["freq"][1], NOISE_STEPS).astype(int)
    losses = [colour(int(f)) for f in grid]
    i = int(np.argmin(losses))
    lo, hi = math.log(grid[max(0, i - 1)]), math.log(grid[min(len(grid) - 1, i + 1)])
    g = (math.sqrt(5) - 1) / 2
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    fa, fb = colour(round(math.exp(a))), colour(round(math.exp(b)))
    for _ in range(GOLDEN_STEPS):
        if fa <= fb:
            hi, b, fb = b, a, fa
            a = hi - g * (hi - lo)
            fa = colour(round(math.exp(a)))
        else:
            lo, a, fa = a, b, fb
            b = lo + g * (hi - lo)
            fb = colour(round(math.exp(b)))
    f = min(cache, key=cache.get)
    return start.replace(freq=f)
