"""A pattern song written as a GoatTracker 2 song (``.sng``, built by ``pygoattracker``).

:func:`goat_from_song` is the way back of :mod:`sidlang.patterns.goat`: it undoes what the import
adds (the lead-in pattern, the one-frame hold at the start of pulse and filter programs, the
hard-restart ADSR convention, instrument 63 as the start tempo), so a song read from a ``.sng``
and written again reads back as the same song. A song from elsewhere is written where
GoatTracker's model holds it; what it cannot hold is a :class:`~sidlang.errors.UsageError`
that names it (a second SID, resonance and filter-mode effects, a funktempo start, raw register
lines, notes past G#7, slides faster than GoatTracker's speed table holds, …).
"""

from __future__ import annotations

from sidlang.errors import UsageError

from .goat import ADPARAM, DEFAULT_TEMPO, FIRSTNOTE, GATE, JUMP, KEYOFF, MIDI_OF_C0, REST
from .model import GATE_OFF, Effect, Instrument, Song, TableStep

MAX_GT_PATTERNS = 208
MAX_GT_INSTRUMENTS = 63
TEMPO_INSTRUMENT = 63  #: the editor's convention: instrument 63's AD is the start tempo
TABLE_ROWS = 255
LAST_NOTE = MIDI_OF_C0 + 0xBC - FIRSTNOTE  #: G#7
HOLD = TableStep("add", 0, 1)


def sng_bytes(song: Song) -> bytes:
    from .goat import _pygoattracker

    return _pygoattracker().build_sng(goat_from_song(song))


def goat_from_song(song: Song):
    """A ``pygoattracker.Song`` for ``song``; a :class:`UsageError` naming what GoatTracker
    cannot hold."""
    return _Writer(song).build()


def _cannot(what: str) -> UsageError:
    return UsageError(f"a GoatTracker song cannot hold {what}")


def _signed_byte(v: int, what: str) -> int:
    if not -128 <= v <= 127:
        raise _cannot(f"{what} {v} (a table step is -128..127)")
    return v & 0xFF


