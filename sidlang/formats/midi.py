"""The ``mid`` format: a Tune as a standard MIDI file of notes, and MIDI back through the arranger.

Writing (the mapping is written out in ``docs/midi.md``):

* Type 1 file. Track 0 holds the title, the author (copyright), the tempo, a 4/4 time signature
  and a ``sidlang`` text event with the clock and frame length; then one track per voice,
  named ``SID1 voice 1`` … on its own channel (voice ``i`` of all chips counted from 0 gets
  channel ``i``, skipping channel 10), so five SIDs fit.
* Time: one frame is :data:`TICKS_PER_FRAME` ticks and a beat :data:`FRAMES_PER_BEAT` frames;
  the tempo is that many frames in microseconds, so a DAW's grid lines up with the frames.
* Notes come from :mod:`.sidnotes`; velocity from the sustain level and the volume. Slides,
  vibrato and arpeggios are pitch bends with the range set by RPN 0 to :data:`BEND_RANGE`.
* Controllers: pulse width CC 70, filter resonance CC 71, filter cutoff CC 74 (on the voices
  routed through the filter; 127 and 0 on the others). Program: pulse 80, saw 81, triangle 82.
* Noise notes are drums on channel 10 (in the voice's own track): kick, snare or hi-hat by
  their pitch.

Reading: a file sidlang wrote (it has the ``sidlang`` event) is read track by track back onto
the same voices, frames from ticks exactly, bends back into the frequency, played with the
``plain`` style unless another is named; any other MIDI file goes through the arranger
(:func:`sidlang.corpus.arranger.arrange`, style ``classic`` unless named).
"""

from __future__ import annotations

import io
import re

import numpy as np

from sidlang.errors import FormatError, UsageError
from sidlang.pitch import NTSC_HZ, PAL_HZ, default_frame_cycles
from sidlang.registers import FIELDS, VOICES, WAVE_BITS, sid_addresses
from sidlang.tune import MAX_FRAMES, Header, Tune

from . import Format
from .sidnotes import SidNote, notes, voice_frames

TICKS_PER_FRAME = 10
FRAMES_PER_BEAT = 24  #: about 125 BPM on PAL
BEND_RANGE = 12  #: semitones each way, set with RPN 0
CC_PULSE, CC_RESONANCE, CC_CUTOFF = 70, 71, 74
DRUM_CHANNEL = 9
MAX_VOICES = 15  #: MIDI channels less the drum channel
PROGRAMS = ((WAVE_BITS["pulse"], 80), (WAVE_BITS["saw"], 81), (WAVE_BITS["tri"], 82))
MARKER = "sidlang"
MAX_CLOCK = 100_000_000  #: the marker's clock and frame length: the ranges ``@clock`` and ``@frame`` take
MAX_FRAME_CYCLES = 1 << 31
_TRACK = re.compile(r"SID(\d+) voice ([1-3])")
# Event order within one tick: note-offs, then settings, then note-ons.
_OFF, _SET, _ON = 0, 1, 2


def _mido():
    import mido

    return mido


def channel_of(index: int) -> int:
    """MIDI channel (0-based) of voice ``index`` (chip * 3 + voice), skipping the drum channel."""
    return index if index < DRUM_CHANNEL else index + 1


def drum_key(note: SidNote) -> int:
    """General MIDI drum for a noise note: hi-hat (open when long), snare or kick by pitch."""
    if note.onset_pitch >= 96:
        return 46 if note.end - note.start > 4 else 42
    return 38 if note.onset_pitch >= 80 else 36


def program_of(wave: int) -> int | None:
    return next((prog for bit, prog in PROGRAMS if wave & bit), None)


def _bend(semitones: float) -> int:
    return int(min(8191, max(-8192, round(semitones / BEND_RANGE * 8192))))


def _changes(values: np.ndarray) -> list[tuple[int, int]]:
    """``(frame, value)`` where a per-frame series changes (and its first frame)."""
    at = np.flatnonzero(np.concatenate(([True], values[1:] != values[:-1])))
    return [(int(f), int(values[f])) for f in at]


