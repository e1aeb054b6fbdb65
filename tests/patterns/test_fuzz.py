"""Seeded fuzzing: a mangled song is a PatternError or a song that prints, parses and plays."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings

from sidlang.patterns import PatternError, dump, parse
from sidlang.patterns.player import play

from .strategies import songs
from .test_text import EXAMPLE

ALPHABET = ' \n\t#"\\$%+-*@:,=0123456789abcdefvx-CDEFGAB'


def mangle(text: str, rng: random.Random) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(chars))
        kind = rng.randrange(3)
        if kind == 0:
            del chars[i]
        elif kind == 1:
            chars.insert(i, rng.choice(ALPHABET))
        else:
            chars[i] = rng.choice(ALPHABET)
    return "".join(chars)


def test_mangled_text_is_an_error_with_a_position_or_a_song_that_plays():
    rng = random.Random(1364)
    text = EXAMPLE.read_text()
    parsed = 0
    for _ in range(400):
        bad = mangle(text, rng)
        try:
            song = parse(bad, "fuzz.sidp")
        except PatternError as e:
            assert e.line is not None and 1 <= e.line <= bad.count("\n") + 1
            assert e.column >= 1
            continue
        parsed += 1
        assert parse(dump(song)) == song
        play(song, frames=120)
    assert 0 < parsed < 400


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(songs())
def test_every_song_the_text_can_hold_plays(song):
    for number in range(1, len(song.subtunes) + 1):
        tune = play(song, number, frames=150)
        assert tune.header.frames == 150
        assert tune.header.chips == song.chips
