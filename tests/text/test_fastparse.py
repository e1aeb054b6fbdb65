"""The parser's bulk path (:mod:`sidlang.text.fastparse`) against the exact parser.

``parse`` takes the bulk path where it applies and the exact parser otherwise; the bulk path
must give exactly the exact parser's Tune, or step aside (None), never something else, and
never where the exact parser reports a mistake.
"""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from sidlang import SidlangSyntaxError, dumps
from sidlang.pitch import NTSC_HZ, PAL_HZ, note_to_reg, parse_note
from sidlang.testing import player_log
from sidlang.text.fastparse import note_regs, parse_fast
from sidlang.text.parse import Parser, parse
from tests.strategies import mutate, swept_tunes, tunes


def both(text: str):
    """(bulk result or None, exact result or the exact parser's error message)."""
    fast = parse_fast(Parser(text, "t.sidl"))
    try:
        exact = Parser(text, "t.sidl").parse()
    except SidlangSyntaxError as e:
        return fast, str(e)
    return fast, exact


def assert_agree(text: str) -> None:
    fast, exact = both(text)
    if isinstance(exact, str):
        assert fast is None, f"the bulk path accepted what the exact parser rejects: {exact}"
    elif fast is not None:
        assert fast == exact and fast.header == exact.header


@settings(max_examples=150)
@given(st.one_of(tunes(), swept_tunes()))
def test_printed_tunes_agree(tune):
    text = dumps(tune)
    fast, exact = both(text)
    assert exact == tune
    if fast is not None:
        assert fast == exact and fast.header == exact.header


def test_player_logs_with_runs_and_interrupts():
    runs = 0
    for tune in (player_log(3000), player_log(3000, irq=True), player_log(120, chips=2, irq=True)):
        text = dumps(tune)
        runs += "*" in text  # runs are part of the plain form
        fast, exact = both(text)
        assert fast is not None and fast == exact == tune
    assert runs


HAND = """\
# sidlang 1
@clock pal
@gap 8

0 v1 ad=$0a sr=$a6 pw=$400 | v2 ad=$08 | cut=$200 res=12 route=v2 mode=lp vol=15
1 v1 freq=E-5 wave=pulse,gate | v2 freq=$1d45 wave=saw,gate@300
2 v1 pw+=16*4 freq~=24*3 | s1.v3 a=1 d=2 s=3@40 r=4 | $19=$00 $d41a=$01
3 v1 wave=test wave=pulse,gate@200 pw=$123@210
9 irq@5 nmi@7
12
"""


def test_hand_written_forms_agree():
    fast, exact = both(HAND)
    assert fast is not None and fast == exact and fast.header == exact.header


def test_unusual_lines_step_aside():
    for tail in (
        "13 v1 freq+=3\n",
        "wait 4\n",
        "v1 wave=0\n",
        "13 vol=3\n",
        "13 v1 wave=0 # hi\n",
        "13 v1 wave=0\r\n",
        "  13 v1 wave=0\n",
        "13 a=1 a=2\n",
        "13 irq@x\n",
    ):
        text = HAND + tail
        fast, exact = both(text)
        assert fast is None, tail
        assert_agree(text)


def test_mistakes_are_the_exact_parsers():
    for tail in (
        "13 v1 frq=3\n",
        "11 v1 wave=0\n",
        "13 freq=$10\n",
        "13 v1 freq=$10@19999\n",
        "13 v1 pw=$1@50 wave=0@40\n",
        "13 v1 pw+=4000*2\n",
        "13 noirq@4\n",
        "13 s3 vol=1\n",
    ):
        text = HAND + tail
        fast, exact = both(text)
        assert fast is None and isinstance(exact, str), tail
        try:
            parse(text, "t.sidl")
        except SidlangSyntaxError as e:
            assert str(e) == exact  # file:line:col, from the exact parser
        else:
            raise AssertionError(tail)


def test_note_names_the_printer_writes_parse_to_their_value():
    for clock in (PAL_HZ, NTSC_HZ, 1_000_000):
        for name, reg in note_regs(clock).items():
            midi, cents = parse_note(name)
            assert note_to_reg(midi, cents, clock) == reg


SEED = dumps(player_log(40, chips=2, irq=True)) + HAND.split("\n\n", 1)[1].replace("\n", "\n", 1)
ALPHABET = "0123456789$@=+-~|.,#*v sfrqpwadegl\n"


def test_mutated_text_agrees_seeded():
    rng = random.Random(99)
    tokens = SEED.split(" ")
    for _ in range(300):
        assert_agree(mutate(rng, " ".join(tokens), ALPHABET))


@settings(max_examples=150)
@given(st.data())
def test_token_swaps_and_drops_agree(data):
    lines = dumps(data.draw(st.one_of(tunes(max_frames=8), swept_tunes()))).split("\n")
    i = data.draw(st.integers(0, len(lines) - 1))
    words = lines[i].split(" ")
    if len(words) > 1:
        j = data.draw(st.integers(0, len(words) - 1))
        k = data.draw(st.integers(0, len(words) - 1))
        if data.draw(st.booleans()):
            words[j], words[k] = words[k], words[j]
        else:
            del words[j]
    lines[i] = " ".join(words)
    assert_agree("\n".join(lines))