def _voice_events(tune: Tune, chip: int, voice: int, mine: list[SidNote]) -> list[tuple[int, int, object]]:
    mido = _mido()
    ch = channel_of(chip * VOICES + voice)
    T = TICKS_PER_FRAME
    ev: list[tuple[int, int, object]] = []
    for control, value in ((101, 0), (100, 0), (6, BEND_RANGE), (38, 0), (101, 127), (100, 127)):
        ev.append((0, _SET, mido.Message("control_change", channel=ch, control=control, value=value)))
    program, bend = None, 0
    for note in mine:
        if note.drum:
            key = drum_key(note)
            ev.append(
                (
                    note.start * T,
                    _ON,
                    mido.Message("note_on", channel=DRUM_CHANNEL, note=key, velocity=note.velocity),
                )
            )
            ev.append((note.end * T, _OFF, mido.Message("note_off", channel=DRUM_CHANNEL, note=key)))
            continue
        prog = program_of(note.wave)
        if prog is not None and prog != program:
            ev.append((note.start * T, _SET, mido.Message("program_change", channel=ch, program=prog)))
            program = prog
        start_bend = _bend(note.bends[0][1]) if note.bends and note.bends[0][0] == 0 else 0
        if start_bend != bend:
            ev.append((note.start * T, _SET, mido.Message("pitchwheel", channel=ch, pitch=start_bend)))
            bend = start_bend
        ev.append(
            (
                note.start * T,
                _ON,
                mido.Message("note_on", channel=ch, note=note.pitch, velocity=note.velocity),
            )
        )
        for offset, semis in note.bends:
            if offset and _bend(semis) != bend:
                bend = _bend(semis)
                ev.append(
                    ((note.start + offset) * T, _SET, mido.Message("pitchwheel", channel=ch, pitch=bend))
                )
        ev.append((note.end * T, _OFF, mido.Message("note_off", channel=ch, note=note.pitch)))
    if mine:
        vf = voice_frames(tune, chip, voice)
        state = tune.frames.state(chip)
        cut = FIELDS["cut"]
        cutoff = (state[:, cut.regs[0]] & 7).astype(np.int64) | state[:, cut.regs[1]].astype(np.int64) << 3
        res = (state[:, FIELDS["res"].regs[0]] >> 4).astype(np.int64)
        pulse = (vf.ctrl & WAVE_BITS["pulse"]).astype(bool)
        series = {
            CC_PULSE: np.where(pulse, vf.pw >> 5, -1),
            CC_CUTOFF: np.where(vf.routed, cutoff >> 4, 127),
            CC_RESONANCE: np.where(vf.routed, res << 3 | res >> 1, 0),
        }
        for control, values in series.items():
            for frame, value in _changes(values):
                if value >= 0:
                    msg = mido.Message("control_change", channel=ch, control=control, value=value)
                    ev.append((frame * T, _SET, msg))
    return ev


def _track(name: str, events: list[tuple[int, int, object]]):
    mido = _mido()
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=name, time=0))
    tick = 0
    for at, _, msg in sorted(events, key=lambda e: (e[0], e[1])):
        track.append(msg.copy(time=at - tick))
        tick = at
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def midi_file(tune: Tune):
    """A ``mido.MidiFile`` of the tune (see the module docstring for the mapping)."""
    mido = _mido()
    h = tune.header
    if h.chips * VOICES > MAX_VOICES:
        raise FormatError(
            f"MIDI holds at most {MAX_VOICES // VOICES} SIDs ({MAX_VOICES} channels), the tune has {h.chips}"
        )
    frame_us = h.frame_cycles / h.clock_hz * 1_000_000
    tempo = min(round(frame_us * FRAMES_PER_BEAT), 0xFFFFFF)
    out = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_FRAME * FRAMES_PER_BEAT)
    head = [
        (0, _SET, mido.MetaMessage("set_tempo", tempo=tempo)),
        (0, _SET, mido.MetaMessage("time_signature", numerator=4, denominator=4)),
        (
            0,
            _SET,
            mido.MetaMessage(
                "text",
                text=f"{MARKER} clock={h.clock_hz} frame={h.frame_cycles} "
                f"tpf={TICKS_PER_FRAME} models={','.join(map(str, h.models))}",
            ),
        ),
    ]
    if h.author:
        head.insert(0, (0, _SET, mido.MetaMessage("copyright", text=h.author)))
    out.tracks.append(_track(h.title, head))
    found = notes(tune, split=BEND_RANGE)
    for chip in range(h.chips):
        for voice in range(VOICES):
            mine = [n for n in found if n.chip == chip and n.voice == voice]
            out.tracks.append(
                _track(f"SID{chip + 1} voice {voice + 1}", _voice_events(tune, chip, voice, mine))
            )
    return out


