"""The bar pointer: where it reaches, what it votes for, and that following it loops the tune."""

from __future__ import annotations

import numpy as np
import pytest

from sidlang import parse as loads
from sidlang.model import barpointer, cache
from sidlang.model.barpointer import BarPointer, reach_for
from sidlang.model.tokenizer import AGAIN, BOS, COPY_BACK, FRAME

NOTES = ("C-4", "E-4", "G-4", "B-4", "D-5", "A-4", "F-4", "D-4")


def groove(frames: int = 400) -> str:
    """A bass note every 8 frames over a 64-frame figure, a pulse sweep and a drum on voice 3."""
    lines = [
        "# sidlang 1",
        "@clock pal",
        f"@frames {frames}",
        "0 v1 ad=$09 sr=$00 pw=$300 | v3 ad=$00 sr=$a0 | vol=15",
    ]
    for f in range(1, frames):
        parts = []
        if f % 8 == 1:
            parts.append(f"v1 freq={NOTES[(f // 8) % len(NOTES)]} wave=pulse,gate")
        elif f % 8 == 5:
            parts.append("v1 wave=pulse")
        if f % 4 == 0:
            parts.append(f"v1 pw={0x300 + 16 * (f % 64)}")
        if f % 16 == 1:
            parts.append("v3 freq=C-6 wave=noise,gate")
        elif f % 16 == 3:
            parts.append("v3 wave=noise")
        if parts:
            lines.append(f"{f} " + " | ".join(parts))
    return "\n".join(lines) + "\n"


def test_reach_is_a_whole_number_of_bars_a_copy_token_can_reach():
    assert reach_for(16, 64) == 64
    assert reach_for(12, 64) == 72
    assert reach_for(48, 128) == 192  # 144 is not a COPY distance, 192 is
    assert reach_for(0, 64) == 0
    for bar in (8, 12, 16, 24, 32, 48, 64, 96, 128):
        r = reach_for(bar, 128)
        assert r in COPY_BACK and r % bar == 0 and r >= 128


class _Vocab:
    """Token ranges laid out like the real vocabulary's, small: markers 10-17, ops 20-99,
    COPY 100 onward."""

    mark0, setv0, copy0 = 10, 20, 100
    size = copy0 + 8 * 4 * len(COPY_BACK)


def copy_of(group: int, back: int) -> int:
    return _Vocab.copy0 + group * len(COPY_BACK) + COPY_BACK.index(back)


def test_the_vote_is_the_next_segment_a_pattern_back_then_the_next_frame():
    v1, v3 = 10, 12
    # frame 0: v1 op, v3 op; frame 1: v3 only; frame 2: AGAIN (frame 1 again); frame 3: v1
    history = [BOS, FRAME, v1, 20, v3, 21, FRAME, v3, 22, AGAIN, FRAME, v1, 23]
    p = BarPointer(history, _Vocab, reach=2)
    # frame 4 replays frame 2 (AGAIN): its opening first
    assert p.vote() == AGAIN
    p.update(FRAME)  # the network opened it with FRAME instead: AGAIN stood for frame 1's v3
    assert p.vote() == copy_of(2, 2)
    p.update(copy_of(2, 2))
    assert p.vote() == FRAME  # frame 4 holds what frame 2 did; frame 3 opened with FRAME
    p.update(FRAME)  # frame 5 replays frame 3: v1
    assert p.vote() == copy_of(0, 2)
    p.update(v1)  # written out by hand: the segment is open all the same
    assert p.vote() == FRAME


def test_no_reach_no_vote():
    assert BarPointer([BOS, FRAME, 10, 20], _Vocab, reach=0).vote() == -1
    assert BarPointer([BOS, FRAME, 10, 20], _Vocab, reach=64).vote() == -1  # not that long


@pytest.mark.parametrize("seed", [0, 1])
def test_following_only_the_pointer_loops_the_tune_a_pattern_back(seed, monkeypatch):
    """Weight 1 and the whole vote to the pointer: every frame the model writes has the register
    state of the frame one reach back, which is what a tracker's pattern loop plays."""
    from sidlang.model import continue_tune

    monkeypatch.setattr(cache, "POINTER", 1.0)
    monkeypatch.setattr(barpointer, "SPAN", 64)
    tune = loads(groove(400))
    out = continue_tune(tune, 150, seed=seed, cache=1.0)
    assert len(out.frames) == 550
    state = out.frames.state(0)[:, :25]
    reach = 64  # the groove's bar is a divisor of 64, so the reach is 64
    same = np.all(state[400:550] == state[400 - reach : 550 - reach], axis=1)
    assert same.mean() > 0.95, same.mean()


def test_with_the_default_mixture_the_network_still_writes(monkeypatch):
    """The defaults leave the network a share: continuations from two seeds differ."""
    from sidlang.model import continue_tune

    tune = loads(groove(400))
    a = continue_tune(tune, 200, seed=0)
    b = continue_tune(tune, 200, seed=1)
    assert not np.array_equal(a.frames.state(0)[400:], b.frames.state(0)[400:])


def test_the_cache_gives_the_pointer_its_share_of_the_vote():
    from sidlang.model.cache import TuneCache

    v1 = 10
    history = [BOS, FRAME, v1, 20, FRAME, v1, 21, FRAME, v1, 20, FRAME, v1, 21]
    alone = TuneCache(history)
    tokens, shares = alone.prediction()  # after 21 the matcher says FRAME
    assert tokens.tolist() == [FRAME] and shares.tolist() == [1.0]
    c = TuneCache(history, pointer=BarPointer(history, _Vocab, reach=2), pointer_share=0.75)
    tokens, shares = c.prediction()
    assert tokens.tolist() == [FRAME] and np.isclose(shares.sum(), 1.0)  # both say FRAME
    c.update(FRAME)
    tokens, shares = c.prediction()
    got = dict(zip(tokens.tolist(), shares.tolist()))
    assert np.isclose(got[copy_of(0, 2)], 0.75) and np.isclose(sum(got.values()), 1.0)
    assert np.isclose(got[v1], 0.25)  # the matcher: FRAME was followed by v1


def test_kept_voices_are_passed_over():
    """With voice 1 kept from the tune the model never opens it: the vote goes to the next group."""
    v1, v3 = 10, 12
    history = [BOS, FRAME, v1, 20, v3, 21, FRAME, v1, 22, v3, 23]
    p = BarPointer(history, _Vocab, reach=2, skip=frozenset({0}))
    p.update(FRAME)
    assert p.vote() == copy_of(2, 2)
