"""Notes and instruments from a tune's register state: the first half of frames -> patterns.

Everything here reads the per-frame register state of each voice (``tune.frames.state``):

* **the note table** a tracker used (its frequencies are its own, a little off
  ``sidlang.pitch``'s): for each MIDI note the frequency the tune plays most often near it;
* **onsets**: frames where a voice's gate opens, or closes and reopens inside one frame;
* **the row length** (the tune's speed) and phase that put the most onsets and gate-offs on
  row starts;
* **notes**: per onset, the pitch (exact in the note table where it can be), the ADSR, the hard
  restart before it, and what the following frames do: waveform and arpeggio per frame (a wave
  table, with a loop where it repeats), pulse width (a pulse table).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from sidlang.pitch import note_to_reg, reg_to_midi
from sidlang.registers import FIELDS, VOICE_STRIDE, VOICES, WAVE_BITS

from .model import MAX_TABLE, MAX_TABLE_FRAMES, NOTE_RANGE, TableStep, WaveStep

GATE = WAVE_BITS["gate"]
SPAN = 64  #: frames after an onset that describe a note (its tables)
MAX_ROW = 24  #: the longest row length tried
MAX_HR = 15
ON_GRID = 0.95  #: share of onsets a row grid must hold
MAX_LOOP = 16  #: the longest wave table loop looked for
ARP_RANGE = 36  #: semitones a relative arpeggio step may reach; further is an absolute note
ABSOLUTE = 1000  #: a wave step's note ``ABSOLUTE + m`` is the absolute MIDI note ``m`` (a drum's click)
_FREQ, _PW = FIELDS["freq"].regs, FIELDS["pw"].regs
_WAVE, _AD, _SR = FIELDS["wave"].regs[0], FIELDS["ad"].regs[0], FIELDS["sr"].regs[0]
_CUT, _RES, _MODE = FIELDS["cut"].regs, FIELDS["res"].regs[0], FIELDS["mode"].regs[0]
_CUT_LO = FIELDS["cut"].lo_bits


@dataclass
class Voice:
    """One voice's register state per frame (int64 arrays) and its onsets."""

    chip: int
    index: int  #: 0-based voice of the song
    freq: np.ndarray
    pw: np.ndarray
    ctrl: np.ndarray
    ad: np.ndarray
    sr: np.ndarray
    cut: np.ndarray = None  #: the chip's filter: cutoff (11 bits), routing, resonance, mode
    route: np.ndarray = None
    res: np.ndarray = None
    mode: np.ndarray = None
    onsets: set[int] = field(default_factory=set)
    falls: set[int] = field(default_factory=set)  #: frames where the gate closes
    legato: dict[int, int] = field(default_factory=dict)  #: tied notes: row start -> MIDI
    changes: set[int] = field(default_factory=set)  #: frames a held pitch moves to another


def voices(tune, seqs) -> list[Voice]:
    """Every voice's state, with its onsets (``seqs``: the effective writes per cell)."""
    out = []
    for chip in range(tune.header.chips):
        s = tune.frames.state(chip).astype(np.int64)
        cut = s[:, _CUT[1]] << _CUT_LO | s[:, _CUT[0]] & ((1 << _CUT_LO) - 1)
        filt = dict(cut=cut, route=s[:, _RES] & 0xF, res=s[:, _RES] >> 4, mode=s[:, _MODE] >> 4)
        for v in range(VOICES):
            b = v * VOICE_STRIDE
            ctrl = s[:, b + _WAVE]
            voice = Voice(
                chip,
                chip * VOICES + v,
                s[:, b + _FREQ[0]] | s[:, b + _FREQ[1]] << 8,
                s[:, b + _PW[0]] | (s[:, b + _PW[1]] & 0xF) << 8,
                ctrl,
                s[:, b + _AD],
                s[:, b + _SR],
                **filt,
            )
            gate = ctrl & GATE
            prev = np.concatenate(([0], gate[:-1]))
            voice.onsets = set(np.flatnonzero(gate & ~prev).tolist())
            voice.falls = set(np.flatnonzero(prev & ~gate).tolist())
            f, g = voice.freq, gate > 0
            held = np.zeros(len(f), bool)  # the pitch moves between two held pitches, gate open
            if len(f) > 3:
                held[2:-1] = (f[2:-1] != f[1:-2]) & (f[3:] == f[2:-1]) & (f[1:-2] == f[:-3]) & g[:-3] & g[3:]
            voice.changes = set(np.flatnonzero(held).tolist()) - voice.onsets
            for f in np.flatnonzero(gate & prev).tolist():  # reopened inside the frame
                seq = seqs.get((f, chip, b + _WAVE), ())
                if any(not x & GATE for x in seq):
                    voice.onsets.add(f)
            out.append(voice)
    return out