def write_mid(tune: Tune, **options) -> bytes:
    """The bytes of :func:`midi_file`."""
    if options:
        raise UsageError(f"the mid writer takes no options, got {', '.join(options)}")
    buf = io.BytesIO()
    midi_file(tune).save(file=buf)
    return buf.getvalue()


# -- reading -------------------------------------------------------------------------------


def _marker(mid) -> dict[str, str] | None:
    for msg in mid.tracks[0] if mid.tracks else ():
        if msg.type == "text" and msg.text.startswith(MARKER + " "):
            return dict(part.split("=", 1) for part in msg.text.split()[1:] if "=" in part)
    return None


def _meta(mid, kind: str) -> str:
    for msg in mid.tracks[0] if mid.tracks else ():
        if msg.type == kind:
            return msg.name if kind == "track_name" else msg.text
    return ""


def _read_sidlang(mid, marker: dict[str, str], style, clock, file: str | None) -> Tune:
    """A file sidlang wrote: tracks back to their voices, ticks to frames, bends to frequency."""
    from sidlang.corpus.arranger import DRUM_PITCH, GM_DRUMS
    from sidlang.corpus.arranger import clock_hz as arranger_clock
    from sidlang.corpus.player import VoiceNote, play
    from sidlang.corpus.styles import load_style

    try:
        clock_hz = int(marker["clock"])
        frame = int(marker["frame"])
        tpf = int(marker["tpf"])
        models = tuple(int(m) for m in marker["models"].split(","))
    except (KeyError, ValueError):
        raise FormatError(f"damaged {MARKER} event in track 0: {_cut(str(marker))}", file=file) from None
    for name, value, lo, hi in (
        ("clock", clock_hz, 1, MAX_CLOCK),
        ("frame", frame, 0, MAX_FRAME_CYCLES),
        ("tpf", tpf, 1, MAX_FRAME_CYCLES),
    ):
        if not lo <= value <= hi:
            raise FormatError(
                f"damaged {MARKER} event in track 0: {name}={value}, expected {lo}–{hi}", file=file
            )
    if clock is not None:
        clock_hz = arranger_clock(clock)
        frame = default_frame_cycles(clock_hz)
    chosen = load_style(style)
    inst_of = {r.voice: r.instrument for r in (chosen.melody, chosen.bass, chosen.harmony)}
    voices: dict[int, list] = {}
    for track in mid.tracks[1:]:
        name = next((m.name for m in track if m.type == "track_name"), "")
        m = _TRACK.fullmatch(name)
        if m is None:
            continue
        chip, voice = int(m.group(1)) - 1, int(m.group(2)) - 1
        mine = voices.setdefault(chip * VOICES + voice, [])
        tick, bend_range, bend, rpn = 0, 2.0, 0.0, [127, 127]
        open_note: tuple[int, int, list] | None = None
        open_drum: int | None = None  # index in `mine` of the drum hit still sounding
        for msg in track:
            tick += msg.time
            f = round(tick / tpf)
            if f >= MAX_FRAMES:  # before anything is made for it
                raise FormatError(
                    f"{name}: an event at tick {tick} is frame {f}, past the last allowed "
                    f"frame ({MAX_FRAMES - 1})",
                    file=file,
                )
            if msg.type == "control_change" and msg.control in (101, 100):
                rpn[msg.control == 100] = msg.value
            elif msg.type == "control_change" and msg.control == 6 and rpn == [0, 0]:
                bend_range = float(msg.value)
            elif msg.type == "pitchwheel":
                bend = msg.pitch / 8192 * bend_range
                if open_note is not None:
                    open_note[2].append((f - open_note[0], bend))
            elif msg.type == "note_on" and msg.velocity > 0:
                if msg.channel == DRUM_CHANNEL:
                    piece = next((p for p, keys in GM_DRUMS.items() if msg.note in keys), "hat")
                    if chosen.drums is not None and piece in chosen.drums.kit:
                        mine.append(VoiceNote(f, f + 1, (DRUM_PITCH[piece],), chosen.drums.kit[piece]))
                        open_drum = len(mine) - 1
                    continue
                open_note = (f, msg.note, [(0, bend)] if bend else [])
            elif msg.type in ("note_off", "note_on"):
                if msg.channel == DRUM_CHANNEL:
                    if open_drum is not None:
                        d = mine[open_drum]
                        mine[open_drum] = VoiceNote(d.start, max(f, d.start + 1), d.pitches, d.instrument)
                        open_drum = None
                    continue
                if open_note is not None and msg.note == open_note[1]:
                    s, pitch, bends = open_note
                    mine.append(VoiceNote(s, max(f, s + 1), (pitch,), inst_of[voice], tuple(bends)))
                    open_note = None
    if not voices:
        raise FormatError(f"the {MARKER} MIDI file has no 'SID1 voice 1'-style tracks", file=file)
    chips = max(max(voices) // VOICES + 1, len(models))
    header = Header(
        title=_meta(mid, "track_name"),
        author=_meta(mid, "copyright"),
        clock_hz=clock_hz,
        frame_cycles=frame,
        gap=8,
        models=(models * chips)[:chips],
        sids=sid_addresses(chips),
    )
    tune = play([voices.get(i, []) for i in range(chips * VOICES)], chosen, header)
    tune.meta["frame_source"] = "midi"
    return tune


def check_options(options: dict) -> None:
    """A one-line UsageError for reading options the MIDI and score readers do not take."""
    if options:
        raise UsageError(
            f"option {sorted(options)[0]!r} does not apply to MIDI or score input "
            f"(known: {', '.join(READ_OPTIONS)})"
        )


def read_mid(data: bytes, file: str | None = None, *, style=None, clock=None, voices=None, **other) -> Tune:
    """A Tune from MIDI: a sidlang-made file voice for voice, any other through the arranger."""
    check_options(other)
    mido = _mido()
    try:
        mid = mido.MidiFile(file=io.BytesIO(data))
    except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as e:
        raise FormatError(f"not a readable MIDI file: {_reason(e, data)}", file=file) from None
    marker = _marker(mid)
    if marker is not None and voices in (None, "auto", "keep"):
        return _read_sidlang(mid, marker, style or "plain", clock, file)
    _check_arrangeable(mid, clock, file)
    from sidlang.corpus.arranger import arrange
    from sidlang.corpus.sources import midi_from_bytes

    return arrange(
        midi_from_bytes(data, file),
        style=style or "classic",
        clock=clock or "pal",
        voices=voices or "auto",
        title=_meta(mid, "track_name"),
    )


def _cut(text: str, most: int = 80) -> str:
    return text if len(text) <= most else f"{text[:most]}… ({len(text)} characters)"


def _reason(e: BaseException, data: bytes) -> str:
    """What was wrong, in words, where mido's exception has none."""
    if not data:
        return "the file is empty"
    text = str(e).strip()
    if isinstance(e, EOFError) or not text:
        return "it ends in the middle of its data" if isinstance(e, EOFError) else type(e).__name__
    return _cut(text.splitlines()[0])


def _check_arrangeable(mid, clock, file: str | None) -> None:
    """Refuse, before the arranger allocates anything, a file with no notes, an odd time
    division, or one longer than a tune may be."""
    if mid.ticks_per_beat < 0 or mid.ticks_per_beat & 0x8000:
        raise FormatError("SMPTE time (frames per second, not ticks per beat) is not supported", file=file)
    if mid.ticks_per_beat == 0:
        raise FormatError("not a readable MIDI file: 0 ticks per beat", file=file)
    if not any(msg.type == "note_on" and msg.velocity > 0 for track in mid.tracks for msg in track):
        raise FormatError("the MIDI file has no notes", file=file)
    if mid.type == 2:
        return  # no common clock to measure; the arranger plays the first track
    try:
        seconds = mid.length
    except (ValueError, ZeroDivisionError):
        return
    clock_hz = NTSC_HZ if clock == "ntsc" else PAL_HZ
    frames = seconds * clock_hz / default_frame_cycles(clock_hz)
    if frames >= MAX_FRAMES:
        raise FormatError(
            f"the MIDI file lasts {seconds / 3600:.1f} hours ({int(frames)} frames); at most "
            f"{MAX_FRAMES} frames (about {MAX_FRAMES / 50 / 3600:.0f} hours) are supported",
            file=file,
        )


READ_OPTIONS = {
    "style": "arranger style: a preset name (classic, plain, arcade, soft) or a .yaml file",
    "clock": "pal or ntsc (default pal; a sidlang-made file keeps its own)",
    "voices": "auto, keep (each of at most 3 parts on its own voice) or arrange",
}

FORMATS = [
    Format(
        "mid",
        "Standard MIDI file: notes, bends and controllers out; read back through the arranger",
        (".mid", ".midi"),
        read_mid,
        write_mid,
        binary=True,
        options=READ_OPTIONS,
    ),
]
