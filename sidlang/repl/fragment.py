"""Typed sidlang text applied to the tune being edited: the REPL's only way to read frames.

A typed line is ordinary sidlang, parsed by :func:`sidlang.text.parse` with the tune's own
header in front of it, so there is no REPL dialect:

* ``N item…`` replaces frame ``N``; ``item…`` without a number appends after the last frame;
  ``wait N`` skips frames, a bare ``N`` empties frame ``N`` (or lengthens the tune to it).
* Relative changes (``freq+=24``, ``vol=15`` into ``$18``) start from the register values the
  tune holds just before the typed frames: a line of raw writes that sets them is put in front
  of the text (and dropped again), so ``v1 freq+=24`` means what it would mean in the file.
* ``@directive value`` lines change the header (``@title "Starfish"``, ``@model 8580``).

Errors come back as :class:`TypedError` with the line and column *of the typed text*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sidlang.errors import SidlangSyntaxError, TuneError
from sidlang.registers import N_REGS
from sidlang.text import parse
from sidlang.text.dump import dumps_header
from sidlang.tune import Tune


class TypedError(Exception):
    """A mistake in typed text: ``line`` (0-based, in the typed text), ``column`` (1-based)."""

    def __init__(self, message: str, line: int = 0, column: int = 1, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.line, self.column, self.hint = message, line, column, hint

    def position(self, text: str) -> int:
        """The cursor position of the error inside ``text``."""
        lines = text.split("\n")
        line = min(self.line, len(lines) - 1)
        return sum(len(x) + 1 for x in lines[:line]) + min(max(self.column - 1, 0), len(lines[line]))

    def __str__(self) -> str:
        where = f"line {self.line + 1}, " if self.line else ""
        hint = f" — {self.hint}" if self.hint else ""
        return f"{where}column {self.column}: {self.message}{hint}"


@dataclass(frozen=True)
class Edit:
    """What a piece of typed text does: the new tune and a short description for the user."""

    tune: Tune
    frames: tuple[int, ...]  #: frame numbers the text wrote (replaced)
    directives: tuple[str, ...]  #: header directives it set

    @property
    def label(self) -> str:
        parts = []
        if self.directives:
            parts.append(" ".join("@" + d for d in self.directives))
        if len(self.frames) == 1:
            parts.append(f"typed frame {self.frames[0]}")
        elif self.frames:
            a, b = self.frames[0], self.frames[-1]
            count = "" if b - a + 1 == len(self.frames) else f"{len(self.frames)} "
            parts.append(f"typed {count}frames {a}–{b}")
        return ", ".join(parts) or "empty frames"


def _is_header_line(line: str) -> bool:
    s = line.strip()
    return not s or s[0] in "#@"


def _frame_numbers(lines: list[str], frame: int) -> tuple[list[int], int]:
    """The frame each frame line of valid sidlang lands on, counting as the parser does,
    and the frame the count ends on (a trailing ``wait`` or bare number reaches past the
    last write: the tune then lasts up to there)."""
    out = []
    for raw in lines:
        s = raw.strip()
        if not s or s[0] == "#":
            continue
        toks = s.split()
        if toks[0].isascii() and toks[0].isdigit():
            frame = int(toks[0])
        elif toks[0] == "wait":
            frame += int(toks[1])
            continue
        else:
            frame += 1
        out.append(frame)
    return out, frame


def _state_line(tune: Tune, frame: int) -> str:
    """``frame`` followed by raw writes that set every register to its value after ``frame``."""
    fr = tune.frames
    end = int(fr.bounds[frame + 1]) if frame + 1 < len(fr.bounds) else len(tune.writes)
    w = tune.writes[:end]
    key = w["chip"].astype(np.int64) * N_REGS + w["reg"]
    last = np.full(tune.header.chips * N_REGS, -1, np.int64)
    np.maximum.at(last, key, np.arange(end))
    parts = [str(frame)]
    for k in np.flatnonzero(last >= 0).tolist():
        val = int(w["val"][last[k]])
        if val:
            chip, reg = divmod(k, N_REGS)
            parts.append(f"${tune.header.sids[chip] + reg:04x}=${val:02x}@0")
    return " ".join(parts)


def apply_text(tune: Tune, text: str) -> Edit:
    """The tune after ``text`` (sidlang lines and header directives) is typed into it."""
    lines = text.split("\n")
    k = 0
    while k < len(lines) and _is_header_line(lines[k]):
        k += 1
    typed_dirs = [
        ln.strip()[1:].split(maxsplit=1)[0]
        for ln in lines[:k]
        if ln.strip().startswith("@") and len(ln.strip()) > 1
    ]
    base = [
        ln
        for ln in dumps_header(tune)
        if not (ln.startswith("@") and ln[1:].split()[0] in set(typed_dirs) | {"frames"})
    ]
    body = lines[k:]
    first = next((ln.split()[0] for ln in body if ln.strip() and ln.strip()[0] != "#"), None)
    if first is None:
        start = None
    elif first.isascii() and first.isdigit():
        start = int(first) - 1
    else:
        start = len(tune.frames) - 1
    pre = [_state_line(tune, start)] if start is not None and start >= 0 else []
    before = len(base) + len(pre)  # lines the parser sees between the directives and the body
    try:
        new = parse("\n".join(lines[:k] + base + pre + body))
    except SidlangSyntaxError as e:
        if e.line <= k:
            raise TypedError(e.message, e.line - 1, e.column, e.hint) from None
        if e.line > k + before:
            raise TypedError(e.message, e.line - 1 - before, e.column, e.hint) from None
        raise TypedError(e.message, max(k - 1, 0), 1, e.hint) from None
    counted, end = _frame_numbers(body, -1 if start is None else start)
    frames = sorted(set(counted))
    try:
        merged = _merge(tune, new, frames, start, end, "frames" in typed_dirs)
        return Edit(merged, tuple(frames), tuple(typed_dirs))
    except TuneError as e:
        raise TypedError(e.message, 0, 1) from None


def _merge(old: Tune, new: Tune, frames: list[int], start: int | None, end: int, keep_length: bool) -> Tune:
    """``old`` with ``frames`` replaced by what ``new`` has there, under ``new``'s header."""
    h = new.header
    L, S = h.frame_cycles, h.start_cycle
    touched = np.asarray(frames, np.int64)
    first = -1 if start is None else start

    def join(a: np.ndarray, b: np.ndarray, time) -> np.ndarray:
        fa = (time(a) - S) // L
        fb = (time(b) - S) // L
        a, b = a[~np.isin(fa, touched)], b[fb > first]
        if len(a) and len(b) and time(b)[0] < time(a)[-1]:
            both = np.concatenate([a, b])
            return both[np.argsort(time(both), kind="stable")]
        return np.concatenate([a, b])

    writes = join(old.writes, new.writes, lambda w: w["cycle"])
    irq = join(old.irq, new.irq, lambda e: e)
    nmi = join(old.nmi, new.nmi, lambda e: e)
    length = max(len(old.frames), end + 1)
    if keep_length:
        length = max(h.frames, 0)
    last = -1
    for times in (writes["cycle"], irq, nmi):
        if len(times):
            last = max(last, int((times[-1] - S) // L))
    header = h.replace(frames=length if length > last + 1 else 0)
    return Tune(header, writes, irq, nmi, old.meta)
