"""``sidlang continue``, ``corpus``, ``train`` and ``eval`` run in-process: outputs, exit codes, errors."""

import json

import pytest

pytest.importorskip("torch")
pytest.importorskip("safetensors")

from sidlang.cli import main  # noqa: E402
from sidlang.io import load  # noqa: E402

TUNE = "0 v1 freq=C-4 wave=pulse,gate ad=$09 sr=$a9 | vol=15\n1 v1 pw+=16\n2 v1 pw+=16\n8 v1 wave=pulse\n"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_continue_writes_a_longer_tune(tmp_path, capsys):
    (tmp_path / "a.sidl").write_text(TUNE)
    code, _, err = run(
        capsys, "continue", tmp_path / "a.sidl", tmp_path / "b.sidl", "--frames", 20, "--seed", 1
    )
    assert code == 0, err
    assert len(load(tmp_path / "b.sidl").frames) == 9 + 20
    code, _, err = run(capsys, "continue", tmp_path / "a.sidl", tmp_path / "b.sidl", "--frames", 20)
    assert code == 1 and "already exists" in err


@pytest.mark.parametrize(
    "args", [["--frames", "0"], ["--frames", "5", "--keep-voices", "4"], ["--frames", "5", "--top-p", "2"]]
)
def test_continue_usage_errors(tmp_path, capsys, args):
    (tmp_path / "a.sidl").write_text(TUNE)
    code, _, err = run(capsys, "continue", tmp_path / "a.sidl", tmp_path / "b.sidl", *args)
    assert code == 2 and err.count("\n") == 1


def test_continue_bad_input_is_one_line(tmp_path, capsys):
    code, _, err = run(capsys, "continue", tmp_path / "missing.sidl", tmp_path / "b.sidl", "--frames", 5)
    assert code == 1 and "no such file" in err and err.count("\n") == 1


def test_eval_json_on_files_without_corpus(tmp_path, capsys):
    (tmp_path / "a.sidl").write_text(TUNE)
    code, out, err = run(capsys, "eval", tmp_path / "a.sidl", "--json", "--samples", 2, "--frames", 5)
    assert code == 0, err
    result = json.loads(out)
    for key in (
        "model_ppl",
        "context_ngram_ppl",
        "unigram_ppl",
        "repeat_ppl",
        "accuracy",
        "ratio_to_best_baseline",
    ):
        assert result[key] is not None, key
    assert result["validity"] == 1.0 and result["model_ppl"] > 1


def test_corpus_shard_usage_error(tmp_path, capsys):
    code, _, err = run(capsys, "corpus", "build", tmp_path / "c", "--shard", "3/2")
    assert code == 2 and "--shard" in err


def test_corpus_build_from_a_folder_resumes(tmp_path, capsys):
    from sidlang.corpus.build import load_split

    src = tmp_path / "tunes" / "someone"
    src.mkdir(parents=True)
    for i in range(12):
        (src / f"t{i}.sidl").write_text(TUNE.replace("pw+=16", f"pw+={i + 1}"))
    out = tmp_path / "corpus"
    code, stdout, err = run(capsys, "corpus", "build", out, "--source", tmp_path / "tunes", "--quiet")
    assert code == 0, err
    assert "items=12" in stdout and "failed=0" in stdout
    seqs = sum(len(load_split(out, s)[0]) for s in ("train", "val", "test"))
    assert seqs >= 12  # training pieces also get a transposed copy
    code, stdout, _ = run(capsys, "corpus", "build", out, "--source", tmp_path / "tunes", "--quiet")
    assert "skipped_done=12" in stdout and "sequences=0" in stdout


def test_corpus_of_another_tokenizer_version_is_refused(tmp_path, capsys):
    """Resuming, training or evaluating on a corpus of another token form is one clear line."""
    from sidlang.model.tokenizer import TOKENIZER_VERSION

    out = tmp_path / "old"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps({"tokenizer": {"version": TOKENIZER_VERSION - 1}}))
    src = tmp_path / "tunes" / "someone"
    src.mkdir(parents=True)
    (src / "t.sidl").write_text(TUNE)
    code, _, err = run(capsys, "corpus", "build", out, "--source", tmp_path / "tunes", "--quiet")
    assert code == 1 and f"tokenizer version {TOKENIZER_VERSION - 1}" in err and "Traceback" not in err
    code, _, err = run(capsys, "eval", "--corpus", out, "--json")
    assert code == 1 and "build it again" in err


def test_weights_of_another_token_form_are_one_line(tmp_path, capsys):
    """A weights file trained for another tokenizer version: a clear error, exit code 1."""
    from sidlang.model.network import ModelConfig, SidModel, save_model
    from sidlang.model.tokenizer import TOKENIZER_VERSION, Tokenizer, TokenizerConfig

    old = Tokenizer(TokenizerConfig(version=TOKENIZER_VERSION - 1))
    save_model(SidModel(ModelConfig.tiny()), tmp_path / "old.safetensors", old)
    (tmp_path / "in.sidl").write_text(TUNE)
    code, _, err = run(
        capsys,
        "continue",
        tmp_path / "in.sidl",
        tmp_path / "out.sidl",
        "--frames",
        "4",
        "--weights",
        tmp_path / "old.safetensors",
    )
    assert code == 1 and f"made for tokenizer version {TOKENIZER_VERSION - 1}" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.sidl").exists()
