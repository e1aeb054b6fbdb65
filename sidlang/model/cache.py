"""The tune's own memory: what followed the same tokens earlier in the prompt.

A continuation of a real tune should go on with the tune's material: its instruments, its
drum programs, its bass figure. The network predicts each token from what it has in view,
but a small network, trained on a few dozen tunes, drifts toward what is common in its
training music. A cache model (Kuhn and De Mori's cache language model; kNN-LM is the recent
form) corrects this without training: find the places in the prompt whose preceding tokens
match the last tokens written, and predict what came next there. Sampling mixes the two,

    p(t) = (1 - λ) · p_network(t) + λ · p_cache(t),

so the network still decides where to branch, and the prompt's own sequences are there to
follow. :class:`TuneCache` keeps the set of matching places as tokens are written: each new
token narrows the set in one NumPy step (the match grows by one token), and only when no
place matches does it look again from the last ``order`` tokens. Places in phase with the
prompt's bar count more than the others (:data:`OFF_PHASE`).

The prompt's tokens are the history; the continuation's own tokens are matched against it
but not added to it, so the continuation cannot feed on a loop of its own making.
"""

from __future__ import annotations

import numpy as np

from sidlang.model.tokenizer import AGAIN, FRAME

#: The weight :func:`sidlang.model.continue_tune` gives the cache unless told otherwise, chosen
#: with ``benchmarks/bench_style.py`` on tunes outside the training and held-out sets (the
#: model card has the sweep): with the bar pointer, 0.9 kept the most style (0.5 was best
#: with the matcher alone).
WEIGHT = 0.9

#: The weight ``sidlang eval`` scores the mixture at (``model_cache_ppl``): the matcher alone
#: (no pointer), the weight at which it scored best.
SCORE_WEIGHT = 0.5

#: How much a matching place counts when its frame is not a whole number of bars from the
#: frame being written (the bar fitted on the prompt, as ``sidlang eval``'s repeat-the-last-bar
#: baseline fits it): trackers repeat rows at fixed distances, so a match in phase with the bar
#: is the better guess of what comes next. Chosen like :data:`WEIGHT` (1 would ignore phase).
OFF_PHASE = 0.2

#: Share of the cache's vote given to the bar pointer (:mod:`sidlang.model.barpointer`): the
#: segment the frame a pattern back wrote next; the matching places share the rest. Chosen
#: like :data:`WEIGHT`; 0 turns the pointer off.
POINTER = 0.9

#: The longest match looked for when the match is lost (tokens). Longer matches are kept
#: while they last: the longer the shared past, the more certain what follows.
ORDER = 24


class TuneCache:
    """Places in ``history`` (the prompt's tokens) whose past matches the tokens written last."""

    def __init__(
        self,
        history: list[int] | np.ndarray,
        order: int = ORDER,
        bar: int = 0,
        off_phase: float = 1.0,
        pointer=None,
        pointer_share: float = 0.0,
    ) -> None:
        self.history = np.asarray(history, dtype=np.int64)
        self.order = order
        # Phase: a place whose frame is a whole number of bars from the frame being written
        # counts fully, another ``off_phase`` (1: phase ignored).
        self.bar, self.off_phase = bar, off_phase
        starts = (self.history == FRAME) | (self.history == AGAIN)
        self.frame_of = np.cumsum(starts) - 1
        self.frame = int(self.frame_of[-1]) if len(self.history) else 0
        self.tail: list[int] = [int(t) for t in self.history[-order:]]
        n = len(self.history)
        # Places after each token (a place p predicts history[p] from what precedes it).
        places = np.arange(1, n, dtype=np.int64)
        by = np.argsort(self.history[:-1], kind="stable")
        keys = self.history[:-1][by]
        self._after: dict[int, np.ndarray] = {}
        if len(keys):
            cuts = np.flatnonzero(np.diff(keys)) + 1
            for chunk in np.split(places[by], cuts):
                self._after[int(self.history[chunk[0] - 1])] = chunk
        self.places = np.zeros(0, dtype=np.int64)
        self.match = 0
        self._lookup()
        #: a :class:`sidlang.model.barpointer.BarPointer` (or None) and its share of the vote
        self.pointer, self.pointer_share = pointer, pointer_share if pointer is not None else 0.0

    def _lookup(self) -> None:
        """The longest suffix of ``tail`` (up to ``order`` tokens) that occurs in the history
        with a token after it: its places and length."""
        if not self.tail:
            self.places, self.match = np.zeros(0, dtype=np.int64), 0
            return
        cand = self._after.get(self.tail[-1], np.zeros(0, dtype=np.int64))
        m = 1 if len(cand) else 0
        h = self.history
        while len(cand) and m < min(self.order, len(self.tail)):
            prev = cand[cand > m]
            prev = prev[h[prev - m - 1] == self.tail[-m - 1]]
            if not len(prev):
                break
            cand, m = prev, m + 1
        self.places, self.match = cand, m

    def update(self, token: int) -> None:
        """``token`` was written: narrow the matching places, or look again."""
        token = int(token)
        if self.pointer is not None:
            self.pointer.update(token)
        if token in (FRAME, AGAIN):
            self.frame += 1
        self.tail.append(token)
        if len(self.tail) > self.order:
            del self.tail[0]
        if len(self.places):
            nxt = self.places[self.history[self.places] == token] + 1
            nxt = nxt[nxt < len(self.history)]
            if len(nxt):
                self.places, self.match = nxt, self.match + 1
                return
        self._lookup()

    def prediction(self) -> tuple[np.ndarray, np.ndarray]:
        """The tokens that followed the matching places (and the bar pointer's vote), with
        their shares (summing to 1)."""
        tokens, shares = self._matched()
        t = self.pointer.vote() if self.pointer_share > 0 else -1
        if t < 0:
            return tokens, shares
        if not len(tokens):
            return np.array([t], dtype=np.int64), np.ones(1)
        shares = shares * (1.0 - self.pointer_share)
        at = int(np.searchsorted(tokens, t))
        if at < len(tokens) and tokens[at] == t:
            shares[at] += self.pointer_share
            return tokens, shares
        return np.insert(tokens, at, t), np.insert(shares, at, self.pointer_share)

    def _matched(self) -> tuple[np.ndarray, np.ndarray]:
        """The tokens that followed the matching places, and their shares (summing to 1)."""
        if not len(self.places):
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        if self.bar and self.off_phase < 1:
            inphase = (self.frame_of[self.places - 1] - self.frame) % self.bar == 0
            w = np.where(inphase, 1.0, self.off_phase)
            tokens, inv = np.unique(self.history[self.places], return_inverse=True)
            counts = np.bincount(inv, weights=w)
            return tokens, counts / counts.sum()
        tokens, counts = np.unique(self.history[self.places], return_counts=True)
        return tokens, counts / counts.sum()


