"""Nothing is lost when a session dies: a killed REPL's journal restores tune and undo history."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from sidlang import parse
from sidlang.repl import journal as jr
from sidlang.repl.fragment import apply_text
from sidlang.repl.session import Session
from sidlang.testing import player_log

CHILD = r"""
import sys
from pathlib import Path
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console
from sidlang.repl.app import Repl

with create_pipe_input() as inp:
    for line in sys.argv[2:]:
        inp.send_text(line + "\r")
    inp.send_text("help quit\r")  # the marker the parent waits for before it kills
    repl = Repl(input=inp, output=DummyOutput(), console=Console(file=sys.stdout, width=100),
                folder=Path(sys.argv[1]))
    repl.start(None)
    repl.run()  # waits for more keys for ever: the parent kills it
"""


def killed_session(home: Path, *lines: str) -> None:
    """Run a REPL in another process, type ``lines``, and kill it with SIGKILL mid-session."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(home), *lines],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    seen = b""
    deadline = time.monotonic() + 20
    while b"leave (asks first" not in seen and time.monotonic() < deadline:
        seen += child.stdout.read1(4096) if hasattr(child.stdout, "read1") else child.stdout.read(1)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    child.stdout.close()
    assert b"leave (asks first" in seen, seen.decode(errors="replace")


LINES = (
    "v1 ad=$0a sr=$a6 pw=$400 | vol=15",
    "v1 freq=A-4 wave=pulse,gate",
    "v1 wave=pulse",
    "transpose 12",
    "swap v1 v2",
    "undo",
)


def test_killed_session_is_offered_and_restored(typist):
    killed_session(typist.folder, *LINES)
    left = list((typist.folder / "journal").glob("*.journal"))
    assert len(left) == 1
    repl = typist.run("y", "undo", "show", "quit", "quit")
    s = repl.session
    assert "An unsaved session was found" in typist.printed
    assert "restored" in typist.printed
    # After the restore's 'undo' the transpose is gone too: the undo history came back.
    assert s.tune == parse(
        "0 v1 ad=$0a sr=$a6 pw=$400 | vol=15\n1 v1 freq=A-4 wave=pulse,gate\n2 v1 wave=pulse\n"
    )
    assert [p.label for p in s.redo_stack] == ["swap v1 and v2", "transpose +12 semitones, all voices"]
    assert not list((typist.folder / "journal").glob("*.journal"))  # quit cleanly: gone


def test_clipboard_survives_a_kill(typist):
    """What was copied before the kill can be pasted after the restore."""
    killed_session(typist.folder, "v1 freq=C-4", "v1 freq=D-4", "copy 0-1", "v2 freq=E-4")
    repl = typist.run("y", "paste", "quit", "quit")
    assert "restored" in typist.printed
    assert repl.session.tune == parse(
        "0 v1 freq=C-4\n1 v1 freq=D-4\n2 v2 freq=E-4\n3 v1 freq=C-4\n4 v1 freq=D-4\n"
    )


def test_clipboard_record_replays_exactly(tmp_path):
    j = jr.Journal.create(tmp_path)
    s = Session(j)
    clip = player_log(40, irq=True)
    s.set_clipboard(clip)
    j.close(delete=False)
    back = Session.replay(jr.read(j.path))
    assert back.clipboard == clip and back.clipboard.header == clip.header


def test_declined_restore_discards(typist):
    killed_session(typist.folder, "v1 freq=C-4")
    repl = typist.run("n", "quit")
    assert "discarded" in typist.printed
    assert len(repl.session.tune.writes) == 0
    assert not list((typist.folder / "journal").glob("*.journal"))


def test_a_running_session_is_not_offered(typist):
    live = jr.Journal.create(typist.folder / "journal")
    s = Session(live)
    s.change(parse("0 vol=15\n"), "typed frame 0")
    typist.run("quit", restore=True)
    assert "unsaved session" not in typist.printed
    assert live.path.exists()
    s.close()


def test_torn_last_record_is_ignored(tmp_path):
    j = jr.Journal.create(tmp_path)
    s = Session(j)
    s.change(parse("0 vol=15\n"), "a")
    s.change(parse("0 vol=15\n1 vol=3\n"), "b")
    j.close(delete=False)
    data = j.path.read_bytes()
    j.path.write_bytes(data[:-5])  # the process died inside the second record
    back = Session.replay(jr.read(j.path))
    assert back.tune == parse("0 vol=15\n")
    assert [p.label for p in back.undo_stack] == ["a"]


def test_big_tune_journal_replays_exactly(tmp_path):
    from sidlang import transforms as T

    j = jr.Journal.create(tmp_path)
    s = Session(j)
    big = player_log(500, irq=True)
    s.change(big, "load", path="big.vice6", clean=True)
    s.change(T.transpose(s.tune, 5), "t")
    s.change(T.cut(s.tune, 10, 20), "c")
    s.undo()
    s.saved("big.sidl")
    back = Session.replay(jr.read(j.path))
    assert back.tune == s.tune and back.path == "big.sidl" and not back.dirty
    assert back.redo_stack[0].label == "c"
    j.close()


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["edit", "undo", "redo"]), st.integers(0, 40), st.integers(0, 255)),
        max_size=25,
    )
)
def test_undo_redo_walks_exact_states(ops):
    """Any mix of edits, undos and redos: undo goes back through exactly the states visited."""
    s = Session()
    states = [s.tune]
    pos = 0
    for op, frame, val in ops:
        if op == "edit":
            new = apply_text(s.tune, f"{frame} vol={val & 15} v1 freq={val * 200}\n").tune
            if s.change(new, "e") is not None:
                states = states[: pos + 1] + [new]
                pos += 1
        elif op == "undo" and s.undo() is not None:
            pos -= 1
        elif op == "redo" and s.redo() is not None:
            pos += 1
        assert s.tune == states[pos]
