"""Checking a line before it is accepted: the mistake is shown at the cursor, in place.

A sidlang line is parsed against the current tune exactly as it will be applied
(:func:`~sidlang.repl.fragment.apply_text`); a command line has its arguments checked against
the command table. Either way a mistake becomes a prompt_toolkit ``ValidationError`` whose
cursor position is the offending column, so Enter leaves the text in place with the cursor on
the mistake and the message (with its hint) below. The parsed edit is kept, so accepting a
valid line does not parse it a second time.
"""

from __future__ import annotations

from collections.abc import Callable

from prompt_toolkit.document import Document
from prompt_toolkit.validation import ValidationError, Validator

from sidlang.text.lexicon import suggest
from sidlang.tune import Tune

from . import commands
from .args import ArgError
from .fragment import Edit, TypedError, apply_text


class SidlangValidator(Validator):
    """Validates REPL input against ``get_tune()``, the tune the line will be applied to."""

    def __init__(self, get_tune: Callable[[], Tune]) -> None:
        self.get_tune = get_tune
        self._last: tuple[Tune, str, Edit] | None = None
        self.errors: list[str] = []  #: every message shown, newest last (for tests and logs)

    def edit_for(self, text: str) -> Edit:
        """The edit ``text`` makes to the current tune (cached from validation when it can be)."""
        tune = self.get_tune()
        if self._last is not None and self._last[0] is tune and self._last[1] == text:
            return self._last[2]
        edit = apply_text(tune, text)
        self._last = (tune, text, edit)
        return edit

    def validate(self, document: Document) -> None:
        text = document.text
        if not text.strip():
            return
        try:
            if commands.check(text) is not None:
                return
        except ArgError as e:
            words = commands.split_words(text)
            pos = words[e.word][0] if e.word < len(words) else len(text.rstrip())
            self._fail(pos, e.message, e.hint)
        head = commands.unknown_word(text)
        if head is not None:
            at = text.index(head)
            self._fail(
                at,
                f"unknown command {head!r}",
                suggest(head, list(commands.BY_NAME))
                or "'help' lists the commands; a sidlang line starts with a frame, v1–v3 or a field=",
            )
        try:
            self.edit_for(text)
        except TypedError as e:
            where = f"line {e.line + 1}: " if "\n" in text else ""
            self._fail(e.position(text), where + e.message, e.hint)

    def _fail(self, position: int, message: str, hint: str | None = None) -> None:
        shown = f"{message} — {hint}" if hint else message
        self.errors.append(shown)
        raise ValidationError(cursor_position=position, message=shown)
