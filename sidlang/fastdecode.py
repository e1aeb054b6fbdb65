"""A generation-only decode step for :class:`sidlang.model.SidModel` in NumPy.

Sampling feeds one token at a time, and at this model's size (width 128) every PyTorch op
costs more in dispatch (5–30 µs) than in arithmetic; a NumPy op on preallocated float32
buffers costs about 1 µs. :class:`FastDecoder` reads the weights of a model once, folds what
can be folded, and runs the same arithmetic as ``SidModel.features`` with a KV cache:

* each LayerNorm's gain and bias are folded into the matrix that follows it, the attention
  scale ``1/sqrt(D)`` into the query columns and GELU's ``0.5`` into the MLP's output matrix;
* q, k and v come from one matrix product that also yields q and k with each channel pair
  swapped, so rotary positions cost three element-wise ops (``a cos + a_swapped sin``);
* keys and values go into a buffer twice the context long (the sliding window of
  ``sidlang.model._extend``: the oldest entries drop when the window is full, and the buffer
  moves to its front when it runs out).

The result equals the PyTorch forward up to float32 rounding (tested to 1e-4 on the logits).
Training and scoring keep using PyTorch; this module never changes the weights.
"""

from __future__ import annotations

import math

import numpy as np

try:  # GELU's exact erf: scipy's ufunc writes in place; torch's works on a shared buffer.
    from scipy.special import erf as _erf
except ImportError:  # pragma: no cover - scipy is not a dependency of the [model] extra
    _erf = None


