"""Transcription: a recording into three SID voices of frames (ordinary sidlang).

:func:`transcribe` works frame by frame (1/50 s at PAL), in these steps:

1. **Pitches**: the recording is heard high-passed at 30 Hz (a render's slow offsets would pass
   for loud frames and low notes); the spectrum around every frame (2048-sample Hann window at
   22,050 Hz) gives up to ``voices`` fundamentals by harmonic sums with iterative cancellation
   (:func:`~sidlang.fit.pitchtrack.multi_pitch`), each refined to 5 cents.
2. **Voices**: each frame's picks are given to the voices whose previous pitch they are nearest
   (every assignment of up to three picks is tried), so a line stays on its voice; blips shorter
   than :data:`MIN_NOTE` frames are dropped and one-frame gaps closed.
3. **Notes**: a voice's pitch run is a note while it stays within half a semitone of where it
   began; a new semitone or a jump in the voice's harmonic energy (``ONSET_JUMP``) starts the
   next note, with the gate cleared and set again in that frame (a retrigger the chip hears).
   Smaller pitch motion inside a note (vibrato, slides) is written as frequency changes.
4. **Loudness**: a note's sustain level is its harmonic amplitude against the loudest note's
   (the SID's output is linear in the envelope level); attack and decay are the fastest, the
   release short.
5. **Timbre**: the note's harmonic magnitudes (1–8) are compared with those of triangle,
   sawtooth and pulse at four widths (the waveforms' Fourier series); the nearest is played.
6. **Drums**: frames where broadband high-frequency energy jumps while no pitch explains it get
   a noise burst on a voice that is free (or on voice 3, taking it over for a few frames).

With ``timbre=False`` steps 4–6 are skipped: every note is a fixed pulse patch at full level,
which is the benchmark's baseline (pitch tracking alone).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from sidlang.errors import FormatError, UsageError
from sidlang.pitch import CLOCK_NAMES, DEFAULT_FRAME, hz_to_reg
from sidlang.registers import FIELDS, VOICE_STRIDE, WAVE_BITS
from sidlang.tune import MODELS, Header, Tune, make_writes

from .features import highpass, to_rate
from .noteenv import NoteEnvelopes, contour_db, reference
from .pitchtrack import WEIGHTS, harmonic_bins, midi_hz, multi_pitch
from .synth import RATE

WINDOW = 2048
MIN_NOTE = 1  #: frames: a pitch run shorter than this is a blip, not a note
EARLY_FRAMES = 2  #: a note this short before a jump on its own pitch is the window hearing ahead
ONSET_JUMP = 2.0  #: harmonic amplitude ratio frame over frame that starts a new note
SILENCE_DB = -30.0
MAX_SECONDS = 600.0
#: Follow a pulse note's width frame by frame from its harmonics (a PWM sweep), not one width a note.
PULSE_TRACK = True
#: Choose the chip's filter for the whole transcription by rendering a few settings
#: (:mod:`sidlang.fit.tunefilter`).
FILTER_CHOICE = True
CONTRAST = 0.0  #: a pitch need not stand over the frame's median salience (swept: 0.0 beat 1.6 on five tunes)
RELEASE = 0  #: release of every note (the gate closes where the pitch fades, so the tail is short)
REST = "rest"  #: a Note's wave when it plays nothing (the refinement's "rest" move)
RETRIGGER_GAP = 120  #: cycles between the gate-off and gate-on writes of a retrigger
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class TranscribeOptions:
    voices: int = 3
    seconds: float | None = None
    clock: str = "pal"
    chip: int = 6581
    drums: bool = True
    timbre: bool = True
    refine: bool = True  #: the frame-by-frame refinement against the render (:mod:`sidlang.fit.refine`)

    @classmethod
    def from_options(cls, options: dict) -> TranscribeOptions:
        """From reading options (``voices=2``, ``seconds=30``, ``chip=8580`` …), checked."""
        out = {}
        try:
            if options.get("voices") is not None:
                out["voices"] = int(options["voices"])
            if options.get("seconds") is not None:
                out["seconds"] = float(options["seconds"])
            if options.get("chip") is not None:
                out["chip"] = int(options["chip"])
        except (TypeError, ValueError) as e:
            raise UsageError(f"bad transcription option: {e}") from None
        if options.get("clock") is not None:
            out["clock"] = str(options["clock"]).lower()
        for name in ("drums", "timbre", "refine"):
            if options.get(name) is not None:
                v = options[name]
                out[name] = v if isinstance(v, bool) else str(v).lower() in ("1", "true", "yes", "on")
        opts = cls(**out)
        if not 1 <= opts.voices <= 3:
            raise UsageError(f"voices must be 1–3, got {opts.voices}")
        if opts.seconds is not None and not 0 < opts.seconds <= MAX_SECONDS:
            raise UsageError(f"seconds must be over 0 and at most {MAX_SECONDS:.0f}, got {opts.seconds}")
        if opts.chip not in MODELS:
            raise UsageError(f"chip must be 6581 or 8580, got {opts.chip}")
        if opts.clock not in CLOCK_NAMES:
            raise UsageError(f"clock must be pal or ntsc, got {opts.clock!r}")
        return opts


@dataclass
class Note:
    voice: int
    start: int  #: first frame
    end: int  #: frame after the last
    midi: list[float] = field(default_factory=list)  #: fractional pitch per frame
    amp: float = 0.0  #: mean harmonic amplitude
    wave: str = "pulse"
    pw: int = 0x800
    level: int = 15  #: sustain 0–15
    ad: int = 0x00  #: attack/decay register
    sr: int | None = None  #: sustain/release register (None: ``level`` and a short release)
    retrigger: bool = False  #: follows another note on the same voice without a gap
    pws: list[int] = field(default_factory=list)  #: pulse width per frame (pulse notes; empty: ``pw``)
    timbres: list[tuple[str, int]] = field(default_factory=list)  #: waveforms ranked by harmonics


# -- analysis -------------------------------------------------------------------------------------


def frame_spectra(x: np.ndarray, frames: int, spf: float) -> np.ndarray:
    """``(frames, bins)`` power around the middle of every frame."""
    pad = WINDOW // 2
    xp = np.pad(x, (pad, pad + WINDOW))
    centers = (np.arange(frames) * spf + spf / 2).astype(int) + pad
    idx = centers[:, None] - pad + np.arange(WINDOW)[None, :]
    return np.abs(np.fft.rfft(xp[idx] * np.hanning(WINDOW), axis=1)) ** 2


def frame_db(x: np.ndarray, frames: int, spf: float) -> np.ndarray:
    """Loudness of each frame's own samples (no window reaching into its neighbours), in dB under
    the loudest frame: what says a frame is silent, since the pitch window spans several."""
    edges = np.rint(np.arange(frames + 1) * spf).astype(int)
    energy = np.add.reduceat(x[: edges[-1]] ** 2, edges[:-1]) / np.diff(edges)
    db = 10 * np.log10(energy + 1e-20)
    return db - db.max()


def refine(mag: np.ndarray, semis: np.ndarray) -> np.ndarray:
    """Each pick's pitch to 5 cents by the harmonic sum (NaN stays NaN): (frames, voices)."""
    out = semis.copy()
    offsets = np.arange(-50, 51, 5) / 100
    for k in range(semis.shape[1]):
        rows = np.nonzero(~np.isnan(semis[:, k]))[0]
        if not len(rows):
            continue
        cand = semis[rows, k][:, None] + offsets[None, :]  # (n, 21)
        sal = np.empty(cand.shape)
        for j in range(len(offsets)):  # one f0 per row: the diagonal of a small salience
            bins, valid = harmonic_bins(midi_hz(cand[:, j]), RATE, WINDOW)
            sal[:, j] = (mag[rows[:, None], bins] * valid) @ WEIGHTS
        out[rows, k] = cand[np.arange(len(rows)), np.argmax(sal, axis=1)]
    return out


