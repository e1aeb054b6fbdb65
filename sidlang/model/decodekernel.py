"""The decode step of :mod:`sidlang.model.fastdecode` compiled with numba: one call per token.

NumPy's ~30 calls per layer cost more in dispatch than in arithmetic at width 128; compiled,
the step is plain loops over the same float32 arrays (the same folded weights, the same
cache) and runs 2–3x faster again. ``STEP`` is None where numba is missing or
``SIDLANG_NO_JIT`` is set, and the NumPy step is used instead.

The first compile takes 5–8 seconds and is cached on disk by numba (``cache=True``), so it
is paid once per installation, not per process, and not by a user who is waiting:
:func:`compiled_step` hands out the step only once numba has it on disk, and otherwise
starts one background process that compiles it (:mod:`sidlang.jitcache`) while this one
steps with NumPy. ``fastmath`` allows reassociation and
fused multiply-adds (vectorized sums), not the no-NaN/no-inf assumptions.
"""

from __future__ import annotations

import math
import os

from sidlang import jitcache

try:
    if os.environ.get("SIDLANG_NO_JIT"):
        raise ImportError("disabled by SIDLANG_NO_JIT")
    import numba
except ImportError:  # pragma: no cover - numba is a dependency; this is for odd platforms
    numba = None

_FAST = {"reassoc", "contract", "nsz", "arcp"}


def _njit(fn):
    return numba.njit(cache=True, nogil=True, fastmath=_FAST)(fn)


def _matvec(u, w, out):  # pragma: no cover - compiled
    """``out = u @ w`` for ``u`` (n,) and ``w`` (n, m): m-long rows added, which vectorizes."""
    n, m = w.shape
    for j in range(m):
        out[j] = 0.0
    for i in range(n):
        a = u[i]
        for j in range(m):
            out[j] += a * w[i, j]


def _unit(x, out, eps):  # pragma: no cover - compiled
    """LayerNorm without gain and bias (they are folded into the next matrix)."""
    n = x.shape[0]
    mean = 0.0
    for i in range(n):
        mean += x[i]
    mean /= n
    var = 0.0
    for i in range(n):
        d = x[i] - mean
        out[i] = d
        var += d * d
    r = 1.0 / math.sqrt(var / n + eps)
    for i in range(n):
        out[i] *= r


def _step(
    token, s0, e, wins, eps, cos, sin, wte, w1, b1, wo, fc, bfc, w2, k, v, x, u, big, att, hid, y, h
):  # pragma: no cover - compiled
    """One token through every layer; ``k`` (L, H, D, N) and ``v`` (L, H, N, D) get entry
    ``e - 1``, attention in layer ``i`` reads entries ``max(s0, e - 1 - wins[i]) … e - 1``;
    the final normed state goes to ``h``."""
    n_layer, n_head, _, dim = v.shape
    C = x.shape[0]
    for i in range(C):
        x[i] = wte[token, i]
    for layer in range(n_layer):
        s = max(s0, e - 1 - wins[layer])
        n = e - s
        _unit(x, u, eps)
        _matvec(u, w1[layer], big)  # q k | q k with pairs swapped | v
        for j in range(5 * C):
            big[j] += b1[layer, j]
        for hh in range(2 * n_head):  # rotary: x cos + swapped(x) signed-sin, q and k
            for d in range(dim):
                j = hh * dim + d
                big[j] = big[j] * cos[d] + big[2 * C + j] * sin[d]
        for hh in range(n_head):
            kh, vh = k[layer, hh], v[layer, hh]
            for d in range(dim):
                kh[d, e - 1] = big[C + hh * dim + d]
                vh[e - 1, d] = big[4 * C + hh * dim + d]
            for t in range(n):
                att[t] = 0.0
            for d in range(dim):  # scores (scale folded into q) as dim axpys over time
                a = big[hh * dim + d]
                kd = kh[d, s:e]
                for t in range(n):
                    att[t] += a * kd[t]
            top = att[0]
            for t in range(n):
                top = max(top, att[t])
            total = 0.0
            for t in range(n):
                p = math.exp(att[t] - top)
                att[t] = p
                total += p
            yh = y[hh * dim : (hh + 1) * dim]
            yh[:] = 0.0
            for t in range(n):
                p = att[t]
                vt = vh[s + t]
                for d in range(dim):
                    yh[d] += p * vt[d]
            r = 1.0 / total
            for d in range(dim):
                yh[d] *= r
        _matvec(y, wo[layer], u)
        for i in range(C):
            x[i] += u[i]
        _unit(x, u, eps)
        _matvec(u, fc[layer], hid)
        for j in range(4 * C):  # exact GELU, its 0.5 folded into w2
            a = hid[j] + bfc[layer, j]
            hid[j] = a * (1.0 + math.erf(a * 0.7071067811865476))
        _matvec(hid, w2[layer], u)
        for i in range(C):
            x[i] += u[i]
    _unit(x, h, eps)


if numba is not None:
    _matvec = _njit(_matvec)
    _unit = _njit(_unit)
    STEP = _njit(_step)
else:  # pragma: no cover
    STEP = None


def on_disk() -> bool | None:
    """Whether numba has a compiled step for this source on disk; None where it cannot tell."""
    return jitcache.on_disk(STEP) if STEP is not None else False


def compiled_step(wait: bool = False):
    """The compiled step where it can be had without compiling now, else None (use NumPy).

    Without a cached compile, one background process compiles and caches it, so the next
    run (or a later decoder in this one) gets it; ``wait`` compiles here instead.
    """
    return jitcache.compiled(STEP, __name__, wait)


def warm() -> None:
    """Compile the step (numba caches it on disk) by running it once on a tiny model's arrays."""
    import numpy as np

    f = np.float32
    L, H, D, N, C, V = 1, 1, 2, 4, 2, 3
    z = np.zeros
    STEP(
        0,
        0,
        1,
        np.zeros(L, np.int64),
        1e-5,
        z(D, f),
        z(D, f),
        z((V, C), f),
        z((L, C, 5 * C), f),
        z((L, 5 * C), f),
        z((L, C, C), f),
        z((L, C, 4 * C), f),
        z((L, 4 * C), f),
        z((L, 4 * C, C), f),
        z((L, H, D, N), f),
        z((L, H, N, D), f),
        z(C, f),
        z(C, f),
        z(5 * C, f),
        z(N, f),
        z(4 * C, f),
        z(C, f),
        z(C, f),
    )


if __name__ == "__main__" and STEP is not None:
    warm()

__all__ = ["STEP", "compiled_step", "on_disk", "warm"]
