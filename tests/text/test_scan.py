"""The compiled token scanner (:mod:`sidlang.text.scan`) against the Python cut it replaces."""

import random
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidlang import dumps, parse
from sidlang.testing import player_log
from sidlang.text import fastparse
from sidlang.text.fastparse import _cut
from sidlang.text.scan import scan
from tests.strategies import mutate, swept_tunes, tunes


def body(text: str) -> str:
    """The frame lines of a printed tune (what the fast path hands the scanner)."""
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line[:1].isdigit()), len(lines))
    return "\n".join(lines[first:])


def python_cut(text: str):
    try:
        return _cut(text)
    except OverflowError:  # a number past 64 bits: the fast path steps aside either way
        return None


def refused(text: str) -> bool:
    """What the scanner refuses besides what the Python cut does: comments, control bytes."""
    return any(ord(c) < 32 and c != "\n" for c in text) or " #" in text or "\n#" in text or " @" in text


def assert_same(text: str) -> None:
    a, b = scan(text), python_cut(text)
    if a is None and b is not None and refused(text):
        return
    assert (a is None) == (b is None), (text[:200], a is None)
    if a is not None:
        for x, y in zip(a[:3], b[:3]):
            assert np.array_equal(x, y)
        assert a[3] == b[3]


@settings(max_examples=120)
@given(st.one_of(tunes(), swept_tunes()))
def test_printed_tunes_scan_like_python(tune):
    assert_same(body(dumps(tune)))


ODD = [
    "",
    "\n",
    "0",
    "0 ",
    "0 v1\n\n\n3 x",
    " 0 v1",
    "0 v1@",
    "0 v1@x",
    "0 v1@1@2",
    "0 @5",
    "0 v1@12345678901234567",
    "0 v1@12345678901234567890",
    "1234567890123456 v1",
    "0 a  b   c\n1\n2 a@3 a@4 b",
    "0 v1\n x",
    "x v1",
    "0 a@007 a@7",
    "0 ab abc ab@1 abc@2\n5 abc",
    "0 v1 # hi",
    "0 v1\t2",
    "0 v1\r\n1 v2",
    "0 C#4 @5",
]


@pytest.mark.parametrize("text", ODD)
def test_odd_shapes_scan_like_python(text):
    assert_same(text)


def test_mutated_logs_scan_like_python():
    """Bytes swapped, dropped and inserted in a player log: both agree on every result."""
    text = body(dumps(player_log(200)))
    rng = random.Random(5)
    alphabet = "0123456789@ \nv1=$af#\t\r"
    for _ in range(300):
        assert_same(mutate(rng, text[: rng.randrange(50, 3000)], alphabet, most=3))


@pytest.mark.parametrize("odd", [" # a comment", "\t", "\r", " @40", "\x00"])
def test_long_texts_with_comments_or_control_bytes_parse_exactly(odd):
    """The scanner refuses them; the result is the exact parser's (a Tune or its error)."""
    from sidlang import SidlangSyntaxError
    from sidlang.text.parse import Parser

    text = dumps(player_log(400))
    at = text.index("\n200 ") + 1
    at = text.index("\n", at)
    odd_text = text[:at] + odd + text[at:]
    assert scan(body(odd_text)) is None
    try:
        exact = Parser(odd_text, "t").parse()
    except SidlangSyntaxError as e:
        with pytest.raises(SidlangSyntaxError, match=re.escape(str(e).split(": ", 1)[1][:30])):
            parse(odd_text)
    else:
        assert parse(odd_text) == exact


def test_long_texts_take_the_scanner(monkeypatch):
    """A long printed tune is cut by the scanner, and parses to the same tune."""
    tune = player_log(1000)
    text = dumps(tune)
    assert len(text) > fastparse.SCAN_FROM

    def no_python_cut(text):
        raise AssertionError("the Python cut ran")

    monkeypatch.setattr(fastparse, "_cut", no_python_cut)
    assert parse(text) == tune
    assert (
        fastparse.parse_fast(__import__("sidlang.text.parse", fromlist=["Parser"]).Parser(text, "t")) == tune
    )
