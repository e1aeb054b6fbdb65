"""numba's compiled code without the wait: used where its disk cache has it, compiled ahead.

numba compiles a function on its first call and, with ``cache=True``, keeps the machine code
on disk. The first compile takes seconds (the text scanner, the model's decode step) to tens
of seconds (the 6502 core), which a new user would spend waiting on their first command.
So callers ask :func:`compiled` for a kernel: it hands the compiled function out only where
numba's cache already holds it for this machine and this source, and otherwise starts one
detached background process (``python -m sidlang.jitcache MODULE``, niced) that compiles and
caches it, and returns None: the caller takes its plain Python/NumPy path meanwhile. Each
kernel module names its sources in :data:`KERNELS` and has a ``warm()`` that runs its kernels
once on small inputs.

The command line also compiles ahead (:func:`prewarm`): at start it compares a stamp per
kernel module (its sources' sizes and times, numba's, Python's) with the one the last
background compile left, a few ``stat`` calls and no numba import, and where one differs
starts the background compile of all of them, so that by the time a first ``.sid`` is
converted the 6502 core is usually compiled already.

Environment: ``SIDLANG_JIT=wait`` compiles in the calling process, as plain numba does (the
background process itself, and benchmarks that want it); ``SIDLANG_PREWARM=0`` stops
:func:`prewarm`; ``SIDLANG_NO_JIT`` turns numba off everywhere.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # subprocess and hashlib are imported where used: this module is on every start
    import subprocess

#: Kernel modules (each with a ``warm()``) and their sources, relative to the sidlang package.
KERNELS: dict[str, tuple[str, ...]] = {
    "sidlang.text.scan": ("text/scan.py",),
    "sidlang.c64.jit": ("c64",),
    "sidlang.model.decodekernel": ("model/decodekernel.py",),
}
_PACKAGE = Path(__file__).resolve().parent
_started: dict[str, subprocess.Popen] = {}  # background compiles started by this process


def disabled() -> bool:
    """numba is turned off (``SIDLANG_NO_JIT``)."""
    return bool(os.environ.get("SIDLANG_NO_JIT"))


def wait_here() -> bool:
    """Compile in this process rather than in the background (``SIDLANG_JIT=wait``)."""
    return os.environ.get("SIDLANG_JIT") == "wait"


def numba_module():
    """``numba``, imported now; None where it is missing or turned off."""
    if disabled():
        return None
    try:
        import numba
    except ImportError:  # pragma: no cover - numba is a dependency; this is for odd platforms
        return None
    return numba


def on_disk(dispatcher) -> bool | None:
    """Whether numba's cache holds a compile of ``dispatcher`` for this source and this CPU.

    None where it cannot tell (a numba without these internals): then compile as numba would.
    """
    import hashlib

    try:
        cache = dispatcher._cache
        index = cache._cache_file._load_index()  # empty when missing or made from other source
        if not index:
            return False
        magic = dispatcher.targetctx.codegen().magic_tuple()
        code = hashlib.sha256(dispatcher.py_func.__code__.co_code).hexdigest()
        return any(key[1] == magic and key[2][0] == code for key in index)
    except Exception:  # pragma: no cover - numba internals moved
        return None


def compile_in_background(module: str) -> subprocess.Popen | None:
    """Start the background compile of ``module``'s kernels (once per process); None if it
    cannot be started, or where compiling here is as good (one CPU)."""
    proc = _started.get(module)
    everything = _started.get("all")
    if proc is None and everything is not None and everything.poll() is None:
        return everything  # the compile of all kernels, started at the command's start, runs
    if proc is None:
        if (os.cpu_count() or 1) < 2:
            return None  # a second process would only halve the first command's speed
        import subprocess

        try:
            env = {**os.environ, "SIDLANG_JIT": "wait", "SIDLANG_PREWARM": "0"}
            proc = subprocess.Popen(
                [sys.executable, "-m", "sidlang.jitcache", module],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError:  # pragma: no cover - no way to start it: compile here after all
            return None
        _started[module] = proc
    return proc


def finished(module: str) -> bool:
    """The background compile this process started for ``module`` has ended well."""
    proc = _started.get(module)
    return proc is not None and proc.poll() == 0


def compiled(dispatcher, module: str, wait: bool = False):
    """``dispatcher`` where it can be had without compiling now, else None (use Python).

    Without a cached compile, one background process compiles and caches it, so the next run
    (or a later call in this one) gets it; ``wait`` (or ``SIDLANG_JIT=wait``) compiles here.
    """
    if dispatcher is None:
        return None
    have = on_disk(dispatcher)
    if have or have is None or wait or wait_here():
        return dispatcher
    if compile_in_background(module) is None:
        return dispatcher
    return None


# -- stamps: which kernel modules the last background compile left warm ----------------------
def _stamp_dir() -> Path:
    base = os.environ.get("NUMBA_CACHE_DIR")
    if base:
        return Path(base) / "sidlang-warm"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "sidlang" / "warm"


def stamp(module: str) -> str:
    """What ``module``'s compiled kernels depend on: its sources, numba, Python (one line each)."""
    parts = [sys.version, sys.executable, os.environ.get("NUMBA_CACHE_DIR", "")]
    try:
        import importlib.util

        spec = importlib.util.find_spec("numba")
        if spec is not None and spec.origin:
            st = os.stat(spec.origin)
            parts.append(f"numba {spec.origin} {st.st_mtime_ns} {st.st_size}")
    except (ImportError, OSError, ValueError):  # pragma: no cover
        pass
    for rel in KERNELS[module]:
        path = _PACKAGE / rel
        files = sorted(path.glob("*.py")) if path.is_dir() else [path]
        for f in files:
            try:
                st = f.stat()
            except OSError:
                continue
            parts.append(f"{f.name} {st.st_mtime_ns} {st.st_size}")
    return "\n".join(parts) + "\n"