def note_table(vs: list[Voice], clock_hz: int) -> dict[int, int]:
    """The tune's own frequency for each MIDI note it plays held (where not ``sidlang.pitch``'s)."""
    values = np.concatenate([v.freq[(v.ctrl & GATE) > 0] for v in vs]) if vs else np.zeros(0, np.int64)
    values = values[values > 0]
    if not len(values):
        return {}
    vals, counts = np.unique(values, return_counts=True)
    best: dict[int, tuple[int, int]] = {}
    for val, count in zip(vals.tolist(), counts.tolist()):
        midi = round(reg_to_midi(val, clock_hz))
        if NOTE_RANGE[0] <= midi <= NOTE_RANGE[1] and count >= 3 and count > best.get(midi, (0, 0))[0]:
            best[midi] = (count, val)
    return {m: val for m, (_, val) in best.items() if val != note_to_reg(m, 0, clock_hz)}


def row_grid(vs: list[Voice], n: int) -> tuple[int, int]:
    """(frames per row, frame of the first row start).

    Row lengths that put at least :data:`ON_GRID` of the onsets on row starts (at their best
    phase) are candidates, if they are longer than the usual hard restart (gate-off to onset);
    of those, the one that puts the most onsets, releases (gate-offs not followed by an onset
    within a hard restart) and tied notes on row starts, beyond what a grid of that length
    holds by chance, wins, the longest on a tie. A song of held notes (under 8 onsets) takes
    its tied notes as onsets.
    Players close the gate for a hard restart, and some before a ``===``, off the grid.
    """
    onsets: set[int] = set().union(*(v.onsets for v in vs)) if vs else set()
    ties = np.array(sorted(set().union(*(v.changes for v in vs)) - onsets if vs else ()), np.int64)
    if len(onsets) < 8:  # a song of held notes: its tied notes show the rows
        onsets |= set(ties.tolist())
    releases: set[int] = set()
    gaps: Counter = Counter()  # frames from a gate-off to the onset it restarts for
    for v in vs:
        for f in v.falls:
            gap = next((k for k in range(1, MAX_HR + 1) if f + k in v.onsets), None)
            if gap is None:
                releases.add(f)
            else:
                gaps[gap] += 1
    shortest = gaps.most_common(1)[0][0] + 1 if gaps else 1  # a row must hold the hard restart
    events = np.array(sorted(onsets), np.int64)
    rel = np.array(sorted(releases - onsets), np.int64)
    if len(events) < 2:
        return 6, int(events[0]) % 6 if len(events) else 0
    best, best_score = (1, 0), -1
    for t in range(min(shortest, MAX_ROW), MAX_ROW + 1):
        hits = np.bincount(events % t, minlength=t)
        phase = int(np.argmax(hits))
        if hits[phase] < ON_GRID * len(events):
            continue
        # hits beyond chance (a row of one frame holds everything): events on the grid, less
        # the share of frames that are row starts
        score = hits[phase] + np.count_nonzero(rel % t == phase) + np.count_nonzero(ties % t == phase)
        score -= (len(events) + len(rel) + len(ties)) / t
        if score >= best_score:
            best, best_score = (t, phase), score
    return best


@dataclass
class Note:
    """One onset and what follows it, up to the next onset (at most :data:`SPAN` frames)."""

    voice: Voice
    start: int
    length: int  #: frames described
    note: int  #: MIDI
    ad: int
    sr: int
    hr: tuple[int, int, int] | None  #: (frames, ad, sr) of the gate-off before it; None: unknown
    hr_wave: int | None  #: the one waveform of those frames; None: not one, or none changed
    wave: list[tuple[int, int | None]]  #: per frame: (waveform bits, arpeggio step or None)
    pw: list[int]
    pw_before: int
    filter: tuple[int, int] | None  #: (mode, resonance) where the voice is routed through the filter
    cut: list[int]
    cut_before: int


