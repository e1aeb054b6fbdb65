"""How good a model is, beside baselines fitted in the same run (``sidlang eval``).

Two evaluations, which may be combined:

* **Files** (``evaluate(..., tunes=[…])``): each tune's token sequence is split at the frame start
  nearest its middle (:func:`split_point`). Everyone scores the same tokens, the second half,
  and everyone may learn from the first half:

  * **model**: each scored token with as many tokens before it (first half included) as the
    context holds (:func:`score_windows`: sliding windows, each token scored once);
  * **context n-gram**: an :class:`NGram` fitted on the tune's own first half; order (2–6)
    and discount (0.75, 0.9) are the pair with the best perplexity pooled over all tunes'
    second halves (chosen on the scored tokens: an optimistic baseline, so the model's ratio
    to it errs against the model);
  * **repeat-the-last-bar** (:class:`RepeatBar`): bar length and weight fitted on each first
    half;
  * **unigram**: token frequencies of each first half, add-one smoothed.

* **Corpus** (``corpus=DIR``): the same three baselines fitted once on the corpus' training
  split (the n-gram as ``ngram_ppl``). Without files, the corpus' test split is scored whole
  (from its second token), with the same sliding-window model scorer.

Perplexities are ``exp`` of the mean negative log-likelihood per scored token, pooled over
tunes by total log-likelihood. **validity**: the share of sampled continuations that decode to
a Tune whose sidlang text parses back to the same Tune. **copy rate**: the longest run of
consecutive generated frames that also occurs in a reference (the training split with a
corpus, else the prompt the sample continues), as a share of the continuation.
"""

from __future__ import annotations

import math

import numpy as np

from sidlang.errors import SidlangError
from sidlang.model.tokenizer import AGAIN, FRAME, PAD

_P = np.uint64(1_000_003)  # multiplier of the context hash (uint64 arithmetic wraps)
BAR_CANDIDATES = (8, 12, 16, 24, 32, 48, 64, 96, 128)
ORDERS = (2, 3, 4, 5, 6)  #: n-gram orders tried
DISCOUNTS = (0.75, 0.9)  #: n-gram discounts tried


def _context_keys(data: np.ndarray, order: int) -> np.ndarray:
    """Hash of the ``order - 1`` tokens before each position (positions < order-1 get garbage)."""
    key = np.zeros(len(data), np.uint64)
    with np.errstate(over="ignore"):
        for k in range(1, order):
            prev = np.zeros(len(data), np.uint64)
            prev[k:] = data[:-k].astype(np.uint64) + np.uint64(1)
            key = key * _P + prev
    return key


def unigram(train: np.ndarray, vocab: int) -> np.ndarray:
    """Token frequencies of ``train``, add-one smoothed: (vocab,) probabilities."""
    counts = np.bincount(train, minlength=vocab).astype(np.float64)
    return (counts + 1) / (counts.sum() + vocab)


class NGram:
    """Interpolated absolute-discounting n-gram model over token ids.

    Kneser-Ney's discount without its continuation counts, over hashed contexts; the
    discount ``d`` may be changed after fitting (it is only used by :meth:`prob`).
    """

    def __init__(self, train: np.ndarray, vocab: int, order: int, discount: float = 0.75) -> None:
        self.vocab, self.order, self.d = vocab, order, discount
        self.unigram = unigram(train, vocab)
        self.levels = []
        for n in range(2, order + 1):
            ctx = _context_keys(train, n)[n - 1 :]
            tok = train[n - 1 :].astype(np.uint64)
            with np.errstate(over="ignore"):
                pair = ctx * np.uint64(8191) + tok
            pairs, pair_n = np.unique(pair, return_counts=True)
            ctxs, ctx_n = np.unique(ctx, return_counts=True)
            # Distinct followers of each context: how much mass the discount frees.
            with np.errstate(over="ignore"):
                pair_ctx = ctx[np.unique(pair, return_index=True)[1]]
            types = np.bincount(np.searchsorted(ctxs, pair_ctx), minlength=len(ctxs))
            self.levels.append((pairs, pair_n, ctxs, ctx_n, types))

    def prob(self, data: np.ndarray) -> np.ndarray:
        """P(token | preceding tokens) for every position of ``data``."""
        p = self.unigram[data]
        for n, (pairs, pair_n, ctxs, ctx_n, types) in zip(range(2, self.order + 1), self.levels):
            if not len(ctxs):  # fitted on fewer than n tokens: nothing to add
                continue
            ctx = _context_keys(data, n)
            with np.errstate(over="ignore"):
                pair = ctx * np.uint64(8191) + data.astype(np.uint64)
            ci = np.clip(np.searchsorted(ctxs, ctx), 0, len(ctxs) - 1)
            seen = (ctxs[ci] == ctx) & (np.arange(len(data)) >= n - 1)
            pi = np.clip(np.searchsorted(pairs, pair), 0, len(pairs) - 1)
            c_pair = np.where(pairs[pi] == pair, pair_n[pi], 0)
            c_ctx = ctx_n[ci].astype(np.float64)
            mixed = np.maximum(c_pair - self.d, 0) / c_ctx + self.d * types[ci] / c_ctx * p
            p = np.where(seen, mixed, p)
        return p


