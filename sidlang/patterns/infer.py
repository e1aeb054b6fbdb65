"""Frames back to tracker patterns: :func:`infer` turns any Tune into a :class:`Song` that
plays it exactly.

The patterns explain what they can (``docs/patterns.md``, "Frames to patterns"):

1. notes from gate onsets and the tune's own note table, rows on a fixed row length (the
   speed) found from the onsets (:mod:`~sidlang.patterns.infer_notes`);
2. instruments from what recurs after each onset: ADSR, hard restart, the waveform and
   arpeggio of each frame (a wave table), the pulse widths (a pulse table); a note joins the
   first instrument that plays its frames exactly, or makes a new one;
3. slides and vibrato (``up``/``dn``/``vib``) where they give the note's frequencies;
4. patterns of a fixed number of rows per voice, kept once and played again with a transpose
   where they repeat, in orderlists with repeat counts.

Whatever the patterns do not reproduce exactly goes into the subtune's raw writes
(:func:`~sidlang.patterns.infer_frames.raw_writes`), so ``play(infer(tune))`` makes the same
writes as the tune in the sense of :mod:`~sidlang.patterns.infer_frames`.
"""

from __future__ import annotations

from collections import Counter

from sidlang.errors import FormatError
from sidlang.pitch import note_to_reg
from sidlang.tune import Header, Tune

from .infer_frames import cells, effective, raw_writes
from .infer_notes import (
    Note,
    arp_note,
    filter_program,
    note_table,
    notes_of,
    play_pulse,
    play_table,
    pulse_program,
    row_grid,
    voices,
    wave_fits,
    wave_steps,
    wave_table,
)
from .model import (
    GATE_OFF,
    MAX_CHIPS,
    MAX_INSTRUMENT,
    MAX_PATTERN,
    MAX_REPEAT,
    MAX_ROWS,
    NOTE_RANGE,
    Effect,
    Instrument,
    OrderEntry,
    Orderlist,
    Pattern,
    Row,
    Song,
    Subtune,
)

PATTERN_ROWS = (8, 16, 32, 64, 128, 256)  #: pattern lengths tried; the one that prints least wins
PULSE_CANDIDATES = 6  #: pulse programs of an instrument's longest notes tried for its table
MAX_VIB_SPEED = 64


class _Inst:
    """An instrument being found: its ADSR, hard restart, wave table and notes."""

    def __init__(self, note: Note) -> None:
        self.ad, self.sr, self.hr, self.filter = note.ad, note.sr, note.hr, note.filter
        self.steps, self.loop = wave_table(note)
        self.notes: list[Note] = []

    def takes(self, note: Note) -> bool:
        if (note.ad, note.sr, note.filter) != (self.ad, self.sr, self.filter):
            return False
        if note.hr is not None and self.hr is not None and note.hr != self.hr:
            return False
        return wave_fits(self.steps, self.loop, note)

    def add(self, note: Note) -> None:
        self.notes.append(note)
        if self.hr is None:
            self.hr = note.hr


def _instruments(notes: list[Note]) -> tuple[list[_Inst], dict[int, int]]:
    """The instruments, most played first, and each note's: ``id(note)`` -> number (1-based)."""
    found: list[_Inst] = []
    of: dict[int, _Inst] = {}
    for note in sorted(notes, key=lambda x: -x.length):
        inst = next((i for i in found if i.takes(note)), None)
        if inst is None:
            if len(found) < MAX_INSTRUMENT:
                inst = _Inst(note)
                found.append(inst)
            else:  # out of numbers: the nearest by ADSR; the raw writes carry the difference
                inst = min(found, key=lambda i: (i.ad != note.ad) + (i.sr != note.sr))
        inst.add(note)
        of[id(note)] = inst
    found.sort(key=lambda i: -len(i.notes))
    number = {id(inst): k for k, inst in enumerate(found, 1)}
    return found, {key: number[id(inst)] for key, inst in of.items()}


