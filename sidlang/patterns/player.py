"""Play a :class:`~sidlang.patterns.model.Song` into frames of register writes (a Tune).

What happens in each frame is written down in ``docs/patterns.md`` ("How a song plays"); in
short, the way SID-Wizard's player does it once per interrupt:

1. On a row's first frame every voice takes its next row (tempo effects first, so the row's
   own length follows them); a note starts (ADSR, tables restarted, gate on), ``===`` closes
   the gate, effects start.
2. ``hr`` frames before a row that starts a note, that voice's gate closes and its ADSR goes
   to the instrument's hard-restart values, so the envelope is at rest when the note comes.
3. Every frame each voice steps its wave/arpeggio, pulse and filter tables and its slide and
   vibrato; the frequency is the note's (``sidlang.pitch``) plus the slide and vibrato.
4. Only registers whose value changed are written, voice by voice (frequency, pulse width,
   ADSR, control), then the filter and volume, :data:`WRITE_GAP` cycles apart.
"""

from __future__ import annotations

from collections.abc import Iterator

from sidlang.errors import FormatError
from sidlang.pitch import note_to_reg
from sidlang.registers import (
    FIELDS,
    N_REGS,
    ROUTE_BITS,
    SID_BASE,
    SID_STRIDE,
    VOICE_STRIDE,
    VOICES,
    WAVE_BITS,
)
from sidlang.tune import Header, Tune, make_writes

from .model import GATE_OFF, MAX_LENGTH, Effect, Instrument, OrderEntry, Row, Song, TableStep

GATE = WAVE_BITS["gate"]
WRITE_GAP = 16  #: cycles between two writes of a frame
TAIL_FRAMES = 50  #: frames after the song's end (gates closed) so the last release is heard
_FREQ, _PW = FIELDS["freq"].regs, FIELDS["pw"].regs
_WAVE, _AD, _SR = FIELDS["wave"].regs[0], FIELDS["ad"].regs[0], FIELDS["sr"].regs[0]
_CUT, _RES, _MODE = FIELDS["cut"].regs, FIELDS["res"].regs[0], FIELDS["mode"].regs[0]
_CUT_LO_BITS = FIELDS["cut"].lo_bits
_ROUTE = tuple(ROUTE_BITS[f"v{v + 1}"] for v in range(VOICES))
_NO_INSTRUMENT = Instrument()


class _Cursor:
    """One voice's rows in play order (orderlist entries, repeats, loop), with a look-ahead.

    ``done`` turns true once the voice has played its orderlist through once.
    """

    def __init__(self, song: Song, voice: int, entries: list[OrderEntry], loop: int | None) -> None:
        for e in entries:
            if e.pattern not in song.patterns or not song.patterns[e.pattern].rows:
                raise FormatError(
                    f"v{voice + 1}'s orderlist plays pattern {e.pattern}, which is not defined or empty"
                )
        self.rows = self._rows(song, entries, loop)
        self.done = not entries
        self.ahead: tuple[Row, int] | None = None
        self._step()

    def _rows(self, song: Song, entries, loop) -> Iterator[tuple[Row, int] | None]:
        while entries:
            for e in entries:
                for _ in range(e.repeat):
                    for row in song.patterns[e.pattern].rows:
                        yield row, e.transpose
            yield None  # the end of one pass
            if loop is None:
                return
            entries, loop = entries[loop:], 0  # later passes play the loop's part whole

    def _step(self) -> None:
        item = next(self.rows, None)
        if item is None:  # the end of a pass: the loop's first row follows, if there is a loop
            self.done = True
            item = next(self.rows, None)
        self.ahead = item

    def take(self) -> tuple[Row, int] | None:
        item = self.ahead
        if item is not None:
            self._step()
        return item


class _Table:
    """A pulse or filter table being played: which step, and frames left in an ``add``."""

    def __init__(self, steps: list[TableStep], loop: int | None) -> None:
        self.steps, self.loop, self.pos, self.left = steps, loop, 0, 0

    def step(self, value: int) -> int:
        """The value after this frame's step (``value`` unchanged once the table has ended)."""
        if self.pos >= len(self.steps):
            return value
        s = self.steps[self.pos]
        if s.kind == "set":
            value, self.left = s.value, 0
        else:
            self.left = self.left or s.frames
            value += s.value
            self.left -= 1
        if self.left == 0:
            self.pos += 1
            if self.pos == len(self.steps) and self.loop is not None:
                self.pos = self.loop
        return value


