"""``sidlang eval [FILE…]``: perplexity and accuracy of a model beside baselines, validity, copying."""

from __future__ import annotations

import argparse
import json
import sys

from sidlang.cli.readopts import add_read_options, read_options
from sidlang.errors import UsageError, needs_model_extra

DEFAULT_SECONDS = 60.0  #: length played from .sid files (other commands: 180)
SAMPLES_FOR_FILES = 4  #: default --samples with files: a real tune's frames hold many tokens
SAMPLES_FOR_CORPUS = 10

FIELDS = """\
fields (--json prints them as one object):
  with files, each tune is split at the frame start nearest its middle (in tokens); the
  second half is scored by everyone, and everyone learns only from the first half:
  tokens, tunes           tokens scored (the second halves, each to its EOS), tunes given
  model_ppl, accuracy     the model's perplexity and next-token accuracy; every token is scored
                          once, with as much of what precedes it (first half included) as the
                          context holds (sliding windows, stride half the context)
  model_cache_ppl         the model mixed with the tune's own memory as 'continue' samples
                          (cache_weight; what followed the same tokens in the first half),
                          cache_ratio_to_best_baseline: it divided by the best baseline
  context_ngram_ppl       n-gram fitted on each tune's first half; context_ngram_order (2-6) and
                          context_ngram_discount (0.75/0.9) are the pair with the best pooled
                          perplexity on the scored tokens (favours the baseline)
  repeat_ppl              repeat-the-last-bar: the token at the same place one bar back, mixed
                          with the unigram; repeat_bar_frames: each tune's bar, fitted on its
                          first half
  unigram_ppl             token frequencies of each first half, add-one smoothed
  best_baseline, ratio_to_best_baseline
                          the baseline with the lowest perplexity, and model_ppl divided by it
                          (below 1: the model beats every baseline)
  per_tune                name, frames, split_frame, tokens, model_ppl, accuracy, model_cache_ppl,
                          context_ngram_ppl, repeat_ppl, repeat_bar_frames, unigram_ppl
  perplexities pool tunes by total log-likelihood over all scored tokens.
  with --corpus, baselines fitted on its training split: ngram_ppl (ngram_order,
  ngram_discount, ratio_to_ngram); unigram_ppl, repeat_ppl, repeat_bar_frames (named
  corpus_unigram_ppl, corpus_repeat_ppl, corpus_repeat_bar_frames when files are given too).
  Without files the corpus' test split is scored whole, at most --max-tokens tokens.
  samples, validity       continuations sampled (--frames each; with files from the split) and
                          the share that print as sidlang and parse back identical
  copy_rate               longest run of sampled frames also found in copy_reference (the
                          training split with --corpus, else the tune's first half), as a share
                          of the sample
  model                   the weights' own record: params, step, val_loss, val_acc
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "eval",
        help="measure a model against baselines",
        description="Perplexity and next-token accuracy of the bundled model (or --weights) on the second\n"
        "half of each given tune, beside baselines fitted on the first halves; without files, on the\n"
        "corpus' held-out test split. --corpus adds baselines fitted on its training split. Then the\n"
        "validity and copy rate of sampled continuations. A progress line per tune goes to stderr.",
        epilog=FIELDS + "\nexamples:\n  sidlang eval song.sid other.sidl --json\n"
        "  sidlang eval --corpus data/corpus --json\n"
        "  sidlang eval song.sid --seconds 30 --corpus data/corpus --weights runs/a/ckpt.safetensors",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("files", nargs="*", metavar="FILE", help="tunes to score (default: the test split)")
    p.add_argument("--corpus", metavar="DIR", help="corpus folder: training split for baselines, test split")
    p.add_argument("--weights", metavar="PATH", help="weights file (default: the bundled model)")
    p.add_argument(
        "--samples",
        type=int,
        metavar="N",
        help=f"continuations sampled for validity and copying (default {SAMPLES_FOR_FILES} with "
        f"files, {SAMPLES_FOR_CORPUS} on the test split; 0: none)",
    )
    p.add_argument("--frames", type=int, default=100, metavar="N", help="frames per sampled continuation")
    p.add_argument(
        "--max-tokens",
        type=int,
        default=200_000,
        metavar="N",
        help="tokens of the test split scored at most (files are scored whole)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_read_options(p)
    p.set_defaults(run=run, seconds=DEFAULT_SECONDS)
    # The shared group says 180 s; eval plays a minute.
    p._option_string_actions["--seconds"].help = f"length to play (default {DEFAULT_SECONDS:g})"


def _log(message: str) -> None:
    print(f"sidlang eval: {message}", file=sys.stderr, flush=True)


def _load_all(args: argparse.Namespace) -> list:
    """The files as Tunes, each read with the read options its format takes."""
    from sidlang.formats import for_path
    from sidlang.io import load

    given = read_options(args)
    tunes = []
    for f in args.files:
        takes = {} if f.startswith("music21:") else for_path(f).options  # a music21 piece takes none of them
        tunes.append(load(f, **{k: v for k, v in given.items() if k in takes}))
    return tunes


def run(args: argparse.Namespace) -> int:
    with needs_model_extra("evaluation"):
        from sidlang.model.evaluate import evaluate

    from sidlang.cli.weights import check_weights, load_weights

    if args.weights:
        check_weights(args.weights)  # before the tunes are read
    from sidlang.cli.continue_ import MAX_NEW_FRAMES

    if args.samples is not None and args.samples < 0:
        raise UsageError(f"--samples must be 0 or more, got {args.samples}")
    if not 1 <= args.frames <= MAX_NEW_FRAMES:
        raise UsageError(f"--frames must be 1–{MAX_NEW_FRAMES}, got {args.frames}")
    if args.max_tokens < 1:
        raise UsageError(f"--max-tokens must be 1 or more, got {args.max_tokens}")
    if not 0 <= args.seed < 2**63:
        raise UsageError(f"--seed must be 0 or more (below 2**63), got {args.seed}")
    if args.samples is None:
        args.samples = SAMPLES_FOR_FILES if args.files else SAMPLES_FOR_CORPUS
    tunes = _load_all(args)
    result = evaluate(
        load_weights(args.weights),
        args.corpus,
        tunes or None,
        names=args.files,
        samples=args.samples,
        sample_frames=args.frames,
        seed=args.seed,
        max_tokens=args.max_tokens,
        log=_log,
    )
    if args.json:
        print(json.dumps(result))
        return 0
    for k, v in result.items():
        if k == "per_tune":
            print(k)
            for row in v:
                print(
                    f"  {row['name']}: "
                    + ", ".join(
                        f"{a} {b:.4g}" if isinstance(b, float) else f"{a} {b}"
                        for a, b in row.items()
                        if a != "name"
                    )
                )
        else:
            print(f"{k:24} {v:.4g}" if isinstance(v, float) else f"{k:24} {v}")
    return 0
