"""``sidlang eval FILE…``: the split, the sliding-window scorer, the first-half baselines, the report."""

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("safetensors")

from sidlang import parse  # noqa: E402
from sidlang.cli import main  # noqa: E402
from sidlang.model.evaluate import context_baselines, score_windows, split_point, token_scores  # noqa: E402
from sidlang.model.network import ModelConfig, SidModel, save_model  # noqa: E402
from sidlang.model.tokenizer import AGAIN, FRAME, Tokenizer  # noqa: E402

TOK = Tokenizer()


def tune_text(frames: int, seed: int, repeat: int = 1) -> str:
    """``frames`` frames of seeded random notes and pulse widths, the whole played ``repeat`` times."""
    rng = np.random.default_rng(seed)
    body = [
        f"v1 freq=${rng.integers(0x400, 0x4000):04x} pw=${rng.integers(0, 0xFFF):03x} "
        f"| v2 freq=${rng.integers(0x400, 0x4000):04x} wave={rng.choice(['pulse', 'saw'])},gate"
        for _ in range(frames)
    ]
    lines = [f"{i + 1} {b}" for i, b in enumerate(body * repeat)]
    return "\n".join(["0 v1 ad=$09 sr=$a9 wave=pulse,gate | vol=15", *lines]) + "\n"


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    return SidModel(ModelConfig.tiny()).eval()


@pytest.fixture(scope="module")
def weights(tmp_path_factory, tiny_model):
    path = tmp_path_factory.mktemp("w") / "tiny.safetensors"
    save_model(tiny_model, path, TOK)
    return path


def test_split_is_the_frame_start_nearest_the_middle():
    seq = np.array(TOK.encode(parse(tune_text(30, seed=1))), np.int64)
    k = split_point(seq)
    starts = np.flatnonzero((seq == FRAME) | (seq == AGAIN))
    assert seq[k] in (FRAME, AGAIN) and k in starts[1:]
    assert abs(k - len(seq) / 2) == np.abs(starts[1:] - len(seq) / 2).min()
    assert 0.3 < k / len(seq) < 0.7


def test_windows_score_every_token_once_with_context():
    for n, start, block, stride in [(300, 1, 64, 32), (300, 150, 64, 32), (10, 3, 64, 32), (97, 5, 16, 5)]:
        seen = []
        for b, t0, t1 in score_windows(n, start, block, stride):
            assert t1 - 1 - b <= block and t0 < t1 <= n
            assert t0 - b >= min(t0, block + 1 - stride)  # the first kept token's context
            seen += range(t0, t1)
        assert seen == list(range(start, n))


def test_scorer_equals_one_forward_pass_when_the_tune_fits(tiny_model):
    rng = np.random.default_rng(0)
    seqs = [rng.integers(7, TOK.vocab_size, n) for n in (64, 40)]  # block 64: logits for 63 and 39 targets
    scores = token_scores(tiny_model, seqs, [1, 20])
    for s, st, (lp, hit) in zip(seqs, [1, 20], scores):
        with torch.inference_mode():
            logits, _ = tiny_model(torch.from_numpy(s[None, :-1]))
        full = torch.log_softmax(logits[0].float(), -1)
        want = full[torch.arange(len(s) - 1), torch.from_numpy(s[1:])].numpy()[st - 1 :]
        assert lp.shape == want.shape and np.allclose(lp, want, atol=1e-5)
        assert np.array_equal(hit, (full.argmax(-1).numpy() == s[1:])[st - 1 :])


def test_scorer_on_a_long_tune_matches_each_window_alone(tiny_model):
    """Past one block: each token's log-probability is that of a forward over its own window."""
    rng = np.random.default_rng(1)
    s = rng.integers(7, TOK.vocab_size, 300)
    (lp, _), (short_lp, _) = token_scores(tiny_model, [s, s[:50]], [100, 1])  # batched with padding
    assert len(lp) == 200
    for b, t0, t1 in score_windows(300, 100, 64):
        with torch.inference_mode():
            logits, _ = tiny_model(torch.from_numpy(s[None, b : t1 - 1]))
        full = torch.log_softmax(logits[0].float(), -1)
        want = full[torch.arange(t0 - 1 - b, t1 - 1 - b), torch.from_numpy(s[t0:t1])].numpy()
        assert np.allclose(lp[t0 - 100 : t1 - 100], want, atol=1e-5)
    assert np.allclose(short_lp, token_scores(tiny_model, [s[:50]], [1])[0][0], atol=1e-5)
    cold = token_scores(tiny_model, [s[99:]], [1])[0][0]  # the same tokens without what came before
    assert not np.allclose(lp[:32], cold[:32], atol=1e-3)


