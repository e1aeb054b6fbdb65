"""``sidlang render IN OUT.wav``: a tune to audio through reSIDfp, with stems and pictures."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from sidlang.errors import SidlangError, UsageError

EXAMPLES = """\
examples:
  sidlang render song.vice song.wav
  sidlang render song.sidl song.wav --chip 8580 --rate 48000 --normalize
  sidlang render song.sidl song.wav --seconds 30 --spectrogram song.png
  sidlang render duet.sidl duet.wav --stereo          # SID 1 left, SID 2 right
  sidlang render song.sidl song.wav --stems           # also song-v1.wav, song-v2.wav, song-v3.wav

Every write reaches the chip at its exact cycle. The file is 16-bit PCM, mono unless --stereo;
N cycles give exactly N * rate // clock samples (or --seconds * rate). Several SIDs are averaged
in mono. --normalize scales the loudest sample to -1 dBFS.
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "render",
        help="render a tune to a WAV file through reSIDfp",
        description="Render a tune to audio with reSIDfp, cycle-exact, from any input format.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", metavar="IN", help="input tune in any readable format, or -")
    p.add_argument("output", metavar="OUT.wav", help="WAV file to write")
    p.add_argument("--from", dest="from_format", metavar="F", help="input format name")
    add_render_options(p)
    p.add_argument("--stems", action="store_true", help="also write one WAV per voice (OUT-v1.wav …)")
    p.add_argument("--spectrogram", metavar="PNG", help="also write a mel spectrogram picture")
    p.add_argument("--pianoroll", metavar="PNG", help="also write a piano roll picture of the frames")
    p.add_argument("-f", "--force", action="store_true", help="replace outputs that exist")
    p.set_defaults(run=run)


def add_render_options(p: argparse.ArgumentParser) -> None:
    """The options ``render`` and ``play`` share."""
    p.add_argument(
        "--chip", type=int, choices=(6581, 8580), help="chip model for every SID (default: header)"
    )
    p.add_argument("--rate", type=int, default=44100, metavar="HZ", help="sample rate (default 44100)")
    p.add_argument("--stereo", action="store_true", help="SIDs spread left to right (default: mono mix)")
    p.add_argument("--seconds", type=float, metavar="S", help="render exactly S seconds (cut or ring on)")
    p.add_argument("--normalize", action="store_true", help="scale the loudest sample to -1 dBFS")
    p.add_argument("--no-filter", dest="filter", action="store_false", help="turn the filter emulation off")
    p.add_argument("--curve-6581", type=float, metavar="X", help="6581 filter curve, 0 light .. 1 dark (0.5)")
    p.add_argument("--curve-8580", type=float, metavar="X", help="8580 filter curve, 0 .. 1")
    p.add_argument(
        "--method",
        choices=("resample", "decimate"),
        default="resample",
        help="reSIDfp sampling: resample (sinc, default) or decimate (faster, aliases)",
    )


def render_options(args: argparse.Namespace):
    from sidlang.formats.render import RenderOptions

    return RenderOptions(
        rate=args.rate,
        chip=args.chip,
        stereo=args.stereo,
        seconds=args.seconds,
        normalize=args.normalize,
        filter=args.filter,
        curve_6581=args.curve_6581,
        curve_8580=args.curve_8580,
        method=args.method,
    )


def stem_paths(output: str, names: list[str]) -> dict[str, Path]:
    """``song.wav`` with stems ``v1``… gives ``song-v1.wav``…"""
    out = Path(output)
    return {name: out.with_name(f"{out.stem}-{name}{out.suffix or '.wav'}") for name in names}


def progress_printer():
    """A progress callback for long renders, or None when stderr is not a terminal."""
    if not sys.stderr.isatty():
        return None
    last = [-1]

    def show(done: int, total: int) -> None:
        percent = 100 * done // max(total, 1)
        if percent != last[0]:
            last[0] = percent
            end = "\n" if done >= total else ""
            print(f"\rrendering {percent:3d}%", end=end, file=sys.stderr, flush=True)

    return show


def _no_blas_threads() -> None:
    """Ask OpenBLAS, before NumPy loads it, for no thread pool of its own.

    A render does no linear algebra worth a thread, and starting the pool (and joining it at
    exit) is 40-60 ms of the whole command on a busy 2-core machine, more than any other part
    of NumPy's import. A value the user set is kept; where NumPy is loaded already (sidlang
    used as a library) it is too late, and nothing is changed.
    """
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def run(args: argparse.Namespace) -> int:
    _no_blas_threads()
    from sidlang.formats.render import check_wav_size, stream_stems, stream_wav, wav_samples
    from sidlang.io import Outputs, check_not_input, check_output, load
    from sidlang.registers import VOICES

    if args.output == "-":
        raise UsageError(
            "render writes a file; give OUT.wav (use 'sidlang convert IN - --to wav' for a pipe)"
        )
    options = render_options(args)
    for path in (args.output, args.spectrogram, args.pianoroll):  # refuse before a long read
        if path:
            check_output(path, force=args.force)
    if (args.spectrogram or args.pianoroll) and not _have_matplotlib():
        raise SidlangError("--spectrogram and --pianoroll need matplotlib: pip install 'sidlang[pictures]'")
    check_not_input(args.input, args.output, args.spectrogram, args.pianoroll)
    tune = load(args.input, args.from_format)
    chips = tune.header.chips
    names = [f"s{c + 1}v{v + 1}" if chips > 1 else f"v{v + 1}" for c in range(chips) for v in range(VOICES)]
    stems = stem_paths(args.output, names) if args.stems else {}
    check_not_input(args.input, *stems.values())
    check_wav_size(tune, options)
    progress = progress_printer()
    title = tune.header.title or Path(args.input).name
    with Outputs(force=args.force) as out:
        # Every output is checked and its temporary file made before minutes of rendering; none
        # is in place unless all are written.
        for path in [args.output, *stems.values(), args.spectrogram, args.pianoroll]:
            if path:
                out.reserve(path)
        wav = out.open(args.output)
        stream_wav(tune, wav, options, progress)
        if stems:
            stream_stems(tune, {name: out.open(path) for name, path in stems.items()}, options, progress)
        if args.spectrogram or args.pianoroll:
            from sidlang.formats import pictures
        if args.spectrogram:
            out.write(args.spectrogram, pictures.spectrogram_png(wav_samples(wav), options.rate, title))
        if args.pianoroll:
            out.write(args.pianoroll, pictures.pianoroll_png(tune, title))
    return 0


def _have_matplotlib() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True
