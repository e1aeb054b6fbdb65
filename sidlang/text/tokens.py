"""What the exact parser and its fast path share about a compiled frame-line token.

:meth:`sidlang.text.parse.Parser.compile` turns one token (``freq=$1234``, ``v2``, ``irq``,
``pw+=16*8`` …) into a tuple whose first element is one of the kinds below;
:mod:`sidlang.text.fastparse` reads the same tuples, so both name the kinds from here rather
than by number. :class:`BadToken` is what ``compile`` raises for a token that does not compile;
:class:`Decline` is how the fast path says "not mine, let the exact parser do it".
"""

from __future__ import annotations

# Compiled token kinds (element 0 of a compiled tuple). Writes are BYTE…RAW, contiguous, so
# the parser's hot loop tests them with one chained comparison.
SEP = 0  #: ``|``: changes nothing
CTX = 1  #: ``(CTX, chip or None, voice or None)``: ``s2``, ``v1``, ``s2.v3``
BYTE = 2  #: a whole-register field: ``(kind, reg, voiced, op, value, field, lo, hi, relative)``
WIDE = 3  #: a two-byte field, same shape; ``lo``/``hi`` are its bytes for ``=``
SUB = 4  #: a bit field inside one register, same shape; ``lo``/``hi`` are its mask and shift
RAW = 5  #: ``$04=…`` or ``$d404=…``: same shape; ``voiced`` holds the chip an address names
EVENT = 6  #: ``(EVENT, "irq" | "nmi" | "noirq")``
RUN = 7  #: ``(RUN, reg, voiced, op, delta, field, first, later)``: ``pw+=16*8``, ``freq~=24*6``

#: Longer frame numbers, counts and offsets are out of every range anyway; the exact parser
#: names them, the scanner and the fast path leave them to it.
MAX_DIGITS = 18


class BadToken(Exception):
    """A token that does not compile, with the column inside the token (0-based) where the
    mistake is; the exact parser turns it into a :class:`~sidlang.errors.SidlangSyntaxError`
    with the line and column."""

    def __init__(self, message: str, hint: str | None = None, at: int = 0) -> None:
        super().__init__(message)
        self.message, self.hint, self.at = message, hint, at


class Decline(Exception):
    """The fast path does not take this text (a shape it does not handle, or a mistake, which
    the exact parser alone reports); ``reason`` says which, for tests and profiling."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
