"""The model: a tiny one trains and its loss falls; generation obeys length, seed, voices and grammar;
the bundled weights load with no network."""

import json
import socket

import numpy as np
import pytest

from sidlang.errors import SidlangError

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from sidlang.corpus.build import ShardWriter, load_split, split_for  # noqa: E402
from sidlang.model.network import BUNDLED, ModelConfig, SidModel, continue_tune, load_model, save_model  # noqa: E402
from sidlang.model.tokenizer import Tokenizer  # noqa: E402
from sidlang.model.train import TrainConfig, train  # noqa: E402
from sidlang.testing import player_log  # noqa: E402
from sidlang.text import dumps, parse  # noqa: E402

TOK = Tokenizer()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A two-split corpus of synthetic player logs, written the way the builder writes it."""
    folder = tmp_path_factory.mktemp("corpus")
    w = ShardWriter(folder / "shard-0-of-1", part_size=2)
    for i in range(6):
        split = "val" if i == 5 else "train"
        w.add(TOK.encode(player_log(60, seed=i)), (f"p{i}", "synth", split, "", 0))
        w.finish_item(f"p{i}")
    w.flush()
    return folder


@pytest.fixture(scope="module")
def tiny(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    cfg = TrainConfig(
        corpus=str(corpus),
        out=str(out),
        model=ModelConfig.tiny(),
        batch_size=8,
        steps=40,
        lr=1e-2,
        warmup=5,
        eval_every=20,
        eval_windows=8,
        threads=1,
    )
    metrics = train(cfg, log=lambda *a: None)
    return out, metrics


def test_corpus_parts_and_splits(corpus):
    train_seqs, metas = load_split(corpus, "train")
    assert len(train_seqs) == 5 and {m["split"] for m in metas} == {"train"}
    assert split_for("any", "x") in ("train", "val", "test")


def test_tiny_model_loss_falls(tiny):
    out, metrics = tiny
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert log[-1]["val_loss"] < log[0]["val_loss"] < np.log(TOK.vocab_size)
    assert 0 <= metrics["val_acc"] <= 1


def test_resume_continues_the_step_count(tiny, corpus):
    out, _ = tiny
    cfg = TrainConfig(
        corpus=str(corpus),
        out=str(out),
        model=ModelConfig.tiny(),
        batch_size=4,
        steps=42,
        eval_every=2,
        eval_windows=4,
        threads=1,
        resume=True,
    )
    metrics = train(cfg, log=lambda *a: None)
    assert metrics["step"] == 42


@pytest.fixture(scope="module")
def bundle(tiny):
    return load_model(tiny[0] / "ckpt.safetensors")


def test_generation_length_seed_and_validity(bundle):
    tune = player_log(30, seed=9)
    a = continue_tune(tune, 25, seed=3, model=bundle)
    b = continue_tune(tune, 25, seed=3, model=bundle)
    assert len(a.frames) == 55 and a == b
    assert parse(dumps(a)) == a
    assert np.array_equal(a.writes[: len(tune.writes)], tune.writes)  # the prompt is untouched
    greedy = continue_tune(tune, 10, temperature=0, model=bundle)
    assert greedy == continue_tune(tune, 10, temperature=0, seed=99, model=bundle)


def test_top_k_and_top_p_still_valid(bundle):
    tune = player_log(10, seed=1)
    for kw in ({"top_k": 5}, {"top_p": 0.5}, {"temperature": 1.5, "top_k": 50, "top_p": 0.9}):
        out = continue_tune(tune, 15, seed=1, model=bundle, **kw)
        assert len(out.frames) == 25 and parse(dumps(out)) == out


def test_the_tunes_own_memory_keeps_generation_valid_and_seeded(bundle):
    tune = player_log(40, seed=5)
    for w in (0.0, 0.5, 1.0):
        a = continue_tune(tune, 20, seed=4, model=bundle, cache=w)
        assert len(a.frames) == 60 and parse(dumps(a)) == a
        assert a == continue_tune(tune, 20, seed=4, model=bundle, cache=w)
    # With the cache alone, the untrained-ish model follows what the prompt did
    assert continue_tune(tune, 20, seed=4, model=bundle, cache=1.0) != continue_tune(
        tune, 20, seed=4, model=bundle, cache=0.0
    )
    with pytest.raises(SidlangError, match="cache weight must be 0–1"):
        continue_tune(tune, 5, model=bundle, cache=1.5)


def test_keep_voices_copies_them_and_the_model_fills_the_rest(bundle):
    tune = player_log(60, seed=4)
    out = continue_tune(tune, 40, start=10, seed=2, keep_voices=(1,), model=bundle)

    def voice1(t, upto):
        w, f = t.writes, t.frames.index
        sel = (w["reg"] < 7) & (f < upto)
        return list(zip(f[sel].tolist(), w["reg"][sel].tolist(), w["val"][sel].tolist()))

    assert voice1(out, 10) == voice1(tune, 10)  # the prompt as it was
    # The kept voice's writes that change something (the model form), hence its every state
    assert voice1(Tokenizer().model_form(out), 50) == voice1(Tokenizer().model_form(tune), 50)
    assert (out.frames.state(0)[:50, :7] == tune.frames.state(0)[:50, :7]).all()
    assert len(out.frames) == 50 and parse(dumps(out)) == out


def test_kv_cache_matches_full_forward():
    torch.manual_seed(0)
    m = SidModel(ModelConfig.tiny()).eval()
    x = torch.randint(0, TOK.vocab_size, (1, 40))
    full, _ = m(x)
    caches = m.new_caches()
    parts = [m(x[:, :30], caches=caches)[0]] + [
        m(x[:, i : i + 1], caches=caches, start=i)[0] for i in range(30, 40)
    ]
    assert torch.allclose(torch.cat(parts, 1), full, atol=1e-4)
    # Tables built while generating must not break training later in the same process.
    continue_tune(player_log(5), 3, seed=0, model=(m, TOK, {}))
    m.train()
    m(x, x)[1].backward()


def test_sliding_cache_moves_without_changing_logits():
    """Past its buffer (twice the window) the cache moves to the buffer's front; the logits
    equal those of a cache whose buffer never fills, and each step sees the last window."""
    torch.manual_seed(1)
    m = SidModel(ModelConfig.tiny()).eval()  # block_size 64
    x = torch.randint(0, TOK.vocab_size, (1, 200))
    moving, roomy = m.new_caches(), m.new_caches()
    with torch.inference_mode():
        m(x[:, :64], caches=moving)
        m(x[:, :64], caches=roomy)
        for c in roomy:
            kv = c["kv"]
            c["kv"] = torch.cat((kv, kv.new_zeros(*kv.shape[:3], 400, kv.size(4))), dim=3)
        for i in range(64, 200):
            a, _ = m(x[:, i : i + 1], caches=moving, start=i)
            b, _ = m(x[:, i : i + 1], caches=roomy, start=i)
            assert torch.equal(a, b)
    assert all(c["span"][1] - c["span"][0] == 64 for c in moving + roomy)


def test_head_rows_give_the_same_logits_bit_for_bit(bundle):
    from sidlang.model.network import _head_rows

    net, tok, _ = bundle
    st = tok.state(1)
    st.feed(1)  # BOS
    h = torch.randn(net.cfg.n_embd)
    with torch.inference_mode():
        full = net.head(h)
        for t in [3, tok.vocab.marker(0, 0), tok.vocab.set_token(0, 4, 65), 3, tok.vocab.marker(0, 3)]:
            st.feed(t)
            allowed = st.allowed()
            rows = _head_rows(allowed)
            assert all(a % 8 == 0 and (b % 8 == 0 or b == len(allowed)) for a, b in rows)
            part = net.logits_in(h, rows)
            assert torch.equal(part[torch.from_numpy(allowed)], full[torch.from_numpy(allowed)])


def test_bad_arguments_are_one_line_errors(bundle):
    from sidlang.errors import SidlangError

    with pytest.raises(SidlangError, match="frames"):
        continue_tune(player_log(5), 0, model=bundle)
    with pytest.raises(SidlangError, match="voices"):
        continue_tune(player_log(5), 5, keep_voices=(4,), model=bundle)


def test_save_load_round_trip(tmp_path, bundle):
    model, tok, info = bundle
    save_model(model, tmp_path / "w.safetensors", tok, {"note": "x"})
    again, _, info2 = load_model(tmp_path / "w.safetensors")
    assert info2 == {"note": "x"}
    for (k, a), (_, b) in zip(model.state_dict().items(), again.state_dict().items()):
        assert torch.equal(a, b), k


def test_bundled_weights_load_without_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    assert BUNDLED.is_file() and BUNDLED.stat().st_size <= 25 * 2**20
    model, tok, info = load_model()
    out = continue_tune(player_log(20), 10, seed=0, model=(model, tok, info))
    assert len(out.frames) == 30


def test_long_prompt_context_is_the_full_encodings_tail():
    """continue_tune encodes only the frames the window can see; what it sees is unchanged."""
    from sidlang.model.network import prompt_tokens
    from sidlang.model.tokenizer import BOS
    from sidlang.testing import player_log

    tok = Tokenizer()
    tune = player_log(1500)
    st = tok.state(1)
    st.feed(BOS)
    full = tok.encode_frames(st, tune, 0, 1500)
    for block in (64, 256):
        cut, tail = prompt_tokens(tok, tune, 1500, block)
        assert len(tail) < len(full) and tail[-block:] == full[-block:]
        assert cut.regs.tolist() == st.regs.tolist() and cut.frame == st.frame


def test_banded_attention_is_causal_attention_within_the_window():
    """Training's blocked local attention equals full attention under the band mask, any length."""
    import torch.nn.functional as F

    from sidlang.model.network import _banded

    torch.manual_seed(0)
    for T, w in ((37, 8), (64, 16), (5, 8)):
        q, k, v = (torch.randn(2, 3, T, 8) for _ in range(3))
        i = torch.arange(T)
        band = (i[None, :] <= i[:, None]) & (i[:, None] - i[None, :] <= w)
        ref = F.scaled_dot_product_attention(q, k, v, attn_mask=band)
        assert torch.allclose(_banded(q, k, v, w), ref, atol=1e-5)


def test_local_model_incremental_equals_full_forward():
    cfg = ModelConfig(block_size=64, n_layer=2, n_head=2, n_embd=32, local_window=8)
    assert [cfg.window(i) for i in range(2)] == [8, 64]
    m = SidModel(cfg).eval()
    x = torch.randint(0, 500, (1, 50))
    with torch.inference_mode():
        full = m(x)[0]
        caches = m.new_caches()
        parts = [m(x[:, :30], caches=caches)[0]]
        parts += [m(x[:, t : t + 1], caches=caches, start=t)[0] for t in range(30, 50)]
    assert torch.allclose(torch.cat(parts, 1), full, atol=1e-5)
