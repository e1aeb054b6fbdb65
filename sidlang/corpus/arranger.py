"""The arranger: any score reduced to three SID voices, the way a C64 musician would do it.

``arrange(source, style="classic")`` takes a MIDI file, an ABC/Humdrum/MusicXML file, a
``music21:NAME`` corpus piece, a music21 stream or a ``pretty_midi.PrettyMIDI`` and returns a
:class:`~sidlang.tune.Tune`. The rules (written out with examples in ``docs/midi.md``):

1. **Quantize.** Every note's onset and end are rounded to the nearest frame of the tune's
   clock (50 Hz PAL); a note lasts at least one frame. Pitches outside the SID's range
   (C-0..B-7) move by octaves into it.
2. **Keep** (``voices="keep"``, or ``"auto"`` when it applies): a score of at most three
   monophonic parts keeps each part on its own voice, in part order, so a 3-voice MIDI (one
   that sidlang wrote, say) comes back voice for voice.
3. **Melody.** Otherwise, in the manner of LakhNES's instrument-to-voice assignment: among the
   parts that sound at least half as much as the busiest one, a part named as the melody
   (:data:`MELODY_NAMES`: Soprano, Melody, Lead, Vocal …) wins, else the one with the highest
   duration-weighted median pitch (score order breaks ties); its skyline (the top note at
   every moment) goes to the melody voice and is never cut.
4. **Bass.** Among the other active parts the one with the lowest median pitch, if it lies
   below the melody, gives its bottom line to the bass voice; with no such part, the bottom
   line of everything left (a piano's left hand, realized chord symbols) does.
5. **Harmony.** All remaining notes, less the pitches the melody and bass are sounding, form
   one chord per frame. One tone is a plain note; several (at most ``max_chord`` pitch
   classes) are played as an arpeggio stepping every ``arpeggio_speed`` frames, restarted
   whenever the chord changes or is struck again.
6. **Drums.** General MIDI drums (channel 10) are sorted into kick, snare, hat, tom and cymbal;
   the style maps each to an instrument on its drum voice (never the melody's). A hit takes
   that voice for its gate length; a note it interrupts resumes after it if at least two
   frames remain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sidlang.errors import SidlangError, UsageError
from sidlang.pitch import CLOCK_NAMES, HIGHEST_MIDI, LOWEST_MIDI
from sidlang.tune import MODELS, Header, Tune

from .player import VoiceNote, play
from .sources import to_midi
from .styles import Style, load_style, style_names

VOICE_MODES = ("auto", "keep", "arrange")
#: General MIDI percussion keys (35–81) sorted into the kit pieces a style maps to instruments.
GM_DRUMS: dict[str, frozenset[int]] = {
    "kick": frozenset({35, 36}),
    "snare": frozenset({37, 38, 39, 40}),
    "tom": frozenset({41, 43, 45, 47, 48, 50, 60, 61, 62, 63, 64, 65, 66}),
    "cymbal": frozenset({49, 51, 52, 53, 55, 57, 59}),
}
DRUM_PRIORITY = ("kick", "snare", "tom", "cymbal", "hat")  #: who wins a frame hit by several
#: Words in a part's name that mark it as the melody (Lakh MIDI tracks are often named so).
MELODY_NAMES = ("melody", "soprano", "lead", "vocal", "voice", "cantus", "tune", "canto")
DRUM_PITCH = {"kick": 60, "snare": 84, "hat": 103, "tom": 72, "cymbal": 100}  #: noise pitch without `notes`


@dataclass(frozen=True)
class QNote:
    """A note quantized to frames: ``start`` to ``end`` (exclusive)."""

    start: int
    end: int
    pitch: int


@dataclass
class Plan:
    """What the arranger decided: notes per voice and which source part went where."""

    voices: list[list[VoiceNote]]
    roles: dict[str, int] = field(default_factory=dict)  #: role -> voice (0-based)
    melody: list[QNote] = field(default_factory=list)  #: the melody line as quantized
    mode: str = "arrange"


def styles() -> list[str]:
    """Names of the style presets that ship with sidlang (``arrange(..., style=NAME)``)."""
    return style_names()


def _in_range(pitch: int) -> int:
    while pitch < LOWEST_MIDI:
        pitch += 12
    while pitch > HIGHEST_MIDI:
        pitch -= 12
    return pitch


def quantize(pm, fps: float) -> tuple[list[list[QNote]], list[tuple[int, int]], list[str]]:
    """Melodic parts as quantized notes (sorted), drum hits as ``(frame, GM key)``, part names."""
    parts: list[list[QNote]] = []
    names: list[str] = []
    hits: list[tuple[int, int]] = []
    for inst in pm.instruments:
        if inst.is_drum:
            hits += [(int(round(n.start * fps)), n.pitch) for n in inst.notes]
            continue
        notes = []
        for n in inst.notes:
            start = int(round(n.start * fps))
            end = max(start + 1, int(round(n.end * fps)))
            notes.append(QNote(start, end, _in_range(n.pitch)))
        if notes:
            parts.append(sorted(notes, key=lambda q: (q.start, -q.pitch)))
            names.append(inst.name or "")
    return parts, sorted(hits), names


def line(notes: Sequence[QNote], top: bool = True) -> tuple[list[QNote], list[QNote]]:
    """The skyline (``top``) or bottom line of some notes, and the notes left out of it.

    A note that starts while a note of the line sounds takes over (cutting it) when it is
    higher (lower for the bottom line), else it is left out; at one onset the highest
    (lowest) note wins.
    """
    sign = 1 if top else -1
    out: list[QNote] = []
    rest: list[QNote] = []
    for q in sorted(notes, key=lambda q: (q.start, -sign * q.pitch)):
        if out and q.start < out[-1].end:
            last = out[-1]
            if q.start > last.start and sign * q.pitch > sign * last.pitch:
                out[-1] = QNote(last.start, q.start, last.pitch)
                out.append(q)
            else:
                rest.append(q)
        else:
            out.append(q)
    return out, rest


def _is_mono(notes: Sequence[QNote]) -> bool:
    """No two onsets in one frame, and no note overlapping the next by more than one frame."""
    return all(b.start > a.start and b.start >= a.end - 1 for a, b in zip(notes, notes[1:]))


def _stats(part: Sequence[QNote]) -> tuple[int, float]:
    """``(frames sounding, duration-weighted median pitch)`` of a part."""
    frames = set()
    for q in part:
        frames.update(range(q.start, q.end))
    weights = np.array([q.end - q.start for q in part], dtype=float)
    pitches = np.array([q.pitch for q in part], dtype=float)
    order = np.argsort(pitches, kind="stable")
    cum = np.cumsum(weights[order])
    return len(frames), float(pitches[order][np.searchsorted(cum, cum[-1] / 2)])


def _voice_notes(notes: Sequence[QNote], instrument: str, transpose: int) -> list[VoiceNote]:
    return [VoiceNote(q.start, q.end, (_in_range(q.pitch + transpose),), instrument) for q in notes]


def chords(pool: Sequence[QNote], busy: Sequence[Sequence[QNote]], style: Style) -> list[VoiceNote]:
    """The harmony voice: one chord per frame from ``pool`` less what ``busy`` lines sound."""
    if not pool:
        return []
    n = max(q.end for q in pool)
    sounding: list[set[int]] = [set() for _ in range(n)]
    struck: list[set[int]] = [set() for _ in range(n)]
    for q in pool:
        for f in range(q.start, q.end):
            sounding[f].add(q.pitch)
        struck[q.start].add(q.pitch)
    for other in busy:
        for q in other:
            for f in range(q.start, min(q.end, n)):
                sounding[f].discard(q.pitch)
    role = style.harmony
    out: list[VoiceNote] = []
    current: tuple[int, ...] = ()
    start = 0
    for f in range(n + 1):
        tones: tuple[int, ...] = ()
        if f < n and sounding[f]:
            by_class: dict[int, int] = {}
            for p in sorted(sounding[f]):
                by_class.setdefault(p % 12, p)  # the lowest of each pitch class
            tones = tuple(sorted(by_class.values())[: style.max_chord])
        restruck = f < n and bool(struck[f] & set(tones))
        if tones != current or restruck:
            if current:
                out.append(
                    VoiceNote(
                        start, f, tuple(_in_range(p + role.transpose) for p in current), role.instrument
                    )
                )
            current, start = tones, f
    return out


def drum_notes(hits: Sequence[tuple[int, int]], style: Style) -> list[VoiceNote]:
    """Drum hits as notes of the style's kit, one per frame (the most important piece wins)."""
    if style.drums is None:
        return []
    by_frame: dict[int, str] = {}
    for frame, key in hits:
        piece = next((p for p, keys in GM_DRUMS.items() if key in keys), "hat")
        if piece not in style.drums.kit:
            continue
        old = by_frame.get(frame)
        if old is None or DRUM_PRIORITY.index(piece) < DRUM_PRIORITY.index(old):
            by_frame[frame] = piece
    out = []
    for frame, piece in sorted(by_frame.items()):
        name = style.drums.kit[piece]
        length = max(style.instrument(name).length, 1)
        out.append(VoiceNote(frame, frame + length, (DRUM_PITCH[piece],), name))
    return out


