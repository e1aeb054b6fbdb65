"""Loading and saving Tunes in any registered format, with the file-safety promises.

Outputs are written whole or not at all (a temporary file in the same folder, then an atomic
rename); an existing output is only replaced when asked; inputs are only ever read.
"""

from __future__ import annotations

import errno
import os
import re
import sys
import time
from pathlib import Path

from sidlang.errors import FormatError, SidlangError, UsageError
from sidlang.tune import Tune

PathLike = str | os.PathLike


def _fmt_for(path: str, fmt: str | None):
    from sidlang.formats import for_path

    return for_path(path, fmt)


#: The most ``read_bytes`` reads. Inputs are read whole; the readers' own limits (the frame
#: limit, the runs bound) lie far inside this, and the longest ordinary input, a WAV for ``fit``,
#: is about 318 MB an hour (mono, 16-bit, 44.1 kHz). ``/dev/zero`` or an endless pipe stops here.
MAX_INPUT_BYTES = 512 << 20


def _read_bounded(fh, name: str) -> bytes:
    try:
        size = os.fstat(fh.fileno()).st_size
    except (OSError, AttributeError, ValueError):
        size = 0
    if size > MAX_INPUT_BYTES:  # a regular file: refused before it is read
        raise SidlangError(
            f"is {size / 2**20:.0f} MB; inputs may be at most {MAX_INPUT_BYTES >> 20} MB", file=name
        )
    data = fh.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:  # a device or a pipe that goes on
        raise SidlangError(
            f"goes on past {MAX_INPUT_BYTES >> 20} MB; inputs may be at most {MAX_INPUT_BYTES >> 20} MB",
            file=name,
        )
    return data


def read_bytes(path: PathLike) -> bytes:
    """The bytes of ``path`` (``-`` is standard input), with a one-line error if unreadable or
    longer than :data:`MAX_INPUT_BYTES`."""
    if str(path) == "-":
        return _read_bounded(sys.stdin.buffer, "<stdin>")
    try:
        with open(path, "rb") as fh:
            return _read_bounded(fh, str(path))
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
    check_read_options(fmt, options)
    try:
        return fmt.read(data, name, **options)
    except SidlangError as e:
        if e.file is None:
            e.file = name
        raise


def check_read_options(fmt, options: dict) -> None:
    """A usage error naming the first reading option ``fmt``'s reader does not take."""
    unknown = sorted(set(options) - set(fmt.options))
    if not unknown:
        return
    from sidlang.formats import registry

    name = unknown[0]
    takers = [f.name for f in registry().values() if f.read is not None and name in f.options]
    where = f" (it is for {', '.join(takers)} input)" if takers else ""
    raise UsageError(f"--{name} does not apply to {fmt.name} input{where}")


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


#: Our temporary files: ``.NAME.PID-RANDOM.tmp`` beside the output ``NAME``. The process id
#: tells a later run whether the writer is still alive; a dead writer's file is removed.
_TEMP = re.compile(r"\.(?P<pid>\d+)-[a-z0-9_]{8}\.tmp")
#: Temporary files of the older pattern (``.NAME.RANDOM.tmp``, no process id) count as stale
#: when nothing has written to them for this long.
OLD_TEMP_AGE = 3600
_NO_LINKS = {
    errno.EPERM,
    errno.EXDEV,
    errno.EMLINK,
    errno.ENOSYS,
    errno.EOPNOTSUPP,
    getattr(errno, "ENOTSUP", errno.EOPNOTSUPP),
}


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process, or we may not ask: assume it lives
        return True
    return True


