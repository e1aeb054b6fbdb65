"""GoatTracker 2 songs (``.sng``, parsed by ``pygoattracker``) as pattern songs (:mod:`.model`).

:func:`song_from_goat` maps a ``pygoattracker.Song`` onto :class:`~sidlang.patterns.model.Song`;
:func:`read_goat` parses the bytes first. GoatTracker's model is close to ours (orderlists with
transpose and repeat, patterns of ``note instrument command``, instruments with ADSR and
wave/pulse/filter table pointers), but not the same; where it differs this module maps the
closest thing and ``docs/patterns.md`` ("GoatTracker songs") lists what is lost.

The shapes that differ most:

* GoatTracker's tables are four shared columns that instruments point into, with jumps; ours
  belong to one instrument. Each instrument gets a copy of the steps its pointer runs through
  (following jumps), the jump back becoming the table's ``loop``.
* A wave step's *delay* (left ``$01``–``$0F``) is that many frames of holding, then the step.
* GoatTracker transposes stick until the next transpose, ours belong to one orderlist entry.
* Speeds of slides and vibrato are indexes into GoatTracker's speed table; they are looked up.
"""

from __future__ import annotations

from sidlang.errors import FormatError, first_line
from sidlang.pitch import HIGHEST_MIDI, LOWEST_MIDI

from .model import (
    GATE_OFF,
    MAX_INSTRUMENT,
    MAX_ROWS,
    MAX_SPEED,
    MAX_TABLE,
    MAX_TABLE_FRAMES,
    Effect,
    Instrument,
    OrderEntry,
    Orderlist,
    Pattern,
    Row,
    Song,
    Subtune,
    TableStep,
    WaveStep,
)

#: GoatTracker's note 0 (C-0, pattern byte ``$60``) as a MIDI number.
MIDI_OF_C0 = 12
FIRSTNOTE, LASTNOTE, REST, KEYOFF, KEYON = 0x60, 0xBC, 0xBD, 0xBE, 0xBF
JUMP = 0xFF
ADPARAM = 0x0F00  #: the editor's hard-restart ADSR (its ``-A`` option), AD high byte
DEFAULT_TEMPO = 6  #: frames per row before any tempo command (the player's tempo 5, plus one)
DEFAULT_FUNK = (9, 6)  #: the funktempo F00 recalls before any E command sets one
GATE = 0x01
#: the note a calculated speed (speed table left ``$80`` and up) is worked out at, where the
#: row has none: C-4
CALC_NOTE = 48


def read_goat(data: bytes, file: str | None = None) -> Song:
    """Parse ``.sng`` bytes with pygoattracker and map them (a :class:`FormatError` if bad)."""
    gt = _pygoattracker()
    try:
        parsed = gt.parse_sng(bytes(data))
    except (gt.GoatTrackerError, ValueError, IndexError, KeyError, EOFError) as e:
        raise FormatError(f"not a GoatTracker song: {first_line(e)}", file=file) from None
    if not isinstance(parsed, gt.Song):  # GoatTracker 1 (GTS!): pygoattracker's lossy import
        parsed = gt.parse_sng(bytes(data), convert=True)
    return song_from_goat(parsed)


def song_from_goat(gt) -> Song:
    """The pattern song closest to a ``pygoattracker.Song``."""
    conv = _Converter(gt)
    return conv.song()


# -- internals ---------------------------------------------------------------------------------


def _pygoattracker():
    try:
        import pygoattracker
    except ImportError:
        from sidlang.errors import SidlangError

        raise SidlangError(
            ".sng songs need the 'pygoattracker' package (pip install pygoattracker)"
        ) from None
    return pygoattracker


def _signed(v: int) -> int:
    return v - 0x100 if v >= 0x80 else v


def _walk(table, ptr: int) -> tuple[list[int], int | None]:
    """The 1-based positions a table pointer runs through (jumps followed), and the position
    the run goes back to at its end (None: it stops there)."""
    seen: list[int] = []
    where: set[int] = set()
    pos, jumps = ptr, 0
    while 1 <= pos <= len(table.left):
        if pos in where:
            return seen, pos
        if table.left[pos - 1] == JUMP:
            jumps += 1
            pos = table.right[pos - 1]
            if pos == 0 or jumps > len(table.left):
                return seen, None
            continue
        seen.append(pos)
        where.add(pos)
        pos += 1
    return seen, None


