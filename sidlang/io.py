"""Loading and saving Tunes in any registered format, with the file-safety promises.

Outputs are written whole or not at all (a temporary file in the same folder, then an atomic
rename); an existing output is only replaced when asked; inputs are only ever read.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from sidlang.errors import FormatError, SidlangError, UsageError
from sidlang.tune import Tune

PathLike = str | os.PathLike


def _fmt_for(path: str, fmt: str | None):
    from sidlang.formats import for_path

    return for_path(path, fmt)


def read_bytes(path: PathLike) -> bytes:
    """The bytes of ``path`` (``-`` is standard input), with a one-line error if unreadable."""
    if str(path) == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise SidlangError("no such file", file=str(path)) from None
    except IsADirectoryError:
        raise SidlangError("is a folder, not a file", file=str(path)) from None
    except OSError as e:
        raise SidlangError(f"cannot read: {e.strerror}", file=str(path)) from None


def load(source: PathLike | bytes, format: str | None = None, **options) -> Tune:
    """Read a Tune from a path (or ``-``) or from bytes; the format is named or from the ending.

    ``options`` go to the format's reader (``.sid``: ``subtune``, ``seconds``, ``clock``).
    """
    if isinstance(source, bytes | bytearray):
        if format is None:
            raise UsageError("loading from bytes needs format=…")
        data, name = bytes(source), "<bytes>"
    else:
        name = str(source)
        if name.startswith("music21:") and format is None:  # a music21 corpus piece, arranged
            from sidlang.formats.score import read_corpus

            return read_corpus(name, **options)
        if name == "-" and format is None:
            raise UsageError("reading standard input needs a format (--from)")
        data = read_bytes(source)
    fmt = _fmt_for(name, format)
    if fmt.read is None:
        raise UsageError(f"format {fmt.name!r} cannot be read, only written")
    try:
        return fmt.read(data, name, **options)
    except SidlangError as e:
        if e.file is None:
            e.file = name
        raise


def encode(tune: Tune, path: str, format: str | None = None, **options) -> bytes:
    fmt = _fmt_for(path, format)
    if fmt.write is None:
        raise UsageError(f"format {fmt.name!r} cannot be written, only read")
    try:
        return fmt.write(tune, **options)
    except SidlangError as e:
        if e.file is None:
            e.file = path
        raise


def write_atomic(path: PathLike, data: bytes, *, force: bool = False) -> None:
    """Write ``data`` to ``path`` whole or not at all; refuse to replace a file unless ``force``."""
    path = Path(path)
    if path.exists() and not force:
        raise SidlangError("already exists; add --force to replace it", file=str(path))
    if path.is_dir():
        raise SidlangError("is a folder, not a file", file=str(path))
    folder = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as e:
        raise SidlangError(f"cannot write: {e.strerror}", file=str(path)) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save(tune: Tune, path: PathLike, format: str | None = None, *, force: bool = True, **options) -> None:
    """Write a Tune to ``path`` (``-`` is standard output) in the named format or the ending's."""
    name = str(path)
    if name == "-" and format is None:
        format = "sidl"
    data = encode(tune, name, format, **options)
    if name == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    write_atomic(path, data, force=force)


__all__ = ["FormatError", "load", "save", "encode", "write_atomic", "read_bytes"]