def _table(inst: _Inst, which: str) -> tuple:
    """The pulse (or filter) program that gives the widths (cutoffs) of most of the
    instrument's notes."""
    program, bits = (pulse_program, 12) if which == "pw" else (filter_program, 11)
    candidates = [] if which == "cut" else [()]
    for note in sorted(inst.notes, key=lambda x: -x.length):
        prog = program(note)
        if prog not in candidates:
            candidates.append(prog)
        if len(candidates) > PULSE_CANDIDATES:
            break

    def fits(prog) -> int:
        return sum(
            play_pulse(prog, getattr(note, f"{which}_before"), note.length, bits) == getattr(note, which)
            for note in inst.notes
        )

    return max(candidates, key=fits)


def _hr_wave(inst: _Inst) -> int | None:
    """The hard-restart waveform most of the instrument's notes had, if most had one."""
    seen = Counter(note.hr_wave for note in inst.notes if note.hr is not None and note.hr[0])
    wave, count = seen.most_common(1)[0] if seen else (None, 0)
    return wave if count * 2 > sum(seen.values()) else None


def _instrument(inst: _Inst) -> Instrument:
    hr, hr_ad, hr_sr = inst.hr or (0, 0, 0)
    mode, res = inst.filter or (1, 0)
    return Instrument(
        ad=inst.ad,
        sr=inst.sr,
        hr=hr,
        hr_ad=hr_ad,
        hr_sr=hr_sr,
        wave=wave_steps(inst.steps),
        wave_loop=inst.loop,
        pulse=list(_table(inst, "pw")),
        filter=list(_table(inst, "cut")) if inst.filter else [],
        fmode=mode,
        fres=res,
        hr_wave=_hr_wave(inst),
    )


def _freq_effect(note: Note, inst: _Inst, table: list[int], row_len: int) -> Effect | None:
    """``up``, ``dn`` or ``vib`` where it gives the note's first row of frequencies exactly."""
    played = play_table(inst.steps, inst.loop, note.length)
    freq = note.voice.freq[note.start : note.start + note.length].tolist()
    r = [f - table[arp_note(note.note, k)] for f, (_, k) in zip(freq, played)]
    if not any(r):
        return None
    span = min(len(r), max(row_len, 4))
    r = r[:span]
    if 0 < abs(r[0]) <= 0xFFFF and all(x == r[0] * (i + 1) for i, x in enumerate(r)):
        return Effect("up", (r[0],)) if r[0] > 0 else Effect("dn", (-r[0],))
    if r[0] == 0 and len(r) > 1 and 0 < r[1] <= 0xFFFF:
        depth = r[1]
        for speed in range(1, MAX_VIB_SPEED + 1):
            if all(x == depth * _tri(i, speed) for i, x in enumerate(r)):
                return Effect("vib", (speed, depth))
    return None


def _tri(k: int, speed: int) -> int:
    p = k % (4 * speed)
    return p if p < speed else 2 * speed - p if p < 3 * speed else p - 4 * speed