def harmonic_amps(power: np.ndarray, midi: float, count: int = 8) -> np.ndarray:
    """Magnitudes at the first ``count`` harmonics of ``midi`` in one power spectrum (bins,)."""
    f0 = float(midi_hz(midi))
    mag = np.sqrt(power)
    out = np.zeros(count)
    for h in range(1, count + 1):
        b = int(round(h * f0 * WINDOW / RATE))
        if b + 1 < len(mag):
            out[h - 1] = mag[max(0, b - 1) : b + 2].max()
    return out


def assign(picks: np.ndarray, voices: int) -> np.ndarray:
    """Picks per frame (frames, voices; NaN = none) re-ordered so a voice keeps its line."""
    out = np.full((len(picks), voices), np.nan)
    last = np.full(voices, np.nan)
    perms = list(itertools.permutations(range(voices)))
    for t, row in enumerate(picks):
        best, cost_best = perms[0], np.inf
        for p in perms:
            cost = 0.0
            for k, v in enumerate(p):
                a, b = row[k], last[v]
                if np.isnan(a):
                    continue
                cost += 6.0 if np.isnan(b) else min(abs(a - b), 24.0)
            if cost < cost_best:
                best, cost_best = p, cost
        for k, v in enumerate(best):
            out[t, v] = row[k]
            if not np.isnan(row[k]):
                last[v] = row[k]
    return out


