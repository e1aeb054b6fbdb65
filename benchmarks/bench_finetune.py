"""Pre-training and fine-tuning, LakhNES's table for SID: perplexity on held-out real tunes.

LakhNES pre-trains on MIDI adapted to the chip's voices and fine-tunes on chip music (test
perplexity 3.50 without pre-training, 2.46 with). Here the pre-training is the music21 corpus
through the arranger and the fine-tuning the openly licensed real tunes of ``sidlang corpus
gather``; every model scores the same held-out tunes (never in any training split) the way
``sidlang eval FILE…`` does: each tune's second half, with its first half as context, beside
the baselines fitted on the first halves in the same run (an n-gram and repeat-the-last-bar).

Run::

    python benchmarks/bench_finetune.py --model "no pre-training=runs/scratch/ckpt.safetensors" \\
        --model "pre-training only=runs/pre.safetensors" --model "pre-training + fine-tuning=runs/ft/ckpt.safetensors"

Without ``--model`` the bundled weights are scored. Tunes: the held-out ones (``HELD_OUT``)
under ``--real`` (default ``data/real``, made by ``sidlang corpus gather``), or the files given.
Goal: the fine-tuned model's perplexity at most 0.7x the best baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from sidlang.corpus.realtunes import HELD_OUT
from sidlang.io import load
from sidlang.model.evaluate import evaluate
from sidlang.model.network import load_model


def held_out_files(folder: Path) -> list[Path]:
    """Files under ``folder`` whose stem is one of the held-out tunes, in ``HELD_OUT``'s order."""
    found = {p.stem: p for p in sorted(folder.rglob("*")) if p.suffix in (".sid", ".sidl", ".vice", ".vice6")}
    return [found[s] for s in HELD_OUT if s in found]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", help="tunes to score (default: the held-out tunes under --real)")
    ap.add_argument("--real", default="data/real", help="folder made by 'sidlang corpus gather'")
    ap.add_argument(
        "--model", action="append", default=[], metavar="NAME=PATH", help="weights to score; may repeat"
    )
    ap.add_argument("--seconds", type=float, default=60.0, help="length played from .sid files")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    files = [Path(f) for f in args.files] or held_out_files(Path(args.real))
    if not files:
        print(f"bench_finetune: no tunes (none given, no held-out tune under {args.real})", file=sys.stderr)
        return 1
    tunes = [load(str(f), seconds=args.seconds) if f.suffix == ".sid" else load(str(f)) for f in files]
    models = [m.split("=", 1) for m in args.model] or [["bundled", None]]
    rows = []
    for name, path in models:
        t0 = time.perf_counter()
        r = evaluate(
            load_model(path),
            None,
            tunes,
            names=[f.stem for f in files],
            samples=0,
            log=lambda line: print("  " + line, file=sys.stderr),
        )
        rows.append({**r, "model": name, "weights": path, "seconds": round(time.perf_counter() - t0, 1)})
        print(f"{name}: ppl {r['model_ppl']:.3f}, accuracy {r['accuracy']:.3f}", file=sys.stderr)
    if args.json:
        print(json.dumps(rows))
        return 0
    base = rows[0]
    print(
        f"{len(files)} held-out real tunes, {base['tokens']} tokens scored (second halves, first halves as context)"
    )
    print(f"{'model':32} {'perplexity':>11} {'accuracy':>9} {'/ best baseline':>16}")
    for r in rows:
        print(
            f"{r['model']:32} {r['model_ppl']:11.3f} {r['accuracy']:9.3f} {r['ratio_to_best_baseline']:16.3f}"
        )
        print(
            f"{'  with the tune memory':32} {r['model_cache_ppl']:11.3f} {'':9} "
            f"{r['cache_ratio_to_best_baseline']:16.3f}"
        )
    print(
        f"{'baseline: first-half n-gram':32} {base['context_ngram_ppl']:11.3f}   (order {base['context_ngram_order']})"
    )
    print(f"{'baseline: repeat the last bar':32} {base['repeat_ppl']:11.3f}")
    print(f"{'baseline: first-half unigram':32} {base['unigram_ppl']:11.3f}")
    best = min(r["ratio_to_best_baseline"] for r in rows)
    print(
        f"goal: perplexity <= 0.7x the best baseline: {'met' if best <= 0.7 else 'NOT met'} (best {best:.3f}x)"
    )
    print("per tune (perplexity):")
    names = [p["name"] for p in base["per_tune"]]
    print(f"  {'tune':26}" + "".join(f"{r['model'][:14]:>15}" for r in rows) + f"{'n-gram':>9}{'repeat':>9}")
    for i, n in enumerate(names):
        cells = "".join(f"{r['per_tune'][i]['model_ppl']:15.2f}" for r in rows)
        p = base["per_tune"][i]
        print(f"  {n:26}{cells}{p['context_ngram_ppl']:9.2f}{p['repeat_ppl']:9.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