def test_context_ngram_learns_a_second_half_that_repeats_the_first():
    """1000 frames of random notes played twice, beside 2000 frames of them played once.

    (1000 frames, 20 s, is further back than a token form's copy-from-N-frames-back reaches, so
    the repeat comes out in the same tokens as the first time, for the n-gram to know.)
    """
    again = np.array(TOK.encode(parse(tune_text(1000, seed=2, repeat=2))), np.int64)
    fresh = np.array(TOK.encode(parse(tune_text(2000, seed=3))), np.int64)
    seqs = [again, fresh]
    r = context_baselines(seqs, [split_point(s) for s in seqs], TOK.vocab_size)
    rep, new = r["per_tune"]
    assert rep["context_ngram_ppl"] < 2 and rep["unigram_ppl"] > 50  # it knows the notes, in order
    assert new["context_ngram_ppl"] > 20  # and it learnt them from the first half, not the scored one
    assert r["context_ngram_order"] in (2, 3, 4, 5, 6) and r["context_ngram_discount"] in (0.75, 0.9)


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_eval_two_files_reports_every_field(tmp_path, capsys, weights):
    (tmp_path / "a.sidl").write_text(tune_text(10, seed=4, repeat=4))
    (tmp_path / "b.sidl").write_text(tune_text(60, seed=5))
    code, out, err = run(
        capsys,
        "eval",
        tmp_path / "a.sidl",
        tmp_path / "b.sidl",
        "--json",
        "--weights",
        weights,
        "--samples",
        2,
        "--frames",
        4,
    )
    assert code == 0, err
    r = json.loads(out)
    for key in (
        "tokens",
        "tunes",
        "model_ppl",
        "accuracy",
        "context_ngram_ppl",
        "context_ngram_order",
        "context_ngram_discount",
        "repeat_ppl",
        "repeat_bar_frames",
        "unigram_ppl",
        "best_baseline",
        "ratio_to_best_baseline",
        "per_tune",
        "samples",
        "validity",
        "copy_rate",
        "copy_reference",
        "model_cache_ppl",
        "cache_weight",
        "cache_ratio_to_best_baseline",
    ):
        assert r.get(key) is not None, key
    assert all(v is not None for v in r.values())
    # a.sidl plays its figure four times: the tune's own memory knows the second half
    assert r["per_tune"][0]["model_cache_ppl"] < r["per_tune"][0]["model_ppl"]
    assert r["tunes"] == 2 and len(r["per_tune"]) == 2 and len(r["repeat_bar_frames"]) == 2
    for row, name in zip(r["per_tune"], ("a.sidl", "b.sidl")):
        assert row["name"].endswith(name) and all(v is not None for v in row.values())
        assert 0 < row["split_frame"] < row["frames"]
    assert r["tokens"] == sum(row["tokens"] for row in r["per_tune"])
    best = min(("context_ngram", "repeat", "unigram"), key=lambda b: r[f"{b}_ppl"])
    assert r["best_baseline"] == best
    assert r["ratio_to_best_baseline"] == pytest.approx(r["model_ppl"] / r[f"{best}_ppl"])
    assert r["model_ppl"] > 1 and 0 <= r["accuracy"] <= 1 and r["validity"] == 1.0
    assert err.count("[1/2]") == 1 and err.count("[2/2]") == 1  # progress on stderr, one line a tune


def test_eval_bad_file_is_one_line(tmp_path, capsys, weights):
    (tmp_path / "a.sidl").write_text(tune_text(10, seed=6))
    (tmp_path / "bad.sid").write_bytes(b"not a sid file at all")
    (tmp_path / "short.sidl").write_text("0 v1 freq=C-4\n")
    for bad, says in (("missing.sidl", "no such file"), ("bad.sid", "bad.sid"), ("short.sidl", "two frames")):
        code, out, err = run(capsys, "eval", tmp_path / "a.sidl", tmp_path / bad, "--weights", weights)
        assert code == 1 and says in err and len(err.strip().splitlines()) == 1 and out == "", (bad, err)


def test_eval_help_explains_the_fields(capsys):
    code, out, _ = run(capsys, "eval", "--help")
    assert code == 0
    for word in ("context_ngram_ppl", "ratio_to_best_baseline", "per_tune", "--seconds", "default 60"):
        assert word in out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Inline tunes in a training and a test split, written the way the corpus builder writes them."""
    from sidlang.corpus.build import ShardWriter

    folder = tmp_path_factory.mktemp("corpus")
    w = ShardWriter(folder / "shard-0-of-1", part_size=2)
    for i in range(6):
        split = "test" if i > 3 else "train"
        w.add(TOK.encode(parse(tune_text(30, seed=10 + i, repeat=2))), (f"p{i}", "inline", split, "", 0))
        w.finish_item(f"p{i}")
    w.flush()
    return folder


def test_eval_corpus_alone_keeps_its_fields(capsys, weights, corpus):
    code, out, err = run(
        capsys, "eval", "--corpus", corpus, "--json", "--weights", weights, "--samples", 1, "--frames", 3
    )
    assert code == 0, err
    r = json.loads(out)
    for key in (
        "tokens",
        "model_ppl",
        "accuracy",
        "unigram_ppl",
        "ngram_ppl",
        "ngram_order",
        "ngram_discount",
        "repeat_ppl",
        "repeat_bar_frames",
        "ratio_to_ngram",
        "validity",
        "copy_rate",
    ):
        assert r.get(key) is not None, key
    assert "context_ngram_ppl" not in r and "per_tune" not in r and r["copy_reference"] == "training split"
    assert isinstance(r["repeat_bar_frames"], int)


def test_eval_files_and_corpus_report_both(tmp_path, capsys, weights, corpus):
    (tmp_path / "a.sidl").write_text(tune_text(30, seed=20))
    code, out, err = run(
        capsys,
        "eval",
        tmp_path / "a.sidl",
        "--corpus",
        corpus,
        "--json",
        "--weights",
        weights,
        "--samples",
        1,
        "--frames",
        3,
    )
    assert code == 0, err
    r = json.loads(out)
    for key in (
        "context_ngram_ppl",
        "repeat_ppl",
        "unigram_ppl",
        "repeat_bar_frames",
        "ngram_ppl",
        "ngram_order",
        "corpus_unigram_ppl",
        "corpus_repeat_ppl",
        "corpus_repeat_bar_frames",
        "ratio_to_ngram",
    ):
        assert r.get(key) is not None, key
    assert r["copy_reference"] == "training split" and r["tokens"] == r["per_tune"][0]["tokens"]
    every = [v for k, v in r.items() if k.endswith("_ppl") and k not in ("model_ppl", "model_cache_ppl")]
    assert len(every) == 6 and r["ratio_to_best_baseline"] == pytest.approx(r["model_ppl"] / min(every))
