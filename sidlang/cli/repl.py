"""``sidlang repl [FILE]``: the interactive editor (see ``docs/repl.md``)."""

from __future__ import annotations

import argparse

EXAMPLES = """\
examples:
  sidlang repl                      # an empty tune; 'help' lists the commands
  sidlang repl song.sidl            # open a tune (any readable format)
  sidlang repl new.sidl             # a file that does not exist yet: 'save' creates it

Typed lines are sidlang: 'v1 freq=C-4 wave=pulse,gate' appends a frame, '12 v1 freq=E-4'
replaces frame 12. Every change is journaled; after a crash or a closed terminal the next
'sidlang repl' offers to restore the session. History and journals live in
$SIDLANG_REPL_HOME (default ~/.local/state/sidlang).
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "repl",
        help="interactive editor: type frames, transform, listen, save",
        description="Type or paste sidlang frames, transform them (transpose, swap voices, cut, "
        "loop, reverse …), look at them as a tracker table or piano roll, listen, and save.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("file", metavar="FILE", nargs="?", help="a tune to open, in any readable format")
    p.add_argument("--no-restore", action="store_true", help="do not offer to restore an unsaved session")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from sidlang.repl.app import run as run_repl

    return run_repl(args.file, restore=not args.no_restore)
