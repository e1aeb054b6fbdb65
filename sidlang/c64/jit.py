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

import sys
import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from sidlang import jitcache

JIT = not jitcache.disabled()
_EAGER = JIT and jitcache.wait_here()
_OPTIONS = {"cache": True, "nogil": True, "_nrt": False}
_MODULE = __name__  # what the background compile warms (see warm())


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
            self.next_check = time.monotonic() + 0.5
            if self.cached():
                self.switch()
        if self.compiled:
            return self.dispatchers[fn](*args)
        self.depth += 1
        try:
            return fn(*args)
        finally:
            self.depth -= 1

    def decide(self) -> None:
        numba = jitcache.numba_module()
        if numba is None:  # pragma: no cover - numba missing: interpreted for good
            self.compiled = False
            self.next_check = float("inf")
            return
        self.dispatchers = {fn: numba.njit(**opts)(fn) for fn, opts, _ in self.kernels}
        if self.cached() or jitcache.compile_in_background(_MODULE) is None:
            self.switch()
        else:
            self.compiled = False
            self.next_check = time.monotonic() + 0.5

    def cached(self) -> bool:
        """numba's cache holds every function that is compiled on its own (not inlined)."""
        return all(jitcache.on_disk(self.dispatchers[fn]) is not False
                   for fn, opts, _ in self.kernels if "inline" not in opts)

    def switch(self) -> None:
        """The dispatchers in place of the plain functions, wherever the core's modules name them."""
        swap = {id(called): self.dispatchers[fn] for fn, _, called in self.kernels}
        for name, module in list(sys.modules.items()):
            if module is not None and name.startswith("sidlang.c64"):
                space = vars(module)
                for key, value in list(space.items()):
                    if id(value) in swap:
                        space[key] = swap[id(value)]
        self.compiled = True


_core = _Core()


def _lazy(fn: Callable[..., Any], options: dict) -> Callable[..., Any]:
    if not JIT:
        return fn
    numba = jitcache.numba_module() if _EAGER else None
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


def _psid(code: bytes, init: int, play: int, *, rsid: bool = False, cia: bool = False) -> bytes:
    """A minimal v2 PSID/RSID around ``code`` loaded at $1000 (the load address in the data)."""
    import struct

    head = struct.pack(">4sHHHHHHHI32s32s32sHBBBB", b"RSID" if rsid else b"PSID", 2, 0x7C, 0,
                       0x1000 + init, 0x1000 + play if play >= 0 else 0, 1, 1, int(cia),
                       b"", b"", b"", 0, 0, 0, 0, 0)
    return head + b"\x00\x10" + code


def warm() -> None:
    """Compile the core (numba caches it on disk) by playing three tiny tunes through the real
    reader: a vertical-blank PSID, a CIA-timed one and an RSID with its own interrupt handler."""
    from sidlang.io import load

    play = bytes([0xA9, 0x0F, 0x8D, 0x18, 0xD4, 0x8D, 0x12, 0xD4,  # LDA #$0F STA $D418 STA $D412
                  0xAD, 0x1B, 0xD4, 0xAD, 0x1C, 0xD4, 0x60])  # LDA $D41B LDA $D41C RTS
    cia_init = bytes([0xA9, 0x00, 0x8D, 0x04, 0xDC, 0xA9, 0x40, 0x8D, 0x05, 0xDC, 0x60])
    rsid = bytes([0x78, 0xA9, 0x35, 0x85, 0x01,  # SEI; LDA #$35 STA $01 (KERNAL out)
                  0xA9, 0x13, 0x8D, 0xFE, 0xFF, 0xA9, 0x10, 0x8D, 0xFF, 0xFF,  # $FFFE -> $1013
                  0x58, 0x4C, 0x10, 0x10,  # CLI; JMP * (at $1010)
                  0x48, 0xAD, 0x0D, 0xDC, 0xA9, 0x0F, 0x8D, 0x18, 0xD4, 0x68, 0x40])  # IRQ: ack, write, RTI
    for data in (_psid(b"\x60" + play, 0, 1), _psid(cia_init + play, 0, len(cia_init), cia=True),
                 _psid(rsid, 0, -1, rsid=True)):
        load(data, format="sid", seconds=0.2)
