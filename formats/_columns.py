"""Reading and writing text logs of whitespace-separated integer columns, fast.

Shared by the VICE dump and register-log formats. The fast path hands every token to NumPy
at once; only when that fails (a line that is not all integers) does it walk line by line.
"""

from __future__ import annotations

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


def check_range(values: np.ndarray, lo: int, hi: int, what: str, numbers: np.ndarray, file) -> None:
    bad = np.flatnonzero((values < lo) | (values > hi))
    if len(bad):
        i = int(bad[0])
        raise FormatError(
            f"{what} {int(values[i])} out of range {lo}–{hi}", file=file, line=int(numbers[i])
        )


def write_columns(*cols: np.ndarray) -> bytes:
    """Columns of integers as ``a b c\\n`` lines (the exact form VICE writes)."""
    if not len(cols[0]):
        return b""
    fmt = " ".join(["%d"] * len(cols)) + "\n"
    rows = zip(*(c.tolist() for c in cols))
    return "".join([fmt % r for r in rows]).encode("ascii")