def clean(track: np.ndarray) -> np.ndarray:
    """One voice's pitches: one-frame gaps inside a note closed, blips under MIN_NOTE dropped."""
    x = track.copy()
    for t in range(1, len(x) - 1):
        if (
            np.isnan(x[t])
            and not np.isnan(x[t - 1])
            and not np.isnan(x[t + 1])
            and abs(x[t - 1] - x[t + 1]) < 0.5
        ):
            x[t] = x[t - 1]
    on = ~np.isnan(x)
    t = 0
    while t < len(x):
        if on[t]:
            u = t
            while u < len(x) and on[u]:
                u += 1
            if u - t < MIN_NOTE:
                x[t:u] = np.nan
            t = u
        else:
            t += 1
    return x


def split_notes(track: np.ndarray, amp: np.ndarray, voice: int) -> list[Note]:
    """A voice's pitch track into notes (new semitone or an energy jump starts one)."""
    notes: list[Note] = []
    cur: Note | None = None
    for t, m in enumerate(track):
        if np.isnan(m):
            if cur is not None:
                notes.append(cur)
                cur = None
            continue
        jump = t > 0 and amp[t] > ONSET_JUMP * max(amp[t - 1], 1e-9)
        if cur is not None and (abs(m - cur.midi[0]) >= 0.5 or (jump and t - cur.start >= MIN_NOTE)):
            cur.end = t
            notes.append(cur)
            cur = Note(voice, t, t + 1, retrigger=True)
        elif cur is None:
            cur = Note(voice, t, t + 1)
        cur.midi.append(float(m))
        cur.end = t + 1
    if cur is not None:
        notes.append(cur)
    return notes


def drop_early_views(notes: list[Note]) -> list[Note]:
    """Notes of at most :data:`EARLY_FRAMES` frames cut off by an energy jump from a note of the
    same pitch on their voice, dropped: the analysis window (4.6 frames) hears a note's pitch
    before its attack, faintly, and the jump marks where it really starts."""
    out: list[Note] = []
    for i, n in enumerate(notes):
        nxt = notes[i + 1] if i + 1 < len(notes) else None
        if (
            nxt is not None
            and nxt.voice == n.voice
            and nxt.retrigger
            and nxt.start == n.end
            and n.end - n.start <= EARLY_FRAMES
            and abs(nxt.midi[0] - n.midi[-1]) < 0.5
        ):
            nxt.retrigger = n.retrigger and bool(out) and out[-1].voice == n.voice and out[-1].end == n.start
            if nxt.retrigger:
                out[-1].end = nxt.start  # the note before holds on to the new attack
                out[-1].midi += [out[-1].midi[-1]] * (nxt.start - n.start)
            continue
        out.append(n)
    return out


