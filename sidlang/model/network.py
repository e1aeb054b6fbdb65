"""The bundled model: a small decoder-only transformer over sidlang tokens, and sampling.

Read top to bottom: :class:`ModelConfig` (stored inside the weights file, so the model
rebuilds from the file alone), the transformer (:class:`Attention` with rotary positions and
a KV cache, :class:`Block`, :class:`SidModel`), saving and loading with ``safetensors`` (no
pickle), then generation: :func:`generate` samples under the tokenizer's grammar mask, so
every sample decodes to a valid Tune, and :func:`continue_tune` is the public entry point
(``sidlang continue``, the REPL's ``continue N``). Sampling steps through
:mod:`sidlang.model.fastdecode` (the same arithmetic outside PyTorch, several times faster one token
at a time); training and scoring use the forward here.

Rotary positions make attention depend only on distances, so generation past the context
length just drops the oldest cache entries (a sliding window) instead of recomputing.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from sidlang.errors import SidlangError
from sidlang.frames import N_WRITABLE as N_REGS_STATE
from sidlang.model.cache import WEIGHT as CACHE_WEIGHT
from sidlang.model.cache import for_prompt, mix
from sidlang.model.rope import rope_table, rotate
from sidlang.model.tokenizer import (
    AGAIN,
    BOS,
    COPY_BACK,
    EOS,
    FRAME,
    GROUPS,
    Tokenizer,
    TokenizerConfig,
    TokenState,
)
from sidlang.registers import VOICE_STRIDE, VOICES
from sidlang.tune import Tune

BUNDLED = Path(__file__).resolve().parent / "weights" / "sidlang-small.safetensors"


@dataclass
class ModelConfig:
    vocab_size: int = Tokenizer().vocab_size
    block_size: int = 256  #: context length in tokens
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    #: Layers but the last ``n_global`` attend to the ``local_window`` tokens before each token
    #: only (0: every layer sees the whole context). Attention over a long context is most of
    #: a token's cost; one layer that sees 2,048 tokens and three that see 256 cost a third.
    local_window: int = 0
    n_global: int = 1

    def window(self, layer: int) -> int:
        """How many tokens before a token layer ``layer`` attends to."""
        local = self.local_window and layer < self.n_layer - self.n_global
        return min(self.local_window, self.block_size) if local else self.block_size

    @classmethod
    def tiny(cls) -> ModelConfig:
        """A model that trains for a few steps in seconds: for tests and smoke runs."""
        return cls(block_size=64, n_layer=2, n_head=2, n_embd=32)


def _extend(cache: dict, k: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Append keys and values (B, H, T, D) to ``cache``; return every entry to attend to.

    The cache keeps the last ``cache["window"]`` entries (a sliding window: rotary keys stay
    valid when the oldest go) in a buffer twice that long, moved to its front when full, so a
    step copies one new entry instead of the whole cache.
    """
    B, H, T, D = k.shape
    kv, (s, e) = cache.get("kv"), cache.get("span", (0, 0))
    if kv is None or e + T > kv.size(3):
        grown = k.new_empty(2, B, H, max(2 * cache["window"], e - s + T), D)  # (2, B, H, N, D)
        if kv is not None:
            grown[:, :, :, : e - s] = kv[:, :, :, s:e]
        kv, s, e = grown, 0, e - s
        cache["kv"] = kv
    kv[0, :, :, e : e + T] = k
    kv[1, :, :, e : e + T] = v
    cache["span"] = (max(s, e + T - cache["window"]), e + T)
    return kv[0, :, :, s : e + T], kv[1, :, :, s : e + T]


