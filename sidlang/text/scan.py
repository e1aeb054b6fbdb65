"""The fast parser's tokenizer: frame lines cut into tokens in one compiled pass.

:mod:`sidlang.text.fastparse` needs, for the body of a text (the lines after the header),
the frame number of every line and, for every token, which *distinct* token body it is
(``freq=$1234`` of ``freq=$1234@40``) and its ``@offset``. In Python that is a dictionary
lookup per token, the largest cost of loading a long tune; here it is one pass over the
bytes compiled by numba, with a hash table of the distinct bodies. Each body is compared
byte for byte with the first one of the same hash, so the result is exact, not probable.

:func:`scan` returns None wherever the text is not of the plain shape (a line without its
frame number, an empty or non-numeric ``@offset``, numbers too long for 64 bits, a comment,
a control byte other than the newline); the caller then takes the exact parser. Without
numba it returns None too, and so it does until numba's disk cache holds the compiled pass
(:mod:`sidlang.jitcache`: the first use starts a background compile, and the fast parser cuts
the text in Python meanwhile). numba is imported at the first long text, not with this
module. The text must be ASCII.
"""

from __future__ import annotations

import numpy as np

from sidlang import jitcache
from sidlang.text.tokens import MAX_DIGITS  # longer frame numbers or offsets: the exact parser's

SPACE, NEWLINE, AT, HASH, ZERO, NINE = 32, 10, 64, 35, 48, 57
# Codes the kernel returns instead of a count.
FAIL = -1


def _scan(buf, line_frame, tok_body, tok_off, body_start, body_end, table):
    """Fill the arrays; returns ``(lines, tokens, bodies)`` or ``(FAIL, 0, 0)``.

    ``tok_body`` is 0 for the end of a line (between lines only, as ``" \\0 ".join`` makes)
    and body index + 1 for a token; ``tok_off`` the token's offset or -1.
    """
    n = len(buf)
    mask = len(table) - 1
    lines = 0
    ntok = 0
    nbody = 0
    i = 0
    while i < n:
        if buf[i] == NEWLINE:  # a blank line
            i += 1
            continue
        # The frame number: digits up to a space or the end of the line.
        frame = 0
        digits = 0
        while i < n and buf[i] != SPACE and buf[i] != NEWLINE:
            c = buf[i]
            if c < ZERO or c > NINE or digits >= MAX_DIGITS:  # control bytes fail here too
                return FAIL, 0, 0
            frame = frame * 10 + (c - ZERO)
            digits += 1
            i += 1
        if digits == 0:
            return FAIL, 0, 0
        if lines > 0:
            tok_body[ntok] = 0
            tok_off[ntok] = -1
            ntok += 1
        line_frame[lines] = frame
        lines += 1
        # The tokens of the line.
        while i < n and buf[i] != NEWLINE:
            if buf[i] == SPACE:
                i += 1
                continue
            s = i
            if buf[i] == HASH or buf[i] == AT:  # a comment, or an offset without its write
                return FAIL, 0, 0
            h = np.uint64(14695981039346656037)
            at = -1
            while i < n and buf[i] != SPACE and buf[i] != NEWLINE:
                if buf[i] < SPACE:  # a tab, a carriage return, any other control byte
                    return FAIL, 0, 0
                if buf[i] == AT and at < 0:
                    at = i
                if at < 0:
                    h = (h ^ np.uint64(buf[i])) * np.uint64(1099511628211)
                i += 1
            e = i if at < 0 else at
            off = -1
            if at >= 0:
                if i - at - 1 == 0 or i - at - 1 > MAX_DIGITS:
                    return FAIL, 0, 0
                off = 0
                for k in range(at + 1, i):
                    c = buf[k]
                    if c < ZERO or c > NINE:
                        return FAIL, 0, 0
                    off = off * 10 + (c - ZERO)
            # The body's index: open addressing on the hash, bytes compared on a match.
            slot = np.int64(h & np.uint64(mask))
            while True:
                b = table[slot]
                if b < 0:
                    table[slot] = nbody
                    body_start[nbody] = s
                    body_end[nbody] = e
                    b = nbody
                    nbody += 1
                    break
                bs = body_start[b]
                if body_end[b] - bs == e - s:
                    same = True
                    for k in range(e - s):
                        if buf[bs + k] != buf[s + k]:
                            same = False
                            break
                    if same:
                        break
                slot = (slot + 1) & mask
            tok_body[ntok] = b + 1
            tok_off[ntok] = off
            ntok += 1
    return lines, ntok, nbody


_dispatcher: list = []  # the numba dispatcher of _scan once made (None without numba)


def _kernel(wait: bool = False):
    """The compiled pass where numba's cache has it (or ``wait``), else None."""
    if not _dispatcher:
        numba = jitcache.numba_module()
        _dispatcher.append(numba.njit(cache=True, nogil=True)(_scan) if numba is not None else None)
    return jitcache.compiled(_dispatcher[0], __name__, wait)


def scan(text: str, wait: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]] | None:
    """``(frames, tok_body, tok_off, bodies)`` of ASCII frame lines, or None (see above)."""
    kernel = _kernel(wait)
    if kernel is None:
        return None
    buf = np.frombuffer(text.encode("ascii"), dtype=np.uint8)
    # Exact bounds, as the arrays are most of a long load's memory: every token but a line's
    # end follows a space, a line's end token follows a newline; the table stays half empty.
    spaces, newlines = int(np.count_nonzero(buf == SPACE)), int(np.count_nonzero(buf == NEWLINE))
    size = 1 << max(4, (2 * spaces + 1).bit_length())
    line_frame = np.empty(newlines + 1, np.int64)
    tok_body = np.empty(spaces + newlines + 1, np.int64)
    tok_off = np.empty(spaces + newlines + 1, np.int64)
    body_start = np.empty(spaces + 1, np.int64)
    body_end = np.empty(spaces + 1, np.int64)
    table = np.full(size, -1, np.int64)
    lines, ntok, nbody = kernel(buf, line_frame, tok_body, tok_off, body_start, body_end, table)
    if lines == FAIL or lines == 0:  # no frame line: the exact parser decides
        return None
    bodies = [text[s:e] for s, e in zip(body_start[:nbody].tolist(), body_end[:nbody].tolist())]
    return line_frame[:lines], tok_body[:ntok], tok_off[:ntok], bodies


def warm_up() -> None:
    """Load the compiled pass from numba's cache now, off the first load's clock (or start
    its background compile)."""
    scan("0 v1 freq=$1@8\n")


def warm() -> None:
    """Compile the pass (numba caches it on disk): what the background compile runs."""
    scan("0 v1 freq=$1@8\n", wait=True)