# -- timbre ---------------------------------------------------------------------------------------


def pulse_profile(pw: np.ndarray | int, n: np.ndarray) -> np.ndarray:
    """Harmonic magnitudes ``n`` (relative to the first) of a pulse of width ``pw`` (of 4096)."""
    d = np.asarray(pw, dtype=np.float64)[..., None] / 4096
    return np.abs(np.sin(np.pi * n * d)) / n / np.sin(np.pi * d)


def _profiles() -> dict[tuple[str, int], np.ndarray]:
    """Harmonic magnitudes 1–8 (relative to the first) of each waveform the fitter plays."""
    n = np.arange(1, 9)
    out = {("tri", 0x800): np.where(n % 2 == 1, 1.0 / n**2, 0.0), ("saw", 0x800): 1.0 / n}
    for pw in (0x800, 0x400, 0x200, 0x100):
        out[("pulse", pw)] = pulse_profile(pw, n)
    return out


PROFILES = _profiles()

#: Pulse widths a frame's width is picked from (duty 2–50 %; d and 1 - d sound the same).
PW_GRID = np.arange(80, 2049, 16)
_PW_LOG = np.log(np.maximum(pulse_profile(PW_GRID, np.arange(1, 9)), 1e-3))  # (grid, 8)


def pulse_widths(harm: np.ndarray) -> np.ndarray:
    """Per frame, the pulse width whose harmonics 2–6 (relative to the first) are nearest
    ``harm`` (frames, 8), then a 3-frame median: a PWM sweep as the spectrum shows it."""
    rel = np.log(np.maximum(harm / np.maximum(harm[:, :1], 1e-12), 1e-3))  # (frames, 8)
    dist = np.abs(rel[:, None, 1:6] - _PW_LOG[None, :, 1:6]).sum(axis=2)  # (frames, grid)
    pw = PW_GRID[np.argmin(dist, axis=1)]
    if len(pw) >= 3:
        pw = np.median(np.stack([np.r_[pw[:1], pw[:-1]], pw, np.r_[pw[1:], pw[-1:]]]), axis=0).astype(int)
    return pw


def timbres(amps: np.ndarray) -> list[tuple[str, int]]:
    """The waveforms and pulse widths of :data:`PROFILES`, nearest ``amps`` (log magnitudes) first."""
    if amps[0] <= 0:
        return [("pulse", 0x800)] + [k for k in PROFILES if k != ("pulse", 0x800)]
    rel = np.log(np.maximum(amps / amps[0], 1e-3))
    dist = {key: np.abs(rel - np.log(np.maximum(prof, 1e-3)))[1:6].sum() for key, prof in PROFILES.items()}
    return sorted(PROFILES, key=dist.get)


def timbre(amps: np.ndarray) -> tuple[str, int]:
    """The waveform and pulse width whose harmonics are nearest ``amps`` (log magnitudes)."""
    return timbres(amps)[0]


# -- writing --------------------------------------------------------------------------------------


class Writer:
    """Collects ``(cycle, reg, val)`` writes frame by frame."""

    def __init__(self, frame_cycles: int) -> None:
        self.fc = frame_cycles
        self.rows: list[tuple[int, int, int]] = []

    def put(self, frame: int, reg: int, val: int, offset: int = 0) -> None:
        self.rows.append((frame * self.fc + offset, reg, val))

    def tune(self, header: Header, meta: dict) -> Tune:
        self.rows.sort(key=lambda r: r[0])  # stable: a frame's writes keep their order
        c, r, v = zip(*self.rows) if self.rows else ((), (), ())
        return Tune(header, make_writes(list(c), [0] * len(c), list(r), list(v)), meta=meta)