def merge_drums(notes: Sequence[VoiceNote], drums: Sequence[VoiceNote]) -> list[VoiceNote]:
    """A voice's notes with drum hits cut in; an interrupted note resumes if 2+ frames remain."""
    if not drums:
        return list(notes)
    out: list[VoiceNote] = list(drums)
    windows = [(d.start, d.end) for d in drums]
    for note in notes:
        pieces = [(note.start, note.end)]
        for a, b in windows:
            if b <= note.start or a >= note.end:
                continue
            nxt = []
            for s, e in pieces:
                if s < a:
                    nxt.append((s, min(e, a)))
                if e > b and e - max(s, b) >= 2:
                    nxt.append((max(s, b), e))
            pieces = nxt
        out += [VoiceNote(s, e, note.pitches, note.instrument, note.bends) for s, e in pieces if e > s]
    return sorted(out, key=lambda v: v.start)


def _named_melody(candidates: Sequence[int], names: Sequence[str]) -> int | None:
    """The first candidate part whose name says it is the melody (see :data:`MELODY_NAMES`)."""
    return next((i for i in candidates if any(w in names[i].lower() for w in MELODY_NAMES)), None)


def _keep(parts: list[list[QNote]], hits, style: Style, names: Sequence[str]) -> Plan:
    """Each monophonic part on its own voice, in part order; instruments by role."""
    medians = [_stats(p)[1] for p in parts]
    order = sorted(range(len(parts)), key=lambda i: (-medians[i], i))
    named = _named_melody(range(len(parts)), names)
    if named is not None:
        order.remove(named)
        order.insert(0, named)
    role_of = {order[0]: style.melody}
    if len(parts) > 1:
        role_of[order[-1]] = style.bass
    voices: list[list[VoiceNote]] = [[] for _ in range(3)]
    roles: dict[str, int] = {}
    for i, part in enumerate(parts):
        role = role_of.get(i, style.harmony)
        roles.setdefault({style.melody: "melody", style.bass: "bass"}.get(role, "harmony"), i)
        voices[i] = _voice_notes(line(part)[0], role.instrument, role.transpose)
    drums = drum_notes(hits, style)
    if drums:
        free = len(parts) if len(parts) < 3 else roles.get("harmony", roles.get("bass", 2))
        voices[free] = merge_drums(voices[free], drums)
    return Plan(voices, roles, line(parts[order[0]])[0], "keep")


