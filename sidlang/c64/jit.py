"""Compile the emulation core with numba when it is installed, else run it as plain Python.

The core (:mod:`sidlang.c64.bus`, :mod:`sidlang.c64.cpu`) is written in the subset of Python
that numba compiles: integer locals, NumPy arrays, no objects. Compiled, it runs a 6502 at
hundreds of emulated seconds per wall second; interpreted, the very same code is correct but
about a thousand times slower, which is why ``numba`` is a dependency and this fallback exists
only so that an exotic platform without numba wheels still gets right answers.
``SIDLANG_NO_JIT=1`` forces the interpreted path (used to compare the two).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

try:
    if os.environ.get("SIDLANG_NO_JIT"):
        raise ImportError("disabled by SIDLANG_NO_JIT")
    import numba

    JIT = True
except ImportError:  # pragma: no cover - exercised only where numba is missing
    numba = None
    JIT = False


def njit(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``numba.njit(cache=True)`` when numba is there; the function unchanged otherwise."""
    if numba is None:
        return fn
    return numba.njit(cache=True, nogil=True, _nrt=False)(fn)


def njit_inline(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Like :func:`njit`, but inlined into its callers at numba's IR level.

    A call between separately compiled numba functions that passes arrays costs atomic
    reference-count updates for every array on every call; for the memory access of each
    emulated instruction that is most of the time spent, so the hot helpers are inlined.
    """
    if numba is None:
        return fn
    return numba.njit(cache=True, nogil=True, inline="always", _nrt=False)(fn)
