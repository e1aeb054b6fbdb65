"""Reading and writing text logs of whitespace-separated integer columns, fast.

Shared by the VICE dump and register-log formats. A text in the plain form VICE writes (one
space between numbers, nothing else) is parsed by NumPy in one call; any other is split line by
line, its tokens handed to NumPy at once, and only when that fails (a line that is not all
integers) does it convert line by line.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from sidlang.errors import FormatError


def read_columns(
    data: bytes, ncols: int, file: str | None, *, comments: bool = False
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Rows of exactly ``ncols`` integers from ``data``.

    Returns ``(rows, line_numbers, skipped, commented)``: an ``(n, ncols)`` int64 array, the
    1-based line number of each row (for error messages), the count of other non-blank lines
    skipped, and (with ``comments``) the count of ``#`` lines.
    """
    rows = _read_plain(data, ncols)
    if rows is not None:
        return rows, np.arange(1, len(rows) + 1, dtype=np.int64), 0, 0
    return _read_lines(data, ncols, file, comments)


def _read_lines(
    data: bytes, ncols: int, file: str | None, comments: bool
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """:func:`read_columns` line by line: any whitespace, other lines skipped and counted."""
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    lines = text.splitlines()
    split = [ln.split() for ln in lines]
    keep = [i for i, s in enumerate(split) if len(s) == ncols]
    blank_or_comment = 0
    if len(keep) != len(lines):
        for s in split:
            if not s or (comments and s[0].startswith("#")):
                blank_or_comment += 1
    flat = [t for i in keep for t in split[i]]
    try:
        rows = np.array(flat, dtype=np.int64).reshape(-1, ncols)
        numbers = np.array(keep, dtype=np.int64) + 1
    except (ValueError, OverflowError):
        good, numbers_l = [], []
        for i in keep:
            try:
                good.append([int(t) for t in split[i]])
                numbers_l.append(i + 1)
            except ValueError:
                continue
            if abs(max(good[-1], key=abs)) >= 1 << 62:
                raise FormatError("number too large", file=file, line=i + 1) from None
        rows = np.array(good, dtype=np.int64).reshape(-1, ncols)
        numbers = np.array(numbers_l, dtype=np.int64)
    skipped = len(lines) - len(rows) - blank_or_comment
    commented = blank_or_comment if comments else 0
    return rows, numbers, skipped, commented


#: Deleted from a text to see its shape (see :func:`_read_plain`).
_DIGITS = b"0123456789"


def _read_plain(data: bytes, ncols: int) -> np.ndarray | None:
    """The rows of ``data`` where it is in the plain form, else None (then lines are split one
    by one, which also finds the line of an error).

    Plain: every line ``ncols`` unsigned decimal numbers, one space apart, ending in ``\\n``;
    nothing else. Deleting the digits must then leave ``ncols - 1`` spaces and a newline per
    line, and no number is empty (no two separators touch, none starts the text). NumPy parses
    the numbers in one C call, about 15x faster than splitting the lines.
    """
    lines = data.count(b"\n")
    if not lines or not data.endswith(b"\n") or data[:1] in b" \n":
        return None
    if data.translate(None, _DIGITS) != (b" " * (ncols - 1) + b"\n") * lines:
        return None
    if b"  " in data or b" \n" in data or b"\n " in data or b"\n\n" in data:
        return None
    values = np.fromstring(data, dtype=np.int64, sep=" ")  # text mode: not the deprecated one
    if len(values) != lines * ncols or (len(values) and values.max() >= 1 << 62):
        return None  # a number too large (NumPy saturates it): the slow path says which line
    return values.reshape(lines, ncols)


def check_range(values: np.ndarray, lo: int, hi: int, what: str, numbers: np.ndarray, file) -> None:
    bad = np.flatnonzero((values < lo) | (values > hi))
    if len(bad):
        i = int(bad[0])
        raise FormatError(f"{what} {int(values[i])} out of range {lo}–{hi}", file=file, line=int(numbers[i]))


#: Numbers below this are written from tables of their decimal strings (built on first use).
TABLE_SIZE = 1 << 16


@lru_cache(maxsize=2)
def _decimal_table(end: str) -> np.ndarray:
    """``"0" + end``, ``"1" + end``, … as an object array indexed by the number."""
    return np.array([f"{i}{end}" for i in range(TABLE_SIZE)], dtype=object)


def _decimal(col: np.ndarray, end: str) -> np.ndarray:
    col = np.asarray(col)
    if len(col) <= 4096:
        return np.array([f"{v}{end}" for v in col.tolist()], dtype=object)
    small = (col >= 0) & (col < TABLE_SIZE)
    out = _decimal_table(end)[np.where(small, col, 0)]
    big = np.flatnonzero(~small)
    if len(big):
        out[big] = [f"{v}{end}" for v in col[big].tolist()]
    return out


def write_columns(*cols: np.ndarray) -> bytes:
    """Columns of integers as ``a b c\\n`` lines (the exact form VICE writes).

    Each column becomes its numbers' strings at once (table lookups for the usual small
    numbers), interleaved column by column, then one join.
    """
    n, k = len(cols[0]), len(cols)
    if not n:
        return b""
    cells = np.empty(n * k, dtype=object)
    for i, col in enumerate(cols):
        cells[i::k] = _decimal(col, "\n" if i == k - 1 else " ")
    return "".join(cells.tolist()).encode("ascii")
