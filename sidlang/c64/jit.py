"""Compile the emulation core with numba when it is installed, else run it as plain Python.

The core (:mod:`sidlang.c64.bus`, :mod:`sidlang.c64.cpu`) is written in the subset of Python
that numba compiles: integer locals, NumPy arrays, no objects. Compiled, it runs a 6502 at
hundreds of emulated seconds per wall second; interpreted, the very same code is correct but
about 200 times slower (a PSID player's few thousand cycles a frame still run at several times
real time). ``SIDLANG_NO_JIT=1`` forces the interpreted path (used to compare the two).

Compiling the core takes 15–20 s, once per installation (numba caches it on disk), and a new
user's first ``.sid`` should not wait for it. So the decorators here hand out the compiled
functions only once numba's cache holds them (see :mod:`sidlang.jitcache`): at the first call
from outside the core, this process checks the cache; where it is warm, the real dispatchers
replace the plain functions in their modules' namespaces and everything runs compiled, as
before. Where it is cold, one background process compiles and caches the core while this one
runs it interpreted, checking the cache again between calls (at most twice a second), and
switches to the compiled code as soon as it is there: the state lives in NumPy arrays, so a
run continues compiled from wherever the interpreted code left it. ``SIDLANG_JIT=wait``
compiles in this process at the first call instead, as plain numba does.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

import numpy as np

from sidlang import jitcache

JIT = not jitcache.disabled()
_EAGER = JIT and jitcache.wait_here()
_OPTIONS = {"cache": True, "nogil": True, "_nrt": False}
_MODULE = __name__  # what the background compile warms (see warm())
LONG = 4096  #: bytecode size of a function that is the instruction loop, not a device helper


def _wide(v):
    return int(v)


def _numba():
    """numba, imported now with :data:`wide`'s compiled form registered; None without it."""
    numba = jitcache.numba_module()
    if numba is not None and not getattr(_wide, "_registered", False):
        from numba.extending import overload

        overload(_wide, inline="always")(lambda v: lambda v: np.int64(v))
        _wide._registered = True
    return numba


#: A byte or table entry as an int64 for arithmetic: ``np.int64(v)`` in compiled code (where
#: ``int`` keeps a ``uint8`` a ``uint8``), the builtin ``int`` while interpreted, where arithmetic
#: on NumPy scalars was most of the time (the interpreted core runs about 2.6x faster for it).
#: :meth:`_Core.switch` puts the compiled form in place of ``int`` with the kernels.
wide = _wide if _EAGER else int


