"""The language's promises: lossless (parse(dumps(t)) == t) and canonical (a fixed point)."""

from hypothesis import given

from sidlang import dumps, parse
from sidlang.testing import player_log
from tests.strategies import tunes


@given(tunes())
def test_text_round_trip_is_lossless(tune):
    text = dumps(tune)
    assert parse(text) == tune


@given(tunes())
def test_printing_is_canonical(tune):
    text = dumps(tune)
    assert dumps(parse(text)) == text


@given(tunes(chips=1, events=False, regs=25))
def test_single_chip_without_events(tune):
    assert parse(dumps(tune)) == tune


def test_player_log_round_trip_with_irqs_and_two_chips():
    for tune in (player_log(300, chips=2, irq=True), player_log(300, jitter=0)):
        text = dumps(tune)
        assert parse(text) == tune
        assert dumps(parse(text)) == text


def test_typical_frame_reads_as_one_line():
    tune = player_log(10, jitter=0)
    lines = [ln for ln in dumps(tune).splitlines() if ln and ln[0].isdigit()]
    assert len(lines) == 10
    assert lines[0].startswith("0 v1 ")
    assert "| v2 " in lines[0] and "| v3 " in lines[0] and "vol=15" in lines[0]
