"""Mistakes in pattern text: a :class:`~sidlang.errors.FormatError` that also knows the column,
the offending line and a hint, shown like the register language's syntax errors."""

from __future__ import annotations

from sidlang.errors import FormatError
from sidlang.text.lexicon import suggest
from sidlang.text.parse import shorten

__all__ = ["PatternError", "suggest"]


class PatternError(FormatError):
    """``file:line:col: message — hint``; :meth:`pretty` adds the line and a caret."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int = 1,
        text: str = "",
        hint: str | None = None,
    ) -> None:
        super().__init__(shorten(message), file=file, line=line)
        self.column = column
        self.text = text
        self.hint = None if hint is None else shorten(hint)

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}:{self.column}"
        hint = f" — {self.hint}" if self.hint else ""
        return f"{where}: {self.message}{hint}"

    def pretty(self) -> str:
        caret = " " * max(self.column - 1, 0) + "^"
        return f"{self}\n    {shorten(self.text)}\n    {caret}"
