"""The bundled model against its goals, with baselines measured in the same run.

* perplexity on held-out pieces (the corpus' test split) at most 0.7x the best n-gram baseline
  (orders 2-6, fitted on the training split);
* 100% of sampled continuations valid (decoded, printed as sidlang, parsed back identical);
* 500 frames continued in at most 2 s on two CPU cores.

Run: ``python benchmarks/bench_model.py --corpus CORPUS`` (a folder from ``sidlang corpus build``;
without it only the speed and validity goals are measured, on synthetic prompts).
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from sidlang.evaluate import evaluate
from sidlang.model import continue_tune, load_model
from sidlang.testing import player_log
from sidlang.text import dumps, parse


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", help="corpus folder for held-out perplexity and baselines")
    ap.add_argument("--weights", help="weights file (default: bundled)")
    ap.add_argument("--samples", type=int, default=100, help="continuations checked for validity")
    ap.add_argument("--sample-frames", type=int, default=16, help="frames per validity sample")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    bundle = load_model(args.weights)
    prompt = None
    if args.corpus:
        r = evaluate(bundle, args.corpus, samples=0, max_tokens=100_000)
        print(f"held-out tokens {r['tokens']}: model ppl {r['model_ppl']:.3f}, accuracy {r['accuracy']:.3f}")
        print(f"  unigram ppl {r['unigram_ppl']:.3f}, repeat-last-bar ppl {r['repeat_ppl']:.3f} "
              f"(bar {r['repeat_bar_frames']} frames), best n-gram ppl {r['ngram_ppl']:.3f} "
              f"(order {r['ngram_order']})")
        print(f"  ratio model/n-gram {r['ratio_to_ngram']:.3f}  (goal <= 0.7: "
              f"{'met' if r['ratio_to_ngram'] <= 0.7 else 'NOT met'})")
        from sidlang.corpus.build import load_split

        seqs, _ = load_split(args.corpus, "test")
        prompt = bundle[1].decode(seqs[0][:3000]) if seqs else None
    prompt = prompt or player_log(200, seed=1)  # without a corpus: a dense synthetic player log
    valid = 0
    t0 = time.perf_counter()
    for i in range(args.samples):
        start = 1 + (37 * i) % max(1, len(prompt.frames) - 1)
        out = continue_tune(prompt, args.sample_frames, start=start, seed=i, model=bundle)
        valid += parse(dumps(out)) == out and len(out.frames) == start + args.sample_frames
    print(f"validity: {valid}/{args.samples} continuations of {args.sample_frames} frames valid "
          f"({time.perf_counter() - t0:.1f} s) (goal 100%: {'met' if valid == args.samples else 'NOT met'})")
    times, tokens = [], []
    for seed in range(3):
        t0 = time.perf_counter()
        out = continue_tune(prompt, 500, seed=seed, model=bundle)
        times.append(time.perf_counter() - t0)
        tok = bundle[1]
        tokens.append(len(tok.encode(out)) - len(tok.encode(prompt)))
    best = min(times)
    per = best / max(tokens[times.index(best)], 1) * 1000
    print(f"continue 500 frames: best {best:.2f} s of 3, {tokens[times.index(best)]} tokens, {per:.2f} ms/token "
          f"(goal <= 2 s: {'met' if best <= 2 else 'NOT met'}, ratio {best / 2:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
