"""A generation-only decode step for :class:`sidlang.model.network.SidModel`, outside PyTorch.

Sampling feeds one token at a time, and at this model's size (width 128) every PyTorch op
costs more in dispatch (5–30 µs) than in arithmetic. :class:`FastDecoder` reads the weights
of a model once, folds what can be folded, and runs the arithmetic of ``SidModel.features``
with a KV cache on float32 arrays:

* each LayerNorm's gain and bias are folded into the matrix that follows it, the attention
  scale ``1/sqrt(D)`` into the query columns and GELU's ``0.5`` into the MLP's output matrix;
* q, k and v come from one matrix product that also yields q and k with each channel pair
  swapped, so rotary positions cost one multiply-add per channel (``a cos + a_swapped sin``);
* keys and values go into a buffer twice the context long (the sliding window of
  ``sidlang.model.network._extend``: the oldest entries drop when the window is full, and the buffer
  moves to its front when it runs out).

The step runs as one numba-compiled call (:mod:`sidlang.model.decodekernel`) or, without numba,
as ~30 NumPy calls a layer on the same arrays. Either equals the PyTorch forward up to
float32 rounding (tested to 1e-4 on the logits). Training and scoring keep using PyTorch;
this module never changes the weights.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from sidlang.model.rope import rope_table


class FastDecoder:
    """The weights of one ``SidModel``, rearranged for single-token steps (see the module doc)."""

    def __init__(self, model, jit: bool | None = None) -> None:
        cfg = model.cfg
        self.cfg = cfg
        C, H = cfg.n_embd, cfg.n_head
        D = C // H
        self.C, self.H, self.D, self.window = C, H, D, cfg.block_size
        sd = {
            k: v.detach().to("cpu", torch.float32).numpy().astype(np.float64)
            for k, v in model.state_dict().items()
        }
        # A channel pair (2i, 2i+1) becomes (2i+1, 2i): the rotary partner of every channel.
        swap = np.arange(2 * C).reshape(-1, 2)[:, ::-1].ravel()
        layers = []
        for i in range(cfg.n_layer):
            p = f"blocks.{i}."
            w = sd[p + "attn.qkv.weight"].T.copy()  # (C, 3C): x @ w = [q | k | v]
            w[:, :C] /= math.sqrt(D)  # the attention scale, once, in the weights
            qk = w[:, : 2 * C]
            big = np.concatenate([qk, qk[:, swap], w[:, 2 * C :]], axis=1)  # (C, 5C): q k q' k' v
            w1, b1 = self._fold_norm(sd, p + "ln1", big)
            fc, bfc = self._fold_norm(sd, p + "ln2", sd[p + "mlp.0.weight"].T)
            layers.append((w1, b1, sd[p + "attn.proj.weight"].T, fc, bfc, 0.5 * sd[p + "mlp.2.weight"].T))
        # Stacked by layer (L, …), float32: the layout the compiled step reads.
        self.w1, self.b1, self.wo, self.fc, self.bfc, self.w2 = (_f32(np.stack(a)) for a in zip(*layers))
        self.n_layer = cfg.n_layer
        #: tokens before a token each layer attends to (local layers see fewer than the cache holds)
        self.wins = np.array([cfg.window(i) for i in range(cfg.n_layer)], np.int64)
        # The compiled step (None: the NumPy step); ``jit=False`` asks for NumPy, ``True`` for
        # the compiled one even if it must compile now; by default it is used once cached.
        self.jit = None if jit is False else _kernel(wait=bool(jit))
        self.wte = _f32(sd["wte.weight"])  # (V, C)
        # The final norm folded into the (tied) head: logits = head_w @ norm(x) + head_b.
        self.head_w = _f32(sd["wte.weight"] * sd["ln_f.weight"][None, :])
        self.head_b = _f32(sd["wte.weight"] @ sd["ln_f.bias"])
        self.eps = float(model.blocks[0].ln1.eps)  # LayerNorm's epsilon (the same everywhere)
        self._rope = np.zeros((0, D), np.float32), np.zeros((0, D), np.float32)
        self._stamp = _stamp(model)

    @staticmethod
    def _fold_norm(sd: dict, name: str, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``norm(x) @ w`` as ``unit(x) @ (g w) + b @ w`` for the LayerNorm ``name`` (gain g, bias b)."""
        g, b = sd[name + ".weight"], sd[name + ".bias"]
        return g[:, None] * w, b @ w

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
        cos, sin = self._rope_rows(cache.pos)
        s, e = cache.advance()
        if self.jit is None:
            return self._step_numpy(cache, token, s, e, cos, sin)
        c = cache
        self.jit(
            token,
            s,
            e,
            self.wins,
            self.eps,
            cos,
            sin,
            self.wte,
            self.w1,
            self.b1,
            self.wo,
            self.fc,
            self.bfc,
            self.w2,
            c.k,
            c.v,
            c.x,
            c.u,
            c.big,
            c.att,
            c.hid,
            c.y,
            c.h,
        )
        return c.h

    def prefill(self, cache: DecodeCache, model, tokens: list[int]) -> np.ndarray:
        """Feed a prompt of up to ``window`` tokens at once, through ``model``'s PyTorch forward
        (one pass over the prompt is far cheaper than a step per token), into an empty cache;
        the last token's final normed hidden state (C,)."""
        n = len(tokens)
        if cache.pos or not 0 < n <= self.window:
            raise ValueError(f"prefill takes 1-{self.window} tokens into an empty cache, got {n}")
        caches = [{"window": self.window} for _ in range(self.n_layer)]  # keep every entry
        with torch.inference_mode():
            idx = torch.tensor([tokens], dtype=torch.long)
            x = model.features(idx, caches=caches, start=0, final_norm=False)[0, -1]
        for i, c in enumerate(caches):
            s, e = c["span"]
            kv = c["kv"][:, 0, :, s:e].float().numpy()  # (2, H, n, D)
            cache.k[i, :, :, :n] = kv[0].transpose(0, 2, 1)
            cache.v[i, :, :n] = kv[1]
        cache.span, cache.pos = (0, n), n
        self._unit(x.float().numpy(), cache.h)  # the final norm's gain and bias are in the head
        return cache.h

    def _step_numpy(
        self, c: DecodeCache, token: int, s: int, e: int, cos: np.ndarray, sin: np.ndarray
    ) -> np.ndarray:
        """The step as NumPy calls on the same arrays (where numba is missing)."""
        C, H, D = self.C, self.H, self.D
        x, u, big, qk, tmp, hid, act = c.x, c.u, c.big, c.qk, c.tmp, c.hid, c.act
        x[:] = self.wte[token]
        s0 = s
        for i in range(self.n_layer):
            s = max(s0, e - 1 - int(self.wins[i]))
            k_buf, v_buf = c.k[i], c.v[i]  # (H, D, N) and (H, N, D)
            self._unit(x, u)
            np.matmul(u, self.w1[i], out=big)
            big += self.b1[i]
            # Rotary: q and k (2H, D) times cos, plus their swapped copies times signed sin.
            np.multiply(big[: 2 * C].reshape(2 * H, D), cos, out=qk)
            np.multiply(big[2 * C : 4 * C].reshape(2 * H, D), sin, out=tmp)
            qk += tmp
            k_buf[:, :, e - 1] = qk[H:]
            v_buf[:, e - 1] = big[4 * C :].reshape(H, D)
            att = np.matmul(qk[:H, None, :], k_buf[:, :, s:e])  # (H, 1, S) scores, already scaled
            att -= att.max(axis=2, keepdims=True)
            np.exp(att, out=att)
            att /= att.sum(axis=2, keepdims=True)
            y = np.matmul(att, v_buf[:, s:e])  # (H, 1, D)
            x += np.matmul(y.reshape(C), self.wo[i])
            self._unit(x, u)
            np.matmul(u, self.fc[i], out=hid)
            hid += self.bfc[i]
            # Exact GELU: x (1 + erf(x / sqrt 2)), the 0.5 being in w2.
            np.multiply(hid, 1 / math.sqrt(2), out=act)
            torch.special.erf(c.act_t, out=c.act_t)  # in place on ``act``: NumPy has no erf
            act += 1
            act *= hid
            x += np.matmul(act, self.w2[i])
        self._unit(x, c.h)
        return c.h

    def logits_in(self, h: np.ndarray, rows: tuple[tuple[int, int], ...], out: np.ndarray) -> np.ndarray:
        """The head's logits for ``h`` into ``out`` (V,), on the ``rows`` ranges only."""
        for a, b in rows:
            np.matmul(self.head_w[a:b], h, out=out[a:b])
            out[a:b] += self.head_b[a:b]
        return out

    def _unit(self, x: np.ndarray, out: np.ndarray) -> None:
        """``(x - mean) / sqrt(var + eps)`` into ``out``: LayerNorm without gain and bias."""
        np.subtract(x, np.add.reduce(x) / self.C, out=out)
        out *= 1 / math.sqrt(float(np.dot(out, out)) / self.C + self.eps)

    def _rope_rows(self, pos: int) -> tuple[np.ndarray, np.ndarray]:
        """cos and signed sin (D,) of position ``pos``, from the model's own table."""
        if pos >= len(self._rope[0]):
            cos, sin = rope_table(self.D, pos + 1, "cpu")
            self._rope = cos.numpy().astype(np.float32), sin.numpy().astype(np.float32)
        return self._rope[0][pos], self._rope[1][pos]