def _reg(name: str, voice: int, part: int = 0) -> int:
    f = FIELDS[name]
    return f.regs[part] + (voice * VOICE_STRIDE if f.voiced else 0)


def _put_freq(w: Writer, frame: int, voice: int, freq: int, offset: int = 0) -> None:
    lo = FIELDS["freq"].lo_bits
    w.put(frame, _reg("freq", voice, 0), freq & ((1 << lo) - 1), offset)
    w.put(frame, _reg("freq", voice, 1), freq >> lo, offset)


def _bits(names: str) -> int:
    return sum(WAVE_BITS[n] for n in names.split(","))


def write_notes(
    notes: list[Note],
    drums: list[tuple[int, int, int]],
    frames: int,
    opts: TranscribeOptions,
    clock_hz: int,
    frame_cycles: int,
) -> Writer:
    w = Writer(frame_cycles)
    vol = FIELDS["vol"]
    w.put(0, vol.regs[0], 15 << vol.shift)
    gate = WAVE_BITS["gate"]
    fmax = FIELDS["freq"].max
    events: list[tuple[int, int, Note | tuple]] = [(n.start, 0, n) for n in notes]
    events += [(d[0], 1, d) for d in drums]
    events.sort(key=lambda e: (e[0], e[1]))
    wave_on: dict[int, int] = {}
    for _, kind, ev in events:
        if kind == 1:  # a drum: (frame, voice, length) of noise
            frame, voice, length = ev
            w.put(frame, _reg("wave", voice), WAVE_BITS["noise"])
            _put_freq(w, frame, voice, hz_to_reg(3000.0, clock_hz), 20)
            w.put(frame, _reg("ad", voice), 0x05, 40)
            w.put(frame, _reg("sr", voice), 0x00, 50)
            w.put(frame, _reg("wave", voice), WAVE_BITS["noise"] | gate, RETRIGGER_GAP + 60)
            w.put(min(frame + length, frames - 1), _reg("wave", voice), WAVE_BITS["noise"], 0)
            continue
        n: Note = ev
        v = n.voice
        if n.wave == REST:  # no note: the one before, if any, is let go
            if wave_on.get(v):
                w.put(n.start, _reg("wave", v), wave_on[v] & ~gate)
                wave_on[v] = 0
            continue
        bits = _bits(n.wave)
        freqs = [min(fmax, max(1, hz_to_reg(float(midi_hz(m)), clock_hz))) for m in n.midi]
        off = 0
        if wave_on.get(v):  # the gate is still set: clear it first, so the attack starts again
            w.put(n.start, _reg("wave", v), wave_on[v] & ~gate)
            off = RETRIGGER_GAP
        _put_freq(w, n.start, v, freqs[0], off)
        if "pulse" in n.wave:
            lo = FIELDS["pw"].lo_bits
            w.put(n.start, _reg("pw", v, 0), n.pw & ((1 << lo) - 1), off + 20)
            w.put(n.start, _reg("pw", v, 1), n.pw >> lo, off + 30)
        w.put(n.start, _reg("ad", v), n.ad, off + 40)
        w.put(n.start, _reg("sr", v), n.level << 4 | RELEASE if n.sr is None else n.sr, off + 50)
        w.put(n.start, _reg("wave", v), bits | gate, off + 60)
        for k, f in enumerate(freqs[1:], 1):
            if f != freqs[k - 1]:
                _put_freq(w, n.start + k, v, f, 200)
        if "pulse" in n.wave:
            lo = FIELDS["pw"].lo_bits
            for k in range(1, len(n.pws)):
                if n.pws[k] != n.pws[k - 1]:
                    w.put(n.start + k, _reg("pw", v, 0), n.pws[k] & ((1 << lo) - 1), 220)
                    w.put(n.start + k, _reg("pw", v, 1), n.pws[k] >> lo, 230)
        wave_on[v] = bits | gate
        if n.end < frames and not _followed(notes, n):
            w.put(n.end, _reg("wave", v), bits, 100)
            wave_on[v] = 0
    return w