def _arrange(parts: list[list[QNote]], hits, style: Style, names: Sequence[str]) -> Plan:
    stats = [_stats(p) for p in parts]
    busiest = max(s[0] for s in stats)
    active = [i for i, s in enumerate(stats) if s[0] >= busiest / 2]
    m = _named_melody(active, names)
    if m is None:
        m = max(active, key=lambda i: (stats[i][1], -i))
    melody, pool = line(parts[m])
    below = [i for i, s in enumerate(stats) if i != m and s[0] >= busiest / 4 and s[1] < stats[m][1]]
    if below:
        b = min(below, key=lambda i: (stats[i][1], i))
        bass, rest = line(parts[b], top=False)
        pool += rest
    else:
        b = -1
        bass, pool = line(pool, top=False) if pool else ([], [])
    for i, part in enumerate(parts):
        if i not in (m, b):
            pool += part
    voices: list[list[VoiceNote]] = [[] for _ in range(3)]
    voices[style.melody.voice] = _voice_notes(melody, style.melody.instrument, style.melody.transpose)
    voices[style.bass.voice] = _voice_notes(bass, style.bass.instrument, style.bass.transpose)
    voices[style.harmony.voice] = chords(pool, (melody, bass), style)
    if style.drums is not None:
        v = style.drums.voice
        voices[v] = merge_drums(voices[v], drum_notes(hits, style))
    roles = {"melody": style.melody.voice, "bass": style.bass.voice, "harmony": style.harmony.voice}
    return Plan(voices, roles, melody, "arrange")


