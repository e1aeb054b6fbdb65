"""How good the model is, beside baselines fitted in the same run (``sidlang eval``).

* **Model**: perplexity (``exp`` of the mean loss per token) and next-token accuracy, over
  non-overlapping windows of the model's context length (each window starts cold, so this is
  a slightly pessimistic number for long pieces).
* **unigram**: token frequencies of the training split, add-one smoothed.
* **n-gram**: interpolated absolute discounting (Kneser-Ney's discount without its
  continuation counts), orders 2–6 over hashed contexts, fitted on the training split; the
  best order on the evaluated tokens is reported.
* **repeat-the-last-bar**: the token at the same place in the frame ``B`` frames back, mixed
  with the unigram so that it is a distribution; ``B`` (one bar, in frames) and the mixing
  weight are fitted on the training split.
* **validity**: the share of sampled continuations that decode to a Tune whose sidlang text
  parses back to the same Tune. **copy rate**: the longest run of consecutive generated
  frames that also occurs in the training tokens, as a share of the continuation.
"""

from __future__ import annotations

import math

import numpy as np

from sidlang.tokenizer import AGAIN, FRAME, PAD

_P = np.uint64(1_000_003)  # multiplier of the context hash (uint64 arithmetic wraps)
BAR_CANDIDATES = (8, 12, 16, 24, 32, 48, 64, 96, 128)


def _context_keys(data: np.ndarray, order: int) -> np.ndarray:
    """Hash of the ``order - 1`` tokens before each position (positions < order-1 get garbage)."""
    key = np.zeros(len(data), np.uint64)
    with np.errstate(over="ignore"):
        for k in range(1, order):
            prev = np.zeros(len(data), np.uint64)
            prev[k:] = data[:-k].astype(np.uint64) + np.uint64(1)
            key = key * _P + prev
    return key


class NGram:
    """Interpolated absolute-discounting n-gram model over token ids."""

    def __init__(self, train: np.ndarray, vocab: int, order: int, discount: float = 0.75) -> None:
        self.vocab, self.order, self.d = vocab, order, discount
        counts = np.bincount(train, minlength=vocab).astype(np.float64)
        self.unigram = (counts + 1) / (counts.sum() + vocab)
        self.levels = []
        for n in range(2, order + 1):
            ctx = _context_keys(train, n)[n - 1:]
            tok = train[n - 1:].astype(np.uint64)
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
    """Repeat-the-last-bar: fitted bar length ``bar`` and hit weight ``w``."""

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


def ppl(probs: np.ndarray) -> float:
    return float(math.exp(-np.mean(np.log(np.maximum(probs, 1e-12)))))


def model_scores(model, seqs: list[np.ndarray], max_tokens: int = 0) -> tuple[float, float, int]:
    """``(perplexity, accuracy, tokens)`` of ``model`` over non-overlapping windows of ``seqs``."""
    import torch

    T = model.cfg.block_size
    rows = []
    for s in seqs:
        s = s.astype(np.int64)
        for a in range(0, len(s) - 1, T):
            chunk = s[a : a + T + 1]
            if len(chunk) >= 2:
                rows.append(chunk)
    nll, correct, count = 0.0, 0, 0
    model.eval()
    with torch.inference_mode():
        for i in range(0, len(rows), 8):
            batch = rows[i : i + 8]
            width = max(len(r) for r in batch)
            x = torch.full((len(batch), width - 1), PAD, dtype=torch.long)
            y = torch.full((len(batch), width - 1), -1, dtype=torch.long)
            for j, r in enumerate(batch):
                x[j, : len(r) - 1] = torch.from_numpy(r[:-1])
                y[j, : len(r) - 1] = torch.from_numpy(r[1:])
            logits, loss = model(x, y)
            n = int((y >= 0).sum())
            nll += float(loss) * n
            correct += int(((logits.argmax(-1) == y) & (y >= 0)).sum())
            count += n
            if max_tokens and count >= max_tokens:
                break
    return math.exp(nll / max(count, 1)), correct / max(count, 1), count


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


def evaluate(model_bundle, corpus: str | None, tunes: list | None = None, *, samples: int = 10,
             sample_frames: int = 100, seed: int = 0, max_tokens: int = 200_000,
             max_train_tokens: int = 10_000_000, log=lambda *a: None) -> dict:
    """Every number ``sidlang eval`` prints, as one dict (see the module docstring).

    ``tunes`` are Tunes to score; without them the corpus' test split is used. Baselines need
    the corpus' training split and are None without a corpus.
    """
    from sidlang.model import continue_tune
    from sidlang.text import dumps, parse

    model, tok, info = model_bundle
    train = None
    if corpus:
        from sidlang.corpus.build import load_split

        train_seqs, train_meta = load_split(corpus, "train")
        train = np.concatenate(train_seqs).astype(np.int64)[:max_train_tokens]
    if tunes:
        seqs = [np.array(tok.encode(t), np.int64) for t in tunes]
        sources = list(tunes)
    else:
        if not corpus:
            from sidlang.errors import UsageError

            raise UsageError("give tunes to evaluate, or --corpus for its test split")
        test_seqs, _ = load_split(corpus, "test")
        seqs = [s.astype(np.int64) for s in test_seqs]
        sources = [tok.decode(s) for s in seqs[:samples]]
    data = np.concatenate(seqs)[:max_tokens] if seqs else np.zeros(0, np.int64)
    log(f"scoring {len(data)} tokens")
    m_ppl, acc, n = model_scores(model, seqs, max_tokens)
    out = {"tokens": n, "model_ppl": m_ppl, "accuracy": acc, "unigram_ppl": None, "ngram_ppl": None,
           "ngram_order": None, "repeat_ppl": None, "repeat_bar_frames": None}
    if train is not None:
        log(f"fitting baselines on {len(train)} training tokens")
        best = None
        for order in (2, 3, 4, 5, 6):
            for d in (0.75, 0.9):
                ng = NGram(train, tok.vocab_size, order, d)
                p = ppl(ng.prob(data))
                if best is None or p < best[0]:
                    best = (p, order, d)
        out["ngram_ppl"], out["ngram_order"], out["ngram_discount"] = best
        out["unigram_ppl"] = ppl(ng.unigram[data])
        rb = RepeatBar(train, ng.unigram)
        out["repeat_ppl"], out["repeat_bar_frames"] = ppl(rb.prob(data)), rb.bar
        out["ratio_to_ngram"] = m_ppl / best[0]
    # Sampled continuations: validity (decode -> text -> parse gives the same Tune) and copying.
    valid, longest, rng = 0, [], np.random.default_rng(seed)
    train_frames = split_frames(train) if train is not None else None
    for i in range(samples):
        src = sources[i % len(sources)]
        start = int(rng.integers(1, max(2, len(src.frames))))
        gen = continue_tune(src, sample_frames, start=start, seed=seed + i, model=model_bundle)
        try:
            valid += parse(dumps(gen)) == gen
        except Exception:  # an invalid sample is what is being counted
            pass
        if train_frames is not None:
            new = split_frames(np.array(tok.encode(gen, eos=False), np.int64))[start:]
            longest.append(longest_shared_run(new, train_frames) / max(len(new), 1))
    out["samples"] = samples
    out["validity"] = valid / samples if samples else None
    out["copy_rate"] = float(np.mean(longest)) if longest else None
    out["model"] = {k: info.get(k) for k in ("params", "step", "val_loss", "val_acc") if k in info}
    return out


__all__ = ["NGram", "RepeatBar", "longest_shared_run", "model_scores", "ppl", "repeat_prediction", "split_frames", "evaluate"]
