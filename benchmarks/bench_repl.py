"""How fast the REPL answers, command by command, on a 10,000-frame tune.

Every command but ``render`` and ``play`` (which take as long as the audio) is run the way the
REPL runs it: the line is validated (as on Enter), then handled, with the journal on and rich
output rendered (to memory). Each starts from the same tune (an undo after each, not timed);
each figure is the best of ``--repeat`` runs. Two baselines are measured in the same run: a
no-op (an empty line) and ``sidlang.dumps`` of the whole tune, the cost of any command that must
print the tune as text (``save`` to .sidl) or read it back (``load``).

    python benchmarks/bench_repl.py [--frames 10000] [--repeat 3]

Goal: every command answers in under 100 ms.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from sidlang import dumps, save
from sidlang.repl.app import Repl
from sidlang.repl.commands import Context
from sidlang.testing import player_log

GOAL_MS = 100.0
PASTE = "v1 freq=C-4 wave=pulse,gate\nv1 freq+=24\nwait 2\nv1 wave=pulse"


def lines(folder: Path, n: int) -> list[str]:
    mid = n // 2
    return [
        "v1 freq=C-4 wave=pulse,gate",
        f"{mid} v2 freq+=16 | vol=9",
        PASTE,
        '@title "benchmark"',
        f"load {folder / 'big.sidl'}",
        f"save {folder / 'out.sidl'} --force",
        f"save {folder / 'out.vice'} --force",
        "new",
        "show",
        f"show {mid}-{mid + 15}",
        "roll",
        f"roll {mid}-{mid + 199}",
        "info",
        f"state {mid}",
        "transpose 3",
        "transpose 25c v1",
        "swap v1 v3",
        "rotate",
        "mute v2",
        "solo v1",
        f"slice 0-{mid - 1}",
        "cut 100-199",
        "copy 0-99",
        "paste 500",
        "loop 0-99 4",
        "stretch 2",
        "squeeze 2",
        "reverse",
        "reverse 100-199",
        "model 8580",
        "clock ntsc",
        "simplify",
        "undo",
        "redo",
        "history",
        "help",
        "help transpose",
        f"asid {folder / 'out.syx'} --force",
        "asid",
        "quit",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--frames", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-repl-"))
    tune = player_log(args.frames)
    save(tune, folder / "big.sidl")
    out = io.StringIO()
    console = Console(file=out, width=120, color_system="truecolor", force_terminal=True)
    stack = ExitStack()
    keys = stack.enter_context(create_pipe_input())  # no prompt is shown: lines are handed over
    repl = Repl(input=keys, output=DummyOutput(), console=console, folder=folder / "home")
    repl.start(str(folder / "big.sidl"), offer_restore=False)
    ctx = Context(repl.session, console)
    base = repl.session.tune

    depth = len(repl.session.undo_stack)

    def run(line: str) -> float:
        t0 = time.perf_counter()
        repl.validator.validate(Document(line, len(line)))
        repl.handle(ctx, line)
        took = time.perf_counter() - t0
        ctx.stop = ctx.quit_armed = False
        while len(repl.session.undo_stack) > depth:  # back to the loaded tune, untimed
            repl.session.undo()
        repl.session.redo_stack.clear()
        assert repl.session.tune == base
        return took

    def best(fn) -> float:
        return min(fn() for _ in range(args.repeat)) * 1000

    t_noop = best(lambda: run(""))
    t_dumps = best(lambda: _timed(lambda: dumps(base)))
    results = []
    errors: list[str] = []
    for line in lines(folder, args.frames):
        if line == "redo":  # something to redo: a transform, then undo (untimed)

            def prepared() -> float:
                repl.handle(ctx, "transpose 1")
                repl.session.undo()
                return run("redo")

            results.append(("redo", best(prepared)))
            continue
        if line == "undo":

            def prepared_undo() -> float:
                repl.handle(ctx, "transpose 1")
                t0 = time.perf_counter()
                repl.handle(ctx, "undo")
                return time.perf_counter() - t0

            results.append(("undo", best(prepared_undo)))
            continue
        mark = out.tell()
        ms = best(lambda line=line: run(line))
        said = out.getvalue()[mark:]
        name = line.split("\n")[0] + (" …(4 lines)" if "\n" in line else "")
        if "error" in said:
            errors.append(f"{name}: " + said[said.index("error") :].splitlines()[0][:90])
        results.append((name, ms))
    print(f"tune: {len(base.frames)} frames, {len(base.writes)} writes; best of {args.repeat}")
    print(f"baseline no-op (empty line):      {t_noop:8.2f} ms")
    print(f"baseline sidlang.dumps(tune):     {t_dumps:8.2f} ms")
    for name, ms in sorted(results, key=lambda r: -r[1]):
        mark = "" if ms < GOAL_MS else "   over the 100 ms goal"
        print(f"  {name[:44]:<44} {ms:8.2f} ms  {ms / t_dumps:5.2f} x dumps{mark}")
    name, ms = max(results, key=lambda r: r[1])
    # load, save and asid-to-a-file read or write the whole tune through a format's codec.
    in_memory = [r for r in results if not r[0].startswith(("load ", "save ", f"asid {folder}"))]
    name2, ms2 = max(in_memory, key=lambda r: r[1])
    print(f"slowest: {name} {ms:.1f} ms against the {GOAL_MS:.0f} ms goal ({ms / t_dumps:.2f} x dumps)")
    print(f"slowest that does not read or write a whole file: {name2} {ms2:.1f} ms")
    if errors:
        print(
            "answered with an error (expected only where this machine lacks a MIDI system):",
            *errors,
            sep="\n  ",
        )
    repl.session.close()
    stack.close()


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