def plan(
    parts: list[list[QNote]],
    hits: Sequence[tuple[int, int]],
    style: Style,
    voices: str = "auto",
    names: Sequence[str] = (),
) -> Plan:
    """Decide which notes go on which voice (rules 2–6 of the module docstring)."""
    names = list(names) + [""] * (len(parts) - len(names))
    if voices not in VOICE_MODES:
        raise UsageError(f"voices must be one of {', '.join(VOICE_MODES)}, got {voices!r}")
    if not parts and not hits:
        raise SidlangError("the score has no notes to arrange")
    if not parts:
        return Plan([[], [], merge_drums([], drum_notes(hits, style))], {}, [], "arrange")
    fits = len(parts) <= 3 and all(_is_mono(p) for p in parts)
    if voices == "keep" and len(parts) > 3:
        raise SidlangError(f"voices='keep' needs at most 3 parts, the score has {len(parts)}")
    if voices == "keep" or (voices == "auto" and fits):
        return _keep(parts, hits, style, names)
    return _arrange(parts, hits, style, names)


def clock_hz(clock: str | int) -> int:
    """``"pal"``, ``"ntsc"`` or a clock in Hz."""
    if isinstance(clock, str):
        if clock.lower() not in CLOCK_NAMES:
            raise UsageError(f"clock must be pal, ntsc or a number of Hz, got {clock!r}")
        return CLOCK_NAMES[clock.lower()]
    if not 100_000 <= int(clock) <= 4_000_000:
        raise UsageError(f"clock must be 100000–4000000 Hz, got {clock}")
    return int(clock)


def arrange(
    source: Any,
    style: str | Path | Style = "classic",
    clock: str | int = "pal",
    *,
    voices: str = "auto",
    model: int = 6581,
    title: str | None = None,
) -> Tune:
    """Arrange ``source`` for one SID with ``style`` (a preset name from :func:`styles`, a YAML path
    or a :class:`Style`).

    ``source``: a path (``.mid``, ``.abc``, ``.krn``, MusicXML), ``music21:NAME``, MIDI bytes,
    a music21 stream or a ``pretty_midi.PrettyMIDI``. ``voices``: ``"keep"`` puts each of at most
    three parts on its own voice, ``"arrange"`` always applies the melody/bass/harmony rules,
    ``"auto"`` keeps when every part is monophonic and there are at most three.
    ``tune.meta["arrangement"]`` records the mode and the voice of each role.
    """
    if model not in MODELS:
        raise UsageError(f"model must be 6581 or 8580, got {model}")
    chosen = load_style(style)
    header = Header(clock_hz=clock_hz(clock), models=(model,), gap=8)
    pm, found_title = to_midi(source)
    parts, hits, names = quantize(pm, header.frame_hz)
    decided = plan(parts, hits, chosen, voices, names)
    tune = play(decided.voices, chosen, header.replace(title=title if title is not None else found_title))
    tune.meta["arrangement"] = {
        "mode": decided.mode,
        "style": chosen.name,
        "roles": decided.roles,
        "melody_notes": len(decided.melody),
    }
    tune.meta["frame_source"] = "arranger"
    return tune


__all__ = ["arrange", "styles", "plan", "quantize", "line", "chords", "Plan", "QNote", "VoiceNote"]
