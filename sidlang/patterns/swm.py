"""SID-Wizard modules (``.swm``, ``.sws``, ``.swt``; parsed by ``pysidwizard``) as pattern songs.

:func:`read_swm` parses the bytes and maps them onto :class:`~sidlang.patterns.model.Song`
(:func:`song_from_swm` for an already parsed ``pysidwizard.SWMFile``). SID-Wizard's model is the
one ours was drawn from (orderlists with transpose, rows ``note instrument effect``, instruments
with ADSR, hard restart and wave/pulse/filter programs), so most of a module maps one to one;
where SID-Wizard does more, this module maps the closest thing and counts what it had to
approximate in :attr:`SwmImport.approximated`, which ``docs/patterns.md`` ("SID-Wizard
modules") explains.

The shapes that differ most:

* SID-Wizard reads a row on the first frame of its time and starts the note two frames later
  (the two frames between are the hard restart); ours starts the note on the row's first frame
  and takes the hard restart from the row before. Every voice therefore plays a 2-frame lead-in
  row first, so the notes sound on the frames SID-Wizard plays them.
* Table programs are rows of three bytes with jumps, read every frame; a sweep row spends one
  frame more than its count. Each becomes our per-instrument table, the jump its ``loop``.
* Three effect columns (note-column effects, instrument-column small effects, the effect
  column) share our one effect per row; the effect column wins.
* Speeds of slides and vibrato depend on the note (SID-Wizard's "calculated" slides); they are
  worked out at the row's note.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sidlang.errors import FormatError, SidlangError, first_line
from sidlang.pitch import PAL_HZ
from sidlang.registers import WAVE_BITS

from .model import (
    GATE_OFF,
    MAX_REPEAT,
    MAX_ROWS,
    MAX_SPEED,
    MAX_TABLE,
    MAX_TABLE_FRAMES,
    MAX_TRANSPOSE,
    NOTE_RANGE,
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

#: SID-Wizard's note byte 1 (its C-0, frequency table entry 1) as a MIDI number.
MIDI_OF_NOTE1 = 12
NOTE_FX = 0x60  #: note bytes from here on are note-column effects
VIB_NOTES = range(0x60, 0x78)  #: vibrato amplitude in the low nibble
PORTA_NOTE, GATE_ON_NOTE, GATE_OFF_NOTE = 0x78, 0x7D, 0x7E
LEGATO = 0x3F  #: instrument column: the note slides there at once, no restart
MAX_INSTRUMENT_REF = 0x3E
TABLE_END, TABLE_JUMP = 0xFF, 0xFE
ROW = 3  #: bytes per table row
TABLE_BASE = 0x10  #: table offsets count from the instrument's start; its header is 16 bytes
CHORD_RETURN, CHORD_LOOP = 0x7E, 0x7F
ARP_CHORD, ARP_NOP = 0x7F, 0x80
DEFAULT_TEMPO = 6
HOLD_ROWS = 16  #: rows of the pattern an ended voice goes on with (255 times, looping)
FIRST_DERIVED = 129  #: numbers of pattern copies start past SID-Wizard's pattern numbers (1-127)
LEAD_FRAMES = 2  #: frames between a row's read and its note (SID-Wizard's TICK_0 to TICK_2)
FIRST_WAVE_DEFAULT = 0x09  #: the depacker's first-frame waveform for a stored 0: test bit, gate
GATE = WAVE_BITS["gate"]


@dataclass
class SwmImport:
    """A module mapped onto the pattern model, and what the mapping had to approximate (by
    kind, how many times)."""

    song: Song
    approximated: Counter = field(default_factory=Counter)


def read_swm(data: bytes, file: str | None = None) -> SwmImport:
    """Parse module bytes with pysidwizard and map them (a :class:`FormatError` if bad)."""
    return song_from_swm(parse_module(data, file), file)


def parse_module(data: bytes, file: str | None = None):
    """The ``pysidwizard.SWMFile`` of module bytes; a one-line :class:`FormatError` if they are
    not one (truncated, garbage)."""
    pw = pysidwizard()
    try:
        return pw.parse_swm(bytes(data))
    except (pw.SWMError, ValueError, IndexError, KeyError, EOFError, UnicodeDecodeError) as e:
        raise FormatError(f"not a SID-Wizard module: {first_line(e)}", file=file) from None


def song_from_swm(swm, file: str | None = None) -> SwmImport:
    """The pattern song closest to a ``pysidwizard.SWMFile``."""
    return _Converter(swm, file).convert()


def pysidwizard():
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pysidwizard
    except ImportError:
        raise SidlangError(
            "SID-Wizard modules need the 'pysidwizard' package (pip install pysidwizard)"
        ) from None
    return pysidwizard


def _signed(v: int) -> int:
    return v - 0x100 if v >= 0x80 else v


def _clamp(v: int, low: int, high: int) -> int:
    return min(max(v, low), high)


def _midi(note_byte: int) -> int:
    return _clamp(note_byte - 1 + MIDI_OF_NOTE1, *NOTE_RANGE)


class _Freqmod:
    """SID-Wizard's slide and vibrato amounts (its SETFMOD): a per-frame frequency step looked
    up from the value and the note, so one value slides a semitone's share at any pitch."""

    def __init__(self, features) -> None:
        from pysidwizard import player as p

        self.lo, self.hi = p.freq_tables(features)
        self.exptabh = p.EXPTABH
        if features.calcvibrato:  # the value is halved and added to the note
            self.calc, self.threshold, self.top = True, p.EXP_THRESHOLD, p.EXP_MAX_INDEX
        else:  # a pitch-independent build: the value indexes the tables directly
            self.calc, self.threshold, self.top = False, p.NONCALC_THRESHOLD, p.NONCALC_MAX_INDEX

    def __call__(self, value: int, note_byte: int) -> int:
        if self.calc:
            y = min(((value + 1) >> 1) + (note_byte & 0xFF), self.top)
            fine = self.exptabh[y] if y < self.threshold else None
        else:
            y = min(value & 0xFF, self.top)
            fine = (self.hi[y - 1] if y else 0) if y < self.threshold else None
        if fine is not None:
            return fine
        i = y - self.threshold
        return self.hi[i] << 8 | self.lo[i]


