"""``sidlang convert IN OUT``: any format to any format."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sidlang.cli.readopts import add_read_options, read_options
from sidlang.errors import SidlangError, UsageError
from sidlang.formats import for_path
from sidlang.io import encode, load, write_atomic


def add_parser(sub) -> None:
    p = sub.add_parser(
        "convert",
        help="convert a tune between formats",
        description="Convert a tune between formats. The formats come from the file endings "
        "unless named with --from/--to; '-' is standard input or output. The output is written "
        "whole or not at all, and an existing file is only replaced with --force.",
        epilog="examples:\n  sidlang convert song.vice song.sidl\n"
        "  sidlang convert song.sidl - --to vice6 | less\n"
        "  cat song.vice | sidlang convert - song.sidl --from vice",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", metavar="IN", help="input file, or - for standard input")
    p.add_argument("output", metavar="OUT", help="output file, or - for standard output")
    p.add_argument("--from", dest="from_format", metavar="F", help="input format name")
    p.add_argument("--to", dest="to_format", metavar="F", help="output format name")
    p.add_argument("-f", "--force", action="store_true", help="replace OUT if it exists")
    add_read_options(p)
    p.add_argument("--style", metavar="NAME", help="arranger style for MIDI and score inputs: "
                   "classic, plain, arcade, soft, or a .yaml file (see docs/midi.md)")
    p.set_defaults(run=run)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def run(args: argparse.Namespace) -> int:
    if args.output != "-" and args.input != "-" and _same_file(args.input, args.output):
        raise UsageError(f"{args.output}: is the input file; inputs are never overwritten")
    if args.output != "-" and Path(args.output).exists() and not args.force:
        raise SidlangError("already exists; add --force to replace it", file=args.output)
    options = read_options(args)
    if args.style:
        if not args.input.startswith("music21:") and "style" not in for_path(args.input, args.from_format).options:
            raise UsageError("--style applies to MIDI and score inputs (mid, abc, krn, musicxml, music21:NAME)")
        options["style"] = args.style
    tune = load(args.input, args.from_format, **options)
    out_format = args.to_format or ("sidl" if args.output == "-" else None)
    data = encode(tune, args.output, out_format)
    if args.output == "-":
        import sys

        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_atomic(args.output, data, force=args.force)
    return 0
