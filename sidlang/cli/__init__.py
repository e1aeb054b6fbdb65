"""The ``sidlang`` command: one subcommand per module of this package.

Exit codes: 0 success, 1 bad input (one line on stderr naming the file, and line:column where
there is one), 2 usage error. Every :class:`~sidlang.errors.SidlangError` is caught here and
shown in one line; nothing the user can cause prints a traceback.
"""

from __future__ import annotations

import argparse
import atexit
import gc
import importlib
import sys

from sidlang import __version__
from sidlang.errors import SidlangError

#: Subcommand modules of this package, in ``--help`` order. Each defines ``add_parser(sub)``.
COMMANDS = (
    "convert",
    "info",
    "render",
    "play",
    "asid",
    "fit",
    "repl",
    "continue_",
    "corpus",
    "train",
    "evaluate",
)
#: The command each module adds and its line in ``--help``: only the module of the command
#: being run is imported (with what it needs: NumPy, the formats, torch), the others are
#: listed from here. A test holds this table to what the modules' own parsers say.
LISTED = {
    "convert": ("convert", "convert a tune between formats"),
    "info": ("info", "show a tune's header, length, writes and voices"),
    "render": ("render", "render a tune to a WAV file through reSIDfp"),
    "play": ("play", "render a tune and play it on the audio device"),
    "asid": ("asid", "send a tune to SID hardware over MIDI (ASID), or write it as .syx/.mid"),
    "fit": ("fit", "fit SID settings to a recorded sound: a patch, or a whole tune (--tune)"),
    "repl": ("repl", "interactive editor: type frames, transform, listen, save"),
    "continue_": ("continue", "continue a tune with the bundled model"),
    "corpus": ("corpus", "build the training corpus (token shards), gather real tunes"),
    "train": ("train", "train a model on a corpus"),
    "evaluate": ("eval", "measure a model against baselines"),
}

NOTES = """\
  music21:NAME names a piece of the music21 corpus (read as a score).
  '-' reads standard input or writes standard output (name the format with --from/--to).

exit codes: 0 success, 1 bad input, 2 usage error.
"""


def formats_epilog() -> str:
    """The end of ``sidlang --help``: every format of the registry, with its endings.

    Built only when help is shown: listing the formats imports every format module.
    """
    from sidlang.formats import registry

    rows = [f"  {f.name:<9} {' '.join(f.extensions):<15} {f.description}" for f in registry().values()]
    return "\n".join(["formats (by name, or from the file ending):", *rows, NOTES])


class _Parser(argparse.ArgumentParser):
    """The top-level parser: its epilog, the format list, is made when help is shown."""

    def format_help(self) -> str:
        self.epilog = formats_epilog()
        return super().format_help()


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; given ``argv``, with only the command it names built out (its module
    imported) and the others listed by name, which parses ``argv`` the same way."""
    parser = _Parser(
        prog="sidlang",
        description="A text register language and toolkit for Commodore 64 SID music.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"sidlang {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=argparse.ArgumentParser)
    sub.required = True
    wanted = _named_command(argv) if argv is not None else None
    for name in COMMANDS:
        command, line = LISTED[name]
        if argv is None or command == wanted:
            importlib.import_module(f"{__name__}.{name}").add_parser(sub)
        else:
            sub.add_parser(command, help=line, add_help=False)
    return parser


def _named_command(argv: list[str]) -> str | None:
    """The command ``argv`` runs: its first word that is not an option (the top level has only
    ``--help`` and ``--version``, which take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)


_exit_hook: list[bool] = []  # whether main has registered gc.freeze to run at exit


def _no_collection_at_exit() -> None:
    """Have the interpreter's shutdown skip its garbage collections over every live object.

    NumPy alone leaves about 100,000 objects, and collecting them at exit takes 20-40 ms of
    each command. ``gc.freeze`` (run at exit, after the other exit functions) moves them out of
    the collector's sight, so the modules are torn down by reference counts alone; what sits
    in cycles is left to the operating system, which reclaims it anyway. Every output has been
    committed and closed by then.
    """
    if not _exit_hook:
        _exit_hook.append(True)
        atexit.register(gc.freeze)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (``sys.exit(main())``)."""
    from sidlang import jitcache

    _no_collection_at_exit()
    jitcache.prewarm()  # a stat per compiled module; compiles ahead, in the background, if cold
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: --help (0) or a usage error (2)
        return int(e.code or 0)
    try:
        return int(args.run(args) or 0)
    except SidlangError as e:
        print(f"sidlang: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("sidlang: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except MemoryError:  # outputs are written whole or not at all, so nothing is left half-made
        print(
            f"sidlang: {args.command}: out of memory (the input needs more than this machine can give); "
            "nothing was written",
            file=sys.stderr,
        )
        return 1
    except OSError as e:  # a disk that fills, a folder that vanishes: the system's words, one line
        where = f"{e.filename}: " if e.filename else ""
        print(f"sidlang: {where}{e.strerror or e}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