class DecodeCache:
    """Keys, values and scratch buffers of one sequence being decoded by a :class:`FastDecoder`."""

    def __init__(self, fast: FastDecoder) -> None:
        C, H, D = fast.C, fast.H, fast.D
        self.window = fast.window
        n = 2 * self.window
        L = fast.n_layer
        self.k = np.zeros((L, H, D, n), np.float32)  # rotated keys, transposed: time is the last axis
        self.v = np.zeros((L, H, n, D), np.float32)
        self.pos = 0  # position of the next token (rotary angle), grows without bound
        self.span = (0, 0)  # the entries attended to: buffer[s:e]
        f32 = np.float32
        self.x, self.u, self.h, self.y = (np.zeros(C, f32) for _ in range(4))
        self.big = np.zeros(5 * C, f32)
        self.qk, self.tmp = np.zeros((2 * H, D), f32), np.zeros((2 * H, D), f32)
        self.hid, self.act = np.zeros(4 * C, f32), np.zeros(4 * C, f32)
        self.att = np.zeros(n, f32)
        self.act_t = torch.from_numpy(self.act)  # the same memory, for torch's erf

    def advance(self) -> tuple[int, int]:
        """Make room for one entry; the span to attend to, which ends with the new entry.

        As in ``sidlang.model.network._extend``, a new token sees the ``window`` entries kept before
        it and itself; then the oldest drops.
        """
        s, e = self.span
        n = self.v.shape[2]
        if e == n:  # full: move the live entries to the front (one copy per window)
            self.k[..., : e - s] = self.k[..., s:e]
            self.v[:, :, : e - s] = self.v[:, :, s:e]
            s, e = 0, e - s
        self.span = (max(s, e + 1 - self.window), e + 1)
        self.pos += 1
        return s, e + 1


def _kernel(wait: bool = True):
    from sidlang.model.decodekernel import compiled_step

    return compiled_step(wait)


def _f32(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def _stamp(model) -> tuple:
    """Identity and in-place version of every parameter: changes whenever training steps."""
    try:
        return tuple((p.data_ptr(), p._version) for p in model.parameters())
    except RuntimeError:  # inference tensors (made under inference_mode) have no version
        return tuple((p.data_ptr(), None) for p in model.parameters())


__all__ = ["DecodeCache", "FastDecoder"]
