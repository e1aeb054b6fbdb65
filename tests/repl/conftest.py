"""Drive the REPL as a person would: keys through prompt_toolkit's pipe input, rich output
captured as text, history and journals in a temporary folder."""

from __future__ import annotations

import io
import re
import threading
import time
from pathlib import Path

import pytest
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from prompt_toolkit.output.vt100 import Vt100_Output
from rich.console import Console

from sidlang.repl.app import Repl

ENTER = "\r"
CLEAR_LINE = "\x05\x15"  # Ctrl-E, Ctrl-U: end of line, then delete back to its start
_ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")


class Typist:
    """Runs one REPL session over a pipe; ``screen`` is what prompt_toolkit drew, ``printed``
    what the commands printed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.out = io.StringIO()
        self.screen_buf = io.StringIO()
        self.console = Console(file=self.out, width=120, highlight=False, color_system=None)
        self.repl: Repl | None = None

    @property
    def printed(self) -> str:
        return self.out.getvalue()

    @property
    def screen(self) -> str:
        return _ANSI.sub("", self.screen_buf.getvalue())

    def run(self, *lines: str, path: str | None = None, restore: bool = True, screen: bool = False) -> Repl:
        """Type ``lines`` (each ended with Enter) into a new session and run it to the end."""
        with create_pipe_input() as inp:
            for line in lines:
                inp.send_text(line if line.endswith(ENTER) or line.startswith("\x1b[200~") else line + ENTER)
            inp.close()  # then end of input: the session ends as on Ctrl-D, never hangs
            return self._run(inp, path, restore, screen)

    def run_live(self, script, path: str | None = None) -> Repl:
        """``script(send, wait_for)`` types from another thread while the session runs, and can
        wait until text appears on the screen (to see an error drawn before fixing it)."""
        with create_pipe_input() as inp:

            def wait_for(text: str, timeout: float = 5.0) -> bool:
                t0 = time.monotonic()
                while text not in self.screen:
                    if time.monotonic() - t0 > timeout:
                        return False
                    time.sleep(0.01)
                return True

            failure: list[BaseException] = []

            def typing() -> None:
                try:
                    script(inp.send_text, wait_for)
                except BaseException as e:  # reported in the test's thread below
                    failure.append(e)
                finally:
                    inp.close()

            worker = threading.Thread(target=typing, daemon=True)
            worker.start()
            repl = self._run(inp, path, True, True)
            worker.join(5)
            if failure:
                raise failure[0]
            return repl

    def _run(self, inp, path, restore, screen) -> Repl:
        output = (
            Vt100_Output(self.screen_buf, lambda: Size(rows=40, columns=120), term="xterm")
            if screen
            else DummyOutput()
        )
        self.repl = Repl(input=inp, output=output, console=self.console, folder=self.folder)
        self.repl.start(path, offer_restore=restore)
        self.repl.run()
        return self.repl


@pytest.fixture
def typist(tmp_path, monkeypatch) -> Typist:
    monkeypatch.chdir(tmp_path)
    return Typist(tmp_path / "home")
