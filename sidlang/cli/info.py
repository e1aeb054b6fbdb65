"""``sidlang info FILE``: what a tune holds, in a few readable lines."""

from __future__ import annotations

import argparse

import numpy as np

from sidlang.cli.readopts import add_read_options, read_options
from sidlang.io import load
from sidlang.pitch import CLOCK_NAMES
from sidlang.registers import REGISTERS, WAVE_BITS
from sidlang.tune import Tune

_SOURCES = {
    "irq": "from IRQ times",
    "header": "from the header's frame length",
    "bursts": "inferred from write bursts",
}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "info",
        help="show a tune's header, length, writes and voices",
        description="Show what a tune holds: header, frames and how they were found, duration, "
        "writes, and which voices are written and gated.",
    )
    p.add_argument("file", metavar="FILE", help="a tune in any readable format, or -")
    p.add_argument("--from", dest="from_format", metavar="F", help="input format name")
    add_read_options(p)
    p.set_defaults(run=run)


def describe(tune: Tune, name: str = "", *, sid_fit: bool = True) -> list[str]:
    """The lines ``sidlang info`` prints (also used by the REPL).

    ``sid_fit=False`` leaves out the "as .sid" line, which encodes the whole tune to measure
    it (most of the time on a long tune; the REPL asks for it only with ``info sid``).
    """
    h = tune.header
    fr = tune.frames
    clock = {v: k.upper() for k, v in CLOCK_NAMES.items()}.get(h.clock_hz, "custom")
    rows = [("file", name)] if name else []
    for label, value in (("title", h.title), ("author", h.author), ("released", h.released)):
        if value:
            rows.append((label, value))
    rows += [
        ("clock", f"{clock} {h.clock_hz} Hz"),
        ("frame", f"{h.frame_cycles} cycles ({h.frame_hz:.2f} Hz), {_SOURCES.get(fr.source, fr.source)}"),
        ("chips", ", ".join(f"{m} at ${a:04x}" for m, a in zip(h.models, h.sids))),
        ("frames", f"{len(fr)}"),
        ("duration", _duration(tune.seconds)),
        ("writes", f"{len(tune.writes)} ({len(tune.writes) / max(len(fr), 1):.1f} per frame)"),
    ]
    if h.subtune or h.songs:
        rows.append(("subtune", f"{h.subtune or h.start_song} of {h.songs}"))
    if len(tune.irq) or len(tune.nmi):
        rows.append(("interrupts", f"{len(tune.irq)} IRQ, {len(tune.nmi)} NMI"))
    written, gated = _voices(tune)
    rows.append(("voices", " ".join(written) or "none written"))
    rows.append(("gated", " ".join(gated) or "none"))
    for key, label in (("skipped_lines", "skipped lines"), ("comment_lines", "comment lines")):
        if tune.meta.get(key):
            rows.append((label, f"{tune.meta[key]} (not register writes)"))
    rows += list(tune.meta.get("sid", {}).items())  # header facts of a .sid (sidlang/formats/sid.py)
    if sid_fit:
        rows.append(("as .sid", _sid_fit(tune)))
    width = max(len(k) for k, _ in rows)
    return [f"{k:<{width}}  {v}" for k, v in rows]


def _sid_fit(tune: Tune) -> str:
    """Whether the tune fits in a .sid that sidlang writes, and how much of it would."""
    from sidlang.errors import SidlangError
    from sidlang.formats.sidwrite import fit

    try:
        used, room = fit(tune)
    except SidlangError as e:  # too long among them: the message says how much of the start fits
        return f"cannot be written: {e.message}"
    return f"fits: {used} of {room} bytes of C64 memory ({tune.seconds:.1f} s)"


def _duration(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"{int(m)}:{s:06.3f} ({seconds:.3f} s)"


def _voices(tune: Tune) -> tuple[list[str], list[str]]:
    w = tune.writes
    written, gated = [], []
    voice_of = np.array([-1 if r.voice is None else r.voice for r in REGISTERS])
    for chip in range(tune.header.chips):
        mine = w[w["chip"] == chip]
        voices = voice_of[mine["reg"]]
        prefix = f"s{chip + 1}." if tune.header.chips > 1 else ""
        for v in range(3):
            sel = voices == v
            if sel.any():
                written.append(f"{prefix}v{v + 1}")
                ctrl = mine[(mine["reg"] == 7 * v + 4)]
                if (ctrl["val"] & WAVE_BITS["gate"]).any():
                    gated.append(f"{prefix}v{v + 1}")
    return written, gated


def run(args: argparse.Namespace) -> int:
    tune = load(args.file, args.from_format, **read_options(args))
    print("\n".join(describe(tune, args.file)))
    return 0