def _banded(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, w: int) -> torch.Tensor:
    """Causal attention of (B, H, T, D) where position p sees keys p-w … p, in blocks of w.

    Each block of w queries attends to its own block and the one before (2w keys) under a
    fixed mask, so the cost grows as T·w, not T².
    """
    B, H, T, D = q.shape
    nb = -(-T // w)
    pad = nb * w - T
    if pad:
        q, k, v = (F.pad(a, (0, 0, 0, pad)) for a in (q, k, v))
    qb = q.view(B, H, nb, w, D)
    kb, vb = k.view(B, H, nb, w, D), v.view(B, H, nb, w, D)
    kk = torch.cat([F.pad(kb, (0, 0, 0, 0, 1, 0))[:, :, :-1], kb], dim=3)  # (B, H, nb, 2w, D)
    vv = torch.cat([F.pad(vb, (0, 0, 0, 0, 1, 0))[:, :, :-1], vb], dim=3)
    j = torch.arange(w, device=q.device)
    mask = torch.cat([j[None, :] >= j[:, None], j[None, :] <= j[:, None]], dim=1)  # (w, 2w)
    mask = mask.expand(nb, w, 2 * w).clone()
    mask[0, :, :w] = False  # the first block has no block before it
    y = F.scaled_dot_product_attention(qb, kk, vv, attn_mask=mask)  # (B, H, nb, w, D)
    return y.reshape(B, H, nb * w, D)[:, :, :T]


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig, window: int = 0) -> None:
        super().__init__()
        self.window = window if window < cfg.block_size else 0  #: 0: the whole context
        self.n_head = cfg.n_head
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=False)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)
        self.dropout = cfg.dropout

    def forward(self, x: torch.Tensor, rope: tuple, cache: dict | None = None) -> torch.Tensor:
        B, T, C = x.shape
        H = self.n_head
        qkv = self.qkv(x).view(B, T, 3, H, C // H)
        qk = rotate(qkv[:, :, :2], *rope)  # q and k rotated together: (B, T, 2, H, D)
        q, k, v = qk[:, :, 0].transpose(1, 2), qk[:, :, 1].transpose(1, 2), qkv[:, :, 2].transpose(1, 2)
        causal, mask, fresh = True, None, cache is None or "kv" not in cache
        if cache is not None:
            causal = T > 1 or fresh  # one new token sees the whole cache
            k, v = _extend(cache, k, v)  # (B, H, S, D): the cache and the new entries
            if self.window and T > 1 and not fresh:  # more tokens after a cache: the band, by mask
                S = k.size(2)
                qi = torch.arange(S - T, S, device=x.device)[:, None]
                ki = torch.arange(S, device=x.device)[None, :]
                mask, causal = (ki <= qi) & (qi - ki <= self.window), False
        if self.window and fresh and T > self.window:
            y = _banded(q, k, v, self.window)
        else:
            y = F.scaled_dot_product_attention(
                q, k, v, attn_mask=mask, is_causal=causal, dropout_p=self.dropout if self.training else 0.0
            )  # (B, H, T, D)
        return self.proj(y.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig, window: int = 0) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.n_embd)
        self.attn = Attention(cfg, window)
        self.ln2 = nn.LayerNorm(cfg.n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=False),
            nn.GELU(),
            nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=False),
            nn.Dropout(cfg.dropout),
        )

    def forward(self, x: torch.Tensor, rope: tuple, cache: dict | None = None) -> torch.Tensor:
        x = x + self.attn(self.ln1(x), rope, cache)
        if self.training:
            return x + self.mlp(self.ln2(x))
        fc, act, proj, _ = self.mlp  # the same layers without the Sequential and Dropout calls,
        return x + proj(act(fc(self.ln2(x))))  # a tenth of a block's time for one token


