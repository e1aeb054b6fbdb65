"""The decode step of :mod:`sidlang.fastdecode` compiled with numba: one call per token.

NumPy's ~30 calls per layer cost more in dispatch than in arithmetic at width 128; compiled,
the step is plain loops over the same float32 arrays (the same folded weights, the same
cache) and runs 2–3x faster again. ``STEP`` is None where numba is missing or
``SIDLANG_NO_JIT`` is set, and the NumPy step is used instead.

The first compile takes a few seconds and is cached on disk by numba (``cache=True``), so
it is paid once per installation, not per process. ``fastmath`` allows reassociation and
fused multiply-adds (vectorized sums), not the no-NaN/no-inf assumptions.
"""

from __future__ import annotations

import math
import os

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


def _step(token, s0, e, wins, eps, cos, sin, wte, w1, b1, wo, fc, bfc, w2, k, v,
          x, u, big, att, hid, y, h):  # pragma: no cover - compiled
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

__all__ = ["STEP"]