def _held(steps: list[TableStep], loop: int | None) -> tuple[list[TableStep], int | None]:
    if not steps:
        return steps, loop
    return _cap([TableStep("add", 0, 1), *steps], None if loop is None else loop + 1)


def _cap(steps: list, loop: int | None) -> tuple[list, int | None]:
    if len(steps) > MAX_TABLE:
        return steps[:MAX_TABLE], None
    return steps, loop


class _Converter:
    def __init__(self, gt) -> None:
        self.gt = gt
        self.freq = _freq_table()
        st = gt.speedtable
        self.funk = DEFAULT_FUNK
        for p in gt.patterns:  # the first E command's speeds stand for what F00 recalls
            e = next((r for r in p.rows if r.command == 0xE and r.data), None)
            if e is not None:
                self.funk = self._funk(e.data)
                break
        self.st = st

    # -- the song --------------------------------------------------------------------------

    def song(self) -> Song:
        gt = self.gt
        chans = max(len(s.channels) for s in gt.subtunes)
        song = Song(
            title=gt.name.strip(),
            author=gt.author.strip(),
            released=gt.copyright.strip(),
            chips=1 if chans <= 3 else 2,
        )
        for n, ins in enumerate(gt.instruments, 1):
            song.instruments[n] = self.instrument(ins)
        tempo = self.tempo = self._default_tempo()
        # A pattern may start while a slide or vibrato of the one before runs: its first rows
        # without a command stop them if any pattern ends with one running.
        ends = {self._end_state(p) for p in gt.patterns}
        self.pattern_start = "slide" if "slide" in ends else "vib" if "vib" in ends else None
        entry = self.entry_instruments()
        for n, p in enumerate(gt.patterns):
            song.patterns[n] = self.pattern(p, entry.get(n))
        # GoatTracker's player spends its first call on initialising and reads row 0 during the
        # first row's time, so row 0 sounds 1 + tempo frames in: a lead-in pattern of a
        # one-frame row and a row of the starting tempo, played first by every voice, keeps that.
        lead = max(
            len(gt.patterns),
            1
            + max(
                (e.num for s in gt.subtunes for o in s.channels for e in o.entries if hasattr(e, "num")),
                default=0,
            ),
        )
        song.patterns[lead] = Pattern(
            [Row(effect=Effect("tempo", (1,))), Row(effect=Effect("tempo", (tempo,)))]
        )
        for sub in gt.subtunes:
            orders = {}
            for v, ol in enumerate(sub.channels):
                o = self.orderlist(ol)
                if o.entries:
                    loop = None if o.loop is None else o.loop + 1
                    orders[v] = Orderlist([OrderEntry(lead), *o.entries], loop)
            song.subtunes.append(Subtune(tempo=(tempo,), orders=orders))
        # References to what the file leaves out: GoatTracker plays an empty instrument and the
        # editor's empty 64-row pattern.
        for sub in song.subtunes:
            for o in sub.orders.values():
                for e in o.entries:
                    song.patterns.setdefault(e.pattern, Pattern([Row()] * 64))
        for p in song.patterns.values():
            for r in p.rows:
                if r.instrument is not None:
                    song.instruments.setdefault(r.instrument, Instrument())
        song.instruments = dict(sorted(song.instruments.items()))
        song.patterns = dict(sorted(song.patterns.items()))
        return song

    def _default_tempo(self) -> int:
        ins = self.gt.instruments
        if len(ins) >= 63 and ins[62].attack_decay >= 2 and not ins[62].wave_ptr:
            return min(ins[62].attack_decay, MAX_SPEED)  # the editor's "instrument 63" tempo
        return DEFAULT_TEMPO

    # -- orderlists ------------------------------------------------------------------------

    @staticmethod
    def _entries(items, trans: int) -> tuple[list[OrderEntry], dict[int, int], int]:
        entries: list[OrderEntry] = []
        index: dict[int, int] = {}
        repeat = 1
        for i, e in enumerate(items):
            index[i] = len(entries)
            kind = type(e).__name__
            if kind == "Transpose":
                trans = e.semitones
            elif kind == "Repeat":
                repeat = e.count + 1
            else:
                entries.append(OrderEntry(e.num, trans, repeat))
                repeat = 1
        return entries, index, trans

    def orderlist(self, ol) -> Orderlist:
        entries, index, end_trans = self._entries(ol.entries, 0)
        restart = ol.restart
        if restart >= len(ol.entries) or index[restart] >= len(entries):
            return Orderlist(entries, None)
        # The transpose in force when play comes back to the restart point is the last one of
        # the list, unless the loop sets its own first; where the two differ, the loop is
        # written out once more after the first pass, starting from the last transpose.
        _, _, at_restart = self._entries(ol.entries[:restart], 0)
        looped, _, _ = self._entries(ol.entries[restart:], end_trans)
        again, _, _ = self._entries(ol.entries[restart:], at_restart)
        if looped == again:
            return Orderlist(entries, index[restart])
        return Orderlist(entries + looped, len(entries))

    # -- patterns --------------------------------------------------------------------------

    @staticmethod
    def _end_state(p) -> str | None:
        active = None
        for r in p.rows:
            if r.command in (1, 2, 3):
                active = "slide"
            elif r.command == 4:
                active = "vib"
            elif r.command == 0 or (FIRSTNOTE <= r.note <= LASTNOTE):
                active = None
        return active

    def entry_instruments(self) -> dict[int, int | None]:
        """The instrument a voice has when it starts each pattern, where every play of the
        pattern (each voice's orderlist once through, loop part included) agrees; else None."""
        seen: dict[int, set[int]] = {}
        for sub in self.gt.subtunes:
            for ol in sub.channels:
                current = 1  # the player starts every voice on instrument 1
                for e in ol.entries + ol.entries[ol.restart :]:
                    num = getattr(e, "num", None)
                    if num is None or num >= len(self.gt.patterns):
                        continue
                    seen.setdefault(num, set()).add(current)
                    for r in self.gt.patterns[num].rows:
                        current = r.instrument or current
        return {n: next(iter(v)) if len(v) == 1 else None for n, v in seen.items()}

    def pattern(self, p, instrument: int | None = None) -> Pattern:
        """The rows of a pattern. GoatTracker stops a running slide or vibrato on a row with no
        command and plays the instrument's vibrato there; ours goes on until a new note, so such
        rows get the stop (``up:0``, ``vib:1,0``) or the instrument's vibrato as their effect.

        An instrument on a row without a note only tells GoatTracker's player what the next note
        plays (the running tables go on); ours would switch tables mid-note, so the number moves
        to the pattern's next note (and is dropped if none follows)."""
        rows: list[Row] = []
        pending = None  # an instrument named on a row without a note waits for the next note
        active = self.pattern_start
        vib_at, inst_vib = -1, None
        for i, r in enumerate(p.rows[:MAX_ROWS]):
            instrument = r.instrument or instrument
            row = self.row(r)
            cmd, effect = r.command, row.effect
            if row.note is not None and row.note != GATE_OFF and cmd != 3:
                active, vib_at = None, -1
                inst_vib = self.instrument_vibrato(instrument, r.note - FIRSTNOTE)
                if inst_vib is not None and cmd == 0:
                    delay_rows = inst_vib[1] // max(self.tempo, 1)
                    if delay_rows == 0:
                        effect = inst_vib[0]
                    else:
                        vib_at = i + delay_rows
            elif cmd == 0 and effect is None:
                if active == "slide":
                    effect = Effect("up", (0,))
                elif active == "vib":
                    effect = inst_vib[0] if inst_vib is not None else Effect("vib", (1, 0))
                elif i == vib_at and inst_vib is not None:
                    effect = inst_vib[0]
                active = None
            if cmd in (1, 2, 3):
                active = "slide"
            elif cmd == 4:
                active = "vib"
            number = row.instrument
            if row.note is None or row.note == GATE_OFF:
                pending, number = number or pending, None
            else:
                number, pending = number or pending, None
            rows.append(Row(row.note, number, effect))
        return Pattern(rows or [Row()])

    def instrument_vibrato(self, number: int | None, note: int) -> tuple[Effect, int] | None:
        """An instrument's own vibrato as an effect, and its delay in frames (None: it has none,
        or the instrument is not known here)."""
        if number is None or not 1 <= number <= len(self.gt.instruments):
            return None
        ins = self.gt.instruments[number - 1]
        if not ins.vibrato_delay or not ins.vibrato_param:
            return None
        effect = self.effect(4, ins.vibrato_param, note)
        if effect is None or effect.args[1] == 0:
            return None
        return effect, max(ins.vibrato_delay - 1, 0)

    def row(self, r) -> Row:
        note = None
        if FIRSTNOTE <= r.note <= LASTNOTE:
            note = r.note - FIRSTNOTE + MIDI_OF_C0
        elif r.note == KEYOFF:
            note = GATE_OFF
        instrument = r.instrument if 1 <= r.instrument <= MAX_INSTRUMENT else None
        gt_note = r.note - FIRSTNOTE if note is not None and note != GATE_OFF else None
        return Row(note, instrument, self.effect(r.command, r.data, gt_note))

    def _speed(self, idx: int, note: int | None) -> int:
        if not idx or idx > len(self.st.left):
            return 0
        left, right = self.st.left[idx - 1], self.st.right[idx - 1]
        speed = left << 8 | right
        if speed >= 0x8000:  # calculated: a fraction of the note's semitone step
            n = CALC_NOTE if note is None else note
            speed = ((self.freq[(n + 1) & 0x7F] - self.freq[n & 0x7F]) & 0xFFFF) >> right
        return speed

    def _funk(self, idx: int) -> tuple[int, int]:
        st = self.gt.speedtable
        if not 1 <= idx <= len(st.left):
            return DEFAULT_FUNK
        return tuple(min(max(v, 1), MAX_SPEED) for v in (st.left[idx - 1], st.right[idx - 1]))

    def effect(self, cmd: int, data: int, note: int | None) -> Effect | None:
        if cmd in (1, 2):
            return Effect("up" if cmd == 1 else "dn", (self._speed(data, note),))
        if cmd == 3:
            speed = self._speed(data, note) if data else 0
            return Effect("tp", (min(max(speed, 1), 0xFFFF) if data else 0xFFFF,))
        if cmd == 4:
            if not data or data > len(self.st.left):
                return Effect("vib", (1, 0))
            cmp, speed = self.st.left[data - 1], self.st.right[data - 1]
            if cmp >= 0x80:
                n = CALC_NOTE if note is None else note
                cmp &= 0x7F
                speed = ((self.freq[(n + 1) & 0x7F] - self.freq[n & 0x7F]) & 0xFFFF) >> speed
            return Effect("vib", (min(cmp // 2 + 1, 255), speed))
        if cmd == 5:
            return Effect("ad", (data,))
        if cmd == 6:
            return Effect("sr", (data,))
        if cmd == 9:  # a new pulse table: its first width, where it starts with one
            steps = self.pulse_steps(data)[0]
            if steps and steps[0].kind == "set":
                return Effect("pw", (steps[0].value,))
            return None
        if cmd == 0xA:
            steps = self.filter_steps(data)[0]
            if steps and steps[0].kind == "set":
                return Effect("cut", (steps[0].value,))
            return None
        if cmd == 0xB:
            return Effect("route", (data & 0x0F,))
        if cmd == 0xC:
            return Effect("cut", (data << 3,))
        if cmd == 0xD:
            return Effect("vol", (data,)) if data < 0x10 else None
        if cmd == 0xE:
            return Effect("tempo", self._funk(data) if data else self.funk)
        if cmd == 0xF:
            t = data & 0x7F
            if t >= 2:
                return Effect("tempo", (min(t if t >= 3 else 3, MAX_SPEED),))
            a, b = self.funk
            return Effect("tempo", (a, b) if t == 0 else (b, a))
        return None  # 0 nothing, 7 set wave, 8 wave table pointer: no counterpart

    # -- instruments -----------------------------------------------------------------------

    def instrument(self, ins) -> Instrument:
        g = ins.gateoff_timer
        out = Instrument(name=ins.name.strip(), ad=ins.attack_decay, sr=ins.sustain_release)
        frames = min(g & 0x3F, 15)
        if g & 0x40:  # no gate-off before a note
            out.hr = 0
        elif g & 0x80:  # gate off, but no hard-restart ADSR: keep the instrument's own
            out.hr, out.hr_ad, out.hr_sr = frames, ins.attack_decay, ins.sustain_release
        else:
            out.hr, out.hr_ad, out.hr_sr = frames, ADPARAM >> 8, ADPARAM & 0xFF
        out.wave, out.wave_loop = self.wave_steps(ins.wave_ptr, ins.first_wave)
        # The player steps the pulse and filter tables before it starts a note, so they start
        # on the note's second frame: a step that holds for one frame comes first.
        out.pulse, out.pulse_loop = _held(*self.pulse_steps(ins.pulse_ptr))
        out.filter, out.filter_loop = _held(*self.filter_steps(ins.filter_ptr))
        if ins.filter_ptr:
            mode, res = self._filter_params(ins.filter_ptr)
            out.fmode, out.fres = mode, res
        return out

    def wave_steps(self, ptr: int, first: int) -> tuple[list[WaveStep], int | None]:
        """The wave table from ``ptr``; the gate bit of its waves is dropped (ours owns it)."""
        t = self.gt.wavetable

        if not ptr and not first:
            return [], None
        # A note's first frame plays the first waveform; the table starts on the next frame.
        steps = [WaveStep((first & ~GATE) if 0 < first < 0xFE else None, 0)]
        positions, back = _walk(t, ptr) if ptr else ([], None)
        at: dict[int, int] = {}
        note, absolute = 0, False
        for pos in positions:
            left, right = t.left[pos - 1], t.right[pos - 1]
            at[pos] = len(steps)
            if left <= 0x0F:  # a delay of `left` frames, then the note
                steps += [WaveStep(None, note, absolute)] * left
                wave = None
            elif left < 0xE0:
                wave = left & ~GATE
            elif left < 0xF0:
                wave = left & 0x0E
            else:  # a command from the wave table: no counterpart; the step holds
                steps.append(WaveStep(None, note, absolute))
                continue
            if right != 0x80:
                if right < 0x80:
                    note, absolute = (right if right < 0x60 else right - 0x80), False
                else:
                    note, absolute = _absolute(right & 0x7F), True
            steps.append(WaveStep(wave, note, absolute))
        loop = at.get(back) if back is not None else None
        return _cap(steps, loop)

    def pulse_steps(self, ptr: int) -> tuple[list[TableStep], int | None]:
        t = self.gt.pulsetable
        if not ptr:
            return [], None
        positions, back = _walk(t, ptr)
        steps: list[TableStep] = []
        at: dict[int, int] = {}
        for pos in positions:
            left, right = t.left[pos - 1], t.right[pos - 1]
            at[pos] = len(steps)
            if left >= 0x80:
                steps.append(TableStep("set", (left & 0x0F) << 8 | right))
            else:
                frames = left or 256  # a $00 step modulates for 256 frames
                while frames > 0:
                    n = min(frames, MAX_TABLE_FRAMES)
                    steps.append(TableStep("add", _signed(right), n))
                    frames -= n
        loop = at.get(back) if back is not None else None
        return _cap(steps, loop)

    def filter_steps(self, ptr: int) -> tuple[list[TableStep], int | None]:
        t = self.gt.filtertable
        if not ptr:
            return [], None
        positions, back = _walk(t, ptr)
        steps: list[TableStep] = []
        at: dict[int, int] = {}
        skip = None
        for i, pos in enumerate(positions):
            left, right = t.left[pos - 1], t.right[pos - 1]
            if pos == skip:  # the cutoff a parameter step took in its own frame
                at[pos] = len(steps) - 1
                continue
            at[pos] = len(steps)
            if left >= 0x80:  # mode, resonance, routing (kept as the instrument's fmode/fres)
                nxt = positions[i + 1] if i + 1 < len(positions) else None
                if nxt == pos + 1 and t.left[nxt - 1] == 0x00:
                    steps.append(TableStep("set", t.right[nxt - 1] << 3))
                    skip = nxt
                else:
                    steps.append(TableStep("add", 0, 1))
            elif left:
                steps.append(TableStep("add", _signed(right) << 3, left))
            else:
                steps.append(TableStep("set", right << 3))
        loop = at.get(back) if back is not None else None
        return _cap(steps, loop)

    def _filter_params(self, ptr: int) -> tuple[int, int]:
        """Mode and resonance of the last parameter step a filter pointer runs into (a table
        that changes them sets up first and settles on the last)."""
        t = self.gt.filtertable
        found = Instrument().fmode, 0
        for pos in _walk(t, ptr)[0]:
            left, right = t.left[pos - 1], t.right[pos - 1]
            if left >= 0x80:
                found = (left & 0x70) >> 4, right >> 4
        return found


def _absolute(gt_note: int) -> int:
    """The MIDI note of an absolute wave step; past B-7 GoatTracker's frequency table holds 0
    (a stopped oscillator), whose nearest note is the lowest, C-0."""
    midi = gt_note + MIDI_OF_C0
    return midi if midi <= HIGHEST_MIDI else LOWEST_MIDI


def _freq_table() -> tuple[int, ...]:
    from pygoattracker.constants import FREQ_TABLE

    return FREQ_TABLE
