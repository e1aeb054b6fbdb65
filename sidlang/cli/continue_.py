"""``sidlang continue IN OUT --frames N``: the bundled model writes what comes next."""

from __future__ import annotations

import argparse
import math

from sidlang.cli.readopts import add_read_options, read_options
from sidlang.cli.weights import check_weights, load_weights
from sidlang.errors import SidlangError, UsageError, needs_model_extra
from sidlang.formats import for_path
from sidlang.io import check_not_input, check_output, encode, load, refuse_terminal, save, write_atomic
from sidlang.tune import MAX_FRAMES

MAX_NEW_FRAMES = 1 << 20  #: frames one continue may write (about 5.8 hours at 50 Hz; ~1,000 frames/s)
MAX_TEMPERATURE = 10.0


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
    p.add_argument(
        "output", metavar="OUT", help="output file (format from its ending), or - for standard output"
    )
    p.add_argument("--frames", type=int, required=True, metavar="N", help="frames to generate")
    p.add_argument("--start", type=int, metavar="F", help="continue after frame F-1 (default: the end)")
    p.add_argument("--temperature", type=float, default=1.0, metavar="T")
    p.add_argument("--top-k", type=int, default=0, metavar="K")
    p.add_argument("--top-p", type=float, default=0.0, metavar="P")
    p.add_argument(
        "--cache",
        type=float,
        metavar="W",
        help="weight (0-1) of the tune's own memory, mixed into each draw: what followed the same "
        "tokens earlier in IN, and what each voice wrote a pattern back; 0 is the network alone "
        "(default 0.9)",
    )
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


def check_sampling(frames: int, temperature: float, top_k: int, top_p: float, seed: int | None) -> None:
    """Usage errors for sampling settings, before any work (the REPL's ``continue`` shares it)."""
    if not 1 <= frames <= MAX_NEW_FRAMES:
        raise UsageError(
            f"--frames must be 1–{MAX_NEW_FRAMES} (about {MAX_NEW_FRAMES / 50 / 3600:.1f} hours at "
            f"50 Hz), got {frames}"
        )
    if not (math.isfinite(temperature) and 0 <= temperature <= MAX_TEMPERATURE):
        raise UsageError(f"--temperature must be 0–{MAX_TEMPERATURE:g}, got {temperature}")
    if top_k < 0:
        raise UsageError(f"--top-k must be 0 or more, got {top_k}")
    if not 0 <= top_p <= 1:  # also refuses nan
        raise UsageError(f"--top-p must be 0–1, got {top_p}")
    if seed is not None and not 0 <= seed < 2**63:
        raise UsageError(f"--seed must be 0 or more (below 2**63), got {seed}")


def run(args: argparse.Namespace) -> int:
    check_sampling(args.frames, args.temperature, args.top_k, args.top_p, args.seed)
    if args.cache is not None and not 0 <= args.cache <= 1:  # also refuses nan
        raise UsageError(f"--cache must be 0–1, got {args.cache}")
    voices = parse_voices(args.keep_voices)
    if args.weights:
        check_weights(args.weights)  # before the input is read and the model loaded
    to_stdout = args.output == "-"
    if to_stdout:  # standard output: sidlang text unless --to names another; binary not to a terminal
        out_fmt = for_path("-", args.to_format or "sidl")
        refuse_terminal(out_fmt.name, out_fmt.binary)
    else:
        out_fmt = for_path(args.output, args.to_format)
        check_not_input(args.input, args.output)
        check_output(args.output, force=args.force)
    if out_fmt.write is None:
        raise UsageError(f"format {out_fmt.name!r} cannot be written, only read")
    with needs_model_extra("the model"):
        from sidlang.model.network import continue_tune
    tune = load(args.input, args.from_format, **read_options(args))
    start = len(tune.frames) if args.start is None else args.start
    if start + args.frames > MAX_FRAMES:
        raise SidlangError(
            f"continuing {args.frames} frames from frame {start} goes past the last allowed frame "
            f"({MAX_FRAMES - 1})",
            file=args.input,
        )
    model = load_weights(args.weights)
    out = continue_tune(
        tune,
        args.frames,
        start=args.start,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        seed=args.seed,
        keep_voices=voices,
        model=model,
        cache=args.cache,
    )
    if to_stdout:
        save(out, "-", out_fmt.name)
    else:
        write_atomic(args.output, encode(out, args.output, args.to_format), force=args.force)
    return 0