def _followed(notes: list[Note], n: Note) -> bool:
    return any(m.voice == n.voice and m.start == n.end for m in notes)


# -- the whole ------------------------------------------------------------------------------------


@dataclass
class Draft:
    """A transcription before it is written: its notes and drums, which the refinement changes
    and rewrites, the recording it is scored against, and the filter chosen for it."""

    notes: list[Note]
    drums: list[tuple[int, int, int]]
    frames: int
    opts: TranscribeOptions
    header: Header
    info: dict
    x: np.ndarray  #: the recording, mono at RATE
    filter: tuple[int, int] | None = (
        None  #: (cutoff, route bits) of :func:`~sidlang.fit.tunefilter.with_filter`
    )

    def tune(self, notes: list[Note] | None = None) -> Tune:
        """The draft (or the same with other ``notes``) written as a Tune, the filter applied."""
        w = write_notes(
            self.notes if notes is None else notes,
            self.drums,
            self.frames,
            self.opts,
            self.header.clock_hz,
            self.header.frame_cycles,
        )
        tune = w.tune(self.header, dict(self.info))
        if self.filter is not None:
            from .tunefilter import with_filter

            tune = with_filter(tune, *self.filter)
        return tune


def transcribe(
    samples: np.ndarray,
    rate: int,
    opts: TranscribeOptions | None = None,
    *,
    file: str | None = None,
    meta: dict | None = None,
    progress: Progress | None = None,
    draft_out: Callable[[Draft, Tune], Tune] | None = None,
) -> Tune:
    """A recording (mono float at ``rate``) as a Tune of ``opts.voices`` voices; see the module.

    ``draft_out``, when given, is called with the :class:`Draft` and the tune before it returns
    (and its answer returned): the benchmark scores the draft before and after refinement."""
    opts = opts or TranscribeOptions()
    clock_hz = CLOCK_NAMES[opts.clock]
    frame_cycles = DEFAULT_FRAME[clock_hz]
    x = np.asarray(samples, dtype=np.float64)
    x = x.mean(axis=1) if x.ndim == 2 else x.ravel()  # (samples, channels) mixed to mono
    x = to_rate(x, rate)
    if opts.seconds is not None:
        x = x[: int(opts.seconds * RATE)]
    if len(x) / RATE > MAX_SECONDS:
        raise FormatError(
            f"the recording lasts {len(x) / RATE:.0f} s; transcription takes at most "
            f"{MAX_SECONDS:.0f} s (cut it with --seconds)",
            file=file,
        )
    spf = RATE * frame_cycles / clock_hz
    frames = int(len(x) // spf)
    if frames < 3:
        raise FormatError(
            f"the recording is {1000 * len(x) / RATE:.0f} ms long; at least 3 frames (60 ms) are needed",
            file=file,
        )
    peak = float(np.max(np.abs(x)))
    header = Header(
        title="", clock_hz=clock_hz, frame_cycles=frame_cycles, models=(opts.chip,), frames=frames
    )
    info = {"transcribed": True, **(meta or {})}
    if peak < 1e-4:  # silence transcribes to silence (with a note in meta), not an error
        return Tune(
            header, make_writes([0], [0], [FIELDS["vol"].regs[0]], [15]), meta={**info, "silent": True}
        )
    refining = opts.timbre and opts.refine
    if refining:
        from .refine import ROUNDS
        from .refine import refine as refine_notes
    steps = 4 + (len(ROUNDS) if refining else 0)  # the refinement reports each of its rounds
    if progress:
        progress(0, steps)
    heard = highpass(x)  # the analysis hears no sub-bass offset; the refinement scores against x
    power = frame_spectra(heard, frames, spf)
    loud = frame_db(heard, frames, spf) > SILENCE_DB
    picks, strength = multi_pitch(power, RATE, WINDOW, voices=opts.voices, contrast=CONTRAST)
    picks[~loud] = np.nan
    if progress:
        progress(1, steps)
    mag = np.sqrt(np.sqrt(power))
    picks = refine(mag, picks)
    tracks = assign(picks, opts.voices)
    if progress:
        progress(2, steps)
    notes: list[Note] = []
    amps = []
    for v in range(opts.voices):
        track = clean(tracks[:, v])
        amp = np.array(
            [
                harmonic_amps(power[t], track[t], 4).sum() if not np.isnan(track[t]) else 0.0
                for t in range(frames)
            ]
        )
        amps.append(amp)
        notes += split_notes(track, amp, v)
    if opts.timbre:
        notes = drop_early_views(notes)
    if opts.timbre and notes:
        for n in notes:
            frames_of = range(n.start, n.end)
            per = np.array([harmonic_amps(power[t], n.midi[t - n.start]) for t in frames_of])
            harm = per.mean(axis=0)
            n.amp = float(harm.sum())
            n.timbres = timbres(harm)
            n.wave, n.pw = n.timbres[0]
            if n.wave == "pulse" and PULSE_TRACK:
                n.pws = pulse_widths(per).tolist()
                n.pw = n.pws[0]
        shapes = NoteEnvelopes(frame_cycles)
        ref = reference(amps)
        for n in notes:  # the envelope from the note's own loudness contour
            a, d, s = shapes.fit(contour_db(amps[n.voice][n.start : n.end], ref))
            n.ad, n.level = a << 4 | d, s
    drums = find_drums(power, loud, notes, frames, opts) if opts.timbre and opts.drums else []
    if progress:
        progress(3, steps)
    info.update(notes=len(notes), drums=len(drums))
    draft = Draft(notes, drums, frames, opts, header, info, x)
    tune = draft.tune()
    if opts.timbre and FILTER_CHOICE:
        from .tunefilter import choose_filter

        tune, said, draft.filter = choose_filter(tune, x, opts.voices, opts.chip)
        draft.info["filter"] = said
        tune.meta["filter"] = said
    if progress:
        progress(4, steps)
    if refining:
        refine_notes(draft, progress=(lambda k, n: progress(4 + k, 4 + n)) if progress else None)
        tune = draft.tune()
    if progress:
        progress(steps, steps)
    return tune if draft_out is None else draft_out(draft, tune)


def find_drums(
    power: np.ndarray, loud: np.ndarray, notes: list[Note], frames: int, opts: TranscribeOptions
) -> list[tuple[int, int, int]]:
    """``(frame, voice, length)`` noise bursts where high-band energy jumps and no note starts."""
    freqs = np.fft.rfftfreq(WINDOW, 1 / RATE)
    high = power[:, freqs > 4000].sum(axis=1)
    flux = np.log10(high[1:] + 1e-12) - np.log10(high[:-1] + 1e-12)
    starts = {n.start for n in notes}
    busy = np.zeros((frames, opts.voices), bool)
    for n in notes:
        busy[n.start : n.end, n.voice] = True
    out: list[tuple[int, int, int]] = []
    last = -10
    for t in np.nonzero(flux > 0.8)[0] + 1:
        if not loud[t] or t - last < 4 or any(s in starts for s in (t - 1, t, t + 1)):
            continue
        length = 3
        free = [v for v in range(opts.voices) if not busy[t : t + length, v].any()]
        voice = free[0] if free else opts.voices - 1
        out.append((int(t), voice, length))
        last = t
    # a drum on a busy voice cuts its note: the note resumes after the burst
    for t, v, _ in out:
        for n in notes:
            if n.voice == v and n.start <= t < n.end:
                n.end = max(n.start + 1, t)
                n.midi = n.midi[: n.end - n.start]
    return out
