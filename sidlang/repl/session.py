"""The REPL's state: the tune, its file, unlimited undo and redo, the clipboard, the journal.

Undo keeps :class:`Patch` objects, not whole tunes: a patch holds only the run of writes that
changed (found by comparing the old and new write arrays from both ends), plus the header and
interrupt times where those changed. Typing a frame into a 10,000-frame tune costs a few
hundred bytes of history, so undo can be unlimited; a whole-tune transform costs one copy.

Every change goes to the :mod:`journal <sidlang.repl.journal>` as it is made, and a session
can be rebuilt from a journal, undo history included (:meth:`Session.replay`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sidlang.tune import WRITE_DTYPE, Header, Tune

from . import journal as jr

_KEEP = object()


def home() -> Path:
    """Where the REPL keeps its history and journals: ``$SIDLANG_REPL_HOME``, else the
    user's state folder (``$XDG_STATE_HOME/sidlang``, default ``~/.local/state/sidlang``)."""
    given = os.environ.get("SIDLANG_REPL_HOME")
    if given:
        return Path(given)
    state = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(state) / "sidlang"


@dataclass(frozen=True)
class Patch:
    """One undoable change: ``old`` writes at ``start`` became ``new``, and the rest as named."""

    id: int
    label: str
    start: int
    old: np.ndarray
    new: np.ndarray
    header: tuple[Header, Header]
    irq: tuple[np.ndarray, np.ndarray] | None
    nmi: tuple[np.ndarray, np.ndarray] | None
    meta: tuple[dict, dict] | None
    path: tuple[str | None, str | None]

    @property
    def empty(self) -> bool:
        return (
            not len(self.old)
            and not len(self.new)
            and self.header[0] == self.header[1]
            and self.irq is None
            and self.nmi is None
            and self.path[0] == self.path[1]
        )


def _same_run(a: np.ndarray, b: np.ndarray) -> int:
    """Length of the common prefix of two write arrays."""
    m = min(len(a), len(b))
    if not m:
        return 0
    differ = a[:m] != b[:m]
    i = int(np.argmax(differ))
    return i if differ[i] else m


def diff(a: Tune, b: Tune, pid: int, label: str, path: tuple[str | None, str | None]) -> Patch:
    """The patch that turns ``a`` into ``b``."""
    wa, wb = a.writes, b.writes
    start = _same_run(wa, wb)
    room = min(len(wa), len(wb)) - start
    tail = _same_run(wa[len(wa) - room :][::-1], wb[len(wb) - room :][::-1]) if room else 0
    events = []
    for x, y in ((a.irq, b.irq), (a.nmi, b.nmi)):
        events.append(None if x is y or np.array_equal(x, y) else (x, y))
    return Patch(
        pid,
        label,
        start,
        wa[start : len(wa) - tail].copy(),
        wb[start : len(wb) - tail].copy(),
        (a.header, b.header),
        events[0],
        events[1],
        None if a.meta == b.meta else (dict(a.meta), dict(b.meta)),
        path,
    )


def apply(tune: Tune, p: Patch, forward: bool = True) -> Tune:
    """``tune`` with ``p`` done (``forward``) or undone."""
    i = 0 if forward else 1
    remove, insert = (p.old, p.new) if forward else (p.new, p.old)
    w = tune.writes
    writes = np.concatenate([w[: p.start], insert, w[p.start + len(remove) :]])
    irq = p.irq[1 - i] if p.irq is not None else tune.irq
    nmi = p.nmi[1 - i] if p.nmi is not None else tune.nmi
    meta = p.meta[1 - i] if p.meta is not None else tune.meta
    return Tune(p.header[1 - i], writes, irq, nmi, meta)