def clean_stale_temps(path: PathLike) -> list[Path]:
    """Remove the temporary files an interrupted writer of ``path`` left beside it.

    Only files of our own pattern for this output name are looked at: ``.NAME.PID-RANDOM.tmp``
    whose process is gone, and ``.NAME.RANDOM.tmp`` (older sidlang) untouched for an hour.
    Returns what was removed.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    prefix = f".{path.name}."
    removed = []
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith(prefix) and e.name.endswith(".tmp")]
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        rest = entry.name[len(prefix) - 1 :]
        m = _TEMP.fullmatch(rest)
        if m is not None:
            stale = not _alive(int(m.group("pid")))
        elif re.fullmatch(r"\.[a-z0-9_]{8}\.tmp", rest):
            try:
                stale = now - entry.stat(follow_symlinks=False).st_mtime > OLD_TEMP_AGE
            except OSError:
                continue
        else:
            continue
        if stale and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed


def check_output(path: PathLike, *, force: bool = False) -> None:
    """Refuse, in one line, an output that cannot be written: it exists (without ``force``),
    it is a folder or another thing that is not a plain file, or its folder is missing or not a
    folder. ``-`` (standard output) passes."""
    name = str(path)
    if name == "-":
        return
    path = Path(path)
    if path.is_dir():
        raise SidlangError("is a folder, not a file", file=name)
    if path.exists() and not path.is_file():  # --force would put a file in a device's or fifo's place
        raise SidlangError(
            "is not a plain file (a device, pipe or socket); use - for standard output", file=name
        )
    if os.path.lexists(path) and not force:
        raise SidlangError("already exists; add --force to replace it", file=name)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.exists():
        raise SidlangError(f"no such folder {str(folder)!r}", file=name)
    if not folder.is_dir():
        raise SidlangError(f"{str(folder)!r} is not a folder", file=name)


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_not_input(inputs: str | list[str], *outputs: PathLike | None) -> None:
    """A usage error when an output names an input file (inputs are never overwritten, even
    with ``--force``); ``-`` and ``music21:`` names are not files."""
    for given in [inputs] if isinstance(inputs, str) else inputs:
        if given == "-" or given.startswith("music21:"):
            continue
        for out in outputs:
            if out is not None and str(out) != "-" and _same_file(given, str(out)):
                raise UsageError(f"{out}: is the input file; inputs are never overwritten")


class Outputs:
    """Several output files written whole or not at all, together.

    ``reserve(path)`` checks an output and makes its temporary file beside it at once, so
    every output is known writable before any work is done; ``open(path)`` gives the
    temporary file to write. Leaving the ``with`` block normally moves every file into place
    (without ``force`` by a hard link that fails if the name exists, so two writers racing to
    one new name cannot silently replace each other); if any step fails, the files already
    placed are removed again and every temporary file is deleted.
    """

    def __init__(self, *, force: bool = False) -> None:
        self.force = force
        self.temps: dict[Path, str] = {}
        self.files: dict[Path, object] = {}

    def __enter__(self) -> Outputs:
        return self

    def reserve(self, path: PathLike) -> Path:
        path = Path(path)
        check_output(path, force=self.force)
        if path in self.temps:
            raise UsageError(f"{path}: named twice as an output")
        clean_stale_temps(path)
        folder = path.parent if str(path.parent) else Path(".")
        try:
            fd, tmp = _new_temp(folder, path.name)
        except OSError as e:
            raise SidlangError(f"cannot write: {e.strerror}", file=str(path)) from None
        self.temps[path] = tmp
        try:
            self.files[path] = open(tmp, "r+b")  # noqa: SIM115 - closed by commit() or discard(); named, unlike fdopen's
        finally:
            os.close(fd)
        return path

    def open(self, path: PathLike):
        """The temporary file of a reserved output (binary, read and write)."""
        path = Path(path)
        if path not in self.files:
            self.reserve(path)
        return self.files[path]

    def write(self, path: PathLike, data: bytes) -> None:
        fh = self.open(path)
        try:
            fh.write(data)
        except OSError as e:
            raise SidlangError(f"cannot write: {e.strerror}", file=str(path)) from None

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()

    def commit(self) -> None:
        placed: list[Path] = []
        try:
            for path, fh in self.files.items():
                try:
                    fh.close()
                except OSError as e:
                    raise SidlangError(f"cannot write: {e.strerror}", file=str(path)) from None
            for path, tmp in self.temps.items():
                _place(tmp, path, self.force)
                placed.append(path)
        except BaseException:
            for path in placed:  # ours: we just made them
                try:
                    os.unlink(path)
                except OSError:
                    pass
            self.discard()
            raise
        self.temps.clear()
        self.files.clear()

    def discard(self) -> None:
        for fh in self.files.values():
            try:
                fh.close()
            except OSError:
                pass
        for tmp in self.temps.values():
            try:
                os.unlink(tmp)
            except OSError:
                pass
        self.temps.clear()
        self.files.clear()


def _place(tmp: str, path: Path, force: bool) -> None:
    """Move a finished temporary file to ``path``: replacing it only with ``force``."""
    try:
        if force:
            os.replace(tmp, path)
            return
        try:
            os.link(tmp, path)  # fails if the name exists, even if it appeared a moment ago
        except FileExistsError:
            raise SidlangError("already exists; add --force to replace it", file=str(path)) from None
        except OSError as e:
            if e.errno not in _NO_LINKS:
                raise
            # A file system without hard links: the check and the rename are two steps here.
            if os.path.lexists(path):
                raise SidlangError("already exists; add --force to replace it", file=str(path)) from None
            os.rename(tmp, path)
            return
        os.unlink(tmp)
    except IsADirectoryError:
        raise SidlangError("is a folder, not a file", file=str(path)) from None
    except OSError as e:
        raise SidlangError(f"cannot write: {e.strerror}", file=str(path)) from None


def write_atomic(path: PathLike, data: bytes, *, force: bool = False) -> None:
    """Write ``data`` to ``path`` whole or not at all; refuse to replace a file unless ``force``."""
    with Outputs(force=force) as out:
        out.write(path, data)


def refuse_terminal(fmt_name: str, binary: bool) -> None:
    """A usage error for binary output to standard output when that is a terminal."""
    isatty = getattr(sys.stdout, "isatty", None)
    if binary and isatty is not None and isatty():
        raise UsageError(
            f"{fmt_name} is binary and standard output is a terminal: "
            "redirect it to a file or a pipe, or give a file name"
        )


def _new_temp(folder: Path, name: str) -> tuple[int, str]:
    """A new temporary file ``.NAME.PID-RANDOM.tmp`` in ``folder``, opened read-write.

    Made with mode 0666 and ``O_EXCL``, so the kernel applies the umask as for any file the
    user makes (``mkstemp`` makes them 0600, and learning the umask means setting it, for a
    moment, for every thread of the process).
    """
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = os.path.join(folder, f".{name}.{os.getpid()}-{os.urandom(4).hex()}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(folder))


def write_to(tune: Tune, fh, path: str, format: str | None = None, **options) -> None:
    """Write a Tune in the named format (or ``path``'s ending's) to the open binary file ``fh``.

    Formats that can stream (``wav``) write block by block, so memory stays flat however long
    the tune; the others are encoded whole first.
    """
    fmt = _fmt_for(path, format)
    if fmt.write_to is None:
        data = encode(tune, path, format, **options)
        try:
            fh.write(data)
        except BrokenPipeError:  # the reader of a pipe stopped: the CLI ends quietly
            raise
        except OSError as e:
            raise SidlangError(f"cannot write: {e.strerror}", file=path) from None
        return
    try:
        fmt.write_to(tune, fh, **options)
    except SidlangError as e:
        if e.file is None:
            e.file = path
        raise
    except BrokenPipeError:
        raise
    except OSError as e:
        raise SidlangError(f"cannot write: {e.strerror}", file=path) from None


def save(tune: Tune, path: PathLike, format: str | None = None, *, force: bool = True, **options) -> None:
    """Write a Tune to ``path`` (``-`` is standard output) in the named format or the ending's."""
    name = str(path)
    if name == "-" and format is None:
        format = "sidl"
    if name == "-":
        fmt = _fmt_for(name, format)
        refuse_terminal(fmt.name, fmt.binary)
        write_to(tune, sys.stdout.buffer, name, format, **options)
        sys.stdout.flush()
        return
    with Outputs(force=force) as out:
        write_to(tune, out.open(path), name, format, **options)


__all__ = [
    "FormatError",
    "load",
    "save",
    "encode",
    "write_to",
    "write_atomic",
    "read_bytes",
    "Outputs",
    "check_output",
    "check_not_input",
    "clean_stale_temps",
]
