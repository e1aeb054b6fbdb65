"""The REPL's loop: a prompt_toolkit ``PromptSession`` with rich output, input and output
injectable so tests drive it like a person typing (``create_pipe_input``).

Each prompt shows the frame an unnumbered line will append; the toolbar shows the file,
whether it has unsaved changes, the length and the undo depth. A line is checked before it
is accepted (:mod:`~sidlang.repl.validator`), then run as a command or applied as sidlang.
Nothing a person types ends the session with a traceback.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings
from prompt_toolkit.styles import Style
from rich.console import Console
from rich.markup import escape

import sidlang
from sidlang.errors import SidlangError
from sidlang.text import scan

from . import commands, heap, journal
from .args import ArgError
from .completer import SidlangCompleter
from .fragment import TypedError
from .lexer import COLOURS, SidlangLexer
from .session import Session, home
from .validator import SidlangValidator
from .views import frames_text, styled

STYLE = Style.from_dict(
    {
        **{f"sidl.{k}": v for k, v in COLOURS.items() if v},
        "prompt": "ansiyellow",
        "prompt.dim": "ansibrightblack",
        "bottom-toolbar": "noreverse bg:#303030 #c0c0c0",
        "validation-toolbar": "bg:#5f0000 #ffffff bold",
    }
)
ECHO_FRAMES = 4  #: a typed edit of up to this many frames is echoed in its canonical form


def _bindings() -> KeyBindings:
    kb = KeyBindings()

    @kb.add("escape", "enter")
    def _newline(event) -> None:
        """Esc Enter (Alt-Enter) starts another line; Enter accepts all of them."""
        event.current_buffer.insert_text("\n")

    return kb


class Repl:
    """One interactive session: prompt_toolkit for input, rich for output."""

    def __init__(
        self, *, input=None, output=None, console: Console | None = None, folder: Path | None = None
    ) -> None:
        self.folder = folder or home()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.console = console or Console(highlight=False)
        self.io = {"input": input, "output": output}
        self.session: Session | None = None
        self.validator = SidlangValidator(lambda: self.session.tune)
        self.prompt = PromptSession(
            history=FileHistory(str(self.folder / "history")),
            lexer=SidlangLexer([*commands.BY_NAME]),
            completer=SidlangCompleter(),
            validator=self.validator,
            validate_while_typing=False,
            auto_suggest=AutoSuggestFromHistory(),
            key_bindings=_bindings(),
            bottom_toolbar=self._toolbar,
            prompt_continuation=lambda width, line, wrap: "." * (width - 1) + " ",
            style=STYLE,
            **self.io,
        )

    # -- start -------------------------------------------------------------------------------
    def ask(self, question: str) -> bool:
        """A yes/no question, yes unless the answer starts with n."""
        answer = PromptSession(**self.io).prompt(question)
        return not answer.strip().lower().startswith("n")

    def restore(self) -> Session | None:
        """Offer each journal a crashed or closed session left behind; the first taken wins."""
        for path in journal.orphans(self.folder / "journal"):
            try:
                old = Session.replay(journal.read(path))
            except (SidlangError, KeyError, ValueError) as e:
                self.console.print(
                    f"[yellow]a session journal could not be read ({escape(str(e))}); it stays at {escape(str(path))}[/]"
                )
                continue
            if not old.dirty:
                path.unlink(missing_ok=True)  # everything in it was saved
                continue
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
            self.console.print(
                f"[yellow]An unsaved session was found[/] (last change {when}): "
                f"{old.path or 'an unnamed tune'}, {len(old.tune.frames)} frames, "
                f"{len(old.undo_stack)} change(s), the last: {old.undo_stack[-1].label if old.undo_stack else '-'}"
            )
            if not self.ask("Restore it? [Y/n] "):
                path.unlink(missing_ok=True)
                self.console.print("discarded")
                continue
            old.journal = journal.Journal.adopt(path)
            if old.journal is None:  # another REPL took it in the meantime
                continue
            self.console.print("[green]✓[/] restored; 'undo' goes back through its changes")
            return old
        return None

    def start(self, path: str | None, offer_restore: bool = True) -> None:
        # The long-text scanner is compiled code loaded on first use (about a second); load it
        # while the person reads the banner, not during their first 'load'.
        threading.Thread(target=scan.warm_up, daemon=True, name="sidlang-warm-up").start()
        heap.keep_big_blocks()  # a long tune's arrays reused, not mapped afresh each command
        self.session = self.restore() if offer_restore else None
        if self.session is not None:
            if path and path != self.session.path:
                self.console.print(
                    f"{path} was not loaded (the restored session is open): 'load {path}'", markup=False
                )
            return
        self.session = Session(journal.Journal.create(self.folder / "journal"))
        if path is None:
            return
        if not Path(path).exists():
            self.session.path = path
            self.console.print(f"{path} does not exist yet: 'save' will create it", markup=False)
            return
        try:
            tune = sidlang.load(path)
        except SidlangError as e:
            self.console.print(
                f"[red]cannot load[/] {escape(str(e))}\nstarting with an empty tune; the file is left alone"
            )
            return
        self.session.change(tune, f"load {path}", path=path, clean=True)
        self.console.print(
            f"{path}: {len(tune.frames)} frames, {len(tune.writes)} writes — 'help' lists the commands",
            markup=False,
        )

    # -- the loop ----------------------------------------------------------------------------
    def _message(self) -> FormattedText:
        return FormattedText(
            [("class:prompt", f"{len(self.session.tune.frames)}"), ("class:prompt.dim", "> ")]
        )

    def _toolbar(self) -> FormattedText:
        s = self.session
        if s is None:
            return FormattedText([])
        name = Path(s.path).name if s.path else "(no file)"
        star = " *" if s.dirty else ""
        t = s.tune
        return FormattedText(
            [
                (
                    "",
                    f" {name}{star} │ {len(t.frames)} frames, {t.seconds:.1f} s │ "
                    f"{len(s.undo_stack)} to undo │ help · Tab completes · Esc Enter: new line ",
                )
            ]
        )

    def run(self) -> int:
        ctx = commands.Context(self.session, self.console)
        while not ctx.stop:
            try:
                text = self.prompt.prompt(self._message)
            except KeyboardInterrupt:
                continue
            except EOFError:
                text = "quit"
            self.handle(ctx, text)
        self.session.close()
        return 0

    def handle(self, ctx: commands.Context, text: str) -> None:
        """Run one accepted input: a command or sidlang. Errors are printed, never raised."""
        if not text.strip():
            return
        try:
            found = commands.check(text)
            if found is None:
                ctx.quit_armed = False
                self.apply(text)
                return
            cmd, args = found
            if cmd.name != "quit":
                ctx.quit_armed = False
            cmd.run(ctx, args)
        except (SidlangError, TypedError, ArgError) as e:
            self.console.print(
                f"[red]error:[/] {escape(e.message if isinstance(e, ArgError) else str(e))}", highlight=False
            )
        except KeyboardInterrupt:
            self.console.print("interrupted")
        except Exception as e:  # a bug: say so in one line and keep the session (it is journaled)
            self.console.print(
                f"[red]internal error[/] {type(e).__name__}: {escape(str(e))} — the session is kept; "
                "please report this",
                highlight=False,
            )

    def apply(self, text: str) -> None:
        edit = self.validator.edit_for(text)
        if self.session.change(edit.tune, edit.label) is None:
            self.console.print("no change", style="dim")
            return
        if 0 < len(edit.frames) <= ECHO_FRAMES and edit.frames[-1] - edit.frames[0] < 64:
            lines = frames_text(edit.tune, edit.frames[0], min(edit.frames[-1] + 1, len(edit.tune.frames)))
            for f in edit.frames:
                line = styled(lines.get(f, ""))
                self.console.print(f"[dim]{f:>5}[/]  ", line, sep="", highlight=False)
        else:
            self.console.print(f"[green]✓[/] {escape(edit.label)}", highlight=False)


def run(
    path: str | None = None,
    *,
    input=None,
    output=None,
    console: Console | None = None,
    folder: Path | None = None,
    restore: bool = True,
) -> int:
    """Start the REPL on ``path`` (optional) and run it until ``quit``; returns the exit code."""
    repl = Repl(input=input, output=output, console=console, folder=folder)
    repl.start(path, offer_restore=restore)
    return repl.run()