class Session:
    """The tune being edited and everything needed to take changes back."""

    def __init__(self, journal: jr.Journal | None = None) -> None:
        self.tune = Tune()
        self.path: str | None = None
        self.undo_stack: list[Patch] = []
        self.redo_stack: list[Patch] = []
        self.clipboard: Tune | None = None
        self.journal = journal
        self._next_id = 1
        self._saved_id = 0

    # -- state -------------------------------------------------------------------------------
    @property
    def version(self) -> int:
        return self.undo_stack[-1].id if self.undo_stack else 0

    @property
    def dirty(self) -> bool:
        """Whether the tune differs from what was last loaded or saved."""
        return self.version != self._saved_id

    # -- changes -----------------------------------------------------------------------------
    def change(self, tune: Tune, label: str, *, path: Any = _KEEP, clean: bool = False) -> Patch | None:
        """Make ``tune`` current as one undoable step; ``clean`` when it equals a file on disk.

        Returns the patch, or None when nothing changed.
        """
        new_path = self.path if path is _KEEP else path
        p = diff(self.tune, tune, self._next_id, label, (self.path, new_path))
        if p.empty:
            return None
        self._do(p, clean)
        if self.journal is not None:
            self.journal.append("do", *_patch_record(p, clean))
        return p

    def _do(self, p: Patch, clean: bool) -> None:
        self.tune = apply(self.tune, p)
        self.path = p.path[1]
        self.undo_stack.append(p)
        self.redo_stack.clear()
        self._next_id = max(self._next_id, p.id + 1)
        if clean:
            self._saved_id = p.id

    def undo(self) -> Patch | None:
        """Take the last change back; None when there is nothing to undo."""
        if not self.undo_stack:
            return None
        p = self.undo_stack.pop()
        self.tune = apply(self.tune, p, forward=False)
        self.path = p.path[0]
        self.redo_stack.append(p)
        if self.journal is not None:
            self.journal.append("undo")
        return p

    def redo(self) -> Patch | None:
        """Do the last undone change again; None when there is nothing to redo."""
        if not self.redo_stack:
            return None
        p = self.redo_stack.pop()
        self.tune = apply(self.tune, p)
        self.path = p.path[1]
        self.undo_stack.append(p)
        if self.journal is not None:
            self.journal.append("redo")
        return p

    def set_clipboard(self, clip: Tune) -> None:
        """Put ``clip`` on the clipboard (journaled too: a restored session can still paste it)."""
        self.clipboard = clip
        if self.journal is not None:
            arrays = {"writes": clip.writes, "irq": clip.irq, "nmi": clip.nmi}
            self.journal.append("clip", {"header": jr.header_to_json(clip.header)}, arrays)

    def saved(self, path: str) -> None:
        """The current tune was written to ``path``: it is now the session's file, and clean."""
        self.path = path
        self._saved_id = self.version
        if self.journal is not None:
            self.journal.append("saved", {"path": path})

    def close(self) -> None:
        """A clean end: the journal is no longer needed."""
        if self.journal is not None:
            self.journal.close(delete=True)
            self.journal = None

    # -- recovery ----------------------------------------------------------------------------
    @classmethod
    def replay(cls, records: list[jr.Record]) -> Session:
        """A session rebuilt from journal records (without a journal attached)."""
        s = cls()
        for kind, head, arrays in records:
            if kind == "do":
                s._do(_patch_from_record(s.tune, head, arrays), head.get("clean", False))
            elif kind == "undo":
                s.undo()
            elif kind == "redo":
                s.redo()
            elif kind == "saved":
                s.saved(head["path"])
            elif kind == "clip":
                s.clipboard = Tune(
                    jr.header_from_json(head["header"]),
                    arrays["writes"].astype(WRITE_DTYPE),
                    arrays["irq"].astype(np.int64),
                    arrays["nmi"].astype(np.int64),
                )
        return s


def _patch_record(p: Patch, clean: bool) -> tuple[dict, dict]:
    head = {
        "id": p.id,
        "label": p.label,
        "start": p.start,
        "clean": clean,
        "path": list(p.path),
        "header": [jr.header_to_json(h) for h in p.header],
        "meta": [_jsonable(m) for m in p.meta] if p.meta is not None else None,
    }
    # What the patch replaces is in the tune before it, so only its length goes to disk.
    head["old"] = len(p.old)
    arrays = {"new": p.new}
    for name in ("irq", "nmi"):
        pair = getattr(p, name)
        if pair is not None:
            arrays[name] = pair[1]
    return head, arrays


def _patch_from_record(tune: Tune, head: dict, arrays: dict[str, np.ndarray]) -> Patch:
    """The patch of a ``do`` record, completed from ``tune``, the tune it was made on."""

    def events(name):
        return (getattr(tune, name), arrays[name]) if name in arrays else None

    start = head["start"]
    return Patch(
        head["id"],
        head["label"],
        start,
        tune.writes[start : start + head["old"]].copy(),
        arrays["new"].astype(WRITE_DTYPE),
        tuple(jr.header_from_json(h) for h in head["header"]),
        events("irq"),
        events("nmi"),
        tuple(head["meta"]) if head.get("meta") is not None else None,
        tuple(head["path"]),
    )


def _jsonable(meta: dict) -> dict:
    """Tune meta as JSON keeps it: what does not survive the trip is shown as text."""
    import json

    return json.loads(json.dumps(meta, default=str))
