"""``sidlang corpus build OUT`` (token shards for training) and ``sidlang corpus gather OUT`` (real tunes)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sidlang.errors import UsageError


def add_parser(sub) -> None:
    p = sub.add_parser(
        "corpus",
        help="build the training corpus (token shards), gather real tunes",
        description="Build the model's training corpus from the music21 corpus and folders of tunes "
        "('corpus build'), or gather openly licensed real C64 tunes into a folder to build from "
        "('corpus gather'). See 'sidlang corpus ACTION --help'.",
        epilog="examples:\n  sidlang corpus gather data/real\n"
        "  sidlang corpus build data/corpus --source music21 --source data/real\n"
        "  sidlang corpus build data/hvsc --source ~/C64Music --hold-out Commando,'Last_Ninja*'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub2 = p.add_subparsers(dest="action", metavar="ACTION")
    sub2.required = True
    b = sub2.add_parser(
        "build",
        help="build or resume a corpus",
        description="Build the model's training corpus: the music21 corpus through the arranger in "
        "several styles, and any folders of .sid (your HVSC copy), VICE dumps, register logs, MIDI, "
        "sidlang files, GoatTracker .sng (played by pygoattracker) or CheeseCutter .ct (exported by "
        "ct2util; skipped where it is missing), tokenized into NumPy shards with a train/val/test split "
        "by piece and by composer (a musician's folder, or the author a gathered folder's sources.json "
        "names). Pieces named by --hold-out, and the tunes a gathered folder marks held out, go to the "
        "test split whole. A file that cannot be read is skipped with one line. An interrupted build "
        "resumes where it stopped (run the same command again); --shard i/n splits the work. "
        "Augmentation: --transpose stores transposed copies of training pieces; voice rotation is not "
        "stored, training applies it as a token permutation.",
        epilog="examples:\n  sidlang corpus build data/corpus\n"
        "  sidlang corpus build data/corpus --source music21 --source ~/tunes --shard 0/4\n"
        "  sidlang corpus build data/hvsc --source ~/C64Music --seconds 60 --max-frames 3000\n"
        "  sidlang corpus build data/real-corpus --source data/real --hold-out @data/real/held-out.txt\n"
        "  sidlang corpus build data/hvsc --source ~/C64Music --hold-out Commando,'Last_Ninja*'",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument("out", metavar="OUT", help="corpus folder (created; resumed if it exists)")
    b.add_argument(
        "--source",
        action="append",
        metavar="SRC",
        help="'music21' (default) or a folder of tunes/MIDI/.sng/.ct; may repeat",
    )
    b.add_argument("--styles", metavar="A,B", help="arranger styles (default: all)")
    b.add_argument(
        "--styles-per-piece",
        type=int,
        default=0,
        metavar="K",
        help="arrange each piece in K of the styles, rotating (default: all)",
    )
    b.add_argument("--shard", default="0/1", metavar="I/N", help="build the I-th of N parts (0-based)")
    b.add_argument(
        "--max-per-composer", type=int, default=0, metavar="N", help="at most N pieces per composer"
    )
    b.add_argument("--max-frames", type=int, default=6000, metavar="N", help="crop pieces to N frames")
    b.add_argument(
        "--transpose",
        type=int,
        default=1,
        metavar="N",
        help="extra randomly transposed copies of each training piece (default 1)",
    )
    b.add_argument(
        "--seconds",
        type=float,
        default=120.0,
        metavar="S",
        help="length played from .sid, .sng and .ct songs (then cropped to --max-frames)",
    )
    b.add_argument(
        "--hold-out",
        action="append",
        metavar="NAME[,NAME...]",
        help="file stems (exact or a glob like 'Last_Ninja*') whose pieces go to the test split "
        "whole; @FILE reads one name a line; may repeat; recorded in manifest.json",
    )
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.set_defaults(run=run)
    add_gather(sub2)


def add_gather(sub2) -> None:
    from sidlang.corpus.realtunes import DEFAULT_SECONDS, SOURCES

    g = sub2.add_parser(
        "gather",
        help="gather openly licensed real tunes into a folder, with their sources",
        description="Gather openly licensed real C64 tunes into OUT, one folder per source, with "
        "SOURCES.md and sources.json naming each tune's origin, author and licence: SID-Wizard 1.9's "
        "example .sid exports (WTFPL, copied as they are), CheeseCutter's example songs (GPL-2+, "
        "exported with ct2util) and GoatTracker 2's example songs (GPL-2+, played by pygoattracker and "
        "saved as .sidl). A source whose folder or tool is missing is skipped with one line. Existing "
        "outputs are kept, so running it again finishes an interrupted gather. Feed OUT to "
        "'sidlang corpus build --source OUT'; the held-out tunes it lists go to the test split.",
        epilog="examples:\n  sidlang corpus gather data/real\n"
        "  sidlang corpus gather data/real --seconds 60 --goattracker ~/gt2/examples\n"
        "  sidlang corpus build data/corpus --source music21 --source data/real\n\n"
        "default folders:\n" + "".join(f"  --{s.name:13s} {s.default_dir}\n" for s in SOURCES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g.add_argument("out", metavar="OUT", help="folder to gather into (created; finished if it exists)")
    for s in SOURCES:
        g.add_argument(f"--{s.name}", type=Path, metavar="DIR", help=f"where the {s.title} are")
    g.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_SECONDS,
        metavar="S",
        help=f"play each song for S seconds (default {DEFAULT_SECONDS:g}); .sid files are copied whole",
    )
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.set_defaults(run=run_gather)


def run_gather(args: argparse.Namespace) -> int:
    from sidlang.corpus.realtunes import SOURCES, gather

    dirs = {s.name: getattr(args, s.name.replace("-", "_")) for s in SOURCES}
    record = gather(
        Path(args.out),
        dirs={k: v for k, v in dirs.items() if v is not None},
        seconds=args.seconds,
        progress=not args.quiet,
        log=_log,
    )
    by = {}
    for t in record["tunes"]:
        by[t["source"]] = by.get(t["source"], 0) + 1
    print(
        " ".join(f"{k}={v}" for k, v in by.items()) or "no tunes",
        f"held_out={sum(t['held_out'] for t in record['tunes'])} set_aside={len(record['set_aside'])} "
        f"failed={len(record['failed'])} -> {args.out}/SOURCES.md",
    )
    return 1 if record["failed"] and not record["tunes"] else 0


def _log(line: str) -> None:
    print(line, file=sys.stderr)


def parse_shard(text: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard wants I/N like 0/4, got {text!r}") from None
    if not (n >= 1 and 0 <= i < n):
        raise UsageError(f"--shard I/N needs 0 <= I < N, got {text!r}")
    return i, n


def run(args: argparse.Namespace) -> int:
    from sidlang.corpus.build import build, parse_hold_out

    styles = args.styles.split(",") if args.styles else None
    if args.seconds <= 0 or args.max_frames < 0:
        raise UsageError(
            f"--seconds must be more than 0 and --max-frames 0 or more, got {args.seconds:g} "
            f"and {args.max_frames}"
        )
    counts = build(
        Path(args.out),
        args.source or ["music21"],
        styles=styles,
        shard=parse_shard(args.shard),
        max_per_composer=args.max_per_composer,
        max_frames=args.max_frames,
        transpositions=args.transpose,
        seconds=args.seconds,
        styles_per_piece=args.styles_per_piece,
        hold_out=parse_hold_out(args.hold_out),
        progress=not args.quiet,
        log=_log,
    )
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 0
