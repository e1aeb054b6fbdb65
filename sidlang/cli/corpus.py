"""``sidlang corpus build OUT``: token shards for training from music21 and folders of tunes."""

from __future__ import annotations

import argparse
from pathlib import Path

from sidlang.errors import UsageError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "corpus",
        help="build the training corpus (token shards)",
        description="Build the model's training corpus: the music21 corpus through the arranger in "
        "several styles, and any folders of .sid, VICE dumps, register logs, MIDI or sidlang files, "
        "tokenized into NumPy shards with a train/val/test split by piece and by composer. "
        "An interrupted build resumes where it stopped; --shard i/n splits the work.",
        epilog="examples:\n  sidlang corpus build data/corpus\n"
        "  sidlang corpus build data/corpus --source music21 --source ~/tunes --shard 0/4",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub2 = p.add_subparsers(dest="action", metavar="ACTION")
    sub2.required = True
    b = sub2.add_parser("build", help="build or resume a corpus")
    b.add_argument("out", metavar="OUT", help="corpus folder (created; resumed if it exists)")
    b.add_argument("--source", action="append", metavar="SRC",
                   help="'music21' (default) or a folder of tunes/MIDI; may repeat")
    b.add_argument("--styles", metavar="A,B", help="arranger styles (default: all)")
    b.add_argument("--styles-per-piece", type=int, default=0, metavar="K",
                   help="arrange each piece in K of the styles, rotating (default: all)")
    b.add_argument("--shard", default="0/1", metavar="I/N", help="build the I-th of N parts (0-based)")
    b.add_argument("--max-per-composer", type=int, default=0, metavar="N", help="at most N pieces per composer")
    b.add_argument("--max-frames", type=int, default=6000, metavar="N", help="crop pieces to N frames")
    b.add_argument("--transpose", type=int, default=1, metavar="N",
                   help="extra randomly transposed copies of each training piece (default 1)")
    b.add_argument("--seconds", type=float, default=120.0, metavar="S", help="length played from .sid files")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def parse_shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard wants I/N like 0/4, got {text!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise UsageError(f"--shard I/N needs 0 <= I < N, got {text!r}")
    return i, n


def run(args: argparse.Namespace) -> int:
    from sidlang.corpus.build import build

    styles = args.styles.split(",") if args.styles else None
    counts = build(
        Path(args.out), args.source or ["music21"], styles=styles, shard=parse_shard(args.shard),
        max_per_composer=args.max_per_composer, max_frames=args.max_frames, transpositions=args.transpose,
        seconds=args.seconds, styles_per_piece=args.styles_per_piece, progress=not args.quiet,
    )
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 0