def frame_positions(data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each token: its frame number and place in the frame; and each frame's first index."""
    starts = (data == FRAME) | (data == AGAIN)
    frame = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    base = first[np.clip(frame, 0, max(len(first) - 1, 0))] if len(first) else np.zeros(len(data), int)
    return frame, np.arange(len(data)) - base, first


def repeat_prediction(data: np.ndarray, bar: int) -> np.ndarray:
    """The token at the same place ``bar`` frames earlier, or -1 where there is none."""
    frame, place, first = frame_positions(data)
    lengths = np.diff(np.r_[first, len(data)])
    src = frame - bar
    ok = (frame >= 0) & (src >= 0)
    srcc = np.clip(src, 0, max(len(first) - 1, 0))
    ok &= place < lengths[srcc] if len(first) else False
    idx = np.where(ok, first[srcc] + place, 0) if len(first) else np.zeros(len(data), int)
    return np.where(ok, data[idx], -1)


class RepeatBar:
    """Repeat-the-last-bar: the token at the same place in the frame ``bar`` frames back, mixed
    with the unigram so that it is a distribution; ``bar`` and the hit weight ``w`` are fitted
    on ``train``."""

    def __init__(self, train: np.ndarray, unigram: np.ndarray) -> None:
        self.unigram = unigram
        best = None
        for bar in BAR_CANDIDATES:
            pred = repeat_prediction(train, bar)
            hit = np.mean(pred == train)
            w = min(max(hit, 1e-3), 0.999)  # the likelihood-maximizing weight is about the hit rate
            nll = -np.mean(np.log(self._mix(train, pred, w)))
            if best is None or nll < best[0]:
                best = (nll, bar, w)
        _, self.bar, self.w = best

    def _mix(self, data, pred, w):
        return w * (pred == data) + (1 - w) * self.unigram[data]

    def prob(self, data: np.ndarray) -> np.ndarray:
        return self._mix(data, repeat_prediction(data, self.bar), self.w)


def loglik(probs: np.ndarray) -> float:
    """Total log-likelihood of the probabilities given to the scored tokens."""
    return float(np.sum(np.log(np.maximum(probs, 1e-12))))


def ppl(probs: np.ndarray) -> float:
    return float(math.exp(-np.mean(np.log(np.maximum(probs, 1e-12)))))


def _pooled_ppl(ll: float, n: int) -> float:
    return math.exp(-ll / max(n, 1))


# -- where a tune is cut, and the model's scores on what follows ---------------------------
def split_point(seq: np.ndarray) -> int:
    """Index of the frame start (FRAME or AGAIN) nearest the middle of ``seq``.

    The first frame's start is not a candidate, so both halves hold at least one frame.
    """
    first = np.flatnonzero((seq == FRAME) | (seq == AGAIN))[1:]
    if not len(first):
        raise SidlangError("too short to evaluate: it needs at least two frames")
    return int(first[np.argmin(np.abs(first - len(seq) / 2))])


def score_windows(n: int, start: int, block: int, stride: int | None = None) -> list[tuple[int, int, int]]:
    """Windows ``(b, t0, t1)`` that score tokens ``start … n-1`` of an ``n``-token sequence once each.

    A window's input is tokens ``b … t1-2`` (at most ``block``); the logits there predict
    tokens ``b+1 … t1-1``, of which ``t0 … t1-1`` (at most ``stride``) are kept. Every kept
    token has at least ``block + 1 - stride`` tokens of context, or all there are before it.
    """
    stride = stride or max(1, block // 2)
    if not 1 <= stride <= block:
        raise ValueError(f"stride must be 1–{block}, got {stride}")
    out = []
    for t0 in range(max(start, 1), n, stride):  # the first token has nothing to be predicted from
        t1 = min(t0 + stride, n)
        out.append((max(0, t1 - 1 - block), t0, t1))
    return out


def token_scores(
    model, seqs: list[np.ndarray], starts: list[int], *, stride: int | None = None, batch_tokens: int = 8192
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(log-probabilities, hits)`` of ``model`` on tokens ``seq[start:]`` of each sequence.

    Sliding windows of the model's context (:func:`score_windows`), batched across
    sequences; a hit is a token that was the model's most likely one. Only the kept
    positions go through the output head.
    """
    import torch

    T = model.cfg.block_size
    jobs = [
        (i, *w) for i, (s, st) in enumerate(zip(seqs, starts)) for w in score_windows(len(s), st, T, stride)
    ]  # (sequence, b, t0, t1)
    out = [
        (np.zeros(max(len(s) - max(st, 1), 0)), np.zeros(max(len(s) - max(st, 1), 0), bool))
        for s, st in zip(seqs, starts)
    ]
    device = next(model.parameters()).device
    per = max(1, batch_tokens // T)
    model.eval()
    with torch.inference_mode():
        for k in range(0, len(jobs), per):
            batch = jobs[k : k + per]
            x = np.full((len(batch), max(t1 - 1 - b for _, b, _, t1 in batch)), PAD, np.int64)
            rows, cols, targets = [], [], []
            for j, (i, b, t0, t1) in enumerate(batch):
                x[j, : t1 - 1 - b] = seqs[i][b : t1 - 1]
                rows.append(np.full(t1 - t0, j))
                cols.append(np.arange(t0 - 1 - b, t1 - 1 - b))
                targets.append(seqs[i][t0:t1])
            h = model.features(torch.from_numpy(x).to(device))  # (B, W, C); padding only after
            h = h[torch.from_numpy(np.concatenate(rows)), torch.from_numpy(np.concatenate(cols))]  # (N, C)
            logits = model.head(h).float()  # (N, V)
            y = torch.from_numpy(np.concatenate(targets)).to(device)
            lp = (logits.gather(1, y[:, None])[:, 0] - torch.logsumexp(logits, -1)).cpu().numpy()
            hit = (logits.argmax(-1) == y).cpu().numpy()
            at = 0
            for i, _, t0, t1 in batch:
                a = t0 - max(starts[i], 1)
                out[i][0][a : a + t1 - t0] = lp[at : at + t1 - t0]
                out[i][1][a : a + t1 - t0] = hit[at : at + t1 - t0]
                at += t1 - t0
    return out


def model_scores(model, seqs: list[np.ndarray], starts: list[int] | None = None) -> tuple[float, float, int]:
    """``(perplexity, accuracy, tokens)`` of ``model`` on ``seq[start:]`` (default: all but the first)."""
    scores = token_scores(model, seqs, starts or [1] * len(seqs))
    lp = np.concatenate([s[0] for s in scores]) if scores else np.zeros(0)
    hit = np.concatenate([s[1] for s in scores]) if scores else np.zeros(0, bool)
    return _pooled_ppl(float(lp.sum()), len(lp)), float(hit.mean()) if len(hit) else 0.0, len(lp)


# -- baselines ----------------------------------------------------------------------------
def context_baselines(seqs: list[np.ndarray], splits: list[int], vocab: int) -> dict:
    """Baselines fitted on each ``seq[:split]`` and scored on ``seq[split:]`` (see the module docstring).

    Returns the pooled perplexities, the chosen n-gram order and discount, each tune's bar
    length, and ``"per_tune"``: for each tune its scored tokens and the three perplexities.
    """
    grid: dict[tuple[int, float], list[float]] = {(o, d): [] for o in ORDERS for d in DISCOUNTS}
    uni_ll, rep_ll, bars = [], [], []
    for s, k in zip(seqs, splits):
        first = s[:k]
        for order in ORDERS:
            ng = NGram(first, vocab, order)
            for d in DISCOUNTS:
                ng.d = d
                grid[order, d].append(loglik(ng.prob(s)[k:]))
        uni = unigram(first, vocab)
        uni_ll.append(loglik(uni[s[k:]]))
        rb = RepeatBar(first, uni)
        rep_ll.append(loglik(rb.prob(s)[k:]))
        bars.append(int(rb.bar))
    counts = [len(s) - k for s, k in zip(seqs, splits)]
    n = sum(counts)
    order, d = max(grid, key=lambda od: sum(grid[od]))
    per_tune = [
        {
            "tokens": c,
            "context_ngram_ppl": _pooled_ppl(g, c),
            "repeat_ppl": _pooled_ppl(r, c),
            "unigram_ppl": _pooled_ppl(u, c),
            "repeat_bar_frames": bar,
        }
        for c, g, r, u, bar in zip(counts, grid[order, d], rep_ll, uni_ll, bars)
    ]
    return {
        "context_ngram_ppl": _pooled_ppl(sum(grid[order, d]), n),
        "context_ngram_order": order,
        "context_ngram_discount": d,
        "repeat_ppl": _pooled_ppl(sum(rep_ll), n),
        "repeat_bar_frames": bars,
        "unigram_ppl": _pooled_ppl(sum(uni_ll), n),
        "per_tune": per_tune,
    }


def corpus_baselines(
    train: np.ndarray, seqs: list[np.ndarray], starts: list[int], vocab: int, log=lambda *a: None
) -> dict:
    """Baselines fitted on the training tokens ``train``, scored on ``seq[start:]`` of each sequence."""
    n = sum(len(s) - st for s, st in zip(seqs, starts))
    log(f"fitting corpus baselines on {len(train)} training tokens")
    best = None
    for order in ORDERS:
        ng = NGram(train, vocab, order)
        for d in DISCOUNTS:
            ng.d = d
            ll = sum(loglik(ng.prob(s)[st:]) for s, st in zip(seqs, starts))
            if best is None or ll > best[0]:
                best = (ll, order, d)
    rb = RepeatBar(train, ng.unigram)
    return {
        "ngram_ppl": _pooled_ppl(best[0], n),
        "ngram_order": best[1],
        "ngram_discount": best[2],
        "unigram_ppl": _pooled_ppl(sum(loglik(ng.unigram[s[st:]]) for s, st in zip(seqs, starts)), n),
        "repeat_ppl": _pooled_ppl(sum(loglik(rb.prob(s)[st:]) for s, st in zip(seqs, starts)), n),
        "repeat_bar_frames": int(rb.bar),
    }


# -- copying ------------------------------------------------------------------------------
def longest_shared_run(gen_frames: list[tuple], train_frames: list[tuple]) -> int:
    """Longest run of consecutive generated frames (token tuples) found contiguously in training."""
    ids: dict[tuple, int] = {}
    tr = np.array([ids.setdefault(f, len(ids)) for f in train_frames], np.uint64)
    ge = np.array([ids.get(f, -1) for f in gen_frames], np.int64)

    def windows(a: np.ndarray, n: int) -> np.ndarray:
        h = np.zeros(len(a) - n + 1, np.uint64)
        with np.errstate(over="ignore"):
            for k in range(n):
                h = h * _P + a[k : len(a) - n + 1 + k].astype(np.uint64) + np.uint64(1)
        return h

    lo, hi = 0, len(ge)
    while lo < hi:  # binary search: a shared run of n frames implies one of n-1
        n = (lo + hi + 1) // 2
        found = False
        if len(tr) >= n:
            g = ge
            ok = np.convolve((g >= 0).astype(int), np.ones(n, int), "valid") == n
            if ok.any():
                found = bool(np.isin(windows(np.maximum(g, 0), n)[ok], windows(tr, n)).any())
        lo, hi = (n, hi) if found else (lo, n - 1)
    return lo


def split_frames(tokens: np.ndarray) -> list[tuple]:
    """The token tuple of every frame (from its FRAME/AGAIN token to the next)."""
    first = np.flatnonzero((tokens == FRAME) | (tokens == AGAIN))
    return [tuple(tokens[a:b].tolist()) for a, b in zip(first, np.r_[first[1:], len(tokens)])]


# -- everything at once -------------------------------------------------------------------
def evaluate(
    model_bundle,
    corpus: str | None,
    tunes: list | None = None,
    *,
    names: list[str] | None = None,
    samples: int = 10,
    sample_frames: int = 100,
    seed: int = 0,
    max_tokens: int = 200_000,
    max_train_tokens: int = 10_000_000,
    log=lambda *a: None,
) -> dict:
    """Every number ``sidlang eval`` prints, as one dict (see the module docstring).

    ``tunes`` (named by ``names``) are split and their second halves scored, beside baselines
    fitted on their first halves; without them the corpus' test split is scored (at most
    ``max_tokens`` tokens). A ``corpus`` adds baselines fitted on its training split. ``log``
    gets progress lines, one per tune.
    """
    model, tok, info = model_bundle
    train = _training_tokens(corpus, max_train_tokens) if corpus else None
    if tunes:
        names = [str(n) for n in names or [t.header.title or f"tune {i + 1}" for i, t in enumerate(tunes)]]
        seqs = [np.array(tok.encode(t), np.int64) for t in tunes]
        starts = []
        for name, s in zip(names, seqs):
            try:
                starts.append(split_point(s))
            except SidlangError as e:
                e.file = e.file or name
                raise
        sources = list(tunes)
    else:
        if not corpus:
            from sidlang.errors import UsageError

            raise UsageError("give tunes to evaluate, or --corpus for its test split")
        seqs = _test_tokens(corpus, max_tokens)
        starts = [1] * len(seqs)  # whole sequences: every token that has one before it
        sources = [tok.decode(s) for s in seqs[:samples]]
    scores = []
    for i, (s, st) in enumerate(zip(seqs, starts)):  # one tune at a time, for the progress line
        scores.append(token_scores(model, [s], [st])[0])
        if tunes:
            lp = scores[-1][0]
            log(
                f"[{i + 1}/{len(seqs)}] {names[i]}: {_frames(s)} frames, second half from frame "
                f"{_frames(s[:st])}: {len(lp)} tokens, model ppl {_pooled_ppl(float(lp.sum()), len(lp)):.3f}"
            )
    lp = np.concatenate([sc[0] for sc in scores]) if scores else np.zeros(0)
    hit = np.concatenate([sc[1] for sc in scores]) if scores else np.zeros(0, bool)
    if not tunes:
        log(f"scored {len(lp)} tokens of {len(seqs)} test sequences")
    out: dict = {
        "tokens": len(lp),
        "model_ppl": _pooled_ppl(float(lp.sum()), len(lp)),
        "accuracy": float(hit.mean()) if len(hit) else 0.0,
    }
    if tunes:
        log("fitting baselines on the first halves")
        ctx = context_baselines(seqs, starts, tok.vocab_size)
        rows = ctx.pop("per_tune")
        out["tunes"] = len(tunes)
        # The network with the tune's own memory (sidlang.model.cache), as continue samples
        from sidlang.model.cache import SCORE_WEIGHT, mixed_logprobs, true_token_shares

        mixed = [
            mixed_logprobs(t_lp, true_token_shares(s, max(st, 1)), SCORE_WEIGHT)
            for s, st, (t_lp, _) in zip(seqs, starts, scores)
        ]
        out["cache_weight"] = SCORE_WEIGHT
        out["model_cache_ppl"] = _pooled_ppl(float(sum(m.sum() for m in mixed)), len(lp))
        out.update(ctx)
        out["per_tune"] = [
            {
                "name": name,
                "frames": _frames(s),
                "split_frame": _frames(s[:st]),
                "tokens": len(t_lp),
                "model_ppl": _pooled_ppl(float(t_lp.sum()), len(t_lp)),
                "accuracy": float(t_hit.mean()) if len(t_hit) else 0.0,
                "model_cache_ppl": _pooled_ppl(float(m.sum()), len(m)),
                **row,
            }
            for name, s, st, (t_lp, t_hit), row, m in zip(names, seqs, starts, scores, rows, mixed)
        ]
    if train is not None:
        cb = corpus_baselines(train, seqs, starts, tok.vocab_size, log)
        if tunes:  # the first-half baselines keep the plain names; the corpus' get a prefix
            cb = {("" if k.startswith("ngram") else "corpus_") + k: v for k, v in cb.items()}
        out.update(cb)
        out["ratio_to_ngram"] = out["model_ppl"] / cb["ngram_ppl"]
    baselines = {
        k[: -len("_ppl")]: v
        for k, v in out.items()
        if k.endswith("_ppl") and k not in ("model_ppl", "model_cache_ppl")
    }
    out["best_baseline"] = min(baselines, key=baselines.get)
    out["ratio_to_best_baseline"] = out["model_ppl"] / baselines[out["best_baseline"]]
    if "model_cache_ppl" in out:
        out["cache_ratio_to_best_baseline"] = out["model_cache_ppl"] / baselines[out["best_baseline"]]
    out["samples"] = samples
    if samples:
        if tunes:  # continue from the split, where the scored half starts; copying is of the first half
            prompts = [(t, _frames(s[:st]), split_frames(s[:st])) for t, s, st in zip(tunes, seqs, starts)]
        else:  # the test split: from anywhere; copying is of the training split
            rng = np.random.default_rng(seed)
            prompts = [(t, int(rng.integers(1, max(2, len(t.frames)))), None) for t in sources]
        out.update(
            sample_scores(
                model_bundle,
                prompts,
                samples,
                sample_frames,
                seed,
                split_frames(train) if train is not None else None,
                log,
            )
        )
    out["model"] = {k: info.get(k) for k in ("params", "step", "val_loss", "val_acc") if k in info}
    return out


def sample_scores(
    model_bundle,
    prompts: list[tuple],
    samples: int,
    frames: int,
    seed: int,
    train_frames: list[tuple] | None = None,
    log=lambda *a: None,
) -> dict:
    """Validity and copy rate of ``samples`` continuations of ``frames`` frames, cycling through ``prompts``.

    A prompt is ``(tune, start frame, reference frames)``; the copy rate is measured against
    ``train_frames`` when given, else against each prompt's reference frames.
    """
    from sidlang.model.network import continue_tune
    from sidlang.text import dumps, parse

    tok = model_bundle[1]
    valid, longest = 0, []
    for i in range(samples):
        src, start, ref = prompts[i % len(prompts)]
        log(f"sample {i + 1}/{samples}: {frames} frames after frame {start}")
        gen = continue_tune(src, frames, start=start, seed=seed + i, model=model_bundle)
        try:  # validity: decode -> text -> parse gives the same Tune
            valid += parse(dumps(gen)) == gen
        except Exception:  # an invalid sample is what is being counted
            pass
        new = split_frames(np.array(tok.encode(gen, eos=False), np.int64))[start:]
        ref = train_frames if train_frames is not None else ref
        longest.append(longest_shared_run(new, ref) / max(len(new), 1))
    return {
        "validity": valid / samples,
        "copy_rate": float(np.mean(longest)),
        "copy_reference": "training split" if train_frames is not None else "prompt",
    }


def _training_tokens(corpus: str, most: int) -> np.ndarray:
    from sidlang.corpus.build import load_split

    seqs, _ = load_split(corpus, "train")
    if not seqs:
        raise SidlangError("the corpus has no training split", file=str(corpus))
    return np.concatenate(seqs).astype(np.int64)[:most]


def _test_tokens(corpus: str, most: int) -> list[np.ndarray]:
    """The test split's sequences, the last one cut so that at most ``most`` tokens are scored."""
    from sidlang.corpus.build import load_split

    seqs, left = [], most
    for s in load_split(corpus, "test")[0]:
        if left <= 0:
            break
        seqs.append(s[: 1 + left].astype(np.int64))
        left -= len(seqs[-1]) - 1
    return seqs


def _frames(tokens: np.ndarray) -> int:
    return int(np.count_nonzero((tokens == FRAME) | (tokens == AGAIN)))


__all__ = [
    "DISCOUNTS",
    "NGram",
    "ORDERS",
    "RepeatBar",
    "context_baselines",
    "corpus_baselines",
    "evaluate",
    "longest_shared_run",
    "model_scores",
    "ppl",
    "repeat_prediction",
    "sample_scores",
    "score_windows",
    "split_frames",
    "split_point",
    "token_scores",
    "unigram",
]