def notes_of(v: Voice, row_len: int, phase: int, table: list[int], clock_hz: int) -> list[Note]:
    """The voice's notes; ``table`` is the frequency of each MIDI note 0–127. Fills
    ``v.legato``: row starts where a held pitch moves to a note of the table without an onset
    (a tied note, ``tp:65535`` in the pattern player; the tables run on)."""
    index: dict[int, int] = {}
    for m in range(len(table) - 1, -1, -1):
        index[table[m]] = m
    v.legato = {
        c: index[int(v.freq[c])] for c in v.changes if (c - phase) % row_len == 0 and int(v.freq[c]) in index
    }
    starts = sorted(v.onsets)
    out = []
    n = len(v.freq)
    for i, s in enumerate(starts):
        end = min(starts[i + 1] if i + 1 < len(starts) else n, s + SPAN)
        f0 = int(v.freq[s])
        midi = index.get(f0)
        if midi is None:
            midi = round(reg_to_midi(f0, clock_hz)) if f0 > 0 else NOTE_RANGE[0]
        midi = min(max(midi, NOTE_RANGE[0]), NOTE_RANGE[1])
        wave = []
        base = midi  # the sounding note: a tied note moves it
        for f in range(s, end):
            m = index.get(int(v.freq[f]))
            base = v.legato.get(f, base)
            if m is None or (abs(m - base) > ARP_RANGE and not NOTE_RANGE[0] <= m <= NOTE_RANGE[1]):
                k = None
            else:
                k = m - base if abs(m - base) <= ARP_RANGE else ABSOLUTE + m
            wave.append((int(v.ctrl[f]) & ~GATE, k))
        out.append(
            Note(
                v,
                s,
                end - s,
                midi,
                int(v.ad[s]),
                int(v.sr[s]),
                _hard_restart(v, s, row_len),
                _hard_restart_wave(v, s, row_len),
                wave,
                v.pw[s:end].tolist(),
                int(v.pw[s - 1]) if s else 0,
                (int(v.mode[s]), int(v.res[s])) if v.route[s] >> (v.index % VOICES) & 1 else None,
                v.cut[s:end].tolist(),
                int(v.cut[s - 1]) if s else 0,
            )
        )
    return out


def _hard_restart(v: Voice, s: int, row_len: int) -> tuple[int, int, int] | None:
    if s == 0:
        return None
    if v.ctrl[s - 1] & GATE:  # closed and reopened in the frame: no frames of hard restart
        return (0, 0, 0)
    h = 0
    while s - h - 1 >= 0 and not v.ctrl[s - h - 1] & GATE and h <= MAX_HR:
        h += 1
    if s - h - 1 < 0:
        return None
    if h > min(MAX_HR, row_len - 1):  # released before: a hard restart shows as a change of
        h = 0  # ADSR or waveform in the last frames, held until the onset
        for k in range(1, min(MAX_HR, row_len - 1) + 1):
            g = s - k
            if g < 1 or (v.ad[g], v.sr[g], v.ctrl[g]) != (v.ad[s - 1], v.sr[s - 1], v.ctrl[s - 1]):
                break
            if (v.ad[g - 1], v.sr[g - 1], v.ctrl[g - 1]) != (v.ad[g], v.sr[g], v.ctrl[g]):
                h = k
        if not h:
            return None  # a release, not a hard restart
    return (h, int(v.ad[s - h]), int(v.sr[s - h]))


def _hard_restart_wave(v: Voice, s: int, row_len: int) -> int | None:
    """The waveform a player sets for the hard restart before onset ``s``, where it set one:
    the same waveform on every gate-off frame, and not the one before them."""
    hr = _hard_restart(v, s, row_len)
    if hr is None or hr[0] == 0 or s - hr[0] < 1:
        return None
    waves = {int(w) & ~GATE for w in v.ctrl[s - hr[0] : s]}
    before = int(v.ctrl[s - hr[0] - 1]) & ~GATE
    return waves.pop() if len(waves) == 1 and before not in waves else None


# -- tables --------------------------------------------------------------------------------


