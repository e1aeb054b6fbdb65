"""``sidlang asid IN``: a tune as ASID MIDI SysEx, to a live port or a file, for real SID hardware."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sidlang.errors import UsageError
from sidlang.io import check_not_input, check_output, load, write_atomic

EXAMPLES = """\
examples:
  sidlang asid --list-ports
  sidlang asid song.sidl --port "SidStation"        # a unique part of the port name will do
  sidlang asid song.vice --out song.syx             # raw SysEx, one update per SID per frame
  sidlang asid song.vice --out song.mid             # a MIDI file, updates at their frame times

Live sending paces frames on absolute deadlines from a monotonic clock, so nothing drifts over
a long tune; at the end, or on Ctrl-C, every gate is closed and the volume set to 0. Over DIN
MIDI about 75 frames per second fit; multispeed tunes beyond that need USB MIDI.
"""

FILE_KINDS = {".syx": "syx", ".mid": "mid", ".midi": "mid"}


def add_parser(sub) -> None:
    p = sub.add_parser(
        "asid",
        help="send a tune to SID hardware over MIDI (ASID), or write it as .syx/.mid",
        description="Stream a tune as ASID MIDI SysEx to a live MIDI port (through mido and "
        "python-rtmidi), or write it to a raw SysEx (.syx) or standard MIDI (.mid) file.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", metavar="IN", nargs="?", help="input tune in any readable format, or -")
    p.add_argument("--from", dest="from_format", metavar="F", help="input format name")
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--port", metavar="NAME", help="live MIDI output port (exact name or unique part)")
    where.add_argument("--out", metavar="FILE", help="write FILE.syx (raw SysEx) or FILE.mid (MIDI file)")
    where.add_argument("--list-ports", action="store_true", help="list MIDI output ports and exit")
    p.add_argument(
        "--classic",
        action="store_true",
        help="leave out the write-order, speed and chip-type extensions (one SID only)",
    )
    p.add_argument("-f", "--force", action="store_true", help="replace FILE if it exists")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from sidlang.formats import asid, asid_midi

    if args.list_ports:
        names = asid_midi.output_names()
        print("\n".join(names) if names else "no MIDI output ports", file=sys.stdout if names else sys.stderr)
        return 0
    if args.input is None:
        raise UsageError("give the tune to send: sidlang asid IN --port NAME | --out FILE")
    if args.out:
        kind = FILE_KINDS.get(Path(args.out).suffix.lower())
        if kind is None:
            raise UsageError(
                f"{args.out}: --out writes .syx or .mid, not {Path(args.out).suffix or 'no ending'}"
            )
        check_not_input(args.input, args.out)
        check_output(args.out, force=args.force)  # refused before the input is read
        tune = load(args.input, args.from_format)
        data = (
            asid.encode(tune, classic=args.classic)
            if kind == "syx"
            else asid_midi.write_mid(tune, args.classic)
        )
        write_atomic(args.out, data, force=args.force)
        return 0
    tune = load(args.input, args.from_format)
    port = asid_midi.open_port(args.port)
    try:
        worst = asid_midi.play_live(tune, port, classic=args.classic)
    finally:
        port.close()
    print(
        f"sent {len(tune.frames)} frames to {port.name!r}; worst lateness {worst * 1000:.2f} ms",
        file=sys.stderr,
    )
    return 0