class _Core:
    """Every function of the core, and which world this process runs them in."""

    def __init__(self) -> None:
        self.kernels: list[tuple[Callable, dict, Callable]] = []  # (function, options, as called)
        self.compiled: bool | None = None  # None: not decided yet
        self.depth = 0  # > 0 while interpreted core code runs
        self.next_check = 0.0

    def enter(self, fn: Callable, args: tuple) -> Any:
        """A call from outside the core: compiled where it can be, else interpreted."""
        if self.compiled is None:
            self.decide()
        elif not self.compiled and time.monotonic() >= self.next_check:
            self.poll()
        if self.compiled:
            return self.dispatchers[fn](*args)
        if len(fn.__code__.co_code) >= LONG and self.next_check != float("inf"):
            if _can_fork():
                return self.race(fn, args)
            if self.make():  # interpreted, a long tune could take minutes: compile here instead
                self.switch()
                return self.dispatchers[fn](*args)
        self.depth += 1
        try:
            return fn(*args)
        finally:
            self.depth -= 1

    def poll(self) -> bool:
        """Switch to the compiled core if the background compile has cached it by now."""
        self.next_check = time.monotonic() + 0.5
        if jitcache.is_warm(_MODULE) and self.make() and self.cached():
            self.switch()
        return bool(self.compiled)

    def race(self, fn: Callable, args: tuple) -> Any:
        """The instruction loop, interpreted in a forked child, against the background compile.

        One call can be the whole tune (a PSID's play calls all run inside it), so it cannot wait
        for a switch between calls. The child runs it on its copy of the state and hands back
        the arrays and the result; if the compiled core is cached first, the child is stopped
        and this process runs the call compiled from the state as it was. Either way the call
        ends no later than the faster of the two.
        """
        import pickle
        import signal
        import tempfile

        fd, path = tempfile.mkstemp(prefix="sidlang-core-", suffix=".pickle")
        os.close(fd)
        try:
            pid = os.fork()
            if pid == 0:  # the child: interpreted, then out without running any exit code
                code = 1
                try:
                    self.depth += 1
                    try:
                        out = (True, fn(*args))
                    except BaseException as e:  # noqa: BLE001 - handed to the parent to raise
                        out = (False, e)
                    with open(path, "wb") as fh:
                        pickle.dump((out, [a for a in args if isinstance(a, np.ndarray)]), fh, protocol=5)
                    code = 0
                finally:
                    os._exit(code)
            try:
                while True:
                    done, status = os.waitpid(pid, os.WNOHANG)
                    if done:
                        break
                    if time.monotonic() >= self.next_check and self.poll():
                        os.kill(pid, signal.SIGKILL)
                        os.waitpid(pid, 0)
                        return self.dispatchers[fn](*args)
                    time.sleep(0.02)
            except BaseException:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise
            if os.waitstatus_to_exitcode(status) != 0:  # pragma: no cover - the child died
                raise RuntimeError("the interpreted 6502 core stopped without a result")
            with open(path, "rb") as fh:
                (ok, value), arrays = pickle.load(fh)
        finally:
            os.unlink(path)
        for mine, theirs in zip([a for a in args if isinstance(a, np.ndarray)], arrays):
            mine[...] = theirs
        if not ok:
            raise value
        return value

    def decide(self) -> None:
        """Compiled if numba's cache has the core. Where no background compile has left its
        stamp for these sources, it cannot have: then numba is not even imported until one has."""
        self.compiled = False
        self.next_check = time.monotonic() + 0.5
        if jitcache.is_warm(_MODULE) or jitcache.wait_here():
            if not self.make():  # pragma: no cover - numba missing: interpreted for good
                self.next_check = float("inf")
                return
            if self.cached() or jitcache.wait_here():
                self.switch()
                return
        if jitcache.compile_in_background(_MODULE) is None and self.make():
            self.switch()  # no way to compile elsewhere: here, as plain numba does

    def make(self) -> bool:
        """The dispatchers (numba imported, nothing compiled yet); False without numba."""
        if getattr(self, "dispatchers", None) is None:
            numba = _numba()
            if numba is None:
                return False
            self.dispatchers = {fn: numba.njit(**opts)(fn) for fn, opts, _ in self.kernels}
        return True

    def cached(self) -> bool:
        """numba's cache holds every function that is compiled on its own (not inlined)."""
        return all(
            jitcache.on_disk(self.dispatchers[fn]) is not False
            for fn, opts, _ in self.kernels
            if "inline" not in opts
        )

    def switch(self) -> None:
        """The dispatchers in place of the plain functions, wherever the core's modules name them."""
        swap = {id(called): self.dispatchers[fn] for fn, _, called in self.kernels}
        swap[id(int)] = _wide  # wide: compiled, an np.int64
        for name, module in list(sys.modules.items()):
            if module is not None and name.startswith("sidlang.c64"):
                space = vars(module)
                for key, value in list(space.items()):
                    if id(value) in swap:
                        space[key] = swap[id(value)]
        self.compiled = True


_core = _Core()


def _can_fork() -> bool:
    """A child can be forked safely: POSIX but not macOS (whose system libraries may not
    survive it), and no other thread (which might hold a lock the child then waits on)."""
    import threading

    return hasattr(os, "fork") and sys.platform != "darwin" and threading.active_count() == 1


def _lazy(fn: Callable[..., Any], options: dict) -> Callable[..., Any]:
    if not JIT:
        return fn
    numba = _numba() if _EAGER else None
    if numba is not None:
        return numba.njit(**options)(fn)
    if "inline" in options:  # only ever called by core code, which is interpreted or compiled as a whole
        _core.kernels.append((fn, options, fn))
        return fn

    @wraps(fn)
    def called(*args):
        if _core.depth:
            return fn(*args)
        return _core.enter(fn, args)

    _core.kernels.append((fn, options, called))
    return called


