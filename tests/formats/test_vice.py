"""VICE dumps and register logs: byte-identical round trips through sidlang, and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidlang import FormatError, dumps, parse
from sidlang.formats.reglog import read_reglog, write_reglog
from sidlang.formats.vice import read_vice, read_vice6, write_vice, write_vice6
from sidlang.pitch import NTSC_FRAME, PAL_FRAME
from sidlang.testing import player_log
from tests.strategies import tunes


def via_text(tune):
    return parse(dumps(tune))


# -- mainline VICE ---------------------------------------------------------------------
@pytest.mark.parametrize("seed", range(3))
def test_vice_dump_round_trips_byte_for_byte(seed):
    dump = write_vice(player_log(400, seed=seed))
    tune = read_vice(dump)
    assert write_vice(via_text(tune)) == dump
    assert tune.meta["frame_source"] == "bursts"
    assert tune.header.frame_cycles == PAL_FRAME


@given(tunes(events=False))
def test_any_tune_as_vice_dump_round_trips(tune):
    dump = write_vice(tune)
    if not dump:
        return
    again = read_vice(dump)
    assert write_vice(via_text(again)) == dump


@given(
    st.lists(
        st.tuples(st.integers(0, 40000), st.integers(0, 127), st.integers(0, 255)), min_size=1, max_size=60
    )
)
def test_arbitrary_dump_lines_round_trip(rows):
    dump = "".join(f"{d} {r} {v}\n" for d, r, v in rows).encode()
    assert write_vice(via_text(read_vice(dump))) == dump


def test_vice_skips_and_counts_non_numeric_lines():
    dump = b"100 4 65\nSID state: 00 01\n200 4 64\n\n300 24 15\n"
    tune = read_vice(dump)
    assert len(tune.writes) == 3 and tune.meta["skipped_lines"] == 1
    assert write_vice(tune) == b"100 4 65\n200 4 64\n300 24 15\n"


def test_vice_infers_ntsc_and_multispeed_frames():
    for length in (NTSC_FRAME, PAL_FRAME // 4):
        t = player_log(200, jitter=0)
        w = t.writes.copy()
        frame = (w["cycle"] - t.header.start_cycle) // PAL_FRAME
        w["cycle"] = w["cycle"] - frame * (PAL_FRAME - length)
        tune = read_vice(write_vice(t.replace(writes=w, header=t.header.replace(frame_cycles=length))))
        assert tune.header.frame_cycles == length
        # each burst starts its own frame
        assert len(tune.frames) == 200


def test_vice_second_device_is_kept_as_a_chip():
    tune = read_vice(b"10 4 1\n10 36 2\n")
    assert tune.header.chips == 2 and tune.writes["chip"].tolist() == [0, 1]
    assert write_vice(tune) == b"10 4 1\n10 36 2\n"


@pytest.mark.parametrize(
    "dump, line, needle",
    [
        (b"", None, "no 'DELTA REG VAL' lines"),
        (b"hello\n", None, "no 'DELTA REG VAL' lines"),
        (b"1 4 65\n-5 4 1\n", 2, "cycle delta -5"),
        (b"1 4 65\n5 4 256\n", 2, "value 256"),
        (b"1 4 65\n5 300 1\n", 2, "register 300"),
    ],
)
def test_vice_bad_input(dump, line, needle):
    with pytest.raises(FormatError) as e:
        read_vice(dump, "x.vice")
    assert needle in str(e.value) and e.value.line == line
    assert str(e.value).startswith("x.vice")


# -- asid-vice, six columns ---------------------------------------------------------------
@pytest.mark.parametrize("chips, jitter", [(1, 0), (2, 7), (3, 3)])
def test_vice6_round_trips_byte_for_byte(chips, jitter):
    dump = write_vice6(player_log(300, chips=chips, jitter=jitter, irq=True))
    tune = read_vice6(dump)
    assert tune.header.timing == "irq" and tune.header.chips == chips
    assert write_vice6(via_text(tune)) == dump


def test_vice6_frames_follow_the_irqs():
    dump = write_vice6(player_log(100, jitter=0, irq=True))
    tune = read_vice6(dump)
    text = dumps(tune)
    assert tune.header.frame_cycles == PAL_FRAME
    assert "irq@" not in text  # every interrupt sits at its frame start, so none is printed


@given(tunes())
def test_any_tune_as_vice6_round_trips(tune):
    dump = write_vice6(tune)
    if not dump:
        return
    assert write_vice6(via_text(read_vice6(dump))) == dump


def test_vice6_inconsistent_irq_column():
    with pytest.raises(FormatError, match="IRQ time goes backwards") as e:
        read_vice6(b"100 10 100 0 4 1\n100 150 200 0 4 2\n", "x.vice6")
    assert e.value.line == 2
    with pytest.raises(FormatError, match="chip number 9"):
        read_vice6(b"100 10 100 9 4 1\n")


# -- register logs -----------------------------------------------------------------------
def test_reglog_round_trips_and_skips_comments():
    t = player_log(100)
    log = write_reglog(t)
    again = read_reglog(b"# made by a test\n" + log)
    assert again.meta["comment_lines"] == 1 and again.meta["skipped_lines"] == 0
    assert write_reglog(via_text(again)) == log
    assert np.array_equal(again.writes, t.writes)


def test_reglog_clock_must_not_go_back():
    with pytest.raises(FormatError, match="clock goes backwards") as e:
        read_reglog(b"100 4 1\n50 4 2\n")
    assert e.value.line == 2


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(4097, 20000))
def test_write_columns_matches_printf(seed, n):
    """The table-driven column writer gives exactly '%d %d %d\\n' per row, big numbers too."""
    from sidlang.formats._columns import write_columns

    rng = np.random.default_rng(seed)
    huge = rng.integers(0, 1 << 40, n) * (rng.random(n) < 0.05)
    cols = (
        huge + rng.integers(-3, 70000, n),
        rng.integers(0, 256, n),
        rng.integers(0, 256, n).astype(np.uint8),
    )
    want = "".join(f"{a} {b} {c}\n" for a, b, c in zip(*(c.tolist() for c in cols))).encode()
    assert write_columns(*cols) == want


_TOKENS = st.sampled_from(["0", "7", "255", "19656", "0012", "9" * 20, "-3", "+4", "x", "#", ""])
_SEPS = st.sampled_from([" ", " ", " ", "\n", "\n", "  ", "\t", "\r\n", " \n", "\n\n"])


@st.composite
def _column_texts(draw, ncols):
    """Texts of tokens and separators, or plain rows of ``ncols`` numbers with one edit."""
    if draw(st.booleans()):
        return "".join(t + s for t, s in draw(st.lists(st.tuples(_TOKENS, _SEPS), max_size=40)))
    rows = draw(st.lists(st.lists(st.integers(0, 2**64), min_size=ncols, max_size=ncols), max_size=12))
    text = "".join(" ".join(map(str, row)) + "\n" for row in rows)
    if text and draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from([" ", "\n", "\t", "-", "x", "#", "\r", "5", ""]))
        cut = draw(st.integers(0, 1))
        text = text[:at] + edit + text[at + cut :]
    return text


@settings(max_examples=400, deadline=None)
@given(st.data(), st.sampled_from([3, 6]), st.booleans())
def test_plain_column_parser_agrees_with_the_line_splitter(data, ncols, comments):
    """The one-call parse of VICE's plain form gives what splitting line by line gives, and
    leaves every other text (and every error) to the splitter."""
    from sidlang.formats._columns import _read_lines, read_columns

    text = data.draw(_column_texts(ncols)).encode()
    try:
        want = _read_lines(text, ncols, "x", comments)
    except FormatError as e:
        with pytest.raises(FormatError) as got:
            read_columns(text, ncols, "x", comments=comments)
        assert (str(got.value), got.value.line) == (str(e), e.line)
        return
    got = read_columns(text, ncols, "x", comments=comments)
    assert got[0].dtype == want[0].dtype and np.array_equal(got[0], want[0])
    assert np.array_equal(got[1], want[1]) and got[2:] == want[2:]


def test_plain_dump_rows_and_line_numbers():
    from sidlang.formats._columns import read_columns

    rows, numbers, skipped, commented = read_columns(b"100 4 65\n0 24 15\n19656 4 64\n", 3, None)
    assert rows.tolist() == [[100, 4, 65], [0, 24, 15], [19656, 4, 64]]
    assert numbers.tolist() == [1, 2, 3] and (skipped, commented) == (0, 0)
