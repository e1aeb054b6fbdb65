"""The reading options of formats that play a program (``.sid``): ``--subtune``, ``--seconds``,
``--clock``. Only options the user gave are passed on, so readers that take none are unaffected.
"""

from __future__ import annotations

import argparse


def add_read_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group(".sid input")
    g.add_argument("--subtune", type=int, metavar="N", help="song to play (default: the file's start song)")
    g.add_argument("--seconds", type=float, metavar="S", help="length to play (default 180)")
    g.add_argument("--clock", choices=("pal", "ntsc"), help="override the file's PAL/NTSC clock")


def read_options(args: argparse.Namespace) -> dict:
    """The reading options given on the command line, as keyword arguments for ``load``."""
    return {
        k: getattr(args, k) for k in ("subtune", "seconds", "clock") if getattr(args, k, None) is not None
    }
