"""A seeded fuzz of the parser: mutated tunes and random bytes give a Tune or a syntax error."""

import random

from hypothesis import given
from hypothesis import strategies as st

from sidlang import SidlangSyntaxError, dumps, parse
from sidlang.testing import player_log
from tests.strategies import mutate

SEED_TEXT = dumps(player_log(12, chips=2, irq=True)) + '@title "x"\n0 v1 freq=C#4+3c a=1 d=2\n'
ALPHABET = '0123456789$@=+-~|.,#"\\ \n\tvsfrqpwaeglu%xCDEAB_*'


def _parse_or_syntax_error(text: str) -> None:
    try:
        tune = parse(text)
    except SidlangSyntaxError as e:
        assert e.line >= 0 and e.column >= 0
        assert "\n" not in str(e)
        return
    # Whatever parsed must print and parse back to the same Tune.
    assert parse(dumps(tune)) == tune


def test_mutated_text_seeded():
    rng = random.Random(1234)
    for _ in range(400):
        _parse_or_syntax_error(mutate(rng, SEED_TEXT, ALPHABET, most=6))


@given(st.binary(max_size=200))
def test_random_bytes(data):
    _parse_or_syntax_error(data.decode("latin-1"))


@given(st.text(alphabet=ALPHABET, max_size=120))
def test_random_text_from_the_language_alphabet(text):
    _parse_or_syntax_error(text)
