"""The words of pattern text: the vocabulary of each section, tokens with their columns, and
numbers and bit sets as the text writes them."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sidlang.registers import VOICES

from .model import EFFECTS, MAX_CHIPS

MAGIC = "# sidp 1"
HEADER_WORDS = ("title", "author", "released", "clock", "model", "chips", "vol", "pitch", "frame")
SECTION_WORDS = ("instr", "pattern", "subtune", "raw")
INSTR_WORDS = ("ad", "sr", "hr", "wave", "pulse", "filter", "fmode", "fres", "hrwave")
SUBTUNE_WORDS = ("tempo", "length") + tuple(f"v{i}" for i in range(1, MAX_CHIPS * VOICES + 1))
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|\S+')
_INT = re.compile(r"[+-]?(?:\$[0-9a-fA-F]{1,8}|0x[0-9a-fA-F]{1,8}|%[01]{1,16}|[0-9]{1,9})")
ORDER_ENTRY = re.compile(r"(@?)([0-9]{1,3})([+-][0-9]{1,2})?(?:\*([0-9]{1,3}))?")
MODE_NAMES = EFFECTS["mode"].flags


@dataclass(frozen=True)
class Tok:
    text: str
    col: int  #: 1-based


def tokens(line: str) -> list[Tok]:
    """The words of a line up to a comment (``#`` at the start of a word, outside quotes)."""
    out = []
    for m in _TOKEN.finditer(line):
        if m.group().startswith("#"):
            break
        out.append(Tok(m.group(), m.start() + 1))
    return out


def to_int(text: str) -> int | None:
    """``12``, ``-3``, ``$0a``, ``0x0a``, ``%1010``; None if it is not a number."""
    if not _INT.fullmatch(text):
        return None
    sign = -1 if text[0] == "-" else 1
    body = text.lstrip("+-")
    if body[0] == "$":
        return sign * int(body[1:], 16)
    if body[:2] == "0x":
        return sign * int(body[2:], 16)
    if body[0] == "%":
        return sign * int(body[1:], 2)
    return sign * int(body)


def bits_value(text: str, flags: dict[str, int]) -> int | None:
    """``pulse,ring`` through ``flags``, or a number; None if neither."""
    number = to_int(text)
    if number is not None:
        return number
    value = 0
    for name in text.split(","):
        if name not in flags:
            return None
        value |= flags[name]
    return value