class _Voice:
    def __init__(self, index: int) -> None:
        self.index = index
        self.inst = _NO_INSTRUMENT
        self.note: int | None = None  #: the row's note, transposed; None before the first
        self.gate = False
        self.wave = 0
        self.wpos = 0
        self.arp = 0  #: the wave table's note: semitones, or an absolute note if ``arp_abs``
        self.arp_abs = False
        self.ad = self.sr = self.pw = None
        self.pulse: _Table | None = None
        self.slide = 0  #: frequency offset of portamentos
        self.slide_fx: tuple[str, int] | None = None  #: ("up"|"dn"|"tp", speed)
        self.vib: tuple[int, int] | None = None
        self.vib_k = 0
        self.hr_at = -1  #: the frame of the coming hard restart
        self.hr_inst = _NO_INSTRUMENT  #: the instrument whose hard-restart ADSR it uses
        self.hr_wave: int | None = None  #: the waveform held during a hard restart
        self.retrigger = False
        self.ended = False

    def base(self, notes: list[int]) -> int:
        midi = self.arp if self.arp_abs else self.note + self.arp
        return notes[min(max(midi, 0), 127)]

    def vibrato(self) -> int:
        if self.vib is None:
            return 0
        speed, depth = self.vib
        p = self.vib_k % (4 * speed)
        tri = p if p < speed else 2 * speed - p if p < 3 * speed else p - 4 * speed
        return depth * tri


class _Chip:
    def __init__(self, vol: int) -> None:
        self.cut: int | None = None
        self.res = 0
        self.route = 0
        self.mode = 0
        self.vol = vol
        self.owner: int | None = None  #: the voice whose filter table drives the cutoff
        self.table: _Table | None = None


