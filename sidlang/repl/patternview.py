"""The tracker level in the REPL: a session's pattern song shown, its rows edited, re-played.

A tune read from a tracker file carries its :class:`~sidlang.patterns.model.Song`: a ``.sng``
in ``tune.meta["patterns"]``; a ``.sidp`` is the song itself, so while the frames are still
what the file plays (nothing edited since it was read) the song is read from the file. An edit
(:func:`with_row`, :func:`transposed`) makes a new Song (the old one stays untouched, so undo
can bring it back), which is played by :mod:`sidlang.patterns.player` into a new tune with the
song in its meta.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text

from sidlang.errors import UsageError
from sidlang.patterns.dump import dump_effect, dump_orderlist
from sidlang.patterns.errors import PatternError
from sidlang.patterns.lex import tokens
from sidlang.patterns.model import GATE_OFF, MAX_PATTERN, MAX_ROWS, NOTE_RANGE, Pattern, Row, Song
from sidlang.pitch import note_name
from sidlang.tune import Tune

NO_PATTERNS = "this tune has no patterns: open a .sidp or .sng file, or 'explain' infers them from the frames"
VOICE_COLOURS = ("red", "green", "blue")
_cache: dict[str, object] = {}  #: the .sidp last read: its (path, mtime), the writes it matched, its song
_inferred: dict[str, object] = {}  #: the song 'explain' inferred: the writes it plays, the song


def subtune(tune: Tune) -> int:
    """The subtune a tune was played from (1-based); readers write 0 for a one-subtune song."""
    return tune.header.subtune or 1


def song_of(tune: Tune, path: str | None) -> Song:
    """The pattern song behind ``tune``; :class:`UsageError` (:data:`NO_PATTERNS`) when none."""
    song = tune.meta.get("patterns")
    if isinstance(song, Song):  # a journal-restored session holds it as text: not a song
        return song
    if _inferred.get("writes") is tune.writes:  # 'explain' inferred it from these very frames
        return _inferred["song"]
    if path is None or not path.endswith(".sidp") or not Path(path).is_file():
        raise UsageError(NO_PATTERNS)
    key = (path, Path(path).stat().st_mtime)
    if _cache.get("key") != key or _cache.get("writes") is not tune.writes:
        # One entry, holding the writes it was checked against (an id could be reused).
        _cache.update(key=key, writes=tune.writes, song=_read_matching(tune, path))
    song = _cache["song"]
    if song is None:
        raise UsageError(
            f"the frames are no longer what {path} plays (edited since it was read): "
            f"'load {path}' to edit its patterns"
        )
    return song


def _read_matching(tune: Tune, path: str) -> Song | None:
    from sidlang.patterns import parse
    from sidlang.patterns.player import play

    try:
        song = parse(Path(path).read_text(encoding="utf-8"), path)
        played = play(song, subtune(tune))
    except (PatternError, UsageError, OSError, UnicodeDecodeError, ValueError):
        return None
    return song if played.header == tune.header and played == tune else None


def replayed(tune: Tune, song: Song) -> Tune:
    """``song`` played into frames (the subtune ``tune`` came from), the song in its meta."""
    from sidlang.patterns.player import play

    new = play(song, subtune(tune))
    return new.replace(meta={**tune.meta, "patterns": song})


def explain(tune: Tune, start: int = 0) -> tuple[Song, tuple[int, int], tuple[int, int]]:
    """Patterns inferred from the frames (:func:`sidlang.patterns.infer.infer`), kept as the
    song behind these frames until they change: (song, (writes the patterns alone make, all
    writes), the same from frame ``start`` on, e.g. where a continuation began).

    The song plays the tune exactly: what the patterns miss is in its raw writes. The shares
    count effective writes (those that change a register), cell by cell.
    """
    from sidlang.patterns.infer import infer
    from sidlang.patterns.infer_frames import cells, effective, explained, patterns_only
    from sidlang.patterns.player import play

    song = infer(tune)
    target = cells(effective(tune))
    played = cells(effective(play(patterns_only(song))))
    later = {k: v for k, v in target.items() if k[0] >= start}
    _inferred.update(writes=tune.writes, song=song)
    return song, explained(target, played), explained(later, played)


# -- editing ---------------------------------------------------------------------------------


def parse_row(text: str, song: Song | None = None) -> Row:
    """One row in pattern text (``E-5 01 vib:2,24``) by the pattern parser's own row rules.

    Without ``song`` only the syntax is checked; with it, the instrument must be defined there.
    Raises :class:`PatternError` (its column counts in ``text``, from 1).
    """
    # parse.py has no public entry for one row; its parser, set inside a pattern section, is
    # the one place the row rules live, so a row here can never mean something else there.
    from sidlang.patterns.parse import _Parser

    toks = tokens(text)
    if not toks:
        raise PatternError(
            "an empty row",
            column=len(text) + 1,
            text=text,
            hint="NOTE [INSTR] [EFFECT], e.g. 'C-4 01 vib:2,24', '---' or '==='",
        )
    parser = _Parser(text, None)
    parser.where = 1
    parser.section = ("pattern", Pattern())
    parser.in_pattern(toks)
    if song is not None:
        parser.song = song
        parser.check_refs()
    return parser.section[1].rows[0]


def check_pattern(song: Song, number: int) -> Pattern:
    if number not in song.patterns:
        known = ", ".join(str(k) for k in sorted(song.patterns)) or "none"
        raise UsageError(f"pattern {number} is not in the song (patterns: {known})")
    return song.patterns[number]


def with_row(song: Song, number: int, index: int, row: Row) -> Song:
    """``song`` with row ``index`` of pattern ``number`` replaced (one past the end: added)."""
    pattern = check_pattern(song, number)
    n = len(pattern.rows)
    if not 0 <= index <= n or index >= MAX_ROWS:
        raise UsageError(
            f"pattern {number} has rows 0–{n - 1}; row {index} is not one of them"
            + (f" (row {n} adds one)" if n < MAX_ROWS else "")
        )
    rows = list(pattern.rows)
    rows[index : index + 1] = [row]
    return dataclasses.replace(song, patterns={**song.patterns, number: Pattern(rows)})


def transposed(song: Song, number: int, semitones: int) -> Song:
    """``song`` with every note of pattern ``number`` moved; a note leaving C-0–B-7 refuses it."""
    pattern = check_pattern(song, number)
    notes = [r.note for r in pattern.rows if r.note is not None and r.note != GATE_OFF]
    low, high = NOTE_RANGE
    if notes and (min(notes) + semitones < low or max(notes) + semitones > high):
        room = f"{low - min(notes):+d} to {high - max(notes):+d}"
        raise UsageError(
            f"ptranspose {number} {semitones:+d} takes notes past C-0–B-7 "
            f"(pattern {number} spans {note_name(min(notes))}–{note_name(max(notes))}: it moves {room})"
        )
    rows = [
        r if r.note is None or r.note == GATE_OFF else dataclasses.replace(r, note=r.note + semitones)
        for r in pattern.rows
    ]
    return dataclasses.replace(song, patterns={**song.patterns, number: Pattern(rows)})


def pattern_number(word: str) -> int:
    """A command argument: a pattern number 0–255."""
    if not (word.isascii() and word.isdigit()) or int(word) > MAX_PATTERN:
        raise ValueError(f"a pattern number 0–{MAX_PATTERN} expected, got {word!r}")
    return int(word)


def row_number(word: str) -> int:
    """A command argument: a row number 0–255."""
    if not (word.isascii() and word.isdigit()) or int(word) >= MAX_ROWS:
        raise ValueError(f"a row number 0–{MAX_ROWS - 1} expected, got {word!r}")
    return int(word)


# -- seeing ----------------------------------------------------------------------------------


def _cell(row: Row | None, colour: str) -> Text:
    if row is None:
        return Text("")
    note = "---" if row.note is None else "===" if row.note == GATE_OFF else note_name(row.note)
    text = Text(note, style=colour if row.note is not None else "dim")
    text.append(" ")
    text.append(
        "--" if row.instrument is None else f"{row.instrument:02d}",
        style="dim" if row.instrument is None else "cyan",
    )
    if row.effect is not None:
        text.append(" " + dump_effect(row.effect), style="yellow")
    return text


def orderlists(song: Song, sub: int) -> Group:
    """Each voice's orderlist as the text writes it (``0 0+5 @1*2``)."""
    s = song.subtunes[sub - 1]
    tempo = " ".join(str(t) for t in s.tempo)
    table = Table(box=None, show_header=False, padding=(0, 1), pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for v in range(song.voices):
        order = s.orders.get(v)
        words = (
            " ".join(line.split(None, 1)[1] for line in dump_orderlist(v, order))
            if order and order.entries
            else "(silent)"
        )
        table.add_row(Text(f"v{v + 1}", style=VOICE_COLOURS[v % 3]), words)
    return Group(
        Text(f"subtune {sub} of {len(song.subtunes)}, tempo {tempo}; orderlists:", style="dim"), table
    )


def _rows_table(columns: list[tuple[str, str, Pattern | None]]) -> Table:
    table = Table(box=None, header_style="bold", padding=(0, 2), pad_edge=False)
    table.add_column("row", justify="right", style="dim", no_wrap=True)
    for title, colour, _ in columns:
        table.add_column(title, style=colour, no_wrap=True)
    height = max((len(p.rows) for _, _, p in columns if p is not None), default=0)
    for i in range(height):
        cells = [
            _cell(p.rows[i] if p is not None and i < len(p.rows) else None, colour)
            for _, colour, p in columns
        ]
        table.add_row(str(i), *cells)
    return table


def patterns_view(song: Song, sub: int, number: int | None = None) -> Group:
    """The orderlists, then pattern ``number``'s rows, or (None) the first pattern of each
    voice's orderlist side by side: row number, then per voice ``note instr effect``."""
    head = Text(f"{song.title or '(untitled)'}", style="bold")
    if song.author:
        head.append(f" by {song.author}", style="")
    head.append(f" — {len(song.patterns)} patterns, {len(song.instruments)} instruments", style="dim")
    s = song.subtunes[sub - 1]
    if number is not None:
        pattern = check_pattern(song, number)
        users = [
            f"v{v + 1}" for v, o in sorted(s.orders.items()) if any(e.pattern == number for e in o.entries)
        ]
        used = f"played by {' '.join(users)}" if users else "not in this subtune's orderlists"
        columns = [(f"pattern {number} ({len(pattern.rows)} rows, {used})", "", pattern)]
    else:
        columns = []
        for v in range(song.voices):
            order = s.orders.get(v)
            first = order.entries[0].pattern if order and order.entries else None
            title = f"v{v + 1}: pattern {first}" if first is not None else f"v{v + 1}: (silent)"
            columns.append((title, VOICE_COLOURS[v % 3], song.patterns.get(first)))
    names = Text("instruments: ", style="dim")
    names.append(
        ", ".join(f"{n:02d} {i.name}".rstrip() for n, i in sorted(song.instruments.items())) or "none",
        style="cyan",
    )
    return Group(head, orderlists(song, sub), names, Text(""), _rows_table(columns))
