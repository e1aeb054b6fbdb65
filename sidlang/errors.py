"""One error hierarchy for the whole toolkit.

Every error knows how to show itself in one line (``str(err)``) and which exit code the CLI
uses for it, in the manner of click's exceptions: the CLI catches :class:`SidlangError` and
prints one line, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


def first_line(e: BaseException, limit: int | None = 160) -> str:
    """A library exception as one line of an error message: its first line (or its type's name),
    cut at ``limit`` characters."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0][:limit]


class SidlangError(Exception):
    """Base class of every error sidlang raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, file: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.file = file

    def __str__(self) -> str:
        return f"{self.file}: {self.message}" if self.file else self.message


class UsageError(SidlangError):
    """The command was called wrongly (exit code 2)."""

    exit_code = 2


class FormatError(SidlangError):
    """Bytes that do not form a valid file of the named format.

    ``line`` (1-based) is given where the format is line-oriented.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        super().__init__(message, file=file)
        self.line = line

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


class SidlangSyntaxError(SidlangError):
    """A mistake in sidlang text, with its position, the line, a caret and a hint.

    ``str()`` gives the one-line form ``file:line:col: message (hint)``; :meth:`pretty` adds
    the offending line and a caret under the column.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int = 0,
        column: int = 0,
        text: str = "",
        hint: str | None = None,
        file: str | None = None,
    ) -> None:
        super().__init__(message, file=file)
        self.line = line
        self.column = column
        self.text = text
        self.hint = hint

    def __str__(self) -> str:
        where = f"{self.file or '<text>'}:{self.line}:{self.column}"
        hint = f" — {self.hint}" if self.hint else ""
        return f"{where}: {self.message}{hint}"

    def pretty(self) -> str:
        """The one-line form, then the offending line with a caret under the column."""
        caret = " " * max(self.column - 1, 0) + "^"
        return f"{self}\n    {self.text}\n    {caret}"


class TuneError(SidlangError):
    """A Tune whose contents break an invariant (unsorted cycles, bad chip index, …)."""


@contextmanager
def needs_model_extra(what: str) -> Iterator[None]:
    """Turn a missing PyTorch/safetensors import into one line naming the extra to install."""
    try:
        yield
    except ImportError as e:
        raise SidlangError(
            f"{what} needs PyTorch and safetensors (pip install 'sidlang[model]'): {e}"
        ) from None
