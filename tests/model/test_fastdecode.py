"""The NumPy decode step: the same logits as the PyTorch forward (to float32 rounding), past the
context length too, and the same sampled tokens as generation through PyTorch."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

import sidlang.model.fastdecode as fastdecode  # noqa: E402
from sidlang.model.fastdecode import FastDecoder  # noqa: E402
from sidlang.model.network import ModelConfig, Sampling, SidModel, continue_tune, load_model  # noqa: E402
from sidlang.model.tokenizer import Tokenizer  # noqa: E402
from sidlang.testing import player_log  # noqa: E402

TOK = Tokenizer()
ALL = ((0, TOK.vocab_size),)


def random_model(seed: int, **cfg) -> SidModel:
    """A model with every weight random, LayerNorm gains and biases included (folding them must matter)."""
    torch.manual_seed(seed)
    m = SidModel(ModelConfig(**{**vars(ModelConfig.tiny()), **cfg})).eval()
    with torch.no_grad():
        for name, p in m.named_parameters():
            if "ln" in name:
                p.copy_((1.0 if name.endswith("weight") else 0.0) + 0.3 * torch.randn_like(p))
    return m


def fast_logits(m: SidModel, tokens: list[int], jit: bool | None = None) -> np.ndarray:
    dec = FastDecoder.for_model(m) if jit is None else FastDecoder(m, jit=jit)
    cache = dec.new_cache()
    out = np.full(m.cfg.vocab_size, -np.inf, np.float32)
    return np.stack([dec.logits_in(dec.step(cache, t), ALL, out).copy() for t in tokens])


JIT = [
    False,
    pytest.param(
        True,
        marks=pytest.mark.skipif(fastdecode._kernel() is None, reason="numba missing or SIDLANG_NO_JIT set"),
    ),
]


@pytest.mark.parametrize("jit", JIT)
@pytest.mark.parametrize("seed", [0, 1])
def test_logits_equal_the_plain_forward(seed, jit):
    m = random_model(seed)
    x = torch.randint(0, TOK.vocab_size, (1, m.cfg.block_size))
    with torch.inference_mode():
        full = m(x)[0][0].numpy()  # (T, V): one causal forward, no cache
    fast = fast_logits(m, x[0].tolist(), jit)
    assert np.abs(fast - full).max() < 1e-4
    assert (fast.argmax(1) == full.argmax(1)).all()


@pytest.mark.parametrize("jit", JIT)
def test_logits_past_the_context_equal_the_sliding_cache(jit):
    """Past block_size (64 here) the buffer fills and moves twice; each step still matches the
    PyTorch KV cache, which keeps the last block_size entries."""
    m = random_model(2)
    n, w = 200, m.cfg.block_size
    x = torch.randint(0, TOK.vocab_size, (1, n))
    caches = m.new_caches()
    with torch.inference_mode():
        ref = [m(x[:, :w], caches=caches)[0][0]]
        ref += [m(x[:, i : i + 1], caches=caches, start=i)[0][0] for i in range(w, n)]
    ref = torch.cat(ref).numpy()
    fast = fast_logits(m, x[0].tolist(), jit)
    assert np.abs(fast - ref).max() < 1e-4
    # And the window really slides: a plain forward over all 200 tokens differs at the end.
    with torch.inference_mode():
        assert np.abs(m(x)[0][0, -1].numpy() - fast[-1]).max() > 1e-3


def test_bundled_model_logits():
    m, tok, _ = load_model()
    x = torch.tensor([TOK.encode(player_log(40, seed=3))[:200]])
    with torch.inference_mode():
        full = m(x)[0][0].numpy()
    assert np.abs(fast_logits(m, x[0].tolist()) - full).max() < 1e-4  # the default decoder
    assert np.abs(fast_logits(m, x[0].tolist(), jit=False) - full).max() < 1e-4


def test_decoder_follows_changed_weights():
    m = random_model(3)
    x = [5, 9, 200, 3]
    before = fast_logits(m, x)
    with torch.no_grad():
        m.blocks[0].mlp[0].weight.mul_(2)  # in place, as an optimizer step does
    after = fast_logits(m, x)
    with torch.inference_mode():
        full = m(torch.tensor([x]))[0][0].numpy()
    assert np.abs(after - before).max() > 1e-3
    assert np.abs(after - full).max() < 1e-4


@pytest.mark.parametrize("kw", [{}, {"temperature": 0}, {"top_k": 5}, {"temperature": 0.8, "top_p": 0.9}])
def test_fast_and_torch_generation_sample_the_same_tokens(kw, monkeypatch):
    from sidlang.model import network as model_mod

    bundle = load_model()
    tune = player_log(40, seed=5)
    seen = []
    real = model_mod.generate

    def spy(*args, fast=None, **kwargs):
        seen.append(fast)
        return real(*args, fast=fast, **kwargs)

    monkeypatch.setattr(model_mod, "generate", spy)
    fast = continue_tune(tune, 30, start=20, seed=4, model=bundle, **kw)
    monkeypatch.setattr(model_mod, "generate", lambda *a, **k: real(*a, **{**k, "fast": False}))
    slow = continue_tune(tune, 30, start=20, seed=4, model=bundle, **kw)
    assert seen == [None] and fast == slow  # the default took the fast path, and agreed


def test_pick_keeps_to_top_k_and_top_p():
    gen = np.random.default_rng(0)
    logits = np.array([0.0, 3.0, 1.0, 2.9, -1.0], np.float32)
    assert Sampling(temperature=0).pick(logits, gen) == 1
    assert {Sampling(top_k=2).pick(logits, gen) for _ in range(200)} == {1, 3}
    assert {Sampling(top_p=0.3).pick(logits, gen) for _ in range(200)} == {1}
    assert len({Sampling().pick(logits, gen) for _ in range(400)}) == 5


def test_model_made_under_inference_mode_generates():
    """Inference tensors have no version counter; the decoder's cache key must cope."""
    with torch.inference_mode():
        m = SidModel(ModelConfig.tiny()).eval()
        out = continue_tune(player_log(5), 3, seed=0, model=(m, TOK, {}))
    assert len(out.frames) == 8


@pytest.mark.parametrize("jit", JIT)
def test_local_layers_match_the_pytorch_cache_prefilled_and_sliding(jit):
    """Local layers (a window of 8 here, the last layer global) and a prompt fed at once: the
    fast decoder's cache filled from one PyTorch pass, then single steps past the context."""
    m = random_model(3, n_layer=3, local_window=8)
    n, p = 150, 40
    x = torch.randint(0, TOK.vocab_size, (1, n))
    caches = m.new_caches()
    with torch.inference_mode():
        ref = [m(x[:, :p], caches=caches)[0][0, -1:]]
        ref += [m(x[:, i : i + 1], caches=caches, start=i)[0][0] for i in range(p, n)]
    ref = torch.cat(ref).numpy()
    dec = FastDecoder(m, jit=jit)
    cache = dec.new_cache()
    out = np.full(m.cfg.vocab_size, -np.inf, np.float32)
    got = [dec.logits_in(dec.prefill(cache, m, x[0, :p].tolist()), ALL, out).copy()]
    got += [dec.logits_in(dec.step(cache, int(t)), ALL, out).copy() for t in x[0, p:]]
    assert np.abs(np.stack(got) - ref).max() < 1e-4
    with pytest.raises(ValueError):
        dec.prefill(cache, m, [1, 2])  # only into an empty cache
