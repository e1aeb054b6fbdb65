"""Transforms: exact inverses where the docs promise them, and the named changes only."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sidlang import parse
from sidlang import transforms as T
from sidlang.errors import UsageError
from sidlang.pitch import PAL_HZ, note_to_reg
from sidlang.testing import player_log
from tests.strategies import tunes

TUNE = """\
@clock pal
@gap 8
0 v1 ad=$0a sr=$a6 pw=$400 | v2 ad=$08 sr=$c8 | cut=$200 res=12 route=v1,v2 mode=lp vol=15
1 v1 freq=A-4 wave=pulse,gate | v2 freq=C-3 wave=saw,gate
4 v1 freq_lo=$80                # a lone low byte: its high byte stays
6 v1 wave=pulse | v2 wave=saw
8 v3 freq=E-5 wave=tri,gate
9
"""


def states(tune, chip=0):
    return tune.frames.state(chip)


@pytest.fixture
def tune():
    return parse(TUNE)


# -- pitch -----------------------------------------------------------------------------------


def test_transpose_octave_keeps_note_names(tune):
    up = T.transpose(tune, 12)
    assert int(up.frames.state(0)[1, 0]) | int(up.frames.state(0)[1, 1]) << 8 == note_to_reg(81, 0, PAL_HZ)
    assert "freq=A-5" in __import__("sidlang").dumps(up)
    assert len(up.writes) >= len(tune.writes)
    assert np.array_equal(up.writes["cycle"][:10], tune.writes["cycle"][:10])


def test_transpose_only_named_voices(tune):
    up = T.transpose(tune, 5, voices=[1])
    s0, s1 = states(tune), states(up)
    assert np.array_equal(s0[:, 0:7], s1[:, 0:7])  # voice 1 untouched
    assert not np.array_equal(s0[:, 7:9], s1[:, 7:9])
    assert np.array_equal(s0[:, 21:], s1[:, 21:])


def test_lone_byte_gets_partner_written(tune):
    # Frame 4 writes only the low byte; up an octave the high byte must change too.
    up = T.transpose(tune, 12, snap=False)
    frame4 = up.frames[4]
    assert [int(r) for r in frame4.writes["reg"]] == [0, 1]
    assert frame4.writes["cycle"][0] == frame4.writes["cycle"][1]
    value = lambda t, f: int(states(t)[f, 0]) | int(states(t)[f, 1]) << 8  # noqa: E731
    assert value(up, 4) == round(value(tune, 4) * 2)


def test_transpose_clips_and_counts():
    t = parse("0 v1 freq=$f000\n")
    up = T.transpose(t, 12)
    assert up.meta["clipped"] == 1
    assert int(states(up)[0, 0]) == 0xFF and int(states(up)[0, 1]) == 0xFF


@given(tunes(max_frames=12, max_writes=8), st.integers(0, 24), st.integers(0, 99))
def test_transpose_up_then_down_is_identity(t, semis, cents):
    up = T.transpose(t, semis, cents=cents, snap=False)
    if up.meta["clipped"]:
        return
    down = T.transpose(up, -semis, cents=-cents, snap=False)
    for chip in range(t.header.chips):
        assert np.array_equal(states(down, chip), states(t, chip))
    if len(up.writes) == len(t.writes):
        assert down == t


@given(st.lists(st.integers(24, 90), min_size=1, max_size=12), st.integers(-12, 12))
def test_transpose_notes_with_snap_is_identity(notes, semis):
    names = ["C-", "C#", "D-", "D#", "E-", "F-", "F#", "G-", "G#", "A-", "A#", "B-"]
    text = "\n".join(f"{i} v1 freq={names[n % 12]}{n // 12 - 1}" for i, n in enumerate(notes))
    t = parse(text)
    back = T.transpose(T.transpose(t, semis), -semis)
    assert back == t


def test_set_clock_keeps_pitch_and_tempo(tune):
    ntsc = T.set_clock(tune, 1022727)
    assert ntsc.header.clock_hz == 1022727
    assert abs(ntsc.seconds - tune.seconds) < 1e-3
    hz = lambda t, f: (int(states(t)[f, 0]) | int(states(t)[f, 1]) << 8) * t.header.clock_hz / 2**24  # noqa: E731
    assert abs(hz(ntsc, 1) - hz(tune, 1)) < 0.05
    video = T.set_clock(tune, 1022727, keep_tempo=False)
    assert video.header.frame_cycles == 17095


def test_set_model(tune):
    assert T.set_model(tune, 8580).header.models == (8580,)
    assert T.set_model(tune, 8580).writes is not None
    with pytest.raises(UsageError):
        T.set_model(tune, 6582)


# -- voices ----------------------------------------------------------------------------------


@given(tunes(max_frames=10, max_writes=10), st.integers(0, 2), st.integers(0, 2))
def test_swap_twice_is_identity(t, a, b):
    assert T.swap_voices(T.swap_voices(t, a, b), a, b) == t


@given(tunes(max_frames=10, max_writes=10))
def test_rotate_three_times_is_identity(t):
    assert T.rotate_voices(T.rotate_voices(T.rotate_voices(t))) == t


def test_swap_moves_registers_and_routing(tune):
    s = T.swap_voices(tune, 0, 1)
    a, b = states(tune), states(s)
    assert np.array_equal(a[:, 0:7], b[:, 7:14]) and np.array_equal(a[:, 7:14], b[:, 0:7])
    t2 = parse("0 res=1 route=v1\n")
    assert int(T.swap_voices(t2, 0, 2).writes["val"][0]) == 0x14  # route=v3


def test_mute_and_solo(tune):
    m = T.mute(tune, [0])
    assert not (states(m)[:, 4] & 1).any()
    assert np.array_equal(states(m)[:, 11], states(tune)[:, 11])
    s = T.solo(tune, [0])
    assert (states(s)[:, 4] & 1).any() and not (states(s)[:, 11] & 1).any()
    assert len(s.writes) == len(tune.writes)


def test_melody_and_simplify(tune):
    # Voice 3 plays E-5 above the others from frame 8 on; voice 1's A-4 is the top line before.
    assert T.melody_voice(tune) == 0
    alone = T.simplify(tune)
    regs = set(alone.writes["reg"].tolist())
    assert regs <= set(range(0, 7)) | set(range(21, 32))
    assert len(alone.frames) == len(tune.frames)
    assert T.simplify(tune, voice=2).writes["reg"].min() >= 14


# -- frames ----------------------------------------------------------------------------------


@given(tunes(max_frames=15, max_writes=6), st.data())
def test_cut_and_paste_back_is_identity(t, data):
    n = len(t.frames)
    a = data.draw(st.integers(0, n))
    b = data.draw(st.integers(a, n))
    clip = T.slice_frames(t, a, b)
    assert len(clip.frames) == b - a
    back = T.paste(T.cut(t, a, b), clip, a)
    assert np.array_equal(back.writes, t.writes)
    assert np.array_equal(back.irq, t.irq) and np.array_equal(back.nmi, t.nmi)
    assert len(back.frames) == n


@given(tunes(max_frames=15, max_writes=6), st.integers(1, 4))
def test_stretch_then_squeeze_is_identity(t, k):
    s = T.stretch(t, k)
    assert len(s.frames) == len(t.frames) * k
    back = T.squeeze(s, k)
    assert np.array_equal(back.writes, t.writes)
    assert len(back.frames) == len(t.frames)


def test_repeat(tune):
    r = T.repeat(tune, 1, 4, times=3)
    assert len(r.frames) == len(tune.frames) + 6
    assert T.slice_frames(r, 4, 7) == T.slice_frames(tune, 1, 4)
    assert T.slice_frames(r, 7, 10) == T.slice_frames(tune, 1, 4)
    assert T.slice_frames(r, 10, None) == T.slice_frames(tune, 4, None)


def test_paste_replace(tune):
    clip = T.slice_frames(tune, 0, 2)
    r = T.paste(tune, clip, 4, replace=True)
    assert len(r.frames) == len(tune.frames)
    assert T.slice_frames(r, 4, 6) == clip
    assert T.slice_frames(r, 6, None) == T.slice_frames(tune, 6, None)


def test_reverse_by_state(tune):
    r = T.reverse(tune)
    n = len(tune.frames)
    assert np.array_equal(states(r), states(tune)[::-1])
    twice = T.reverse(r)
    assert np.array_equal(states(twice), states(tune))
    assert len(r.frames) == n


def test_reverse_range_keeps_the_rest(tune):
    r = T.reverse(tune, 1, 5)
    assert np.array_equal(states(r)[1:5], states(tune)[1:5][::-1])
    assert np.array_equal(states(r)[5:], states(tune)[5:])
    assert np.array_equal(states(r)[:1], states(tune)[:1])


def test_ranges_checked(tune):
    for bad in (
        lambda: T.cut(tune, 5, 2),
        lambda: T.slice_frames(tune, 0, 99),
        lambda: T.stretch(tune, 0),
        lambda: T.swap_voices(tune, 0, 3),
        lambda: T.paste(tune, tune, 99),
    ):
        with pytest.raises(UsageError):
            bad()


def test_big_tune_transforms_are_fast_enough():
    big = player_log(2000)
    for f in (lambda t: T.transpose(t, 3), lambda t: T.reverse(t), lambda t: T.repeat(t, 0, 100, 4)):
        out = f(big)
        assert len(out.frames) >= len(big.frames)
