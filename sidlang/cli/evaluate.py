"""``sidlang eval [FILE…]``: perplexity and accuracy of a model beside baselines, validity, copying."""

from __future__ import annotations

import argparse
import json

from sidlang.errors import needs_model_extra


def add_parser(sub) -> None:
    p = sub.add_parser(
        "eval",
        help="measure a model against baselines",
        description="Perplexity and next-token accuracy of the bundled model (or --weights) on the "
        "given tunes, or on the corpus' held-out test split when none are given, beside unigram, "
        "n-gram and repeat-the-last-bar baselines fitted on the corpus' training split in the same "
        "run; the validity rate of sampled continuations and their copy rate (longest run of "
        "frames shared with the training set, as a share of the continuation).",
        epilog="examples:\n  sidlang eval --corpus data/corpus --json\n"
        "  sidlang eval song.sidl --corpus data/corpus --weights runs/a/ckpt.safetensors",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="*", metavar="FILE", help="tunes to score (default: the test split)")
    p.add_argument("--corpus", metavar="DIR", help="corpus folder: training split for baselines, test split")
    p.add_argument("--weights", metavar="PATH", help="weights file (default: the bundled model)")
    p.add_argument("--samples", type=int, default=10, metavar="N", help="continuations sampled for validity")
    p.add_argument("--frames", type=int, default=100, metavar="N", help="frames per sampled continuation")
    p.add_argument("--max-tokens", type=int, default=200_000, metavar="N", help="tokens scored at most")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with needs_model_extra("evaluation"):
        from sidlang.evaluate import evaluate
        from sidlang.model import load_model
    from sidlang.io import load

    tunes = [load(f) for f in args.files]
    result = evaluate(load_model(args.weights), args.corpus, tunes or None, samples=args.samples,
                      sample_frames=args.frames, seed=args.seed, max_tokens=args.max_tokens)
    if args.json:
        print(json.dumps(result))
        return 0
    for k, v in result.items():
        print(f"{k:18} {v:.4g}" if isinstance(v, float) else f"{k:18} {v}")
    return 0
