"""The session journal: every change appended to a file as it happens, so nothing is lost.

A journal is one file per running REPL in ``<home>/journal/``, holding records in the order
they happened: ``do`` (a :class:`~sidlang.repl.session.Patch`: the writes replaced, the
header, interrupts and file name before and after), ``undo``, ``redo``, ``saved`` and
``clip`` (what ``cut`` or ``copy`` put on the clipboard).
Replaying them through a :class:`~sidlang.repl.session.Session` rebuilds the tune *and* its
undo history. A record is written with one ``write`` call and flushed, so a killed process or
a closed terminal leaves every finished record on disk; a record cut short by the kill is
ignored on reading.

The running REPL holds an exclusive ``flock`` on its journal. The lock dies with the process,
so a journal nobody holds belongs to a session that ended without quitting: ``sidlang repl``
offers to restore it. A clean ``quit`` deletes the journal.

Record layout: ``b"SJR1"``, the payload length (8 bytes, little-endian), then the payload:
the length of a JSON head (4 bytes), the head, and the arrays the head lists, as raw
little-endian bytes. No pickle: a journal is data, never code.
"""

from __future__ import annotations

import json
import os
import struct
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from sidlang.tune import Header

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: journals work, orphan detection does not
    fcntl = None

MAGIC = b"SJR1"
SUFFIX = ".journal"
#: The write array as stored: fixed little-endian, whatever the machine.
DISK_WRITES = np.dtype([("cycle", "<i8"), ("chip", "u1"), ("reg", "u1"), ("val", "u1")])
DISK_EVENTS = np.dtype("<i8")

Record = tuple[str, dict[str, Any], dict[str, np.ndarray]]  #: (kind, head, arrays)


def header_to_json(h: Header) -> dict[str, Any]:
    return asdict(h)


def header_from_json(d: dict[str, Any]) -> Header:
    d = dict(d)
    d["models"], d["sids"] = tuple(d["models"]), tuple(d["sids"])
    return Header(**d)


def encode(kind: str, head: dict[str, Any], arrays: dict[str, np.ndarray]) -> bytes:
    """One record: the kind, a JSON-able head and named arrays."""
    parts, layout = [], []
    for name, arr in arrays.items():
        disk = DISK_WRITES if arr.dtype.names else DISK_EVENTS
        data = np.ascontiguousarray(arr.astype(disk)).tobytes()
        layout.append([name, "writes" if arr.dtype.names else "events", len(arr)])
        parts.append(data)
    js = json.dumps({"kind": kind, "head": head, "arrays": layout}, default=str).encode()
    payload = struct.pack("<I", len(js)) + js + b"".join(parts)
    return MAGIC + struct.pack("<Q", len(payload)) + payload


def decode_all(data: bytes) -> Iterator[Record]:
    """The complete records in ``data``; stops quietly at a torn or foreign tail."""
    pos = 0
    while pos + 12 <= len(data) and data[pos : pos + 4] == MAGIC:
        (size,) = struct.unpack_from("<Q", data, pos + 4)
        start, end = pos + 12, pos + 12 + size
        if end > len(data):
            return
        (jlen,) = struct.unpack_from("<I", data, start)
        try:
            top = json.loads(data[start + 4 : start + 4 + jlen])
        except ValueError:
            return
        at = start + 4 + jlen
        arrays = {}
        for name, kind, n in top["arrays"]:
            dtype = DISK_WRITES if kind == "writes" else DISK_EVENTS
            nbytes = n * dtype.itemsize
            arrays[name] = np.frombuffer(data[at : at + nbytes], dtype=dtype).copy()
            at += nbytes
        yield top["kind"], top["head"], arrays
        pos = end


class Journal:
    """An open journal file, locked for this process while it lives."""

    def __init__(self, path: Path, fh) -> None:
        self.path = path
        self._fh = fh

    @classmethod
    def create(cls, folder: Path) -> Journal:
        """A new, empty journal in ``folder`` (created if missing)."""
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = folder / f"{stamp}-{os.getpid()}-{uuid.uuid4().hex[:6]}{SUFFIX}"
        fh = open(path, "ab")
        _lock(fh, wait=False)
        return cls(path, fh)

    @classmethod
    def adopt(cls, path: Path) -> Journal | None:
        """Take over an orphaned journal to go on writing it; None if someone holds it."""
        fh = open(path, "ab")
        if not _lock(fh, wait=False):
            fh.close()
            return None
        return cls(path, fh)

    def append(
        self, kind: str, head: dict[str, Any] | None = None, arrays: dict[str, np.ndarray] | None = None
    ) -> None:
        self._fh.write(encode(kind, head or {}, arrays or {}))
        self._fh.flush()

    def close(self, delete: bool = True) -> None:
        """Stop writing; ``delete`` removes the file (a clean end of the session)."""
        if self._fh.closed:
            return
        self._fh.close()
        if delete:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass


def read(path: Path) -> list[Record]:
    try:
        return list(decode_all(path.read_bytes()))
    except OSError:
        return []


def orphans(folder: Path) -> list[Path]:
    """Journals in ``folder`` that no running REPL holds, newest first."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"*{SUFFIX}"):
        try:
            with open(path, "ab") as fh:
                if _lock(fh, wait=False):
                    found.append(path)
        except OSError:
            continue
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def _lock(fh, wait: bool = True) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True