def is_warm(module: str) -> bool:
    """The stamp the last background compile left for ``module`` matches it now."""
    try:
        return (_stamp_dir() / f"{module}.stamp").read_text() == stamp(module)
    except OSError:
        return False


def _write_stamp(module: str) -> None:
    folder = _stamp_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{module}.{os.getpid()}.tmp"
        tmp.write_text(stamp(module))
        os.replace(tmp, folder / f"{module}.stamp")
    except OSError:  # pragma: no cover - nowhere to write: the next run checks again
        pass


def prewarm() -> subprocess.Popen | None:
    """Compile every kernel module ahead, in the background, unless all are warm already.

    Costs a few ``stat`` calls when they are; never imports numba in this process.
    """
    if disabled() or wait_here() or os.environ.get("SIDLANG_PREWARM") == "0":
        return None
    cold = [m for m in KERNELS if not is_warm(m)]
    if not cold:
        return None
    return compile_in_background("all")


def _warm(module: str) -> bool:
    import importlib

    try:
        kernels = importlib.import_module(module)
        if not is_warm(module) and hasattr(kernels, "purge"):
            kernels.purge()  # sources changed since the last compile: none of it is reused
        kernels.warm()
        return True
    except Exception:  # a kernel that fails to compile is compiled (and reported) on use
        return False
    finally:  # tried for these sources: not again until they change
        _write_stamp(module)


def main(argv: list[str]) -> int:
    """``python -m sidlang.jitcache [--block] [MODULE…|all]``: compile and cache, one process at
    a time (where another is compiling, return at once, or with ``--block`` wait for it first)."""
    try:
        os.nice(10)  # behind the user's own work
    except (AttributeError, OSError):  # pragma: no cover
        pass
    block = "--block" in argv
    argv = [a for a in argv if a != "--block"]
    modules = list(KERNELS) if not argv or argv[0] == "all" else argv
    lock = _stamp_dir() / "compile.lock"
    try:
        import fcntl

        lock.parent.mkdir(parents=True, exist_ok=True)
        fh = open(lock, "w")  # noqa: SIM115 - held for the life of the process
        fcntl.flock(fh, fcntl.LOCK_EX | (0 if block else fcntl.LOCK_NB))
    except BlockingIOError:
        return 0  # another process is compiling; it leaves the stamps
    except (ImportError, OSError):  # pragma: no cover - no locking here: compile anyway
        pass
    ok = [_warm(m) for m in modules if m in KERNELS]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
