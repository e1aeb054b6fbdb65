"""The frames view: boundaries, per-frame writes and offsets, register state; frame inference."""

import numpy as np
import pytest
from hypothesis import given

from sidlang import parse
from sidlang.frames import default_gap, infer_frame_timing
from sidlang.pitch import NTSC_FRAME, PAL_FRAME
from sidlang.registers import N_WRITABLE
from sidlang.testing import player_log
from tests.strategies import tunes


@given(tunes())
def test_state_matches_a_plain_loop(tune):
    fr = tune.frames
    for chip in range(tune.header.chips):
        expect = np.zeros((len(fr), N_WRITABLE), np.uint8)
        regs = np.zeros(N_WRITABLE, np.uint8)
        for n in range(len(fr)):
            for _, c, r, v in fr[n].writes.tolist():
                if c == chip and r < N_WRITABLE:
                    regs[r] = v
            expect[n] = regs
        assert np.array_equal(fr.state(chip), expect)


@given(tunes())
def test_frames_partition_the_writes(tune):
    fr = tune.frames
    h = tune.header
    assert sum(len(fr[n]) for n in range(len(fr))) == len(tune.writes)
    for n in range(len(fr)):
        f = fr[n]
        assert f.start == h.start_cycle + n * h.frame_cycles
        assert np.all((f.offsets >= 0) & (f.offsets < h.frame_cycles))
        assert np.array_equal(f.writes["cycle"], f.start + f.offsets)
    assert fr.end_cycle == h.start_cycle + len(fr) * h.frame_cycles


def test_frame_access_and_length():
    t = parse("0 vol=1\n3 vol=2\nwait 4")
    fr = t.frames
    assert len(fr) == 8 and [len(f) for f in fr] == [1, 0, 0, 1, 0, 0, 0, 0]
    assert fr[-1].index == 7 and len(fr[1:3]) == 2
    with pytest.raises(IndexError):
        fr[8]


@pytest.mark.parametrize(
    "length, jitter",
    [
        (PAL_FRAME, 0),
        (PAL_FRAME, 7),
        (NTSC_FRAME, 0),
        (PAL_FRAME // 4, 0),
        (PAL_FRAME // 2, 5),
    ],
)
def test_inference_finds_the_tick_and_puts_bursts_at_frame_starts(length, jitter):
    t = player_log(150, jitter=jitter)
    w = t.writes.copy()
    frame = (w["cycle"] - t.header.start_cycle) // PAL_FRAME
    w["cycle"] -= frame * (PAL_FRAME - length)
    L, S, source = infer_frame_timing(w["cycle"])
    assert (L, source) == (length, "bursts")
    index = (w["cycle"] - S) // L
    assert np.array_equal(np.unique(index), np.arange(150))  # one burst per frame
    assert S <= int(w["cycle"][0])


def test_inference_falls_back_on_too_little_or_implausible_data():
    assert infer_frame_timing(np.array([5, 10, 15]))[2] == "header"
    sparse = np.cumsum(np.tile([3, 3, 3, 10_000_000], 10))
    assert infer_frame_timing(sparse)[:1] == (PAL_FRAME,)


def test_default_gap_prefers_folding_two_byte_fields():
    t = parse("@gap 11\n" + "\n".join(f"{n} v1 freq=$1234@0 ad=1@30 sr=2@39 wave=gate@60" for n in range(20)))
    # gaps per frame: 11 (the freq pair), 19, 9, 21: 11 and 9 are as common, but the pair folds
    assert default_gap(t.writes, 0, PAL_FRAME) == 11