class FastDecoder:
    """The weights of one ``SidModel``, rearranged for single-token steps (see the module doc)."""

    def __init__(self, model) -> None:
        import torch

        cfg = model.cfg
        self.cfg = cfg
        C, H = cfg.n_embd, cfg.n_head
        D = C // H
        self.C, self.H, self.D, self.window = C, H, D, cfg.block_size
        sd = {k: v.detach().to("cpu", torch.float32).numpy().astype(np.float64)
              for k, v in model.state_dict().items()}
        # A channel pair (2i, 2i+1) becomes (2i+1, 2i): the rotary partner of every channel.
        swap = np.arange(2 * C).reshape(-1, 2)[:, ::-1].ravel()
        self.layers = []
        for i in range(cfg.n_layer):
            p = f"blocks.{i}."
            w = sd[p + "attn.qkv.weight"].T.copy()  # (C, 3C): x @ w = [q | k | v]
            w[:, :C] /= math.sqrt(D)  # the attention scale, once, in the weights
            qk = w[:, : 2 * C]
            big = np.concatenate([qk, qk[:, swap], w[:, 2 * C :]], axis=1)  # (C, 5C): q k q' k' v
            w1, b1 = self._fold_norm(sd, p + "ln1", big)
            fc, bfc = self._fold_norm(sd, p + "ln2", sd[p + "mlp.0.weight"].T)
            self.layers.append((
                w1, b1,
                _f32(sd[p + "attn.proj.weight"].T),
                fc, bfc,
                _f32(0.5 * sd[p + "mlp.2.weight"].T),  # GELU's 0.5 folded in
            ))
        self.wte = _f32(sd["wte.weight"])  # (V, C)
        # The final norm folded into the (tied) head: logits = head_w @ norm(x) + head_b.
        self.head_w = _f32(sd["wte.weight"] * sd["ln_f.weight"][None, :])
        self.head_b = _f32(sd["wte.weight"] @ sd["ln_f.bias"])
        self.eps = [model.blocks[0].ln1.eps]  # LayerNorm's epsilon (the same everywhere)
        self._rope = np.zeros((0, D), np.float32), np.zeros((0, D), np.float32)
        self._stamp = _stamp(model)

    @staticmethod
    def _fold_norm(sd: dict, name: str, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``norm(x) @ w`` as ``unit(x) @ (g w) + b @ w`` for the LayerNorm ``name`` (gain g, bias b)."""
        g, b = sd[name + ".weight"], sd[name + ".bias"]
        return _f32(g[:, None] * w), _f32(b @ w)

    @classmethod
    def for_model(cls, model) -> FastDecoder:
        """The decoder of ``model``, built once and rebuilt only after its weights change."""
        fast = model.__dict__.get("_fast_decoder")
        if fast is None or fast._stamp != _stamp(model):
            fast = cls(model)
            model.__dict__["_fast_decoder"] = fast  # not a submodule: state_dict is untouched
        return fast

    # -- one token at a time ------------------------------------------------------------------
    def new_cache(self) -> DecodeCache:
        return DecodeCache(self)

    def step(self, cache: DecodeCache, token: int) -> np.ndarray:
        """Feed ``token`` at the cache's next position; the final normed hidden state (C,).

        The returned array is the cache's own buffer, overwritten by the next step.
        """
        C, H, D = self.C, self.H, self.D
        pos = cache.pos
        cos, sin = self._rope_rows(pos)
        x, u, big, qk, tmp, hid, act = cache.x, cache.u, cache.big, cache.qk, cache.tmp, cache.hid, cache.act
        x[:] = self.wte[token]
        s, e = cache.advance()
        for (w1, b1, wo, fc, bfc, w2), k_buf, v_buf in zip(self.layers, cache.k, cache.v):
            self._unit(x, u)
            np.matmul(u, w1, out=big)
            big += b1
            # Rotary: q and k (2H, D) times cos, plus their swapped copies times signed sin.
            np.multiply(big[: 2 * C].reshape(2 * H, D), cos, out=qk)
            np.multiply(big[2 * C : 4 * C].reshape(2 * H, D), sin, out=tmp)
            qk += tmp
            k_buf[:, e - 1] = qk[H:]
            v_buf[:, e - 1] = big[4 * C :].reshape(H, D)
            att = np.matmul(k_buf[:, s:e], qk[:H, :, None])  # (H, S, 1) scores, already scaled
            att -= att.max(axis=1, keepdims=True)
            np.exp(att, out=att)
            att /= att.sum(axis=1, keepdims=True)
            y = np.matmul(att.transpose(0, 2, 1), v_buf[:, s:e])  # (H, 1, D)
            x += np.matmul(y.reshape(C), wo)
            self._unit(x, u)
            np.matmul(u, fc, out=hid)
            hid += bfc
            # Exact GELU: x (1 + erf(x / sqrt 2)), the 0.5 being in w2.
            np.multiply(hid, 1 / math.sqrt(2), out=act)
            _erf_inplace(act, cache)
            act += 1
            act *= hid
            x += np.matmul(act, w2)
        self._unit(x, cache.h)
        return cache.h

    def logits_in(self, h: np.ndarray, rows: tuple[tuple[int, int], ...], out: np.ndarray) -> np.ndarray:
        """The head's logits for ``h`` into ``out`` (V,), on the ``rows`` ranges only."""
        for a, b in rows:
            np.matmul(self.head_w[a:b], h, out=out[a:b])
            out[a:b] += self.head_b[a:b]
        return out

    def _unit(self, x: np.ndarray, out: np.ndarray) -> None:
        """``(x - mean) / sqrt(var + eps)`` into ``out``: LayerNorm without gain and bias."""
        np.subtract(x, np.add.reduce(x) / self.C, out=out)
        out *= 1 / math.sqrt(float(np.dot(out, out)) / self.C + self.eps[0])

    def _rope_rows(self, pos: int) -> tuple[np.ndarray, np.ndarray]:
        """cos and signed sin (D,) of position ``pos``, from the model's own table."""
        if pos >= len(self._rope[0]):
            from sidlang.model import _rope_table

            cos, sin = _rope_table(self.D, pos + 1, "cpu")
            self._rope = cos.numpy().astype(np.float32), sin.numpy().astype(np.float32)
        return self._rope[0][pos], self._rope[1][pos]


class DecodeCache:
    """Keys, values and scratch buffers of one sequence being decoded by a :class:`FastDecoder`."""

    def __init__(self, fast: FastDecoder) -> None:
        C, H, D = fast.C, fast.H, fast.D
        self.window = fast.window
        n = 2 * self.window
        self.k = [np.zeros((H, n, D), np.float32) for _ in fast.layers]  # rotated keys
        self.v = [np.zeros((H, n, D), np.float32) for _ in fast.layers]
        self.pos = 0  # position of the next token (rotary angle), grows without bound
        self.span = (0, 0)  # the entries attended to: buffer[s:e]
        f32 = np.float32
        self.x, self.u, self.h = np.zeros(C, f32), np.zeros(C, f32), np.zeros(C, f32)
        self.big = np.zeros(5 * C, f32)
        self.qk, self.tmp = np.zeros((2 * H, D), f32), np.zeros((2 * H, D), f32)
        self.hid, self.act = np.zeros(4 * C, f32), np.zeros(4 * C, f32)
        self.act_t = None  # a torch view of ``act`` where scipy's erf is missing

    def advance(self) -> tuple[int, int]:
        """Make room for one entry; the span to attend to, which ends with the new entry.

        As in ``sidlang.model._extend``, a new token sees the ``window`` entries kept before
        it and itself; then the oldest drops.
        """
        s, e = self.span
        n = self.k[0].shape[1]
        if e == n:  # full: move the live entries to the front (one copy per window)
            for buf in self.k + self.v:
                buf[:, : e - s] = buf[:, s:e]
            s, e = 0, e - s
        self.span = (max(s, e + 1 - self.window), e + 1)
        self.pos += 1
        return s, e + 1


def _erf_inplace(a: np.ndarray, cache: DecodeCache) -> None:
    if _erf is not None:
        _erf(a, out=a)
        return
    import torch

    if cache.act_t is None:
        cache.act_t = torch.from_numpy(cache.act)
    torch.special.erf(cache.act_t, out=cache.act_t)


def _f32(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def _stamp(model) -> tuple:
    """Identity and in-place version of every parameter: changes whenever training steps."""
    return tuple((p.data_ptr(), p._version) for p in model.parameters())


__all__ = ["DecodeCache", "FastDecoder"]