class _Writer:
    def __init__(self, song: Song) -> None:
        from .goat import _pygoattracker

        self.gt = _pygoattracker()
        self.song = song
        self.out = self.gt.Song(name=song.title[:32], author=song.author[:32], copyright=song.released[:32])
        self.out.patterns, self.out.subtunes, self.out.instruments = [], [], []  # not its defaults
        self.speeds: dict[tuple[int, int], int] = {}
        self.programs: dict[tuple, int] = {}

    # -- the song ----------------------------------------------------------------------------

    def build(self):
        song = self.song
        if song.chips != 1:
            raise _cannot(f"{song.chips} SIDs (one SID, three voices)")
        if song.frame_cycles:
            raise _cannot("a frame length of its own (multispeed)")
        if any(sub.raw for sub in song.subtunes):
            raise _cannot("raw register lines")
        if not song.subtunes:
            raise _cannot("a song without subtunes")
        lead = self._lead()
        tempos = {sub.tempo for sub in song.subtunes}
        if lead is not None:
            tempos = {(lead[1],)}
        if len(tempos) > 1 or len(next(iter(tempos))) > 1:
            raise _cannot(
                f"start tempo {' '.join(map(str, next(iter(tempos))))} (one speed for every subtune)"
            )
        tempo = next(iter(tempos))[0]
        numbers = [n for n in song.patterns if lead is None or n != lead[0]]
        if numbers and (min(numbers) < 0 or max(numbers) >= MAX_GT_PATTERNS):
            raise _cannot(f"pattern {max(numbers)} (patterns 0-{MAX_GT_PATTERNS - 1})")
        self.instruments(tempo)
        for n in range(max(numbers, default=-1) + 1):
            self.out.patterns.append(self.pattern(n))
        for sub in song.subtunes:
            self.out.subtunes.append(self.subtune(sub, lead))
        return self.out

    def _lead(self) -> tuple[int, int] | None:
        """The import's lead-in pattern (a 1-frame row and a row of the start tempo), played
        first by every voice: (its number, the tempo); None if the song has none."""
        firsts = {
            o.entries[0].pattern for sub in self.song.subtunes for o in sub.orders.values() if o.entries
        }
        if len(firsts) != 1:
            return None
        n = next(iter(firsts))
        rows = self.song.patterns[n].rows
        if (
            len(rows) == 2
            and all(r.note is None and r.instrument is None for r in rows)
            and rows[0].effect == Effect("tempo", (1,))
            and rows[1].effect is not None
            and rows[1].effect.name == "tempo"
            and len(rows[1].effect.args) == 1
        ):
            return n, rows[1].effect.args[0]
        return None

    # -- orderlists --------------------------------------------------------------------------

    def subtune(self, sub, lead):
        gt = self.gt
        channels = []
        for v in range(3):
            o = sub.orders.get(v)
            items, restart, trans = [], None, 0
            entries = list(o.entries) if o else []
            loop = o.loop if o else None
            if lead is not None and entries and entries[0].pattern == lead[0]:
                entries, loop = entries[1:], None if loop is None else loop - 1
            for i, e in enumerate(entries):
                if i == loop:
                    restart = len(items)
                    items.append(gt.Transpose(e.transpose))  # the loop sets its own transpose
                    trans = e.transpose
                elif e.transpose != trans:
                    if not -15 <= e.transpose <= 14:
                        raise _cannot(f"transpose {e.transpose} (GoatTracker: -15..+14)")
                    items.append(gt.Transpose(e.transpose))
                    trans = e.transpose
                if e.repeat > 1:
                    items.append(gt.Repeat(min(e.repeat - 1, 15)))
                    if e.repeat > 16:
                        raise _cannot(f"a repeat of {e.repeat} (GoatTracker: 16)")
                items.append(gt.PlayPattern(e.pattern))
            if not items:
                items = [gt.PlayPattern(len(self.out.patterns) - 1 if self.out.patterns else 0)]
                restart = 0
            channels.append(gt.Orderlist(entries=items, restart=len(items) if restart is None else restart))
        return gt.Subtune(channels=channels)

    # -- patterns ----------------------------------------------------------------------------

    def pattern(self, n: int):
        gt = self.gt
        p = self.song.patterns.get(n)
        if p is None:
            return gt.Pattern(rows=[gt.Row(note=REST)])
        rows = []
        running = (0, 0)  # a slide or vibrato: ours runs until a new note, GoatTracker's a row
        for r in p.rows:
            if r.note is not None and r.note != GATE_OFF and not (r.effect and r.effect.name == "tp"):
                running = (0, 0)
            if r.note is None:
                note = REST
            elif r.note == GATE_OFF:
                note = KEYOFF
            elif MIDI_OF_C0 <= r.note <= LAST_NOTE:
                note = FIRSTNOTE + r.note - MIDI_OF_C0
            else:
                raise _cannot(f"note {r.note} in pattern {n} (MIDI {MIDI_OF_C0}-{LAST_NOTE}, C-0 to G#7)")
            command, data = self.command(r.effect, n)
            if r.effect is None:
                command, data = running
            elif r.effect.name in ("up", "dn", "tp", "vib"):
                running = (command, data)
            rows.append(gt.Row(note=note, instrument=r.instrument or 0, command=command, data=data))
        return gt.Pattern(rows=rows)

    def _speed(self, left: int, right: int) -> int:
        key = (left, right)
        if key not in self.speeds:
            if len(self.out.speedtable.left) >= TABLE_ROWS:
                raise _cannot("more than 255 slide and vibrato speeds")
            self.out.speedtable.add(left, right)
            self.speeds[key] = len(self.out.speedtable.left)
        return self.speeds[key]

    def command(self, e: Effect | None, n: int) -> tuple[int, int]:
        if e is None:
            return 0, 0
        a = e.args
        if e.name in ("up", "dn"):
            if a[0] == 0:
                return 0, 0  # the import's stop of a running slide
            if a[0] >= 0x8000:
                raise _cannot(f"{e.name}:{a[0]} in pattern {n} (slides up to $7fff)")
            return (1 if e.name == "up" else 2), self._speed(a[0] >> 8, a[0] & 0xFF)
        if e.name == "tp":
            if a[0] == 0xFFFF:
                return 3, 0  # the tie
            if a[0] >= 0x8000:
                raise _cannot(f"tp:{a[0]} in pattern {n} (slides up to $7fff)")
            return 3, self._speed(a[0] >> 8, a[0] & 0xFF)
        if e.name == "vib":
            if a[1] == 0:
                return 0, 0
            if a[1] > 0xFF or 2 * (a[0] - 1) >= 0x80:
                raise _cannot(f"vib:{a[0]},{a[1]} in pattern {n} (depth up to 255, speed up to 64)")
            return 4, self._speed(2 * (a[0] - 1), a[1])
        if e.name in ("ad", "sr"):
            return (5 if e.name == "ad" else 6), a[0]
        if e.name == "pw":
            return 9, self._table(self.out.pulsetable, [(0x80 | a[0] >> 8, a[0] & 0xFF)], None, "pulse")
        if e.name == "cut":
            return 0xC, a[0] >> 3
        if e.name == "route":
            return 0xB, a[0]
        if e.name == "vol":
            return 0xD, a[0]
        if e.name == "tempo":
            if len(a) == 2:
                return 0xE, self._speed(a[0], a[1])
            if a[0] < 3 or a[0] > 0x7F:
                raise _cannot(f"tempo:{a[0]} in pattern {n} (GoatTracker's tempo command: 3-127)")
            return 0xF, a[0]
        raise _cannot(f"the {e.name}: effect (pattern {n})")

    # -- instruments -------------------------------------------------------------------------

    def instruments(self, tempo: int) -> None:
        gt = self.gt
        numbers = list(self.song.instruments)
        top = max(numbers, default=0)
        if tempo != DEFAULT_TEMPO:
            top = max(top, TEMPO_INSTRUMENT)
        if top > MAX_GT_INSTRUMENTS:
            raise _cannot(f"instrument {top} (instruments 1-{MAX_GT_INSTRUMENTS})")
        for n in range(1, top + 1):
            ins = self.song.instruments.get(n)
            if n == TEMPO_INSTRUMENT and tempo != DEFAULT_TEMPO:
                if ins is not None and ins != Instrument(
                    ad=tempo, hr=ins.hr, hr_ad=ins.hr_ad, hr_sr=ins.hr_sr
                ):
                    raise _cannot(f"start tempo {tempo} with an instrument 63 of its own")
                if not 2 <= tempo <= 0xFF:
                    raise _cannot(f"start tempo {tempo}")
                self.out.instruments.append(gt.Instrument(attack_decay=tempo, name="", gateoff_timer=2))
                continue
            self.out.instruments.append(self.instrument(ins or Instrument(), n))

    def instrument(self, ins: Instrument, n: int):
        timer = self._timer(ins, n)
        first, wave_ptr = self.wave(ins, n)
        pulse = ins.pulse[1:] if ins.pulse[:1] == [HOLD] else ins.pulse
        ploop = None if ins.pulse_loop is None else max(ins.pulse_loop - (len(ins.pulse) - len(pulse)), 0)
        flt = ins.filter[1:] if ins.filter[:1] == [HOLD] else ins.filter
        floop = None if ins.filter_loop is None else max(ins.filter_loop - (len(ins.filter) - len(flt)), 0)
        pulse_ptr = self._pulse(pulse, ploop, n) if pulse else 0
        filter_ptr = self._filter(flt, floop, ins, n) if flt else 0
        return self.gt.Instrument(
            attack_decay=ins.ad,
            sustain_release=ins.sr,
            wave_ptr=wave_ptr,
            pulse_ptr=pulse_ptr,
            filter_ptr=filter_ptr,
            gateoff_timer=timer,
            first_wave=first,
            name=ins.name[:16],
        )

    @staticmethod
    def _timer(ins: Instrument, n: int) -> int:
        if ins.hr == 0:
            return 0x40 | 2
        if (ins.hr_ad, ins.hr_sr) == (ADPARAM >> 8, ADPARAM & 0xFF):
            return ins.hr
        if (ins.hr_ad, ins.hr_sr) == (ins.ad, ins.sr):
            return 0x80 | ins.hr
        raise _cannot(
            f"instrument {n}'s hard-restart ADSR ${ins.hr_ad:02x}{ins.hr_sr:02x} "
            "($0f00 or the instrument's own ADSR)"
        )

    def wave(self, ins: Instrument, n: int) -> tuple[int, int]:
        if not ins.wave:
            return 0, 0
        head = ins.wave[0]
        if head.note != 0 or head.absolute:
            raise _cannot(f"instrument {n}'s first wave step's note (its first frame plays the row's note)")
        first = 0xFE if head.wave is None else head.wave | GATE
        rows, at = [], {}
        steps = ins.wave[1:]
        i, prev = 0, (head.note, head.absolute)
        while i < len(steps):
            s = steps[i]
            at[i] = len(rows)
            held = 0  # a run of held steps (the note as it was), then a step: one delay row
            while (
                held < 0x0F
                and i + held + 1 < len(steps)
                and steps[i + held].wave is None
                and (steps[i + held].note, steps[i + held].absolute) == prev
                and steps[i + held + 1].wave is None
                and not any(j in (ins.wave_loop or -1,) for j in range(i + 2, i + held + 3))
            ):
                held += 1
            if held:
                for j in range(i + 1, i + held + 1):
                    at[j] = len(rows)
                i += held
                s = steps[i]
            prev = (s.note, s.absolute)
            i += 1
            if held:
                left = held
            elif s.wave is None:
                left = 0x00
            elif s.wave < 0x10:
                left = 0xE0 | s.wave
            elif s.wave < 0xE0:
                left = s.wave | GATE
            else:
                raise _cannot(f"instrument {n}'s waveform ${s.wave:02x} in a wave table")
            if s.absolute:
                if not MIDI_OF_C0 < s.note <= MIDI_OF_C0 + 0x5F:
                    raise _cannot(f"instrument {n}'s absolute wave note {s.note}")
                right = 0x80 | (s.note - MIDI_OF_C0)
            elif 0 <= s.note < 0x60:
                right = s.note
            elif -32 <= s.note < 0:
                right = 0x80 + s.note
            else:
                raise _cannot(f"instrument {n}'s arpeggio step {s.note:+d} (-32..+95)")
            rows.append((left, right))
        loop = ins.wave_loop
        if loop == 0:
            raise _cannot(
                f"instrument {n}'s wave loop to its first step (the first frame is not in the table)"
            )
        if not rows:
            return first, 0
        return first, self._table(self.out.wavetable, rows, None if loop is None else at[loop - 1], "wave")

    def _table(self, table, rows: list[tuple[int, int]], loop: int | None, what: str) -> int:
        """The rows as a program in a shared table (one already there with the same rows and
        loop is used again), ended by a jump back or a stop; its 1-based start."""
        key = (id(table), tuple(rows), loop)
        if key in self.programs:
            return self.programs[key]
        start = len(table.left) + 1
        self.programs[key] = start
        if start - 1 + len(rows) + 1 > TABLE_ROWS:
            raise _cannot(f"more than {TABLE_ROWS} {what} table rows")
        for left, right in rows:
            table.add(left, right)
        table.add(JUMP, 0 if loop is None else start + loop)
        return start

    def _pulse(self, steps: list[TableStep], loop: int | None, n: int) -> int:
        rows, at = [], {}
        for i, s in enumerate(steps):
            at[i] = len(rows)
            if s.kind == "set":
                rows.append((0x80 | s.value >> 8, s.value & 0xFF))
            else:
                rows += self._adds(s, 1, f"instrument {n}'s pulse step")
        return self._table(self.out.pulsetable, rows, None if loop is None else at[loop], "pulse")

    @staticmethod
    def _adds(s: TableStep, scale: int, what: str) -> list[tuple[int, int]]:
        out, frames = [], s.frames
        value = _signed_byte(s.value // scale, what)
        while frames > 0:
            k = min(frames, 0x7F)
            out.append((k, value))
            frames -= k
        return out

    def _filter(self, steps: list[TableStep], loop: int | None, ins: Instrument, n: int) -> int:
        rows, at = [], {}
        for i, s in enumerate(steps):
            at[i] = len(rows)
            if s.kind == "set":
                if i == 0:  # mode, resonance and routing, then the cutoff in the same frame
                    rows.append((0x80 | ins.fmode << 4, ins.fres << 4 | self._routing(n)))
                rows.append((0x00, s.value >> 3))
            else:
                rows += self._adds(s, 8, f"instrument {n}'s filter step")
        if not steps or steps[0].kind != "set":
            rows.insert(0, (0x80 | ins.fmode << 4, ins.fres << 4 | self._routing(n)))
            at = {k: v + 1 for k, v in at.items()}
        return self._table(self.out.filtertable, rows, None if loop is None else at[loop], "filter")

    def _routing(self, number: int) -> int:
        """The voices that play instrument ``number`` somewhere (GoatTracker routes by table)."""
        bits = 0
        for sub in self.song.subtunes:
            for v, o in sub.orders.items():
                for e in o.entries:
                    p = self.song.patterns.get(e.pattern)
                    if p and any(r.instrument == number for r in p.rows):
                        bits |= 1 << v
        return bits or 0x7
