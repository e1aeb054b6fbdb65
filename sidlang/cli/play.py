"""``sidlang play IN``: render a tune and play it on the audio device.

Playback goes through the optional ``sounddevice`` package (``pip install 'sidlang[play]'``),
which needs the PortAudio library and an output device. Where any of those is missing, the
audio is written to a WAV file instead and the one-line error says why and where it went.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from sidlang.cli.render import add_render_options, progress_printer, render_options
from sidlang.errors import SidlangError
from sidlang.io import Outputs, check_not_input, load


def add_parser(sub) -> None:
    p = sub.add_parser(
        "play",
        help="render a tune and play it on the audio device",
        description="Render a tune through reSIDfp and play it with the optional 'sounddevice' "
        "package. With no audio device (or no sounddevice/PortAudio) the audio is written to a "
        "WAV file instead (--wav, default in the temporary folder) and the error says where.",
        epilog="examples:\n  sidlang play song.sidl\n  sidlang play song.vice --chip 8580 --seconds 20\n"
        "  sidlang play song.sidl --wav song.wav   # where to put the audio if it cannot play",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", metavar="IN", help="input tune in any readable format, or -")
    p.add_argument("--from", dest="from_format", metavar="F", help="input format name")
    p.add_argument("--wav", metavar="PATH", help="where to write the audio if it cannot be played")
    add_render_options(p)
    p.set_defaults(run=run)


def output_device():
    """The ``sounddevice`` module once an output device is known to exist; else SidlangError(reason)."""
    try:
        import sounddevice
    except ImportError:
        raise SidlangError(
            "the optional 'sounddevice' package is not installed (pip install 'sidlang[play]')"
        ) from None
    except OSError as e:  # the package is there but the PortAudio library is not
        raise SidlangError(f"no PortAudio library for sounddevice ({e})") from None
    try:
        sounddevice.query_devices(kind="output")
    except Exception as e:  # sounddevice.PortAudioError, ValueError: no default output
        raise SidlangError(f"no audio output device ({str(e).strip() or type(e).__name__})") from None
    return sounddevice


def fallback_path(args: argparse.Namespace) -> Path:
    if args.wav:
        return Path(args.wav)
    stem = "stdin" if args.input == "-" else Path(args.input).stem
    return Path(tempfile.gettempdir()) / f"sidlang-play-{stem}.wav"


def run(args: argparse.Namespace) -> int:
    from sidlang.formats.render import check_wav_size, render, stream_wav

    options = render_options(args)
    check_not_input(args.input, args.wav)
    tune = load(args.input, args.from_format)
    check_wav_size(tune, options)
    try:
        sd = output_device()  # before the render: without a device the audio streams to a file
    except SidlangError as e:
        path = fallback_path(args)
        # Our own scratch file in the temporary folder may be replaced; a named --wav may not.
        with Outputs(force=not args.wav) as out:
            out.reserve(path)
            stream_wav(tune, out.open(path), options, progress_printer())
        raise SidlangError(f"cannot play: {e.message}; wrote the audio to {path} instead") from None
    audio = render(tune, options, progress_printer())
    try:
        sd.play(np.ascontiguousarray(audio), options.rate, blocking=True)
    except KeyboardInterrupt:
        sd.stop()
        raise
    return 0