class SidModel(nn.Module):
    """Token embedding, ``n_layer`` pre-norm blocks, a tied output head."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg, cfg.window(i)) for i in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.head.weight = self.wte.weight  # weight tying: one table for reading and writing
        self.apply(self._init)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight") or name.endswith("mlp.2.weight"):
                # Scaled residual init (GPT-2), so deeper stacks start near the identity.
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear | nn.Embedding):
            nn.init.normal_(m.weight, 0.0, 0.02)

    def n_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        *,
        caches: list[dict] | None = None,
        start: int = 0,
    ):
        """Logits (B, T, V) for tokens ``idx`` (B, T); with ``targets`` also the mean loss.

        ``targets`` equal to -1 (padding) are ignored. With ``caches`` (one dict per block)
        the call continues a sequence whose first token sits at position ``start``.
        """
        logits = self.head(self.features(idx, caches=caches, start=start))  # (B, T, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)).float(), targets.view(-1), ignore_index=-1)
        return logits, loss

    def features(
        self, idx: torch.Tensor, *, caches: list[dict] | None = None, start: int = 0, final_norm: bool = True
    ) -> torch.Tensor:
        """The final normed hidden states (B, T, C) that the head turns into logits (before the
        final LayerNorm with ``final_norm`` False)."""
        B, T = idx.shape
        x = self.drop(self.wte(idx))  # (B, T, C)
        cos, sin = rope_table(self.cfg.n_embd // self.cfg.n_head, start + T, idx.device)
        # (T, 1, 1, D): broadcast over batch, q/k and heads
        rope = (
            cos[start : start + T, None, None].to(x.dtype),
            sin[start : start + T, None, None].to(x.dtype),
        )
        for i, block in enumerate(self.blocks):
            x = block(x, rope, None if caches is None else caches[i])
        return self.ln_f(x) if final_norm else x

    def logits_in(self, h: torch.Tensor, rows: tuple[tuple[int, int], ...]) -> torch.Tensor:
        """Logits (V,) of one hidden state ``h`` (C,) for the token ``rows`` ranges only, -inf elsewhere.

        Equal bit for bit to those rows of ``head(h)`` when the ranges start and end on
        multiples of 8 (or at the vocabulary's end): the matrix kernel handles rows in blocks.
        """
        out = h.new_full((self.cfg.vocab_size,), float("-inf"))
        for a, b in rows:
            out[a:b] = F.linear(h, self.head.weight[a:b])
        return out

    def new_caches(self) -> list[dict]:
        return [{"window": self.cfg.window(i)} for i in range(len(self.blocks))]


# -- weights on disk ------------------------------------------------------------------------
def save_model(model: SidModel, path: str | Path, tokenizer: Tokenizer, info: dict | None = None) -> None:
    """Weights as safetensors; the model and tokenizer configs and ``info`` go in its metadata."""
    from safetensors.torch import save

    from sidlang.io import write_atomic

    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items() if k != "head.weight"}
    meta = {
        "model_config": json.dumps(asdict(model.cfg)),
        "tokenizer_config": tokenizer.config.to_json(),
        "info": json.dumps(info or {}),
        "torch": torch.__version__,
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    # Whole or not at all, through a temporary file of its own name (two runs saving beside
    # each other no longer share one fixed ".tmp"); the mode is the user's umask's.
    write_atomic(path, save(state, metadata=meta), force=True)


def load_model(path: str | Path | None = None) -> tuple[SidModel, Tokenizer, dict]:
    """``(model, tokenizer, info)`` from a weights file; the bundled one when ``path`` is None."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    path = Path(path) if path else BUNDLED
    if not path.is_file():
        raise SidlangError("no such weights file", file=str(path))
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        state = {k: v for k, v in load_file(str(path)).items() if not k.startswith("optim.")}
        known = {f.name for f in fields(ModelConfig)}
        cfg = ModelConfig(**{k: v for k, v in json.loads(meta["model_config"]).items() if k in known})
        tok = Tokenizer(TokenizerConfig.from_json(meta["tokenizer_config"]))
    except (KeyError, ValueError, OSError) as e:
        raise SidlangError(f"not a sidlang weights file ({e})", file=str(path)) from None
    model = SidModel(cfg)
    state["head.weight"] = state["wte.weight"]
    model.load_state_dict(state)
    model.eval()
    return model, tok, json.loads(meta.get("info", "{}"))


@lru_cache(maxsize=1)
def bundled() -> tuple[SidModel, Tokenizer, dict]:
    """The bundled model, loaded once per process (the REPL continues many times)."""
    return load_model()


# -- sampling ---------------------------------------------------------------------------------
@dataclass
class Sampling:
    """How to pick each token: ``temperature`` 0 is greedy; ``top_k``/``top_p`` 0 are off."""

    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 0.0
    seed: int | None = None
    max_writes_per_frame: int = 64  #: keeps a runaway sample from filling one frame
    #: Weight of the tune's own memory (:mod:`sidlang.model.cache`): what followed the same
    #: tokens in the prompt, mixed into each token's distribution. 0 is the network alone.
    cache: float = 0.0

    def pick(self, logits: np.ndarray, gen: np.random.Generator, mixer=None) -> int:
        """Draw from ``logits`` (float32, of the tokens the grammar allows); the index drawn.

        ``mixer`` (probabilities → probabilities) mixes in the cache after the temperature
        and top-k, before top-p. NumPy throughout: a few µs where torch's softmax and
        multinomial cost ~100 µs a token.
        """
        if self.temperature <= 0 and mixer is None:
            return int(logits.argmax())
        z = logits / np.float32(max(self.temperature, 1e-3))
        if self.top_k and self.top_k < len(z):
            z = np.where(z < np.partition(z, -self.top_k)[-self.top_k], np.float32(-np.inf), z)
        probs = np.exp(z - z.max())
        probs /= probs.sum()
        if mixer is not None:
            probs = mixer(probs)
            if self.temperature <= 0:
                return int(probs.argmax())
        if 0 < self.top_p < 1:
            order = np.argsort(-probs, kind="stable")
            sp = probs[order]
            keep = np.cumsum(sp) - sp < self.top_p  # always keeps the most likely token
            probs = np.zeros_like(probs)
            probs[order[keep]] = sp[keep]
        cdf = np.cumsum(probs, dtype=np.float64)
        return int(min(np.searchsorted(cdf, gen.random() * cdf[-1], side="right"), len(cdf) - 1))


def generate(
    model: SidModel,
    tok: Tokenizer,
    st: TokenState,
    context: list[int],
    frames: int,
    sampling: Sampling | None = None,
    forced: list[list[tuple[int, int, int]]] | None = None,
    *,
    fast: bool | None = None,
) -> int:
    """Sample ``frames`` new frames into ``st`` after the tokens ``context`` already fed to it.

    ``forced[i]`` are ``(chip, reg, val)`` writes that frame ``i`` of the new ones must hold
    (kept voices); they are fed when the model closes that frame (after the groups it wrote),
    and their groups are in ``st.blocked_groups`` so the model cannot add to them. Returns the number of tokens sampled.

    ``fast`` (default: when the model is on the CPU) steps with :mod:`sidlang.model.fastdecode`'s
    NumPy decoder, several times faster than PyTorch at one token a step; ``False`` steps
    with the model's own forward (the reference the fast decoder is tested against).
    """
    sampling = sampling or Sampling()
    gen = np.random.default_rng(sampling.seed)
    st.max_writes = sampling.max_writes_per_frame
    st.allow_eos = False
    model.eval()
    if fast is None:
        fast = all(p.device.type == "cpu" for p in model.parameters())
    threads = torch.get_num_threads()
    # One token at a time is a string of tiny matrix products: a second thread only adds
    # synchronisation (10 ms vs 135 ms per token measured on a busy 2-core machine).
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            steps = _FastSteps(model) if fast else _TorchSteps(model)
            return _sample_loop(steps, model.cfg, st, context, frames, sampling, forced, gen)
    finally:
        torch.set_num_threads(threads)


class _TorchSteps:
    """Feed tokens to the model's own forward with a KV cache; logits of the last as NumPy."""

    def __init__(self, model: SidModel) -> None:
        self.model, self.caches, self.pos = model, model.new_caches(), 0
        self.device = model.wte.weight.device

    def feed(self, tokens: list[int]) -> torch.Tensor:
        idx = torch.tensor([tokens], device=self.device)
        h = self.model.features(idx, caches=self.caches, start=self.pos)[0, -1]  # (C,)
        self.pos += len(tokens)
        return h

    def logits(self, h: torch.Tensor, rows: tuple[tuple[int, int], ...]) -> np.ndarray:
        return self.model.logits_in(h, rows).float().cpu().numpy()


class _FastSteps:
    """The same through :class:`sidlang.model.fastdecode.FastDecoder`, one token a step."""

    def __init__(self, model: SidModel) -> None:
        from sidlang.model.fastdecode import FastDecoder

        self.model = model
        self.dec = FastDecoder.for_model(model)
        self.cache = self.dec.new_cache()
        self.out = np.full(model.cfg.vocab_size, -np.inf, np.float32)

    def feed(self, tokens: list[int]) -> np.ndarray:
        if len(tokens) > 1 and not self.cache.pos:  # a prompt: one PyTorch pass fills the cache
            return self.dec.prefill(self.cache, self.model, tokens)
        for t in tokens:
            h = self.dec.step(self.cache, t)
        return h

    def logits(self, h: np.ndarray, rows: tuple[tuple[int, int], ...]) -> np.ndarray:
        return self.dec.logits_in(h, rows, self.out)


def _sample_loop(
    steps,
    cfg: ModelConfig,
    st: TokenState,
    context: list[int],
    frames: int,
    sampling: Sampling,
    forced: list | None,
    gen: np.random.Generator,
) -> int:
    # The allowed tokens and the head rows that cover them, by the state's mask key (and
    # whether this is the first token, which must open a frame): a few dozen distinct sets.
    masks: dict[tuple, tuple[np.ndarray, tuple[tuple[int, int], ...]]] = {}
    starters = np.zeros(cfg.vocab_size, dtype=bool)
    starters[[FRAME, AGAIN]] = True
    h = steps.feed(context[-cfg.block_size :])
    kept = frozenset(c * len(GROUPS) + g for c, g in st.blocked_groups)  # voices fed from the tune
    cache = for_prompt(context, st.v, kept) if sampling.cache > 0 else None
    sampled = made = 0
    while True:
        key = (st.mask_key(), sampled == 0)
        if key not in masks:
            allowed = st.allowed() & starters if sampled == 0 else st.allowed()
            masks[key] = np.flatnonzero(allowed), _head_rows(allowed)
        ids, rows = masks[key]
        mixer = None if cache is None else (lambda p, ids=ids: mix(p, ids, cache, sampling.cache))
        t = int(ids[sampling.pick(steps.logits(h, rows)[ids], gen, mixer)])
        sampled += 1
        feed = []
        if t in (FRAME, AGAIN, EOS):
            # The kept voices close the frame the model has written: fed first, they made the
            # model close almost every frame at once (in the tunes it learned from, a frame
            # seldom opens with voice 1): voices 2 and 3 had 5-7 onsets in 500 frames of
            # congabeat against 33-34 in the prompt; fed last, 44-75.
            if forced and made:
                feed = st.forced_tokens(forced[made - 1])
                for u in feed:
                    st.feed(u, check=False)
            if made == frames:
                for u in feed:
                    h = steps.feed([u])
                break
            made += 1
        feed.append(t)
        st.feed(t, check=False)
        for u in feed:  # one at a time, as the torch path has always fed them
            h = steps.feed([u])
            if cache is not None:
                cache.update(u)
    return sampled


def _head_rows(allowed: np.ndarray, most: int = 6) -> tuple[tuple[int, int], ...]:
    """Row ranges of the output head that cover the ``allowed`` tokens, on multiples of 8.

    The grammar allows runs of tokens (the markers, a group's SET and DIFF ops), so a few
    ranges skip most of the head; more than ``most`` ranges fall back to the whole head.
    """
    v = len(allowed)
    edges = np.flatnonzero(np.diff(np.r_[0, allowed.astype(np.int8), 0]))  # run starts and ends
    rows: list[tuple[int, int]] = []
    for a, b in zip(edges[0::2] // 8 * 8, np.minimum(-(-edges[1::2] // 8) * 8, v)):
        if rows and a <= rows[-1][1]:
            rows[-1] = (rows[-1][0], max(rows[-1][1], int(b)))
        else:
            rows.append((int(a), int(b)))
    return tuple(rows) if len(rows) <= most else ((0, v),)


def prompt_tokens(tok: Tokenizer, tune: Tune, start: int, block: int) -> tuple[TokenState, list[int]]:
    """The state after frames ``0 … start-1`` of ``tune`` and the tokens a ``block``-token model
    sees of them: ``BOS`` and the encoding of the last frames, whose tail equals the tail of
    the whole tune's encoding."""
    st = tok.state(tune.header.chips)
    st.feed(BOS)
    # The model sees at most block tokens, and a frame is at least one token, so frames
    # further back cannot matter: encode from there, the register state carried in. (Plus the
    # reach of COPY: a frame's tokens depend on the frames before it, so the first frames of a
    # cut come out differently; they settle before the window.)
    first = max(0, start - block - COPY_BACK[-1])
    if first:
        for chip in range(tune.header.chips):
            st.regs[chip, :N_REGS_STATE] = tune.frames.state(chip)[first - 1]
            st.known[chip, :N_REGS_STATE] = True
        st.frame = first - 1
    return st, [BOS, *tok.encode_frames(st, tune, first, start)]


def continue_tune(
    tune: Tune,
    frames: int,
    *,
    start: int | None = None,
    temperature: float = 1.0,
    top_k: int = 0,
    top_p: float = 0.0,
    seed: int | None = None,
    keep_voices: tuple[int, ...] = (),
    model: tuple | None = None,
    cache: float | None = None,
) -> Tune:
    """``tune`` up to frame ``start`` (default: its end), then ``frames`` frames from the model.

    ``keep_voices`` (1–3) are copied from ``tune`` for the new frames (a melody to arrange
    around); the model writes the other voices and the filter. ``cache`` is the weight of
    the tune's own memory (:mod:`sidlang.model.cache`) in each token's draw, 0 the network
    alone (default :data:`sidlang.model.cache.WEIGHT`). ``model`` is a
    ``load_model()`` result; the bundled weights are used when it is None.
    """
    from sidlang.model.tokenizer import writes_to_tune

    if frames < 1:
        raise SidlangError(f"frames must be at least 1, got {frames}")
    if any(v not in (1, 2, 3) for v in keep_voices):
        raise SidlangError(f"voices to keep are 1, 2 or 3, got {list(keep_voices)}")
    cache = CACHE_WEIGHT if cache is None else cache
    if not 0 <= cache <= 1:  # also refuses nan
        raise SidlangError(f"cache weight must be 0–1, got {cache}")
    net, tok, _ = model or bundled()
    n = len(tune.frames)
    start = n if start is None else start
    if not 0 <= start <= n:
        raise SidlangError(f"start frame must be 0–{n}, got {start}")
    h = tune.header
    st, context = prompt_tokens(tok, tune, start, net.cfg.block_size)
    forced = None
    if keep_voices:
        groups = {v - 1 for v in keep_voices}
        st.blocked_groups = frozenset((c, g) for c in range(h.chips) for g in groups)
        st.allow_again = False
        w, fr = tune.writes, tune.frames
        forced = []
        for i in range(start, start + frames):
            a, b = (int(fr.bounds[i]), int(fr.bounds[i + 1])) if i < n else (0, 0)
            forced.append(
                [
                    (int(c), int(r), int(x))
                    for c, r, x in zip(w["chip"][a:b], w["reg"][a:b], w["val"][a:b])
                    if r < VOICES * VOICE_STRIDE and r // VOICE_STRIDE in groups
                ]
            )
    first = len(st.writes)
    generate(net, tok, st, context, frames, Sampling(temperature, top_k, top_p, seed, cache=cache), forced)
    new = writes_to_tune(st.writes[first:], frames, h)
    cut = h.start_cycle + start * h.frame_cycles
    old = tune.writes[tune.writes["cycle"] < cut]
    writes = np.concatenate([old, new.writes])
    irq = tune.irq[tune.irq < cut]
    if h.timing == "irq":  # every new frame gets the interrupt the header promises
        irq = np.concatenate([irq, cut + h.frame_cycles * np.arange(frames, dtype=np.int64)])
    header = h.replace(frames=start + frames)
    return Tune(header, writes, irq=irq, nmi=tune.nmi[tune.nmi < cut], meta=dict(tune.meta))


__all__ = [
    "BUNDLED",
    "bundled",
    "ModelConfig",
    "SidModel",
    "Sampling",
    "continue_tune",
    "generate",
    "load_model",
    "save_model",
]