class _Converter:
    def __init__(self, swm, file: str | None) -> None:
        from pysidwizard.features import features_for_driver

        self.swm = swm
        self.file = file
        self.features = features_for_driver(swm.driver_type)
        self.freqmod = _Freqmod(self.features)
        self.lost: Counter = Counter()
        self.chans = 3 * swm.sid_amount
        self.chords = self._chords(swm.chord_table)
        #: copies of patterns whose first row sets an orderlist's tempo: (pattern, tempo) -> number
        self.derived: dict[tuple[int, int], int] = {}
        self.base_of: dict[int, int] = {}

    # -- the song --------------------------------------------------------------------------

    def convert(self) -> SwmImport:
        swm = self.swm
        song = Song(author=swm.author_str(), chips=swm.sid_amount, pitch=self.note_table())
        if swm.frame_speed > 1:
            self.lost[f"multispeed (tables step once per frame, not {swm.frame_speed} times)"] += 1
        for n, ins in enumerate(swm.instruments, 1):
            song.instruments[n] = self.instrument(ins)
        subs = [self.subtune(i) for i in range(swm.subtune_count)]
        entry = self.entry_instruments(subs)
        for n, p in enumerate(swm.patterns, 1):
            song.patterns[n] = self.pattern(p, entry.get(n), subs)
        for (base, tempo), number in self.derived.items():
            rows = song.patterns[base].rows
            if rows[0].effect is None:  # the orderlist's tempo, on the pattern's first row
                rows = [Row(rows[0].note, rows[0].instrument, Effect("tempo", (tempo,))), *rows[1:]]
            else:
                self.lost["orderlist tempo on a row with an effect"] += 1
            song.patterns[number] = Pattern(rows)
        # Every voice starts with a 2-frame lead-in row; a voice whose orderlist ends goes on
        # holding its last note (SID-Wizard's end leaves the gate as it was), so it loops on
        # an empty row instead of stopping (ours would close its gate).
        lead = max(song.patterns) + 1 if song.patterns else 1
        hold = lead + 1
        song.patterns[lead] = Pattern([Row(effect=Effect("tempo", (LEAD_FRAMES,)))])
        song.patterns[hold] = Pattern([Row()] * HOLD_ROWS)
        for tempo, orders in subs:
            sub = Subtune(tempo=tempo)
            starts = self._lead_in(song, orders, tempo, lead)
            for v, (entries, loop) in orders.items():
                if not entries:
                    continue
                first = [OrderEntry(lead)]
                if starts is not None and v in starts:
                    e = entries[0]
                    first.append(OrderEntry(starts[v], e.transpose))
                    entries = (
                        [OrderEntry(e.pattern, e.transpose, e.repeat - 1)] if e.repeat > 1 else []
                    ) + entries[1:]
                    if loop == 0:  # back to the copy, whose tempo is the subtune's anyway
                        loop = len(first) - 1
                    elif loop is not None:
                        loop += len(first) - (e.repeat == 1)
                elif loop is not None:
                    loop += len(first)
                if loop is None or loop >= len(first) + len(entries):
                    entries, loop = [*entries, OrderEntry(hold, 0, MAX_REPEAT)], len(first) + len(entries)
                sub.orders[v] = Orderlist(first + entries, loop)
            song.subtunes.append(sub)
        if self.vol is not None:
            song.vol = self.vol
        for p in song.patterns.values():
            for r in p.rows:
                if r.instrument is not None:
                    song.instruments.setdefault(r.instrument, Instrument())
        song.instruments = dict(sorted(song.instruments.items()))
        song.patterns = dict(sorted(song.patterns.items()))
        if swm.frame_speed > 1:
            self.multispeed(song, swm.frame_speed)
        return SwmImport(song, self.lost)

    def multispeed(self, song: Song, k: int) -> None:
        """A multispeed module calls the player ``k`` times a frame: rows, hard restart,
        slides, vibrato and the pulse and filter programs move on every ``k``-th call, the wave
        program on every call. Ours plays one call a frame of 1/k the length, so everything
        but the wave program is stretched ``k`` times (slide speeds divided by ``k``)."""
        from sidlang.tune import Header

        song.frame_cycles = Header(clock_hz=song.clock_hz).frame_cycles // k

        def tempo(args):
            return tuple(_clamp(a * k, 1, MAX_SPEED) for a in args)

        def effect(e: Effect | None) -> Effect | None:
            if e is None:
                return None
            if e.name == "tempo":
                return Effect("tempo", tempo(e.args))
            if e.name in ("up", "dn"):
                return Effect(e.name, (round(e.args[0] / k),))
            if e.name == "tp":
                return Effect("tp", (max(-(-e.args[0] // k), 1),))
            if e.name == "vib":
                return Effect("vib", (_clamp(e.args[0] * k, 1, 255), round(e.args[1] / k)))
            return e

        for p in song.patterns.values():
            p.rows = [Row(r.note, r.instrument, effect(r.effect)) for r in p.rows]
        for sub in song.subtunes:
            sub.tempo = tempo(sub.tempo)
        for ins in song.instruments.values():
            ins.hr = min(ins.hr * k, 15)
            if ins.wave:  # the first waveform lasts until the next full call
                ins.wave = [ins.wave[0]] * k + ins.wave[1:]
                ins.wave_loop = None if ins.wave_loop is None else ins.wave_loop + k - 1
            for name in ("pulse", "filter"):
                steps, loop = self._stretched(getattr(ins, name), getattr(ins, f"{name}_loop"), k)
                setattr(ins, name, steps)
                setattr(ins, f"{name}_loop", loop)

    def _stretched(self, steps: list[TableStep], loop: int | None, k: int):
        out: list[TableStep] = []
        at: dict[int, int] = {}
        for i, st in enumerate(steps):
            at[i] = len(out)
            if st.kind == "set":
                out += [st, TableStep("add", 0, k - 1)]
            else:
                if st.value % k:
                    self.lost["multispeed sweep step rounded"] += 1
                frames = st.frames * k
                while frames > 0:
                    n = min(frames, MAX_TABLE_FRAMES)
                    out.append(TableStep("add", round(st.value / k), n))
                    frames -= n
        return self._capped(out, None if loop is None else at[loop], "multispeed program")

    def note_table(self) -> dict[int, int]:
        """SID-Wizard's own frequency table, where it is not sidlang.pitch's (within 1)."""
        from sidlang.pitch import note_to_reg

        lo, hi = self.freqmod.lo, self.freqmod.hi
        table = {}
        for i in range(1, NOTE_FX):
            midi, freq = i - 1 + MIDI_OF_NOTE1, hi[i] << 8 | lo[i]
            if NOTE_RANGE[0] <= midi <= NOTE_RANGE[1] and freq != note_to_reg(midi, 0, PAL_HZ):
                table[midi] = freq
        return table

    def _lead_in(self, song: Song, orders, tempo, lead: int) -> dict[int, int] | None:
        """After the 2-frame lead-in row the subtune's tempo must come back: a copy of one
        voice's first pattern carries it as the effect of its first row (a row with no effect of
        its own). Returns {voice: the copy's number}, or None if no voice has such a row."""
        firsts = [song.patterns[e[0].pattern].rows[0] for e, _ in orders.values() if e]
        if any(r.effect is not None and r.effect.name == "tempo" for r in firsts):
            return {}  # a first row sets the tempo itself
        for v, (entries, _) in sorted(orders.items()):
            if not entries:
                continue
            p = song.patterns.get(entries[0].pattern)
            if p is None or not p.rows or p.rows[0].effect is not None:
                continue
            number = max(song.patterns) + 1
            row = p.rows[0]
            song.patterns[number] = Pattern(
                [Row(row.note, row.instrument, Effect("tempo", tempo)), *p.rows[1:]]
            )
            return {v: number}
        self.lost["lead-in without the tempo (every voice's first row has an effect)"] += 1
        return None

    # -- orderlists ------------------------------------------------------------------------

    def subtune(self, index: int) -> tuple[tuple[int, ...], dict]:
        swm = self.swm
        left, right = (
            swm.subtune_tempos[index] if index < len(swm.subtune_tempos) else (0x80 | DEFAULT_TEMPO, 0)
        )
        if left & 0x80:
            tempo = (_clamp(left & 0x7F or DEFAULT_TEMPO, 1, MAX_SPEED),)
        else:
            tempo = tuple(_clamp(t or DEFAULT_TEMPO, 1, MAX_SPEED) for t in (left, right & 0x7F))
        orders = {v: self.orderlist(index * self.chans + v, v) for v in range(self.chans)}
        return tempo, orders

    vol: int | None = None

    def orderlist(self, seq: int, voice: int) -> tuple[list[OrderEntry], int | None]:
        """A voice's orderlist walked as the player walks it (transposes held, loops and jumps
        into other subtunes' orderlists followed) until it ends or comes back to a place it was
        in with the same transpose, which is the loop point."""
        from pysidwizard import End, Loop, MainVolume, PlayPattern, SubtuneJump, TempoOverride, Transpose

        seqs = self.swm.sequences
        entries: list[OrderEntry] = []
        seen: dict[tuple[int, int, int], int] = {}
        pos, trans, tempo = 0, 0, None
        while seq < len(seqs):
            key = (seq, pos, trans)
            if key in seen:
                loop = seen[key]
                return self._merged(entries, loop if loop < len(entries) else None)
            seen[key] = len(entries)
            cmds = seqs[seq]
            if pos >= len(cmds):
                break
            cmd = cmds[pos]
            pos += 1
            if isinstance(cmd, PlayPattern):
                if 1 <= cmd.pattern <= len(self.swm.patterns):
                    number = cmd.pattern
                    if tempo is not None:  # a copy of the pattern that sets the tempo first
                        key = (number, tempo)
                        number = self.derived.setdefault(key, FIRST_DERIVED + len(self.derived))
                        self.base_of[number], tempo = key[0], None
                    entries.append(OrderEntry(number, _clamp(trans, -MAX_TRANSPOSE, MAX_TRANSPOSE)))
            elif isinstance(cmd, Transpose):
                trans = cmd.semitones
            elif isinstance(cmd, TempoOverride):
                tempo = _clamp(cmd.frames_per_row or DEFAULT_TEMPO, 1, MAX_SPEED)
            elif isinstance(cmd, MainVolume):
                if not entries and self.vol is None:
                    self.vol = cmd.level
                else:
                    self.lost["orderlist volume change"] += 1
            elif isinstance(cmd, End):
                break
            elif isinstance(cmd, Loop):
                pos = self._command_at(cmds, cmd.position)
            elif isinstance(cmd, SubtuneJump):
                seq, pos = cmd.subtune * self.chans + voice, 0
        return self._merged(entries, None)

    @staticmethod
    def _command_at(cmds, offset: int) -> int:
        """The index of the command at byte ``offset`` of an orderlist (a loop's target)."""
        at = 0
        for i, c in enumerate(cmds):
            if at >= offset:
                return i
            at += len(c.encode())
        return len(cmds)

    @staticmethod
    def _merged(entries: list[OrderEntry], loop: int | None) -> tuple[list[OrderEntry], int | None]:
        """Runs of the same entry as one with a repeat (not across the loop point)."""
        out: list[OrderEntry] = []
        new_loop = None
        for i, e in enumerate(entries):
            if i == loop:
                new_loop = len(out)
            elif out and i != loop and out[-1].pattern == e.pattern and out[-1].transpose == e.transpose:
                if out[-1].repeat < MAX_REPEAT:
                    last = out[-1]
                    out[-1] = OrderEntry(last.pattern, last.transpose, last.repeat + 1)
                    continue
            out.append(e)
        return out, new_loop

    def entry_instruments(self, subs) -> dict[int, int | None]:
        """The instrument a voice has when it starts each pattern, where every play of the
        pattern agrees (else None): what a row's instrument-dependent effect is worked out for."""
        seen: dict[int, set[int]] = {}
        for _, orders in subs:
            for entries, loop in orders.values():
                current = 0
                walk = entries + (entries[loop:] if loop is not None else [])
                for e in walk:
                    seen.setdefault(e.pattern, set()).add(current)
                    for r in self.swm.patterns[self.base_of.get(e.pattern, e.pattern) - 1].rows:
                        if r.instrument is not None and 1 <= r.instrument <= MAX_INSTRUMENT_REF:
                            current = r.instrument
        return {n: next(iter(v)) or None if len(v) == 1 else None for n, v in seen.items()}

    # -- patterns --------------------------------------------------------------------------

    def pattern(self, p, instrument: int | None, subs) -> Pattern:
        rows: list[Row] = []
        tempo = subs[0][0][0] if subs else DEFAULT_TEMPO
        note_byte = 49  # C-5: what pitch-dependent amounts are worked out at before a note
        vib_at, vib = -1, None
        for i, r in enumerate(p.rows[:MAX_ROWS]):
            if r.instrument is not None and 1 <= r.instrument <= MAX_INSTRUMENT_REF:
                instrument = r.instrument
            ins = self._ins(instrument)
            note = None
            starts = False
            if r.note is not None and r.note < NOTE_FX:
                note, starts = _midi(r.note), True
                note_byte = r.note + (
                    ins.octave_shift if ins is not None and self.features.octaveshift else 0
                )
            elif r.note == GATE_OFF_NOTE:
                note = GATE_OFF
            elif r.note is not None:
                if r.note not in VIB_NOTES:
                    self.lost[f"note-column effect ${r.note:02X}"] += 1
            candidates = self.effects(r, ins, note_byte, starts)
            if starts and r.instrument != LEGATO and r.fx != 0x03:
                vib_at, vib = -1, self.instrument_vibrato(ins, note_byte)
                if vib is not None:
                    delay_rows = vib[1] // max(tempo, 1)
                    if delay_rows == 0:
                        candidates.append(vib[0])
                    else:
                        vib_at = i + delay_rows
            elif i == vib_at and vib is not None and note is None:
                candidates.append(vib[0])
            if len(candidates) > 1:
                self.lost["a second effect on a row"] += len(candidates) - 1
            number = (
                r.instrument if r.instrument is not None and 1 <= r.instrument <= MAX_INSTRUMENT_REF else None
            )
            rows.append(Row(note, number, candidates[0] if candidates else None))
        if len(p.rows) > MAX_ROWS:
            self.lost["pattern rows past 256"] += len(p.rows) - MAX_ROWS
        return Pattern(rows or [Row()])

    def _ins(self, number: int | None):
        if number is None or not 1 <= number <= len(self.swm.instruments):
            return None
        return self.swm.instruments[number - 1]

    def effects(self, r, ins, note_byte: int, starts: bool) -> list[Effect]:
        """The row's effects as ours, most important first (the first one is kept)."""
        out: list[Effect] = []
        if r.instrument == LEGATO and starts and r.fx != 0x03:
            out.append(Effect("tp", (0xFFFF,)))
        if r.fx is not None:
            e = self.big_fx(r.fx, r.fx_value or 0, note_byte) if r.fx < 0x20 else self.small_fx(r.fx, ins)
            if e is not None:
                out.append(e)
        if r.instrument is not None and r.instrument > LEGATO:
            e = self.small_fx(r.instrument, ins)
            if e is not None:
                out.append(e)
        if r.note in VIB_NOTES and ins is not None:
            e = self._vibrato((r.note & 0x0F) << 4 | (ins.vibrato & 0x0F), note_byte)
            out.append(e or Effect("vib", (1, 0)))
        return out

    def big_fx(self, fx: int, value: int, note_byte: int) -> Effect | None:
        if fx in (0x01, 0x02):
            return Effect("up" if fx == 1 else "dn", (self.freqmod(value, note_byte) if value else 0,))
        if fx == 0x03:
            return Effect("tp", (_clamp(self.freqmod(value, note_byte) + 1, 1, 0xFFFF),))
        if fx == 0x05:
            return Effect("ad", (value,))
        if fx == 0x06:
            return Effect("sr", (value,))
        if fx == 0x08:
            return self._vibrato(value, note_byte) or Effect("vib", (1, 0))
        if fx == 0x0E:
            self.lost["pulse width high nibble only (low byte 0)"] += 1
            return Effect("pw", ((value & 0x0F) << 8,))
        if fx == 0x0F:
            return Effect("cut", (value << 3,))
        if fx == 0x10:
            return Effect("tempo", (_clamp(value & 0x7F, 1, MAX_SPEED),))
        if fx == 0x11:
            return Effect("tempo", (max(value >> 4, 1), max(value & 0x0F, 1)))
        if fx == 0x13:
            self.lost["per-voice tempo as the song's"] += 1
            return Effect("tempo", (_clamp(value & 0x7F, 1, MAX_SPEED),))
        if fx == 0x14:
            self.lost["per-voice tempo as the song's"] += 1
            return Effect("tempo", (max(value >> 4, 1), max(value & 0x0F, 1)))
        if fx == 0x1F:
            self.lost["filter control's resonance"] += 1
            return Effect("route", (value & 0x0F,))
        self.lost[f"effect ${fx:02X}"] += 1
        return None

    def small_fx(self, code: int, ins) -> Effect | None:
        high, low = code & 0xF0, code & 0x0F
        if high in (0x20, 0x30) or (high in (0x50, 0x60) and code >= 0x50):
            if ins is None:
                self.lost["ADSR nibble effect with no known instrument"] += 1
                return None
            if high == 0x20:
                return Effect("ad", (low << 4 | ins.decay,))
            if high == 0x30:
                return Effect("ad", (ins.attack << 4 | low,))
            if high == 0x50:
                return Effect("sr", (low << 4 | ins.release,))
            return Effect("sr", (ins.sustain << 4 | low,))
        if high == 0xA0:
            return Effect("vol", (low,))
        if high == 0xB0:
            return Effect("mode", (low,))
        if high == 0xF0:
            return Effect("res", (low,))
        name = {0x40: "waveform", 0x70: "chord", 0x80: "vibrato amplitude", 0x90: "vibrato speed"}
        name |= {0xC0: "arpeggio speed", 0xD0: "detune", 0xE0: "control bits"}
        what = name.get(high, f"${high:02X}")
        self.lost[f"small effect {what}"] += 1
        return None

    def _vibrato(self, byte: int, note_byte: int) -> Effect | None:
        """SID-Wizard's vibrato byte (amplitude high nibble, speed low) as ``vib:S,D``: its
        triangle adds for ``speed`` frames and takes for ``speed``, ``D`` a frame."""
        speed, amp = byte & 0x0F, byte >> 4
        if not speed or not amp:
            return None
        depth = self.freqmod(amp << 3, note_byte)
        return Effect("vib", (max(round(speed / 2), 1), _clamp(depth, 0, 0xFFFF)))

    def instrument_vibrato(self, ins, note_byte: int) -> tuple[Effect, int] | None:
        """An instrument's own vibrato as an effect, and its delay in frames."""
        if ins is None or not ins.vibrato:
            return None
        if self.features.vibratotypes and not ins.control & 0x30:
            self.lost["growing vibrato (type 0)"] += 1
            return None
        e = self._vibrato(ins.vibrato, note_byte)
        if e is None:
            return None
        delay = ins.vibrato_delay
        return e, 0 if delay & 0x80 else delay + 1

    # -- instruments -----------------------------------------------------------------------

    def instrument(self, ins) -> Instrument:
        out = Instrument(
            name=ins.name_str()[:32],
            ad=ins.attack << 4 | ins.decay,
            sr=ins.sustain << 4 | ins.release,
        )
        ctrl = ins.control
        if self.features.hardrestypes:
            out.hr = 2 if ctrl & 0x02 else 1 if ctrl & 0x01 else 0
            out.hr_ad = ins.hr_attack << 4 | ins.hr_decay
            out.hr_sr = ins.hr_sustain << 4 | ins.hr_release
            if ctrl & 0x04:
                self.lost["staccato hard restart"] += 1
        else:
            out.hr, out.hr_ad, out.hr_sr = 2, 0x0F, 0x00
        if ctrl & 0xC0 and self.features.pwresetsw:
            self.lost["pulse/filter program not restarted on a same-instrument note"] += 1
        if ins.gateoff_wf or ins.gateoff_pw or ins.gateoff_filt:
            self.lost["gate-off table pointers"] += 1
        octave = ins.octave_shift if self.features.octaveshift else 0
        out.wave, out.wave_loop = self.wave_steps(ins, octave)
        pw_base = TABLE_BASE + len(ins.wf_table) + 1
        out.pulse, out.pulse_loop = self.table_steps(ins.pw_table, pw_base, "pulse")
        filter_base = pw_base + len(ins.pw_table) + 1
        out.filter, out.filter_loop = self.table_steps(ins.filter_table, filter_base, "filter")
        if ins.filter_table and ins.filter_table[0] == 0x00:
            # Routed through the filter without taking it over: ours would take it (and stop
            # the sweep of the voice that has it), so the voice stays out of the filter.
            self.lost["filter routing without the filter program"] += 1
            out.filter, out.filter_loop = [], None
        elif ins.filter_table:
            sets = [b for b in ins.filter_table[0::ROW] if 0x80 <= b < TABLE_JUMP]
            if sets:  # a program that sets up first settles on its last mode and resonance
                out.fmode, out.fres = (sets[-1] >> 4) & 7, sets[-1] & 0x0F
            if len({b & 0x7F for b in sets}) > 1:
                self.lost["filter mode or resonance changes inside a program"] += 1
        return out

    @staticmethod
    def _chords(table: bytes) -> list[tuple[list[int], bool]]:
        """The chord table as (relative notes, loops) per chord, 1-based order."""
        chords, notes = [], []
        for b in table:
            if b in (CHORD_RETURN, CHORD_LOOP):
                chords.append((notes, b == CHORD_LOOP))
                notes = []
            else:
                notes.append(_signed(b))
        if notes:
            chords.append((notes, True))
        return chords

    def wave_steps(self, ins, octave: int) -> tuple[list[WaveStep], int | None]:
        """The note's first frame (the first waveform, for one frame), then the wave/arpeggio
        program, one step per frame (an arpeggio speed repeats each step)."""
        first = ins.first_waveform or FIRST_WAVE_DEFAULT
        steps = [WaveStep(self._wave(first), octave)]
        t = ins.wf_table
        repeat = (ins.arp_speed & 0x3F) + 1 if self.features.arpspeedsupp else 1
        at: dict[int, int] = {}
        note, absolute = octave, False
        row, loop = 0, None
        while row * ROW < len(t):
            if row in at:  # a jump target seen before
                break
            at[row] = len(steps)
            b0 = t[row * ROW]
            if b0 == TABLE_END:
                break
            if b0 == TABLE_JUMP:
                target = t[row * ROW + 1] if row * ROW + 1 < len(t) else 0x80
                off = target - TABLE_BASE
                if target < 0x80 and off >= 0 and off % ROW == 0 and off // ROW in at:
                    loop = at[off // ROW]
                elif target < 0x80:
                    self.lost["wave program jump forward or off a row"] += 1
                break
            arp = t[row * ROW + 1] if row * ROW + 1 < len(t) else ARP_NOP
            detune = t[row * ROW + 2] if row * ROW + 2 < len(t) else 0
            if detune not in (0, 0xFF):
                self.lost["wave program detune"] += 1
            held = b0 < 0x10 and self.features.arpspeedsupp
            wave = None if held else self._wave(b0)
            if arp == ARP_CHORD and self.features.chordsupport:
                chord = (
                    self.chords[ins.default_chord - 1]
                    if 1 <= ins.default_chord <= len(self.chords)
                    else ([0], True)
                )
                start = len(steps)
                for k, c in enumerate(chord[0] or [0]):
                    steps += [
                        WaveStep(wave if k == 0 else None, _clamp(c + octave, -MAX_TRANSPOSE, MAX_TRANSPOSE))
                    ] * repeat
                if chord[1]:
                    loop = start
                    break
                row += 1
                continue
            if arp == ARP_NOP:
                pass
            elif 0x80 < arp < 0xE0:
                note, absolute = _midi(arp & 0x7F), True
            else:
                note, absolute = _clamp(_signed(arp) + octave, -MAX_TRANSPOSE, MAX_TRANSPOSE), False
            steps += [WaveStep(wave, note, absolute)] * (repeat * (1 + b0 if held else 1))
            row += 1
        return self._capped(steps, loop, "wave program")

    def _capped(self, steps: list, loop: int | None, what: str) -> tuple[list, int | None]:
        """At most 255 steps; a loop to where no step is (a jump to itself) holds instead."""
        if loop is not None and loop >= len(steps):
            loop = None
        if len(steps) > MAX_TABLE:
            self.lost[f"{what} past 255 steps"] += 1
            return steps[:MAX_TABLE], None
        return steps, loop

    def _wave(self, control: int) -> int:
        if not control & GATE and control & 0xF0:
            self.lost["wave step that closes the gate"] += 1
        return control & ~GATE & 0xFF

    def table_steps(self, t: bytes, base: int, kind: str) -> tuple[list[TableStep], int | None]:
        """A pulse or filter program: ``set`` rows, sweeps (``count`` frames of a signed step,
        then one frame to move on), jumps back as the loop."""
        steps: list[TableStep] = []
        at: dict[int, int] = {}
        row, loop = 0, None
        while row * ROW < len(t):
            if row in at:
                break
            at[row] = len(steps)
            b0 = t[row * ROW]
            b1 = t[row * ROW + 1] if row * ROW + 1 < len(t) else 0
            b2 = t[row * ROW + 2] if row * ROW + 2 < len(t) else 0
            if b0 == TABLE_END:
                break
            if b0 == TABLE_JUMP:
                loop = self._jump(b1 - base, at, kind)
                break
            if b0 >= 0x80:
                value = ((b0 & 0x0F) << 8 | b1) if kind == "pulse" else b1 << 3
                steps.append(TableStep("set", value))
                if b2 and kind == "pulse" or (kind == "filter" and b2 and not 0x80 <= b2 < 0x90):
                    self.lost[f"{kind} keyboard tracking"] += 1
            else:
                frames = b0
                while frames > 0:
                    n = min(frames, MAX_TABLE_FRAMES)
                    steps.append(TableStep("add", _signed(b1), n))
                    frames -= n
                steps.append(TableStep("add", 0, 1))
            row += 1
        if steps:  # the program starts on the note's second frame (its first is the HR frame)
            steps, loop = [TableStep("add", 0, 1), *steps], None if loop is None else loop + 1
        return self._capped(steps, loop, f"{kind} program")

    def _jump(self, off: int, at: dict[int, int], kind: str) -> int | None:
        """A jump's target (an offset from the instrument's start, here from the table's): a
        table row seen before is the loop; anything else ends the program."""
        if off >= 0 and off % ROW == 0 and off // ROW in at:
            return at[off // ROW]
        self.lost[f"{kind} program jump forward or off a row"] += 1
        return None