def njit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``numba.njit(cache=True)`` once the cache has it (see above); the plain function until then."""
    return _lazy(fn, dict(_OPTIONS))


def njit_inline(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Like :func:`njit`, but inlined into its callers at numba's IR level.

    A call between separately compiled numba functions that passes arrays costs atomic
    reference-count updates for every array on every call; for the memory access of each
    emulated instruction that is most of the time spent, so the hot helpers are inlined.
    """
    return _lazy(fn, {**_OPTIONS, "inline": "always"})


def purge() -> None:
    """Remove numba's cached code of the whole core before it is compiled again.

    numba keys a function's cache on its own source file alone, yet :mod:`bus` and :mod:`voice3`
    are compiled into ``execute``: after a change to them alone it would go on loading ``execute``
    built with the old ones (and never compile theirs). The background compile calls this when
    the stamp of the core's sources has changed.
    """
    from pathlib import Path

    from sidlang.c64 import cpu

    numba = jitcache.numba_module()
    execute = cpu.execute
    if numba is None or not hasattr(execute, "_cache"):
        return
    folder = Path(execute._cache._cache_path)
    for name in list(sys.modules):
        if name.startswith("sidlang.c64."):
            base = name.rsplit(".", 1)[1]
            for pattern in (f"{base}.*.nbi", f"{base}.*.nbc"):
                for path in folder.glob(pattern):
                    try:
                        path.unlink()
                    except OSError:
                        pass


def _psid(code: bytes, init: int, play: int, *, rsid: bool = False, cia: bool = False) -> bytes:
    """A minimal v2 PSID/RSID around ``code`` loaded at $1000 (the load address in the data)."""
    import struct

    head = struct.pack(
        ">4sHHHHHHHI32s32s32sHBBBB",
        b"RSID" if rsid else b"PSID",
        2,
        0x7C,
        0,
        0x1000 + init,
        0x1000 + play if play >= 0 else 0,
        1,
        1,
        int(cia),
        b"",
        b"",
        b"",
        0,
        0,
        0,
        0,
        0,
    )
    return head + b"\x00\x10" + code


def warm() -> None:
    """Compile the core (numba caches it on disk) by playing three tiny tunes through the real
    reader: a vertical-blank PSID, a CIA-timed one and an RSID with its own interrupt handler."""
    from sidlang.io import load

    play = bytes(
        [
            0xA9,
            0x0F,
            0x8D,
            0x18,
            0xD4,
            0x8D,
            0x12,
            0xD4,  # LDA #$0F STA $D418 STA $D412
            0xAD,
            0x1B,
            0xD4,
            0xAD,
            0x1C,
            0xD4,
            0x60,
        ]
    )  # LDA $D41B LDA $D41C RTS
    cia_init = bytes([0xA9, 0x00, 0x8D, 0x04, 0xDC, 0xA9, 0x40, 0x8D, 0x05, 0xDC, 0x60])
    rsid = bytes(
        [
            0x78,
            0xA9,
            0x35,
            0x85,
            0x01,  # SEI; LDA #$35 STA $01 (KERNAL out)
            0xA9,
            0x13,
            0x8D,
            0xFE,
            0xFF,
            0xA9,
            0x10,
            0x8D,
            0xFF,
            0xFF,  # $FFFE -> $1013
            0x58,
            0x4C,
            0x10,
            0x10,  # CLI; JMP * (at $1010)
            0x48,
            0xAD,
            0x0D,
            0xDC,
            0xA9,
            0x0F,
            0x8D,
            0x18,
            0xD4,
            0x68,
            0x40,
        ]
    )  # IRQ: ack, write, RTI
    for data in (
        _psid(b"\x60" + play, 0, 1),
        _psid(cia_init + play, 0, len(cia_init), cia=True),
        _psid(rsid, 0, -1, rsid=True),
    ):
        load(data, format="sid", seconds=0.2)
