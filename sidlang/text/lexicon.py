"""The words of the text language, shared by the parser, the printer and the REPL.

Values: decimal ``15``, hex ``$0f`` or ``0x0f``, binary ``%1010``, bit names joined by commas
(``pulse,gate``), and note names for frequencies (``C#4``, ``A-4+12c``). Directives and context
words are listed here once.
"""

from __future__ import annotations

import difflib
import re

from sidlang.registers import ALIASES, FIELDS, WAVE_BITS

#: Header directives in print order, with what each one holds.
DIRECTIVES: dict[str, str] = {
    "title": "quoted string",
    "author": "quoted string",
    "released": "quoted string",
    "clock": "pal, ntsc or a clock in Hz",
    "frame": "cycles per frame (default: 19656 PAL, 17095 NTSC)",
    "start": "cycle where frame 0 begins (default 0)",
    "gap": "cycles between writes that carry no @offset (default 0)",
    "model": "chip model per SID: 6581 or 8580",
    "sids": "base address per SID, e.g. $d400 $d420",
    "subtune": "subtune number the tune was taken from",
    "songs": "number of subtunes in the source",
    "startsong": "the source's default subtune",
    "speed": "PSID speed bits",
    "timing": "irq when frames carry interrupt times",
    "irqdiff": "the IRQ column of every write (a dump whose IRQ column is one number)",
    "nmidiff": "the NMI column of every write (a dump whose NMI column is one number, e.g. 0)",
    "frames": "length in frames, when longer than the last write",
}
EVENTS = ("irq", "nmi", "noirq")
COMMANDS = ("wait",)


class ValueError_(Exception):
    """A value that does not parse; carries a message and a hint (internal to the text package)."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def parse_int(text: str) -> int | None:
    """``15``, ``$0f``, ``0x0f``, ``%1111`` -> 15; anything else (``$-5``, ``1_0``, ``$ f``) -> None."""
    if text[:1] == "$":
        body, base, digits = text[1:], 16, _HEX
    elif text[:1] == "%":
        body, base, digits = text[1:], 2, "01"
    elif text[:2] in ("0x", "0X"):
        body, base, digits = text[2:], 16, _HEX
    else:
        body, base, digits = text, 10, "0123456789"
    if not body or not all(c in digits for c in body):  # int() would take signs, '_' and spaces
        return None
    try:
        return int(body, base)
    except ValueError:  # more digits than Python converts (4300)
        return None


_HEX = "0123456789abcdefABCDEF"


def parse_bits(text: str, flags: dict[str, int]) -> int | None:
    """``pulse,gate`` -> 0x41 with the wave bits; None if any word is not a bit name."""
    value = 0
    for word in text.split(","):
        bit = flags.get(word)
        if bit is None:
            return None
        value |= bit
    return value


def suggest(word: str, choices) -> str | None:
    """A "did you mean" hint for a mistyped word, or None."""
    if len(word) > 40:  # no word is that long, and difflib's cost grows with the length
        return None
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def field_words() -> list[str]:
    return sorted(set(FIELDS) | set(ALIASES))


def all_words() -> list[str]:
    """Everything a person can type as a word: fields, contexts, events, bit names, commands."""
    return sorted(
        set(field_words())
        | {"v1", "v2", "v3", "s1", "s2", "s3"}
        | set(EVENTS)
        | set(WAVE_BITS)
        | set(COMMANDS)
        | {f"@{d}" for d in DIRECTIVES}
    )


_COMMENT_RE = re.compile(r"(?:^|\s)#")  # '#' opens a comment only at a word start (C#4 is a note)


def strip_comment(line: str) -> str:
    """``line`` without its comment: a ``#`` at the start of a word and what follows."""
    m = _COMMENT_RE.search(line)
    return line[: m.start()] if m else line