class _Player:
    def __init__(self, song: Song, subtune: int) -> None:
        if not 1 <= subtune <= len(song.subtunes):
            raise FormatError(f"subtune {subtune} does not exist; the song has {len(song.subtunes)}")
        self.song = song
        self.sub = song.subtunes[subtune - 1]
        self.notes = [song.pitch.get(m, note_to_reg(m, 0, song.clock_hz)) for m in range(128)]
        self.voices = [_Voice(v) for v in range(song.voices)]
        self.chips = [_Chip(song.vol) for _ in range(song.chips)]
        empty = ([], None)
        self.cursors = []
        for v in range(song.voices):
            o = self.sub.orders.get(v)
            self.cursors.append(_Cursor(song, v, *((o.entries, o.loop) if o else empty)))
        self.speeds = self.sub.tempo
        self.funk = 0
        self.last: list[list[int | None]] = [[None] * N_REGS for _ in self.chips]
        self.cycles: list[int] = []
        self.regs: list[tuple[int, int, int]] = []
        self.pending: list[tuple[int, int, int, bool]] = []  #: this frame's writes, before ``raw``
        self.raw: dict[int, list[tuple[int, int, int]]] = {}
        for frame, chip, reg, val in self.sub.raw:
            self.raw.setdefault(frame, []).append((chip, reg, val))
        self.record: list[list[tuple[int, int, int, bool]]] | None = None  #: see :func:`intents`

    # -- rows --------------------------------------------------------------------------------

    def new_row(self, frame: int) -> int:
        """Start the next row on every voice; returns its length in frames."""
        rows = [c.take() for c in self.cursors]
        for item in rows:
            if item and item[0].effect and item[0].effect.name == "tempo":
                self.speeds, self.funk = item[0].effect.args, 0
        length = self.speeds[self.funk % len(self.speeds)]
        self.funk += 1
        for voice, item in zip(self.voices, rows):
            if item is None:
                if not voice.ended and self.cursors[voice.index].ahead is None:
                    voice.ended, voice.gate = True, False
                continue
            self.play_row(voice, *item)
            self.plan_hard_restart(voice, frame, length)
        return length

    def plan_hard_restart(self, voice: _Voice, frame: int, length: int) -> None:
        voice.hr_at = -1
        ahead = self.cursors[voice.index].ahead
        if ahead is None:
            return
        row = ahead[0]
        if row.note is None or row.note == GATE_OFF or (row.effect and row.effect.name == "tp"):
            return
        inst = self.song.instruments.get(row.instrument, voice.inst) if row.instrument else voice.inst
        frames = min(inst.hr, length - 1)
        if frames > 0:
            voice.hr_at, voice.hr_inst = frame + length - frames, inst

    def play_row(self, voice: _Voice, row: Row, transpose: int) -> None:
        fx = row.effect
        tp = fx is not None and fx.name == "tp"
        if row.instrument is not None and not tp:
            voice.inst = self.song.instruments.get(row.instrument, _NO_INSTRUMENT)
        if row.note == GATE_OFF:
            voice.gate = False
        elif row.note is not None:
            note = min(max(row.note + transpose, 0), 127)
            if tp and voice.note is not None:
                current = voice.base(self.notes) + voice.slide
                voice.note = note
                voice.slide = current - voice.base(self.notes)
            else:
                self.note_on(voice, note)
        if fx is not None:
            self.effect(voice, fx)

    def note_on(self, voice: _Voice, note: int) -> None:
        inst = voice.inst
        voice.retrigger = voice.gate
        voice.note, voice.gate, voice.hr_wave = note, True, None
        voice.slide, voice.slide_fx, voice.vib = 0, None, None
        voice.ad, voice.sr = inst.ad, inst.sr
        voice.wpos, voice.arp, voice.arp_abs = 0, 0, False
        if inst.pulse:
            voice.pulse = _Table(inst.pulse, inst.pulse_loop)
        chip = self.chips[voice.index // VOICES]
        bit = _ROUTE[voice.index % VOICES]
        if inst.filter:
            chip.route |= bit
            chip.mode, chip.res = inst.fmode, inst.fres
            chip.owner, chip.table = voice.index, _Table(inst.filter, inst.filter_loop)
        else:
            chip.route &= ~bit
            if chip.owner == voice.index:
                chip.owner = chip.table = None

    def effect(self, voice: _Voice, fx: Effect) -> None:
        chip = self.chips[voice.index // VOICES]
        name, args = fx.name, fx.args
        if name in ("up", "dn", "tp"):
            voice.slide_fx = (name, args[0]) if args[0] else None
        elif name == "vib":
            voice.vib, voice.vib_k = ((args[0], args[1]) if args[1] else None), 0
        elif name == "pw":
            voice.pw = args[0]
        elif name == "ad":
            voice.ad = args[0]
        elif name == "sr":
            voice.sr = args[0]
        elif name in ("cut", "res", "route", "mode", "vol"):
            setattr(chip, name, args[0])

    # -- every frame -------------------------------------------------------------------------

    def tick(self, voice: _Voice, frame: int) -> None:
        inst = voice.inst
        if frame == voice.hr_at:
            voice.gate, voice.ad, voice.sr = False, voice.hr_inst.hr_ad, voice.hr_inst.hr_sr
            voice.hr_wave = voice.hr_inst.hr_wave
        if inst.wave and voice.note is not None:
            if voice.wpos >= len(inst.wave):  # a row changed to an instrument with a shorter table
                voice.wpos = len(inst.wave) - 1
            step = inst.wave[voice.wpos]
            if step.wave is not None:
                voice.wave = step.wave
            voice.arp, voice.arp_abs = step.note, step.absolute
            voice.wpos += 1
            if voice.wpos == len(inst.wave):
                voice.wpos = inst.wave_loop if inst.wave_loop is not None else voice.wpos - 1
        if voice.hr_wave is not None:
            voice.wave = voice.hr_wave
        if voice.pulse is not None:
            voice.pw = voice.pulse.step(voice.pw or 0) & 0xFFF
        if voice.slide_fx is not None:
            kind, speed = voice.slide_fx
            if kind == "up":
                voice.slide = min(voice.slide + speed, 0xFFFF)
            elif kind == "dn":
                voice.slide = max(voice.slide - speed, -0xFFFF)
            else:
                voice.slide = max(voice.slide - speed, 0) if voice.slide > 0 else min(voice.slide + speed, 0)
                if voice.slide == 0:
                    voice.slide_fx = None

    def write_frame(self, frame: int) -> None:
        start = len(self.cycles)
        self.pending = []
        for c, chip in enumerate(self.chips):
            for voice in self.voices[c * VOICES : (c + 1) * VOICES]:
                base = (voice.index % VOICES) * VOICE_STRIDE
                ctrl = (voice.wave & ~GATE) | (GATE if voice.gate else 0)
                if voice.retrigger:
                    self.put(c, base + _WAVE, ctrl & ~GATE, force=True)
                    voice.retrigger = False
                if voice.note is not None:
                    freq = min(max(voice.base(self.notes) + voice.slide + voice.vibrato(), 0), 0xFFFF)
                    voice.vib_k += voice.vib is not None
                    self.put(c, base + _FREQ[0], freq & 0xFF)
                    self.put(c, base + _FREQ[1], freq >> 8)
                if voice.pw is not None:
                    self.put(c, base + _PW[0], voice.pw & 0xFF)
                    self.put(c, base + _PW[1], voice.pw >> 8)
                if voice.ad is not None:
                    self.put(c, base + _AD, voice.ad)
                if voice.sr is not None:
                    self.put(c, base + _SR, voice.sr)
                if voice.note is not None:
                    self.put(c, base + _WAVE, ctrl)
            if chip.table is not None:
                chip.cut = min(max(chip.table.step(chip.cut or 0), 0), 0x7FF)
            if chip.cut is not None:
                self.put(c, _CUT[0], chip.cut & ((1 << _CUT_LO_BITS) - 1))
                self.put(c, _CUT[1], chip.cut >> _CUT_LO_BITS)
            self.put(c, _RES, (chip.res << 4) | chip.route)
            self.put(c, _MODE, (chip.mode << 4) | chip.vol)
        self.flush(frame)
        base_cycle = frame * self.frame_cycles
        for i in range(start, len(self.cycles)):
            self.cycles[i] = base_cycle + (i - start) * WRITE_GAP

    def put(self, chip: int, reg: int, val: int, force: bool = False) -> None:
        self.pending.append((chip, reg, val, force))

    def flush(self, frame: int) -> None:
        """Write the frame: the player's writes that change a register (or are forced), less
        those to registers the frame's raw writes name, then the raw writes."""
        if self.record is not None:
            self.record.append(self.pending)
        raw = self.raw.get(frame)
        named = {(c, r) for c, r, _ in raw} if raw else ()
        last, regs = self.last, self.regs
        for chip, reg, val, force in self.pending:
            if (force or last[chip][reg] != val) and (not named or (chip, reg) not in named):
                last[chip][reg] = val
                regs.append((chip, reg, val))
        for chip, reg, val in raw or ():
            if last[chip][reg] != val:
                last[chip][reg] = val
                regs.append((chip, reg, val))
        self.cycles.extend([0] * (len(regs) - len(self.cycles)))

    # -- the whole subtune ---------------------------------------------------------------------

    def run(self, frame_cycles: int, length: int = 0) -> int:
        """Play frames; returns the tune's length in frames."""
        self.frame_cycles = frame_cycles
        limit = length or MAX_LENGTH
        frame, next_row = 0, 0
        while frame < limit:
            if frame == next_row:
                if not length and all(c.done for c in self.cursors):
                    break
                next_row = frame + self.new_row(frame)
            for voice in self.voices:
                self.tick(voice, frame)
            self.write_frame(frame)
            frame += 1
        else:
            if not length:
                raise FormatError(
                    f"the song plays more than {MAX_LENGTH} frames before every voice has "
                    f"played its orderlist once; give the subtune a 'length'"
                )
            return length
        for voice in self.voices:  # the end: close every gate and let the releases ring
            voice.gate, voice.hr_at = False, -1
        for _ in range(TAIL_FRAMES):
            for voice in self.voices:
                self.tick(voice, frame)
            self.write_frame(frame)
            frame += 1
        return frame


def play(song: Song, subtune: int = 1, *, frames: int = 0) -> Tune:
    """The Tune of one subtune of ``song`` (1-based); ``frames`` overrides its length.

    Without a length the subtune plays until every voice has been through its orderlist once,
    then closes the gates and lets :data:`TAIL_FRAMES` frames of release ring.
    """
    header = Header(
        title=song.title,
        author=song.author,
        released=song.released,
        clock_hz=song.clock_hz,
        frame_cycles=song.frame_cycles,
        models=song.models,
        sids=tuple(SID_BASE + SID_STRIDE * i for i in range(song.chips)),
        gap=WRITE_GAP,
        songs=len(song.subtunes) if len(song.subtunes) > 1 else 0,
        subtune=subtune if len(song.subtunes) > 1 else 0,
    )
    player = _Player(song, subtune)
    n = player.run(header.frame_cycles, frames or song.subtunes[subtune - 1].length)
    chips, regs, vals = zip(*player.regs) if player.regs else ((), (), ())
    writes = make_writes(player.cycles, chips, regs, vals)
    return Tune(header.replace(frames=n), writes)


def intents(song: Song, subtune: int = 1, *, frames: int = 0) -> list[list[tuple[int, int, int, bool]]]:
    """What the player means to write in each frame, before it drops unchanged values and
    applies the raw writes: per frame a list of ``(chip, reg, val, forced)``.

    The player's own state never depends on what reached the chip, so this is the same with
    or without ``raw``; :mod:`sidlang.patterns.infer` compares it with a tune to find the raw
    writes a song needs.
    """
    header = Header(clock_hz=song.clock_hz, frame_cycles=song.frame_cycles)
    player = _Player(song, subtune)
    player.record = []
    player.run(header.frame_cycles, frames or song.subtunes[subtune - 1].length)
    return player.record