def compact(seq: list) -> tuple[list, int | None]:
    """The shortest table (and loop step) whose playing gives ``seq``: hold the last step, or
    loop back with a period up to :data:`MAX_LOOP`."""
    last = len(seq) - 1
    while last > 0 and seq[last - 1] == seq[last]:
        last -= 1
    best: tuple[list, int | None] = (seq[: last + 1], None)
    for p in range(2, min(MAX_LOOP, len(seq) // 2) + 1):
        i = len(seq)
        while i - p - 1 >= 0 and seq[i - 1] == seq[i - 1 - p]:
            i -= 1
        j = i - p  # seq[j:] repeats with period p
        if j >= 0 and j + p < len(best[0]) and len(seq) - j >= 2 * p:
            best = (seq[: j + p], j)
    return best


def play_table(table: list, loop: int | None, frames: int) -> list:
    out, pos = [], 0
    for _ in range(frames):
        out.append(table[pos])
        pos += 1
        if pos == len(table):
            pos = loop if loop is not None else pos - 1
    return out


def wave_fits(steps: list[tuple[int, int]], loop: int | None, note: Note) -> bool:
    played = play_table(steps, loop, note.length)
    return all(w == pw and (k is None or k == pk) for (w, k), (pw, pk) in zip(note.wave, played))


def wave_table(note: Note) -> tuple[list[tuple[int, int]], int | None]:
    seq, k0 = [], 0
    for w, k in note.wave:
        k0 = k if k is not None else k0
        seq.append((w, k0))
    steps, loop = compact(seq)
    return steps[:MAX_TABLE], loop if loop is not None and loop < MAX_TABLE else None


def wave_steps(steps: list[tuple[int, int]]) -> list[WaveStep]:
    return [
        WaveStep(w, k - ABSOLUTE, True) if k >= ABSOLUTE // 2 else WaveStep(w, k, False) for w, k in steps
    ]


def arp_note(note: int, k: int) -> int:
    """The MIDI note a wave step ``k`` (relative, or :data:`ABSOLUTE` + a note) plays on ``note``."""
    return min(max(k - ABSOLUTE if k >= ABSOLUTE // 2 else note + k, 0), 127)


JUMP = 256  #: a change larger than this in one frame is a table's ``set``, not a sweep


def table_program(values: list[int], before: int, bits: int = 12) -> tuple[TableStep, ...]:
    """The pulse (or filter) table that gives ``values`` frame by frame, starting from the
    width ``before`` the note: ``add`` runs of the frame-to-frame changes, a ``set`` where a
    change is a jump (more than :data:`JUMP`) or comes on the note's first frame."""
    steps: list[TableStep] = []
    prev = before
    if not values or all(v == before for v in values):
        return ()
    last = max(i for i, v in enumerate(values) if v != (values[i - 1] if i else before))
    for i, v in enumerate(values[: last + 1]):
        d = _signed(v - prev, bits) if bits == 12 else v - prev
        prev = v
        if abs(d) > JUMP or (i == 0 and d):  # a note that changes the width at once sets it
            steps.append(TableStep("set", v))
            continue
        if steps and steps[-1].kind == "add" and steps[-1].value == d and steps[-1].frames < MAX_TABLE_FRAMES:
            steps[-1] = TableStep("add", d, steps[-1].frames + 1)
        else:
            steps.append(TableStep("add", d, 1))
    return tuple(steps[:MAX_TABLE])


def pulse_program(note: Note) -> tuple[TableStep, ...]:
    return table_program(note.pw, note.pw_before)


def filter_program(note: Note) -> tuple[TableStep, ...]:
    """The filter table of a routed note; one that holds the cutoff where it does not move
    (a filter table is what routes a voice in the pattern player)."""
    return table_program(note.cut, note.cut_before, 11) or (TableStep("add", 0, 1),)


def play_pulse(steps: tuple[TableStep, ...], start: int, frames: int, bits: int = 12) -> list[int]:
    out, value, pos, left = [], start, 0, 0
    for _ in range(frames):
        if pos < len(steps):
            s = steps[pos]
            if s.kind == "set":
                value, left = s.value, 0
            else:
                left = left or s.frames
                value += s.value
                left -= 1
            if left == 0:
                pos += 1
        value = value & 0xFFF if bits == 12 else min(max(value, 0), 0x7FF)
        out.append(value)
    return out


def _signed(d: int, bits: int = 12) -> int:
    d &= 0xFFF
    return d - 0x1000 if d >= 0x800 else d


def most_common(items) -> object:
    return Counter(items).most_common(1)[0][0]
