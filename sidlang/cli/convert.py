"""``sidlang convert IN OUT``: any format to any format."""

from __future__ import annotations

import argparse
import sys

from sidlang.cli.readopts import add_read_options, read_options
from sidlang.errors import UsageError
from sidlang.formats import for_path
from sidlang.io import Outputs, check_not_input, check_read_options, load, refuse_terminal, write_to


def add_parser(sub) -> None:
    p = sub.add_parser(
        "convert",
        help="convert a tune between formats",
        description="Convert a tune between formats. The formats come from the file endings "
        "unless named with --from/--to; '-' is standard input or output. The output is written "
        "whole or not at all, and an existing file is only replaced with --force.",
        epilog="examples:\n  sidlang convert song.vice song.sidl\n"
        "  sidlang convert song.sid song.sidp --seconds 60   # tracker patterns (docs/patterns.md)\n"
        "  sidlang convert song.swm song.sidp                # a SID-Wizard module's patterns\n"
        "  sidlang convert song.sidp song.swm                # patterns as a module (or .sng)\n"
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
    p.add_argument(
        "--style",
        metavar="NAME",
        help="arranger style for MIDI and score inputs: "
        "classic, plain, arcade, soft, or a .yaml file (see docs/midi.md)",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    check_not_input(args.input, args.output)
    out_format = args.to_format or ("sidl" if args.output == "-" else None)
    out_fmt = for_path(args.output, out_format)
    if out_fmt.write is None:
        raise UsageError(f"format {out_fmt.name!r} cannot be written, only read")
    options = read_options(args)
    if args.style:
        if (
            not args.input.startswith("music21:")
            and "style" not in for_path(args.input, args.from_format).options
        ):
            raise UsageError(
                "--style applies to MIDI and score inputs (mid, abc, krn, musicxml, music21:NAME)"
            )
        options["style"] = args.style
    if args.from_format or (args.input != "-" and not args.input.startswith("music21:")):
        check_read_options(for_path(args.input, args.from_format), options)  # before any reading
    if args.output == "-":
        refuse_terminal(out_fmt.name, out_fmt.binary)
        tune = with_patterns(load(args.input, args.from_format, **options), args, out_fmt.name)
        write_to(tune, sys.stdout.buffer, args.output, out_format)
        sys.stdout.flush()
        return 0
    with Outputs(force=args.force) as out:
        out.reserve(args.output)  # refused now, not after a long read
        tune = with_patterns(load(args.input, args.from_format, **options), args, out_fmt.name)
        write_to(tune, out.open(args.output), args.output, out_format)
    return 0


#: Outputs written from a pattern song (tune.meta["patterns"]) rather than from frames.
SONG_OUTPUTS = ("sng", "swm")


def with_patterns(tune, args: argparse.Namespace, out_name: str):
    """A ``.sidp`` input keeps its song for the tracker writers (``.sng``, ``.swm``), which write
    patterns, not frames; other inputs carry theirs already (``.sng``, ``.swm``) or have none."""
    if out_name not in SONG_OUTPUTS or "patterns" in tune.meta or args.input == "-":
        return tune
    if for_path(args.input, args.from_format).name != "sidp":
        return tune
    from sidlang.io import read_bytes
    from sidlang.patterns import parse

    tune.meta["patterns"] = parse(read_bytes(args.input).decode("utf-8"), args.input)
    return tune
