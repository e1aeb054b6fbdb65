"""Pattern text (``.sidp``) to a :class:`~sidlang.patterns.model.Song`.

The grammar is in ``docs/patterns.md``. The text is line-oriented: a header, then sections
(``instr N``, ``pattern N``, ``subtune N``) whose lines run until the next section word.
Every mistake is a :class:`~sidlang.patterns.errors.PatternError` with line, column and a hint.
"""

from __future__ import annotations

import json

from sidlang.pitch import CLOCK_NAMES, parse_note
from sidlang.registers import VOICES
from sidlang.tune import MODELS

from .errors import PatternError, suggest
from .lex import (
    HEADER_WORDS,
    INSTR_WORDS,
    MAGIC,
    MODE_NAMES,
    ORDER_ENTRY,
    SECTION_WORDS,
    SUBTUNE_WORDS,
    Tok,
    bits_value,
    to_int,
    tokens,
)
from .model import (
    EFFECTS,
    GATE_OFF,
    MAX_CHIPS,
    MAX_INSTRUMENT,
    MAX_LENGTH,
    MAX_PATTERN,
    MAX_REPEAT,
    MAX_ROWS,
    MAX_SPEED,
    MAX_SPEEDS,
    MAX_TABLE,
    MAX_TABLE_FRAMES,
    MAX_TRANSPOSE,
    NOTE_RANGE,
    WAVE_STEP_BITS,
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
from .raw import parse_raw

__all__ = ["MAGIC", "parse"]


class _Parser:
    def __init__(self, text: str, file: str | None) -> None:
        self.file = file
        self.lines = text.split("\n")
        self.song = Song()
        self.where = 0  #: current line number (1-based)
        self.section: tuple[str, object] | None = None
        self.section_at = (0, 1)
        self.open_tables: dict[str, bool] = {}  # table name -> a loop has closed it
        self.refs: list[tuple[str, int, int, int]] = []  # kind, number, line, column
        self.raw_done: set[int] = set()  # subtunes whose raw section has been read

    def error(
        self, message: str, tok: Tok | int = 1, hint: str | None = None, line: int | None = None
    ) -> PatternError:
        line = line or self.where
        col = tok.col if isinstance(tok, Tok) else tok
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return PatternError(message, file=self.file, line=line, column=col, text=text, hint=hint)

    # -- small readers ------------------------------------------------------------------

    def number(self, tok: Tok, low: int, high: int, what: str) -> int:
        value = to_int(tok.text)
        if value is None:
            raise self.error(
                f"{what}: {tok.text!r} is not a number", tok, f"a number {low}–{high}, e.g. {low}"
            )
        if not low <= value <= high:
            raise self.error(f"{what} {value} out of range", tok, f"{what} is {low}–{high}")
        return value

    def args(self, toks: list[Tok], low: int, high: int | None = None) -> None:
        high = low if high is None else high
        n = len(toks) - 1
        if n < low:
            end = toks[-1].col + len(toks[-1].text)
            raise self.error(
                f"{toks[0].text!r} needs {low} value(s), got {n}", end, f"e.g. {self.example(toks[0].text)}"
            )
        if n > high:
            raise self.error(
                f"too many values for {toks[0].text!r}", toks[high + 1], f"e.g. {self.example(toks[0].text)}"
            )

    @staticmethod
    def example(word: str) -> str:
        return {
            "title": 'title "My Song"',
            "author": 'author "Me"',
            "released": 'released "2026"',
            "clock": "clock pal",
            "model": "model 6581",
            "chips": "chips 2",
            "vol": "vol 15",
            "instr": 'instr 1 "lead"',
            "pattern": "pattern 0",
            "subtune": "subtune 1",
            "ad": "ad $0a",
            "sr": "sr $a6",
            "hr": "hr 2 $00 $00",
            "wave": "wave pulse +0",
            "pulse": "pulse add 32 16",
            "filter": "filter set $200",
            "fmode": "fmode lp",
            "fres": "fres 12",
            "hrwave": "hrwave tri,test",
            "tempo": "tempo 6 4",
            "length": "length 1000",
        }.get(word, word)

    def string(self, tok: Tok) -> str:
        t = tok.text
        if not t.startswith('"'):
            raise self.error("expected a quoted string", tok, 'e.g. "My Song" (JSON escapes)')
        try:
            value = json.loads(t)
        except ValueError:
            value = None
        if not isinstance(value, str):
            raise self.error(f"bad string {t}", tok, 'a closing quote; JSON escapes: \\" \\\\ \\n') from None
        return value

    # -- the file ------------------------------------------------------------------------

    def run(self) -> Song:
        if self.lines and self.lines[0].startswith("\ufeff"):
            self.lines[0] = self.lines[0][1:]
        for number, line in enumerate(self.lines, 1):
            self.where = number
            toks = tokens(line)
            if not toks:
                continue
            word = toks[0].text
            if word in SECTION_WORDS:
                self.close_section()
                self.open_section(toks)
            elif self.section is None:
                self.header(toks)
            else:
                getattr(self, f"in_{self.section[0]}")(toks)
        self.close_section()
        self.check_refs()
        if not self.song.subtunes:
            raise self.error(
                "no subtune: nothing to play",
                1,
                "add 'subtune 1' with a tempo and orderlists",
                line=self.last_line(),
            )
        return self.song

    def last_line(self) -> int:
        return max((i for i, text in enumerate(self.lines, 1) if tokens(text)), default=1)

    def header(self, toks: list[Tok]) -> None:
        word, song = toks[0].text, self.song
        if word not in HEADER_WORDS:
            if word in INSTR_WORDS or word in SUBTUNE_WORDS or _looks_like_row(word):
                raise self.error(
                    f"{word!r} outside a section",
                    toks[0],
                    "it belongs under 'instr N', 'pattern N' or 'subtune N'",
                )
            raise self.error(
                f"unknown header word {word!r}",
                toks[0],
                suggest(word, HEADER_WORDS + SECTION_WORDS) or f"one of {', '.join(HEADER_WORDS)}",
            )
        if word in ("title", "author", "released"):
            self.args(toks, 1)
            setattr(song, word, self.string(toks[1]))
        elif word == "clock":
            self.args(toks, 1)
            t = toks[1].text
            song.clock_hz = (
                CLOCK_NAMES[t] if t in CLOCK_NAMES else self.number(toks[1], 100_000, 4_000_000, "clock")
            )
        elif word == "model":
            self.args(toks, 1, MAX_CHIPS)
            models = []
            for t in toks[1:]:
                m = to_int(t.text)
                if m not in MODELS:
                    raise self.error(f"unknown chip model {t.text!r}", t, "6581 or 8580")
                models.append(m)
            song.models = tuple(models)
        elif word == "chips":
            self.args(toks, 1)
            song.chips = self.number(toks[1], 1, MAX_CHIPS, "chips")
        elif word == "frame":
            self.args(toks, 1)
            song.frame_cycles = self.number(toks[1], 1024, 100_000, "cycles per frame")
        elif word == "pitch":
            self.args(toks, 2)
            note = self.note(toks[1])
            if note in song.pitch:
                raise self.error(f"a second pitch for {toks[1].text}", toks[1], "one pitch line per note")
            song.pitch[note] = self.number(toks[2], 0, 0xFFFF, "frequency")
        else:
            self.args(toks, 1)
            song.vol = self.number(toks[1], 0, 15, "vol")

    # -- sections ------------------------------------------------------------------------

    def open_section(self, toks: list[Tok]) -> None:
        word, song = toks[0].text, self.song
        self.section_at = (self.where, toks[0].col)
        if word == "instr":
            self.args(toks, 1, 2)
            n = self.number(toks[1], 1, MAX_INSTRUMENT, "instrument number")
            if n in song.instruments:
                raise self.error(
                    f"instrument {n} is defined twice", toks[1], "give each instrument its own number"
                )
            inst = Instrument(name=self.string(toks[2]) if len(toks) > 2 else "")
            song.instruments[n] = inst
            self.section = ("instr", inst)
            self.open_tables = {}
        elif word == "pattern":
            self.args(toks, 1)
            n = self.number(toks[1], 0, MAX_PATTERN, "pattern number")
            if n in song.patterns:
                raise self.error(f"pattern {n} is defined twice", toks[1], "give each pattern its own number")
            song.patterns[n] = Pattern()
            self.section = ("pattern", song.patterns[n])
        elif word == "raw":
            self.args(toks, 1)
            n = self.number(toks[1], 1, 255, "subtune number")
            if n > len(song.subtunes) or n in self.raw_done:
                raise self.error(
                    f"raw {n} " + ("comes twice" if n in self.raw_done else "before its subtune"),
                    toks[1],
                    "one 'raw N' section per subtune, after 'subtune N'",
                )
            self.raw_done.add(n)
            self.section = ("raw", (n, []))
        else:
            self.args(toks, 1)
            n = self.number(toks[1], 1, 255, "subtune number")
            if n != len(song.subtunes) + 1:
                raise self.error(
                    f"subtune {n} out of order",
                    toks[1],
                    f"subtunes are numbered 1, 2, … in order; this one is {len(song.subtunes) + 1}",
                )
            song.subtunes.append(Subtune())
            self.section = ("subtune", song.subtunes[-1])

    def close_section(self) -> None:
        if self.section is None:
            return
        kind, obj = self.section
        line, col = self.section_at
        if kind == "raw":
            n, lines = obj
            if lines:
                sub = self.song.subtunes[n - 1]
                sub.raw = parse_raw(lines, self.song.clock_hz, self.song.chips, self.file)
                if any(chip >= self.song.chips for _, chip, _, _ in sub.raw):
                    raise self.error("a raw write to a SID the song does not have", 1, line=lines[0][0])
        if kind == "pattern" and not obj.rows:
            raise self.error(
                "a pattern needs at least one row",
                col,
                "rows are 'NOTE INSTR EFFECT', e.g. 'C-4 01'",
                line=line,
            )
        self.section = None

    def in_raw(self, toks: list[Tok]) -> None:
        self.section[1][1].append((self.where, self.lines[self.where - 1]))

    # -- instruments ---------------------------------------------------------------------

    def in_instr(self, toks: list[Tok]) -> None:
        inst: Instrument = self.section[1]
        word = toks[0].text
        if word not in INSTR_WORDS:
            raise self.error(
                f"unknown instrument word {word!r}",
                toks[0],
                suggest(word, INSTR_WORDS) or f"one of {', '.join(INSTR_WORDS)}",
            )
        if word in ("ad", "sr"):
            self.args(toks, 1)
            setattr(inst, word, self.number(toks[1], 0, 255, word))
        elif word == "hr":
            self.args(toks, 1, 3)
            inst.hr = self.number(toks[1], 0, 15, "hard-restart frames")
            inst.hr_ad = self.number(toks[2], 0, 255, "hard-restart ad") if len(toks) > 2 else 0
            inst.hr_sr = self.number(toks[3], 0, 255, "hard-restart sr") if len(toks) > 3 else 0
        elif word == "hrwave":
            self.args(toks, 1)
            wave = bits_value(toks[1].text, WAVE_STEP_BITS)
            if wave is None or not 0 <= wave <= 255 or wave & 1:
                raise self.error(
                    f"bad waveform {toks[1].text!r}",
                    toks[1],
                    "bits tri saw pulse noise ring sync test, no gate",
                )
            inst.hr_wave = wave
        elif word == "fmode":
            self.args(toks, 1)
            value = bits_value(toks[1].text, MODE_NAMES)
            if value is None or not 0 <= value <= 15:
                raise self.error(
                    f"bad filter mode {toks[1].text!r}", toks[1], "bits lp bp hp 3off, e.g. lp or lp,hp"
                )
            inst.fmode = value
        elif word == "fres":
            self.args(toks, 1)
            inst.fres = self.number(toks[1], 0, 15, "fres")
        else:
            self.table_line(inst, toks)

    def table_line(self, inst: Instrument, toks: list[Tok]) -> None:
        table = toks[0].text
        steps = getattr(inst, table)
        if len(toks) > 1 and toks[1].text == "loop":
            self.args(toks, 2)
            if not steps:
                raise self.error(
                    f"'{table} loop' before any {table} step", toks[1], "loop comes after the steps"
                )
            if self.open_tables.get(table):
                raise self.error(
                    f"a second '{table} loop'", toks[1], "a table has one loop, after its last step"
                )
            setattr(inst, f"{table}_loop", self.number(toks[2], 0, len(steps) - 1, f"{table} loop step"))
            self.open_tables[table] = True
            return
        if self.open_tables.get(table):
            raise self.error(f"a {table} step after '{table} loop'", toks[0], "the loop line ends its table")
        if len(steps) >= MAX_TABLE:
            raise self.error(f"more than {MAX_TABLE} {table} steps", toks[0], "use a loop")
        steps.append(self.wave_step(toks) if table == "wave" else self.table_step(toks, table))

    def wave_step(self, toks: list[Tok]) -> WaveStep:
        self.args(toks, 2)
        w, n = toks[1], toks[2]
        if w.text == "-":
            wave = None
        else:
            wave = bits_value(w.text, WAVE_STEP_BITS)
            if wave is None or not 0 <= wave <= 255 or wave & 1:
                hint = (
                    "the gate is the player's: leave it out"
                    if "gate" in w.text or (wave or 0) & 1
                    else suggest(w.text, WAVE_STEP_BITS)
                    or "bits tri saw pulse noise ring sync test, or - to keep"
                )
                raise self.error(f"bad waveform {w.text!r}", w, hint)
        rel = to_int(n.text)
        if rel is not None:
            if not -MAX_TRANSPOSE <= rel <= MAX_TRANSPOSE:
                raise self.error(
                    f"arpeggio step {rel} out of range", n, f"-{MAX_TRANSPOSE}–+{MAX_TRANSPOSE} semitones"
                )
            return WaveStep(wave, rel, False)
        return WaveStep(wave, self.note(n), True)

    def note(self, tok: Tok) -> int:
        parsed = parse_note(tok.text)
        if parsed is None or parsed[1] != 0:
            hint = "no cent offsets here" if parsed else "a note C-0–B-7 like C-4 or C#4, or +N/-N semitones"
            raise self.error(f"bad note {tok.text!r}", tok, hint)
        midi = parsed[0]
        if not NOTE_RANGE[0] <= midi <= NOTE_RANGE[1]:
            raise self.error(f"note {tok.text!r} out of range", tok, "C-0 to B-7")
        return midi

    def table_step(self, toks: list[Tok], table: str) -> TableStep:
        high = 0xFFF if table == "pulse" else 0x7FF
        kind = toks[1].text if len(toks) > 1 else ""
        if kind == "set":
            self.args(toks, 2)
            return TableStep("set", self.number(toks[2], 0, high, f"{table} value"))
        if kind == "add":
            self.args(toks, 3)
            return TableStep(
                "add",
                self.number(toks[2], -high, high, f"{table} step"),
                self.number(toks[3], 1, MAX_TABLE_FRAMES, "frames"),
            )
        at = toks[1] if len(toks) > 1 else toks[0].col + len(table)
        raise self.error(
            f"bad {table} step {kind!r}" if kind else f"empty {table} step",
            at,
            suggest(kind, ("set", "add", "loop"))
            or f"'{table} set V', '{table} add D FRAMES' or '{table} loop I'",
        )

    # -- patterns ------------------------------------------------------------------------

    def in_pattern(self, toks: list[Tok]) -> None:
        pattern: Pattern = self.section[1]
        if len(pattern.rows) >= MAX_ROWS:
            raise self.error(f"more than {MAX_ROWS} rows in a pattern", toks[0], "split it into two patterns")
        if len(toks) > 3:
            raise self.error("too many columns", toks[3], "a row is NOTE INSTR EFFECT, e.g. 'C-4 01 up:32'")
        n = toks[0]
        if n.text == "---":
            note = None
        elif n.text == "===":
            note = GATE_OFF
        else:
            if to_int(n.text) is not None or n.text in INSTR_WORDS + SUBTUNE_WORDS:
                raise self.error(
                    f"bad note {n.text!r}",
                    n,
                    "a row starts with a note: C-4, C#4, --- (none) or === (gate off)",
                )
            note = self.note(n)
        instrument = None
        if len(toks) > 1 and toks[1].text != "--":
            t = toks[1]
            if not t.text.isdigit():
                raise self.error(
                    f"bad instrument {t.text!r}", t, "an instrument number 01–99, or -- for none"
                )
            instrument = self.number(t, 1, MAX_INSTRUMENT, "instrument")
            self.refs.append(("instrument", instrument, self.where, t.col))
        effect = self.effect(toks[2]) if len(toks) > 2 else None
        pattern.rows.append(Row(note, instrument, effect))

    def effect(self, tok: Tok) -> Effect:
        name, colon, rest = tok.text.partition(":")
        if name not in EFFECTS:
            raise self.error(
                f"unknown effect {name!r}", tok, suggest(name, EFFECTS) or f"one of {', '.join(EFFECTS)}"
            )
        spec = EFFECTS[name]
        if not colon or not rest:
            raise self.error(
                f"effect {name!r} needs a value", tok.col + len(name), f"e.g. {name}:{spec.ranges[0][0]}"
            )
        parts = rest.split(",") if spec.flags is None else [rest]
        if not spec.least <= len(parts) <= len(spec.ranges):
            raise self.error(
                f"effect {name!r} takes {spec.least}–{len(spec.ranges)} values, got {len(parts)}"
                if spec.least != len(spec.ranges)
                else f"effect {name!r} takes {spec.least} value(s), got {len(parts)}",
                tok,
                spec.doc,
            )
        args, col = [], tok.col + len(name) + 1
        for part, (low, high) in zip(parts, spec.ranges):
            value = bits_value(part, spec.flags) if spec.flags else to_int(part)
            at = Tok(part, col)
            if value is None:
                raise self.error(
                    f"bad value {part!r} for {name}",
                    at,
                    f"bits {' '.join(spec.flags)}" if spec.flags else f"a number {low}–{high}",
                )
            if not low <= value <= high:
                raise self.error(f"{name} value {value} out of range", at, f"{low}–{high}")
            args.append(value)
            col += len(part) + 1
        return Effect(name, tuple(args))

    # -- subtunes ------------------------------------------------------------------------

    def in_subtune(self, toks: list[Tok]) -> None:
        sub: Subtune = self.section[1]
        word = toks[0].text
        if word not in SUBTUNE_WORDS:
            raise self.error(
                f"unknown subtune word {word!r}",
                toks[0],
                suggest(word, SUBTUNE_WORDS[:5]) or "tempo, length, or an orderlist v1 … v9",
            )
        if word == "tempo":
            self.args(toks, 1, MAX_SPEEDS)
            sub.tempo = tuple(self.number(t, 1, MAX_SPEED, "frames per row") for t in toks[1:])
        elif word == "length":
            self.args(toks, 1)
            sub.length = self.number(toks[1], 1, MAX_LENGTH, "length in frames")
        else:
            voice = int(word[1:]) - 1
            if voice >= self.song.voices:
                raise self.error(
                    f"voice {word} but the song has {self.song.voices} voices",
                    toks[0],
                    f"'chips {voice // VOICES + 1}' in the header gives {(voice // VOICES + 1) * VOICES}",
                )
            if len(toks) < 2:
                raise self.error(
                    f"empty orderlist for {word}", toks[0].col + len(word), "e.g. 'v1 0 1 @2+5*2'"
                )
            order = sub.orders.setdefault(voice, Orderlist())
            for t in toks[1:]:
                self.order_entry(order, t)

    def order_entry(self, order: Orderlist, tok: Tok) -> None:
        m = ORDER_ENTRY.fullmatch(tok.text)
        if m is None:
            raise self.error(
                f"bad orderlist entry {tok.text!r}",
                tok,
                "PATTERN[+T|-T][*R], '@' before the loop entry: 3, 3+12, 3-5*2, @0",
            )
        loop, pattern, transpose, repeat = m.groups()
        if loop:
            if order.loop is not None:
                raise self.error("a second loop mark '@'", tok, "an orderlist has one loop point")
            order.loop = len(order.entries)
        number = int(pattern)
        if number > MAX_PATTERN:
            raise self.error(f"pattern number {number} out of range", tok.col + len(loop), f"0–{MAX_PATTERN}")
        t = int(transpose) if transpose else 0
        if abs(t) > MAX_TRANSPOSE:
            raise self.error(
                f"transpose {t} out of range",
                tok.col + len(loop) + len(pattern),
                f"-{MAX_TRANSPOSE}–+{MAX_TRANSPOSE}",
            )
        r = int(repeat) if repeat else 1
        if not 1 <= r <= MAX_REPEAT:
            raise self.error(
                f"repeat {r} out of range", tok.col + len(tok.text) - len(repeat), f"1–{MAX_REPEAT}"
            )
        self.refs.append(("pattern", number, self.where, tok.col + len(loop)))
        order.entries.append(OrderEntry(number, t, r))

    def check_refs(self) -> None:
        for kind, number, line, col in self.refs:
            table = self.song.instruments if kind == "instrument" else self.song.patterns
            if number not in table:
                known = ", ".join(str(k) for k in sorted(table)) or "none"
                raise self.error(f"{kind} {number} is not defined", col, f"defined: {known}", line=line)


def _looks_like_row(word: str) -> bool:
    return word in ("---", "===") or parse_note(word) is not None


def parse(text: str, file: str | None = None) -> Song:
    """A Song from pattern text; :class:`PatternError` (a FormatError) on any mistake."""
    return _Parser(text.replace("\r\n", "\n"), file).run()
