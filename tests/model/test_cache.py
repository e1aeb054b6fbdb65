"""The tune's own memory: matching places in the prompt, their prediction, the mixture."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sidlang.model.cache import TuneCache, mix


def places_matching(history: list[int], written: list[int], m: int) -> set[int]:
    """Every place p (1 <= p < len(history)) whose m tokens before equal the last m written."""
    seq = history + written
    tail = seq[len(seq) - m :]
    return {p for p in range(max(m, 1), len(history)) if history[p - m : p] == tail}


def longest(history: list[int], written: list[int], most: int) -> int:
    seq = history + written
    best = 0
    for m in range(1, min(most, len(seq)) + 1):
        if places_matching(history, written, m):
            best = m
        else:
            break
    return best


def test_a_repeated_figure_is_predicted_exactly():
    history = [1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2]
    c = TuneCache(history)
    tokens, shares = c.prediction()
    assert tokens.tolist() == [3] and shares.tolist() == [1.0]
    c.update(3)
    assert c.prediction()[0].tolist() == [4]


def test_the_longest_match_decides():
    history = [7, 2, 3, 10, 8, 2, 3, 11, 9]
    c = TuneCache(history)
    for t in (8, 2, 3):  # matches "8 2 3" (then 11), not "2 3" alone (then 10 or 11)
        c.update(t)
    assert c.prediction()[0].tolist() == [11] and c.match >= 3


def test_no_match_predicts_nothing_and_mix_leaves_the_network_alone():
    c = TuneCache([1, 2, 3])
    c.update(99)
    assert len(c.prediction()[0]) == 0
    probs = np.array([0.25, 0.75])
    assert mix(probs, np.array([4, 5]), c, 0.9) is probs


def test_mix_drops_what_the_grammar_forbids_and_sums_to_one():
    c = TuneCache([1, 5, 1, 6, 1, 7, 1])  # after 1: 5, 6 or 7, a third each
    ids = np.array([2, 5, 7])  # 6 is not allowed here
    probs = np.array([0.5, 0.25, 0.25])
    out = mix(probs, ids, c, 0.5)
    assert np.isclose(out.sum(), 1.0)
    assert np.allclose(out, [0.25, 0.125 + 0.25, 0.125 + 0.25])  # 5 and 7 share the cache's half
    assert mix(probs, np.array([2, 3, 4]), c, 0.5) is probs  # none of its tokens allowed


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 3), min_size=2, max_size=40),
    st.lists(st.integers(0, 4), max_size=30),
    st.integers(1, 6),
)
def test_places_are_exactly_those_matching_and_the_match_is_longest(history, written, order):
    c = TuneCache(history, order=order)
    for i, t in enumerate(written):
        c.update(t)
        done = written[: i + 1]
        assert set(c.places.tolist()) == (places_matching(history, done, c.match) if c.match else set())
        # at least as long as the longest match of at most ``order`` tokens (longer while it lasts)
        assert c.match >= longest(history, done, order)


def test_scoring_shares_follow_the_written_tokens():
    from sidlang.model.cache import mixed_logprobs, true_token_shares

    seq = np.array([1, 2, 3, 1, 2, 3, 1, 2, 9])
    shares = true_token_shares(seq, 6)  # the cache of "1 2 3 1 2 3" scores "1 2 9"
    assert shares.tolist() == [1.0, 1.0, 0.0]
    assert np.isnan(true_token_shares(seq, 3)[0])  # after "1 2 3" nothing was seen yet
    lp = np.log(np.full(3, 0.5))
    mixed = mixed_logprobs(lp, shares, 0.5)
    assert np.allclose(np.exp(mixed), [0.75, 0.75, 0.25])
    nothing = true_token_shares(np.array([1, 2, 7, 8]), 2)  # 7 never followed anything seen
    assert np.isnan(nothing).all() and np.allclose(mixed_logprobs(lp[:2], nothing, 0.5), lp[:2])


def test_places_in_phase_with_the_bar_count_more():
    from sidlang.model.tokenizer import FRAME

    # Frames of one token each after FRAME: a 2-frame bar "F 5 F 6", then a place out of phase.
    history = [FRAME, 5, FRAME, 6, FRAME, 5, FRAME, 6, FRAME, 7]
    plain = TuneCache(history, order=1)
    phased = TuneCache(history, order=1, bar=2, off_phase=0.1)
    for c in (plain, phased):
        c.update(FRAME)  # frame 5: in phase with frames 1 and 3 (6 came after them), not 0, 2, 4
    tokens, shares = plain.prediction()
    assert tokens.tolist() == [5, 6, 7] and np.allclose(shares, [0.4, 0.4, 0.2])
    tokens, shares = phased.prediction()
    assert shares[tokens.tolist().index(6)] > 0.8
