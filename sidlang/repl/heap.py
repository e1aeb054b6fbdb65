"""Keep big NumPy temporaries on the C heap while the REPL runs (Linux, glibc).

Loading, saving and transforming a long tune makes arrays of a few megabytes and frees them
again. glibc serves blocks that big with fresh ``mmap`` pages and hands them back on ``free``,
so every command pays the kernel to zero them again; in a process that also holds tunes and
their undo history its adaptive threshold does not settle. Measured with
``benchmarks/bench_repl.py`` on a 10,000-frame tune: ``load`` 99–101 ms before, 53 ms after.

:func:`keep_big_blocks` raises glibc's mmap threshold (blocks below it come from the heap and
are reused) and its trim threshold (free memory is kept, up to that much, rather than given
back at once). The price is that the REPL keeps up to ``TRIM`` bytes of freed memory for
reuse. Elsewhere (not glibc) it does nothing; ``SIDLANG_KEEP_HEAP=0`` turns it off.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # mallopt parameters, <malloc.h>
MMAP = 32 << 20  #: blocks up to 32 MiB (glibc's upper limit for the threshold) from the heap
TRIM = 256 << 20  #: keep up to 256 MiB of freed heap for reuse


def keep_big_blocks() -> bool:
    """Tune glibc's allocator for this process; True where it took effect."""
    if not sys.platform.startswith("linux") or os.environ.get("SIDLANG_KEEP_HEAP") == "0":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: no mallopt
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP)) and bool(mallopt(M_TRIM_THRESHOLD, TRIM))