def _rows(vs, notes_by_voice, found, number, table, row_len, phase, n) -> list[list[Row]]:
    count = max(1, -(-(n - phase) // row_len))
    starts = [phase + k * row_len for k in range(count)]
    out = []
    for v, notes in zip(vs, notes_by_voice):
        at = {note.start: note for note in notes}
        rows = []
        for s in starts:
            note = at.get(s)
            if note is not None:
                k = number[id(note)]
                fx = _freq_effect(note, found[k - 1], table, row_len)
                rows.append(Row(note.note, k, fx))
            elif s in v.legato:
                note = min(max(v.legato[s], NOTE_RANGE[0]), NOTE_RANGE[1])
                rows.append(Row(note, None, Effect("tp", (0xFFFF,))))
            elif s in v.falls:
                rows.append(Row(GATE_OFF))
            else:
                rows.append(Row())
        out.append(rows)
    return out


def _patterns(rows: list[list[Row]], first: int) -> tuple[dict[int, Pattern], list[list[OrderEntry]]]:
    """Patterns of a fixed length (the one that prints fewest lines), kept once each, with
    transposed repeats, and each voice's orderlist of them."""
    best = None
    for size in PATTERN_ROWS:
        pats, orders = _split(rows, size, first)
        if len(pats) + first > MAX_PATTERN + 1:
            continue
        cost = sum(len(p.rows) for p in pats.values()) + sum(len(o) for o in orders)
        if best is None or cost < best[0]:
            best = (cost, pats, orders)
    if best is None:
        raise FormatError("the tune needs more than 256 patterns of 256 rows")
    return best[1], best[2]


def _split(rows: list[list[Row]], size: int, first: int):
    pats: dict[int, Pattern] = {}
    known: dict[tuple, tuple[int, int]] = {}  # shape -> (pattern, its first note)
    orders = []
    for voice_rows in rows:
        entries: list[OrderEntry] = []
        for i in range(0, len(voice_rows), size):
            chunk = voice_rows[i : i + size]
            base = next((r.note for r in chunk if r.note is not None and r.note != GATE_OFF), 0)
            shape = tuple(
                (
                    r.note - base if r.note is not None and r.note != GATE_OFF else r.note,
                    r.instrument,
                    r.effect,
                )
                for r in chunk
            )
            if shape not in known:
                known[shape] = (first + len(pats), base)
                pats[first + len(pats)] = Pattern(list(chunk))
            number, stored = known[shape]
            entry = OrderEntry(number, base - stored)
            if entries and entries[-1].pattern == number and entries[-1].transpose == entry.transpose:
                if entries[-1].repeat < MAX_REPEAT:
                    entries[-1] = OrderEntry(number, entry.transpose, entries[-1].repeat + 1)
                    continue
            entries.append(entry)
        orders.append(entries)
    return pats, orders


def infer(tune: Tune) -> Song:
    """A song whose subtune 1 plays ``tune`` exactly (raw writes for what patterns miss)."""
    h = tune.header
    if h.chips > MAX_CHIPS:
        raise FormatError(f"the tune has {h.chips} SIDs; patterns hold at most {MAX_CHIPS}")
    n = len(tune.frames)
    target = cells(effective(tune))
    vs = voices(tune, target)
    pitch = note_table(vs, h.clock_hz)
    table = [pitch.get(m, note_to_reg(m, 0, h.clock_hz)) for m in range(128)]
    row_len, phase = row_grid(vs, n)
    notes_by_voice = [notes_of(v, row_len, phase, table, h.clock_hz) for v in vs]
    found, number = _instruments([x for notes in notes_by_voice for x in notes])
    vol = tune.frames.state(0)[:, 0x18] & 0xF if n else [15]
    song = Song(
        title=h.title,
        author=h.author,
        released=h.released,
        clock_hz=h.clock_hz,
        frame_cycles=h.frame_cycles if h.frame_cycles != Header(clock_hz=h.clock_hz).frame_cycles else 0,
        models=h.models,
        chips=h.chips,
        vol=int(Counter(vol.tolist() if n else vol).most_common(1)[0][0]),
        pitch=pitch,
        instruments={k: _instrument(inst) for k, inst in enumerate(found, 1)},
    )
    rows = _rows(vs, notes_by_voice, found, number, table, row_len, phase, n)
    lead = 1 if phase else 0
    if phase:  # a first row as long as the frames before the grid, then the tune's speed
        free = next((i for i, r in enumerate(rows) if r[0].effect is None), 0)
        rows[free][0] = Row(rows[free][0].note, rows[free][0].instrument, Effect("tempo", (row_len,)))
        song.patterns[0] = Pattern([Row(None, None, Effect("tempo", (phase,)))])
        song.patterns[1] = Pattern([Row()])
        lead = 2
    song.patterns.update((pats := _patterns(rows, lead))[0])
    orders = {}
    for v, entries in enumerate(pats[1]):
        head = [OrderEntry(0 if v == 0 else 1)] if phase else []
        orders[v] = Orderlist(head + entries)
    song.subtunes = [Subtune(tempo=(row_len,), orders=orders, length=max(n, 1))]
    song.subtunes[0].raw = raw_writes(song, tune, target)
    return song


__all__ = ["MAX_ROWS", "infer"]