def for_prompt(tokens: list[int] | np.ndarray, vocab=None, skip: frozenset[int] = frozenset()) -> TuneCache:
    """The cache of a prompt, its bar fitted on the prompt's own tokens; with ``vocab`` (the
    tokenizer's :class:`~sidlang.model.tokenizer.Vocab`) and :data:`POINTER` above 0, the
    bar pointer votes too, for every segment but those in ``skip`` (chip * 4 + group)."""
    from sidlang.model.barpointer import SPAN, BarPointer, reach_for
    from sidlang.model.evaluate import RepeatBar, unigram

    ctx = np.asarray(tokens, np.int64)
    bar = RepeatBar(ctx, unigram(ctx, int(ctx.max()) + 1)).bar if len(ctx) else 0
    reach = reach_for(bar, SPAN)
    ptr = BarPointer(ctx, vocab, reach, skip) if vocab is not None and POINTER > 0 and reach else None
    return TuneCache(ctx, bar=bar, off_phase=OFF_PHASE, pointer=ptr, pointer_share=POINTER)


def mix(probs: np.ndarray, ids: np.ndarray, cache: TuneCache | None, weight: float) -> np.ndarray:
    """``probs`` (over the allowed tokens ``ids``, sorted) mixed with the cache's prediction.

    The cache's tokens the grammar does not allow here are dropped and the rest renormalised;
    where it allows none, ``probs`` stands alone.
    """
    if cache is None or weight <= 0:
        return probs
    tokens, shares = cache.prediction()
    if not len(tokens):
        return probs
    at = np.searchsorted(ids, tokens)
    ok = (at < len(ids)) & (ids[np.minimum(at, len(ids) - 1)] == tokens)
    if not ok.any():
        return probs
    shares = shares[ok] / shares[ok].sum()
    out = probs * (1.0 - weight)
    np.add.at(out, at[ok], weight * shares)
    return out


def true_token_shares(seq: np.ndarray, start: int, order: int = ORDER) -> np.ndarray:
    """For each token ``seq[i]``, ``i >= start``: the share the cache of ``seq[:start]`` gave it
    with ``seq[:i]`` written, NaN where the cache predicted nothing (for scoring, as
    ``sidlang eval`` does: the mixture falls back to the network there, as in sampling)."""
    seq = np.asarray(seq, dtype=np.int64)
    c = for_prompt(seq[:start])
    c.order = order
    out = np.full(max(len(seq) - start, 0), np.nan)
    for i in range(start, len(seq)):
        tokens, shares = c.prediction()
        if len(tokens):
            at = np.searchsorted(tokens, seq[i])
            out[i - start] = shares[at] if at < len(tokens) and tokens[at] == seq[i] else 0.0
        c.update(seq[i])
    return out


def mixed_logprobs(logprobs: np.ndarray, shares: np.ndarray, weight: float) -> np.ndarray:
    """Log-probabilities of the true tokens under ``(1 - weight)·network + weight·cache``."""
    p = np.exp(logprobs)
    mixed = np.where(np.isnan(shares), p, (1.0 - weight) * p + weight * np.nan_to_num(shares))
    return np.log(mixed)
