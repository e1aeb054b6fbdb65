"""Syntax highlighting for the REPL's input line, driven by the register table.

:func:`tokens` splits one line into ``(kind, text)`` pieces: frame numbers, context words,
field names (known ones from :mod:`sidlang.registers`, unknown ones marked), operators, notes,
numbers, bit names, ``@offsets``, events, comments, directives and REPL commands. The
prompt_toolkit :class:`SidlangLexer` maps kinds to style classes; the ``show`` table uses the
same pieces with rich styles, so the two always colour a line alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection

from prompt_toolkit.document import Document
from prompt_toolkit.lexers import Lexer

from sidlang.pitch import parse_note
from sidlang.registers import ALIASES, FIELDS, MODE_BITS, ROUTE_BITS, WAVE_BITS
from sidlang.text.lexicon import DIRECTIVES, EVENTS, parse_int

_WORD = re.compile(r"\S+")
_COMMENT = re.compile(r"(?:^|\s)#")
_CTX = re.compile(r"(?:s\d)?(?:\.?v[123])?")
_OPS = ("+=", "-=", "~=", "=")  #: as the parser reads them; ~= is FLIP
_BIT_NAMES = set(WAVE_BITS) | set(ROUTE_BITS) | set(MODE_BITS)

#: kind -> prompt_toolkit style class; also the names the rich view styles by.
KINDS = (
    "frame",
    "context",
    "field",
    "unknown",
    "op",
    "note",
    "number",
    "bits",
    "offset",
    "event",
    "sep",
    "comment",
    "directive",
    "string",
    "command",
    "arg",
    "wait",
)

#: Default colours, shared by the prompt (prompt_toolkit) and the tables (rich).
COLOURS = {
    "frame": "ansiyellow bold",
    "context": "ansicyan bold",
    "field": "ansigreen",
    "unknown": "ansired underline",
    "op": "",
    "note": "ansimagenta bold",
    "number": "ansiblue",
    "bits": "ansimagenta",
    "offset": "ansibrightblack",
    "event": "ansiyellow",
    "sep": "ansibrightblack",
    "comment": "ansibrightblack italic",
    "directive": "ansicyan",
    "string": "ansigreen",
    "command": "ansiyellow bold",
    "arg": "",
    "wait": "ansiyellow",
}


def _value_kind(text: str) -> str:
    if parse_int(text) is not None:
        return "number"
    if parse_note(text) is not None:
        return "note"
    if all(w in _BIT_NAMES for w in text.split(",")):
        return "bits"
    return "unknown"


def _write(tok: str) -> list[tuple[str, str]]:
    """A ``field=value@offset`` token in pieces."""
    for op in _OPS:
        i = tok.find(op)
        if i > 0:
            break
    else:
        return [("unknown", tok)]
    name, rest = tok[:i], tok[i + len(op) :]
    known = name.startswith("$") or ALIASES.get(name, name) in FIELDS
    out = [("field" if known else "unknown", name), ("op", op)]
    value, at, offset = rest.partition("@")
    value, star, count = value.partition("*")  # a REPEAT/FLIP run: pw+=16*8
    if value:
        out.append((_value_kind(value), value))
    if star:
        out.append(("op", star))
        if count:
            out.append(("number" if count.isdigit() else "unknown", count))
    if at:
        out.append(("offset", at + offset))
    return out


def _word(tok: str, first: bool) -> list[tuple[str, str]]:
    if first and tok.isascii() and tok.isdigit():
        return [("frame", tok)]
    if tok == "|":
        return [("sep", tok)]
    if tok in EVENTS or tok.split("@")[0] in EVENTS:
        name, at, offset = tok.partition("@")
        return [("event", name)] + ([("offset", at + offset)] if at else [])
    if "=" in tok:
        return _write(tok)
    if tok[0] in "sv" and _CTX.fullmatch(tok):
        return [("context", tok)]
    if tok.isascii() and tok.isdigit():
        return [("number", tok)]
    return [("unknown", tok)]


def tokens(line: str, commands: Collection[str] = ()) -> list[tuple[str, str]]:
    """``line`` as ``(kind, text)`` pieces that join back to ``line`` exactly."""
    out: list[tuple[str, str]] = []
    m = _COMMENT.search(line)
    code, comment = (line[: m.start()], line[m.start() :]) if m else (line, "")
    stripped = code.lstrip()
    words = list(_WORD.finditer(code))
    head = words[0].group() if words else ""
    directive = stripped.startswith("@")
    command = head in commands and "=" not in head
    pos = 0
    in_string = False
    for i, w in enumerate(words):
        if w.start() > pos:
            out.append(("", code[pos : w.start()]))
        tok = w.group()
        if directive:
            if i == 0:
                kind = "directive" if tok[1:] in DIRECTIVES else "unknown"
                out.append((kind, tok))
            else:
                in_string = in_string or tok.startswith('"')
                out.append(("string" if in_string else "number", tok))
        elif command:
            out.append(("command" if i == 0 else "arg", tok))
        elif i == 0 and tok == "wait":
            out.append(("wait", tok))
        else:
            out.extend(_word(tok, i == 0))
        pos = w.end()
    if pos < len(code):
        out.append(("", code[pos:]))
    if comment:
        out.append(("comment", comment))
    return out


class SidlangLexer(Lexer):
    """prompt_toolkit lexer: every line of the input buffer through :func:`tokens`."""

    def __init__(self, commands: Callable[[], Collection[str]] | Collection[str] = ()) -> None:
        self._commands = commands

    def lex_document(self, document: Document):
        names = self._commands() if callable(self._commands) else self._commands
        lines = document.lines
        # The command word counts on the first line only: later lines of a paste are sidlang.
        styled = [
            [(f"class:sidl.{k}" if k else "", t) for k, t in tokens(line, names if i == 0 else ())]
            for i, line in enumerate(lines)
        ]
        return lambda n: styled[n] if n < len(styled) else []
