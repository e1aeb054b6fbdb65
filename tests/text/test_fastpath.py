"""How often the parser's fast path (:mod:`sidlang.text.fastparse`) is taken, and that it is right.

The fast path declines (:class:`~sidlang.text.tokens.Decline`) what it does not handle; it
catches nothing else, so a bug in it fails here instead of quietly costing speed. The texts
are those the examples ship and the kinds a user loads most: printed player logs (dense, with
runs, under ``@timing irq``, two chips), typed runs and interrupt events, a header with every
directive. The common ones must be taken and give exactly the exact parser's Tune; the
hand-typed example, with comments and relative changes, and a bit field written alone
(``vol=3`` without ``mode=``) are declined on purpose.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidlang import dumps
from sidlang.patterns import parse as parse_pattern
from sidlang.patterns.player import play
from sidlang.testing import player_log
from sidlang.text import fastparse
from sidlang.text.fastparse import parse_plain
from sidlang.text.parse import Parser, parse
from sidlang.text.tokens import Decline
from tests.strategies import swept_tunes, tunes

EXAMPLES = Path(__file__).parents[2] / "examples"
FIRST_LIGHT = (EXAMPLES / "first-light.sidl").read_text()

RUNS = """\
# sidlang 1
@clock pal
@gap 8

0 v1 ad=$0a sr=$a6 pw=$400 wave=pulse,gate | v2 ad=$08 sr=$c8 | res=12 route=v2 mode=lp vol=15
1 v1 freq=E-5 pw+=16*8 | v2 freq=A-2 wave=saw,gate freq~=24*6 | cut=$200
4 v3 pw=$800 freq=$1d45 wave=tri,gate pw-=8*3
12 v1 wave=pulse | v2 wave=saw
"""

EVENTS = """\
# sidlang 1
@clock ntsc
@timing irq
@gap 4

0 irq@10 v1 freq=C-4 wave=pulse,gate@40 | mode=lp vol=15
1 v1 freq=D-4
2 nmi@100 v1 freq=E-4
3 noirq v1 freq=F-4@200
5 irq@0 irq@9000 v2 freq=G-4 nmi@9100
8 nmi@5
"""

HEADER = """\
# sidlang 1
# a tune with every directive
@title "Header Test"
@author "sidlang"
@released "2026 tests"
@clock pal
@model 8580 6581
@sids $d400 $d420
@frame 19656
@start 1000
@gap 6
@frames 40

0 v1 freq=A-4 wave=saw,gate | s2.v1 freq=A-3 wave=pulse,gate | s2 mode=0 vol=15 | s1 mode=lp vol=15
1 s2.v2 $d405=$09 $06=$a8
20 v1 wave=saw
"""


def _pattern_example() -> str:
    return dumps(play(parse_pattern((EXAMPLES / "first-pattern.sidp").read_text())))


#: name -> (text, whether the fast path takes it)
CASES = {
    "dense player log": (lambda: dumps(player_log(3000)), True),
    "player log, @timing irq": (lambda: dumps(player_log(3000, irq=True)), True),
    "player log, two chips": (lambda: dumps(player_log(240, chips=2, irq=True)), True),
    "typed runs": (lambda: RUNS, True),
    "irq, nmi and noirq": (lambda: EVENTS, True),
    "every directive": (lambda: HEADER, True),
    "first-light.sidl printed": (lambda: dumps(parse(FIRST_LIGHT)), True),
    "first-pattern.sidp played and printed": (_pattern_example, True),
    "first-light.sidl as typed (comments, += changes)": (lambda: FIRST_LIGHT, False),
    "a lone bit field (vol=15 without mode=)": (lambda: RUNS + "13 vol=3\n", False),
}


def fast_or_reason(text: str):
    """The fast path's Tune, or its reason for declining."""
    try:
        return parse_plain(Parser(text, "t.sidl"))
    except Decline as e:
        return e.reason


@pytest.mark.parametrize("name", list(CASES))
def test_common_texts_take_the_fast_path(name):
    make, taken = CASES[name]
    text = make()
    got = fast_or_reason(text)
    exact = Parser(text, "t.sidl").parse()
    if taken:
        assert not isinstance(got, str), f"{name}: declined ({got})"
        assert got == exact and got.header == exact.header
    else:
        assert isinstance(got, str)
    assert parse(text, "t.sidl") == exact


def test_share_taken(capsys):
    """The share of the texts above the fast path takes, by text and by write (printed with -s)."""
    taken = writes = taken_writes = 0
    lines = []
    for name, (make, _) in CASES.items():
        text = make()
        got = fast_or_reason(text)
        n = len(Parser(text).parse().writes)
        writes += n
        if not isinstance(got, str):
            taken += 1
            taken_writes += n
        lines.append(f"  {name}: {'taken' if not isinstance(got, str) else 'declined: ' + got} ({n} writes)")
    with capsys.disabled():
        print(f"\nfast path: {taken} of {len(CASES)} texts, {taken_writes / writes:.1%} of {writes} writes")
        print("\n".join(lines))
    assert taken == sum(t for _, t in CASES.values())


@settings(max_examples=100)
@given(st.one_of(tunes(), swept_tunes()))
def test_printed_tunes_are_taken(tune):
    """What the printer writes is the fast path's: only a text without frame lines is declined."""
    text = dumps(tune)
    got = fast_or_reason(text)
    if isinstance(got, str):
        assert got == "no frame lines", (got, text)
    else:
        assert got == tune


@pytest.mark.parametrize(
    "tail",
    [
        "13 v1 freq+=3\n",
        "wait 4\n",
        "13 v1 wave=0 # hi\n",
        "13 v1 wave=0\r\n",
        "  13 v1 wave=0\n",
        "13 v1 frq=3\n",
        "13 noirq@4\n",
        "11 v1 wave=0\n",
    ],
)
def test_what_it_does_not_handle_is_declined(tail):
    text = RUNS + tail
    assert isinstance(fast_or_reason(text), str)


def test_a_bug_in_the_fast_path_is_not_swallowed(monkeypatch):
    """Only Decline steps aside: any other exception comes out of parse."""

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the fast path")

    monkeypatch.setattr(fastparse, "_piece", broken)
    with pytest.raises(RuntimeError, match="a bug in the fast path"):
        parse(RUNS)
