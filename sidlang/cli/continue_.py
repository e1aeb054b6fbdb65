"""``sidlang continue IN OUT --frames N``: the bundled model writes what comes next."""

from __future__ import annotations

import argparse
from pathlib import Path

from sidlang.cli.readopts import add_read_options, read_options
from sidlang.errors import SidlangError, UsageError, needs_model_extra
from sidlang.io import encode, load, write_atomic


def add_parser(sub) -> None:
    p = sub.add_parser(
        "continue",
        help="continue a tune with the bundled model",
        description="Continue a tune: the model reads it (up to --start, default its end) and writes "
        "N more frames. Sampling: --temperature (0 = always the likeliest token), --top-k, --top-p, "
        "--seed. --keep-voices 1,2 copies those voices from IN into the new frames and has the model "
        "write the others around them. The bundled weights ship inside the package (no download).",
        epilog="examples:\n  sidlang continue song.sidl more.sidl --frames 500 --seed 1\n"
        "  sidlang continue melody.sidl arranged.sidl --start 0 --frames 800 --keep-voices 1",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", metavar="IN", help="a tune in any readable format")
    p.add_argument("output", metavar="OUT", help="output file (format from its ending)")
    p.add_argument("--frames", type=int, required=True, metavar="N", help="frames to generate")
    p.add_argument("--start", type=int, metavar="F", help="continue after frame F-1 (default: the end)")
    p.add_argument("--temperature", type=float, default=1.0, metavar="T")
    p.add_argument("--top-k", type=int, default=0, metavar="K")
    p.add_argument("--top-p", type=float, default=0.0, metavar="P")
    p.add_argument("--seed", type=int, metavar="S", help="random seed (same seed, same output)")
    p.add_argument("--keep-voices", metavar="V,V", help="voices (1-3) to copy from IN, e.g. 1 or 1,3")
    p.add_argument("--weights", metavar="PATH", help="a weights file (default: the bundled model)")
    p.add_argument("--from", dest="from_format", metavar="F", help="input format name")
    p.add_argument("--to", dest="to_format", metavar="F", help="output format name")
    p.add_argument("-f", "--force", action="store_true", help="replace OUT if it exists")
    add_read_options(p)
    p.set_defaults(run=run)


def parse_voices(text: str | None) -> tuple[int, ...]:
    if not text:
        return ()
    try:
        voices = tuple(int(v) for v in text.replace("v", "").split(","))
    except ValueError:
        raise UsageError(f"--keep-voices wants numbers 1-3 like 1,3, got {text!r}") from None
    if any(v not in (1, 2, 3) for v in voices):
        raise UsageError(f"--keep-voices wants numbers 1-3, got {text!r}")
    return voices


def run(args: argparse.Namespace) -> int:
    if args.frames < 1:
        raise UsageError(f"--frames must be at least 1, got {args.frames}")
    if not 0 <= args.top_p <= 1 or args.top_k < 0 or args.temperature < 0:
        raise UsageError("--temperature and --top-k must be 0 or more, --top-p 0-1")
    voices = parse_voices(args.keep_voices)
    if Path(args.output).exists() and not args.force:
        raise SidlangError("already exists; add --force to replace it", file=args.output)
    with needs_model_extra("the model"):
        from sidlang.model import continue_tune, load_model
    tune = load(args.input, args.from_format, **read_options(args))
    out = continue_tune(tune, args.frames, start=args.start, temperature=args.temperature, top_k=args.top_k,
                        top_p=args.top_p, seed=args.seed, keep_voices=voices, model=load_model(args.weights))
    write_atomic(args.output, encode(out, args.output, args.to_format), force=args.force)
    return 0
