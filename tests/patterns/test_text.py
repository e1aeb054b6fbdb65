"""The pattern text: parse(dump(song)) == song, the print is stable, and mistakes point home."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from sidlang.errors import FormatError
from sidlang.patterns import PatternError, dump, parse
from sidlang.patterns.model import GATE_OFF, Effect, OrderEntry, Row

from .strategies import songs

EXAMPLE = Path(__file__).parents[2] / "examples" / "first-pattern.sidp"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(songs())
def test_parse_dump_round_trip(song):
    text = dump(song)
    assert parse(text) == song
    assert dump(parse(text)) == text


def test_the_example_parses_and_prints_back():
    song = parse(EXAMPLE.read_text(), str(EXAMPLE))
    assert sorted(song.instruments) == [1, 2, 3, 4]
    assert song.subtunes[0].tempo == (7, 5)
    assert parse(dump(song)) == song


SMALL = """\
instr 1
  ad $0a
  sr $a6
  wave pulse +0
pattern 0
  C#4 01 up:$20
  === -- vib:2,8
  --- -- route:v1,v3
subtune 1
  tempo 6 4
  v1 0+12*2 @0-3
"""


def test_rows_and_orderlists_read_as_written():
    song = parse(SMALL)
    rows = song.patterns[0].rows
    assert rows[0] == Row(61, 1, Effect("up", (32,)))
    assert rows[1] == Row(GATE_OFF, None, Effect("vib", (2, 8)))
    assert rows[2] == Row(None, None, Effect("route", (5,)))
    order = song.subtunes[0].orders[0]
    assert order.entries == [OrderEntry(0, 12, 2), OrderEntry(0, -3, 1)]
    assert order.loop == 1


def test_comments_blank_lines_and_indentation_do_not_matter():
    noisy = "\n".join(f"   {line}   # note" if line else "" for line in SMALL.splitlines())
    assert parse(noisy) == parse(SMALL)


def _error(text: str) -> PatternError:
    with pytest.raises(PatternError) as info:
        parse(text, "song.sidp")
    assert isinstance(info.value, FormatError)
    return info.value


@pytest.mark.parametrize(
    "text, line, col, words",
    [
        ('titel "x"\n', 1, 1, "did you mean 'title'"),
        ("chips 4\n", 1, 7, "chips is 1–3"),
        ("instr 1\n  ad $100\n", 2, 6, "ad is 0–255"),
        ("instr 1\n  wave pulse,gate +0\n", 2, 8, "the gate is the player's"),
        ("instr 1\n  wave pulse +0\n  wave loop 3\n", 3, 13, "wave loop step is 0–0"),
        ("instr 1\n  pulse sweep 3\n", 2, 9, "'pulse add D FRAMES'"),
        ("pattern 0\n  C-4 01 upp:3\n", 2, 10, "did you mean 'up'"),
        ("pattern 0\n  C-4 -- vib:0,3\n", 2, 14, "1–255"),
        ("pattern 0\n  H-4 --\n", 2, 3, "a note C-0–B-7"),
        ("pattern 0\n  C-4 --\nsubtune 1\n  v1 0 1x\n", 4, 8, "PATTERN[+T|-T][*R]"),
        ("pattern 0\n  C-4 --\nsubtune 1\n  v4 0\n", 4, 3, "'chips 2' in the header"),
        ("pattern 0\n  C-4 07\nsubtune 1\n  v1 0\n", 2, 7, "defined: none"),
        ("pattern 0\n  C-4 --\nsubtune 1\n  v1 0 5\n", 4, 8, "pattern 5 is not defined"),
        ("pattern 0\npattern 1\n  C-4\nsubtune 1\n", 1, 1, "at least one row"),
        ("pattern 0\n  C-4\n", 2, 1, "no subtune"),
        ('title "open\n', 1, 7, "closing quote"),
    ],
)
def test_errors_point_at_line_and_column(text, line, col, words):
    e = _error(text)
    shown = str(e)
    assert (e.line, e.column) == (line, col), shown
    assert shown.startswith(f"song.sidp:{line}:{col}: ")
    assert words in shown
    assert "^" in e.pretty()


def test_a_huge_bad_word_is_not_echoed_whole():
    e = _error("pattern 0\n  " + "Q" * 100_000 + "\n")
    assert len(str(e)) < 400
