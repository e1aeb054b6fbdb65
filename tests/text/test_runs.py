"""REPEAT and FLIP: exact shorthand for sweeps and vibrato, in both directions."""

import pytest
from hypothesis import given

from sidlang import SidlangSyntaxError, dumps, parse
from tests.strategies import swept_tunes


def values(tune, reg_lo):
    w = tune.writes
    lo = w[w["reg"] == reg_lo]["val"].tolist()
    hi = w[w["reg"] == reg_lo + 1]["val"].tolist()
    return [h << 8 | v for v, h in zip(lo, hi)]


def test_repeat_adds_every_frame():
    t = parse("0 v1 pw=$400\n1 v1 pw+=16*4")
    assert values(t, 2) == [0x400, 0x410, 0x420, 0x430, 0x440]
    assert (t.writes["cycle"][2::2] // 19656).tolist() == [1, 2, 3, 4]


def test_flip_alternates():
    t = parse("0 v2 freq=$1000\n1 v2 freq~=24*5")
    assert values(t, 7) == [0x1000, 0x1018, 0x1000, 0x1018, 0x1000, 0x1018]


def test_repeat_down_and_on_a_byte_field():
    t = parse("0 v1 ad=$40\n1 v1 ad-=16*3")
    assert t.writes["val"].tolist() == [0x40, 0x30, 0x20, 0x10]


def test_run_writes_go_after_earlier_writes_of_their_frame():
    t = parse("0 v1 pw=$400\n1 v1 pw+=1*3@100\n2 v1 ad=1@50 sr=2@150")
    frame2 = [(int(c) % 19656, int(r)) for c, _, r, _ in t.writes.tolist() if 19656 * 2 <= c < 19656 * 3]
    assert frame2 == [(50, 5), (100, 2), (100, 3), (150, 6)]


def test_runs_continue_through_frames_without_lines_and_past_the_last_line():
    t = parse("0 vol=1 v1 pw+=1*10")
    assert len(t.frames) == 10


def test_printer_uses_runs_for_sweeps_and_vibrato():
    text = "0 v1 pw=$400 freq=$1000\n1 v1 pw+=16*20 freq~=24*20\n"
    t = parse(text)
    out = dumps(t)
    assert "pw+=16*20" in out and "freq~=24*20" in out
    assert parse(out) == t


@pytest.mark.parametrize(
    "text, needle",
    [
        ("0 v1 pw*=3", "unknown field"),
        ("0 v1 freq~=24", "'*' counts the frames"),
        ("0 v1 freq=24*3", "'*' counts the frames"),
        ("0 vol+=1*3", "runs work on whole-register and two-byte fields"),
        ("0 v1 pw+=16*0", "bad frame count"),
        ("0 v1 pw=$ff0\n1 v1 pw+=16*3", "goes out of range"),
        ("@gap 10\n0 v1 pw+=1*3@100\n1 v1 ad=1@105", "falls between the two bytes"),
    ],
)
def test_run_errors(text, needle):
    with pytest.raises(SidlangSyntaxError, match=needle.replace("*", r"\*")):
        parse(text)


def test_out_of_range_points_at_the_run_token():
    with pytest.raises(SidlangSyntaxError) as e:
        parse("0 v1 pw=$ff0\n1 v1 ad=1 pw+=16*3")
    assert (e.value.line, e.value.column) == (2, 11)


@given(swept_tunes())
def test_swept_tunes_round_trip(tune):
    text = dumps(tune)
    assert parse(text) == tune
    assert dumps(parse(text)) == text
