"""Real tunes into the corpus: ``corpus gather`` and ``corpus build`` on folders of .sid, .sng and .ct.

Run in-process through the CLI, with a few seconds of each song so every test takes seconds.
"""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from sidlang.cli import main
from sidlang.corpus import build as build_mod
from sidlang.corpus import realtunes
from sidlang.corpus.build import load_split
from sidlang.model.tokenizer import Tokenizer

GOAT = Path("/usr/share/doc/goattracker/examples")
CHEESE = Path("/usr/share/doc/cheesecutter/examples")
TUNE = "0 v1 freq=C-4 wave=pulse,gate ad=$09 sr=$a9 | vol=15\n1 v1 pw+=16\n2 v1 pw+=16\n8 v1 wave=pulse\n"


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def counts(stdout: str) -> dict[str, int]:
    return {k: int(v) for k, v in (w.split("=") for w in stdout.split() if "=" in w)}


def pieces(corpus: Path) -> dict[str, set[str]]:
    """Split -> the file stems of the pieces in it."""
    return {s: {Path(m["piece"]).stem for m in load_split(corpus, s)[1]} for s in ("train", "val", "test")}


@pytest.fixture
def exports(testdata) -> Path:
    folder = testdata / "sid-wizard" / "sid-exports"
    if not folder.is_dir():
        pytest.skip(f"no SID-Wizard exports at {folder}")
    return folder


@pytest.fixture
def goat():
    pytest.importorskip("pygoattracker", reason="GoatTracker songs need pygoattracker")
    if not (GOAT / "consultant.sng").exists():
        pytest.skip(f"GoatTracker's examples are not installed at {GOAT} (apt-get install goattracker)")
    return GOAT


def test_sid_wizard_export_builds_to_token_sequences(tmp_path, capsys, exports):
    src = tmp_path / "hvsc" / "Hermit"
    src.mkdir(parents=True)
    shutil.copy(exports / "flashitback.sid", src)
    code, out, err = run(
        capsys, "corpus", "build", tmp_path / "c", "--source", tmp_path / "hvsc", "--seconds", 3, "--quiet"
    )
    assert code == 0, err
    assert counts(out)["failed"] == 0 and counts(out)["sequences"] >= 1
    seqs = [s for split in ("train", "val", "test") for s in load_split(tmp_path / "c", split)[0]]
    tok = Tokenizer()
    assert len(seqs[0]) > 500  # 3 s of a real tune is thousands of tokens, not a stub
    assert int(max(s.max() for s in seqs)) < tok.vocab_size
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["seconds"] == 3 and "rotation_map" in manifest["augmentation"]["voice_rotation"]


def test_max_frames_crops_real_tunes(tmp_path, capsys, exports):
    src = tmp_path / "hvsc" / "Hermit"
    src.mkdir(parents=True)
    shutil.copy(exports / "flashitback.sid", src)
    lengths = {}
    for frames in (20, 100):
        code, _, err = run(
            capsys,
            "corpus",
            "build",
            tmp_path / f"c{frames}",
            "--source",
            tmp_path / "hvsc",
            "--seconds",
            3,
            "--max-frames",
            frames,
            "--transpose",
            0,
            "--quiet",
        )
        assert code == 0, err
        seqs = [
            s for split in ("train", "val", "test") for s in load_split(tmp_path / f"c{frames}", split)[0]
        ]
        lengths[frames] = len(seqs[0])
    assert lengths[20] < lengths[100] / 3


def test_broken_sid_is_skipped_with_one_line(tmp_path, capsys, exports):
    src = tmp_path / "hvsc" / "Someone"
    src.mkdir(parents=True)
    shutil.copy(exports / "flashitback.sid", src / "good.sid")
    (src / "broken.sid").write_bytes((exports / "lenore.sid").read_bytes()[:300])  # cut short
    (src / "text.sid").write_text("not a tune\n")
    code, out, err = run(
        capsys, "corpus", "build", tmp_path / "c", "--source", tmp_path / "hvsc", "--seconds", 2, "--quiet"
    )
    assert code == 0, err
    assert counts(out)["failed"] == 2 and counts(out)["items"] == 3
    lines = err.strip().splitlines()
    assert len(lines) == 2 and all(ln.startswith("skipped hvsc/Someone/") for ln in lines)
    assert any("text.sid: not a PSID/RSID file" in ln for ln in lines) and "Traceback" not in err
    assert set().union(*pieces(tmp_path / "c").values()) == {"good"}


def test_resume_skips_done_items(tmp_path, capsys, exports):
    src = tmp_path / "hvsc" / "Someone"
    src.mkdir(parents=True)
    for name in ("flashitback", "congabeat"):
        shutil.copy(exports / f"{name}.sid", src)
    args = ("corpus", "build", tmp_path / "c", "--source", tmp_path / "hvsc", "--seconds", 2, "--quiet")
    code, out, _ = run(capsys, *args)
    assert code == 0 and counts(out)["skipped_done"] == 0
    shutil.copy(exports / "futuco.sid", src)  # a new file since: the resume does only that one
    code, out, _ = run(capsys, *args)
    assert code == 0
    assert counts(out)["skipped_done"] == 2 and counts(out)["items"] == 3 and counts(out)["sequences"] >= 1
    code, out, _ = run(capsys, *args)
    assert counts(out)["skipped_done"] == 3 and counts(out)["sequences"] == 0


def test_an_interrupt_keeps_what_is_finished(tmp_path, monkeypatch):
    """Ctrl-C in the middle of a build: the pieces done are on disk and the resume starts after them."""
    src = tmp_path / "tunes" / "someone"
    src.mkdir(parents=True)
    for i in range(5):
        (src / f"t{i}.sidl").write_text(TUNE.replace("pw+=16", f"pw+={i + 1}"))
    real = build_mod.tunes_for
    seen = []

    def interrupted(item, *a):
        if len(seen) == 3:
            raise KeyboardInterrupt
        seen.append(item.key)
        yield from real(item, *a)

    monkeypatch.setattr(build_mod, "tunes_for", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_mod.build(tmp_path / "c", [str(tmp_path / "tunes")], progress=False)
    done = (tmp_path / "c" / "shard-0-of-1" / "done.txt").read_text().split()
    assert sorted(done) == sorted(seen)
    monkeypatch.setattr(build_mod, "tunes_for", real)
    again = build_mod.build(tmp_path / "c", [str(tmp_path / "tunes")], progress=False)
    assert again["skipped_done"] == 3 and again["items"] == 5


def test_hold_out_sends_the_named_pieces_to_test(tmp_path, capsys):
    src = tmp_path / "tunes" / "Hermit"  # a composer the hash keeps in training
    src.mkdir(parents=True)
    names = [f"t{i}" for i in range(12)] + ["Ninja_1", "ninja_2"]
    for i, name in enumerate(names):
        (src / f"{name}.sidl").write_text(TUNE.replace("pw+=16", f"pw+={i + 1}"))
    (tmp_path / "list.txt").write_text("# held out\nt3\n")
    code, out, err = run(
        capsys,
        "corpus",
        "build",
        tmp_path / "c",
        "--source",
        tmp_path / "tunes",
        "--quiet",
        "--hold-out",
        "t1,ninja*",
        "--hold-out",
        f"@{tmp_path / 'list.txt'}",
    )
    assert code == 0, err
    split = pieces(tmp_path / "c")
    held = {"t1", "t3", "Ninja_1", "ninja_2"}
    assert held <= split["test"] and not held & (split["train"] | split["val"])
    assert split["train"]  # the rest still trains
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["hold_out"] == ["t1", "ninja*", "t3"]
    assert {Path(k).stem for k in manifest["held_out_pieces"]} == held
    assert counts(out)["held_out"] == 4
    # resuming with another list would move pieces between splits
    code, _, err = run(capsys, "corpus", "build", tmp_path / "c", "--source", tmp_path / "tunes", "--quiet")
    assert code == 1 and "--hold-out" in err and err.count("\n") == 1


def test_gathered_folder_holds_out_and_names_composers(tmp_path, capsys):
    """A folder from 'corpus gather' holds out the tunes its sources.json marks, without --hold-out."""
    real = tmp_path / "real"
    (real / "x").mkdir(parents=True)
    tunes = []
    for i, stem in enumerate(["congabeat", "a", "b", "c", "d", "e", "f", "g"]):
        (real / "x" / f"{stem}.sidl").write_text(TUNE.replace("pw+=16", f"pw+={i + 1}"))
        tunes.append({"file": f"x/{stem}.sidl", "composer": "Hermit", "held_out": realtunes.held_out(stem)})
    (real / "sources.json").write_text(json.dumps({"tunes": tunes}))
    code, _, err = run(capsys, "corpus", "build", tmp_path / "c", "--source", real, "--quiet")
    assert code == 0, err
    split = pieces(tmp_path / "c")
    assert "congabeat" in split["test"] and "congabeat" not in split["train"] | split["val"]
    composers = {m["composer"] for s in ("train", "val", "test") for m in load_split(tmp_path / "c", s)[1]}
    assert composers == {"Hermit"}


def test_goattracker_song_plays_through_pygoattracker(goat):
    tune = realtunes.read_sng(goat / "consultant.sng", seconds=3)
    assert tune.header.title == "The Consultant" and tune.header.author == "Cadaver"
    assert 140 <= len(tune.frames) <= 160  # 3 s at 50 Hz
    w = tune.writes
    assert np.all(np.diff(w["cycle"]) >= 0)
    longer = realtunes.read_sng(goat / "unleash.sng", seconds=10)
    assert all(n > 0 for n in realtunes.gate_ons(longer))  # notes on all three voices


def test_goattracker_songs_in_a_folder_build(tmp_path, capsys, goat):
    src = tmp_path / "songs" / "Cadaver"
    src.mkdir(parents=True)
    shutil.copy(goat / "consultant.sng", src)
    (src / "broken.sng").write_bytes(b"GTS5" + bytes(40))
    code, out, err = run(
        capsys, "corpus", "build", tmp_path / "c", "--source", tmp_path / "songs", "--seconds", 3, "--quiet"
    )
    assert code == 0, err
    assert counts(out)["items"] == 2 and counts(out)["failed"] == 1 and "broken.sng" in err
    assert pieces(tmp_path / "c") and set().union(*pieces(tmp_path / "c").values()) == {"consultant"}


def test_cheesecutter_song_builds_through_ct2util(tmp_path, capsys):
    if realtunes.ct2util() is None:
        pytest.skip("CheeseCutter's ct2util is not installed (apt-get install cheesecutter)")
    if not (CHEESE / "wisdom-Adrift.ct").exists():
        pytest.skip(f"CheeseCutter's examples are not at {CHEESE}")
    src = tmp_path / "songs" / "Wisdom"
    src.mkdir(parents=True)
    shutil.copy(CHEESE / "wisdom-Adrift.ct", src)
    code, out, err = run(
        capsys, "corpus", "build", tmp_path / "c", "--source", tmp_path / "songs", "--seconds", 3, "--quiet"
    )
    assert code == 0, err
    assert counts(out)["failed"] == 0 and counts(out)["sequences"] >= 1
    tune = realtunes.read_ct(CHEESE / "wisdom-Adrift.ct", seconds=3)
    assert tune.header.title == "Adrift" and all(n > 0 for n in realtunes.gate_ons(tune))


def test_ct_songs_without_ct2util_are_one_line_and_stay_to_do(tmp_path, capsys, monkeypatch):
    src = tmp_path / "songs" / "x"
    src.mkdir(parents=True)
    (src / "a.ct").write_bytes(b"CC2" + bytes(10))
    (src / "b.ct").write_bytes(b"CC2" + bytes(10))
    (src / "t.sidl").write_text(TUNE)
    monkeypatch.setattr(build_mod, "ct2util", lambda: None)
    code, out, err = run(capsys, "corpus", "build", tmp_path / "c", "--source", tmp_path / "songs", "--quiet")
    assert code == 0
    assert err.strip().splitlines() == [
        "skipped 2 CheeseCutter .ct song(s): ct2util is not installed (apt-get install cheesecutter)"
    ]
    assert counts(out)["skipped_no_tool"] == 2
    assert (tmp_path / "c" / "shard-0-of-1" / "done.txt").read_text().split() == ["songs/x/t.sidl"]


def test_gather_writes_sources_and_resumes(tmp_path, capsys, exports, goat):
    sw = tmp_path / "sw"
    sw.mkdir()
    for name in ("congabeat", "flashitback"):
        shutil.copy(exports / f"{name}.sid", sw)
    gt = tmp_path / "gt"
    gt.mkdir()
    for name in ("dojo", "sixpack", "funktest"):
        shutil.copy(goat / f"{name}.sng", gt)
    shutil.copy(goat / "goatcompo.txt", gt)
    out = tmp_path / "real"
    argv = (
        "corpus",
        "gather",
        out,
        "--sid-wizard",
        sw,
        "--goattracker",
        gt,
        "--cheesecutter",
        tmp_path / "none",
        "--seconds",
        2,
        "--quiet",
    )
    code, stdout, err = run(capsys, *argv)
    assert code == 0, err
    assert "skipped cheesecutter" in err and "sid-wizard=2 goattracker=2" in stdout
    assert (out / "sid-wizard" / "congabeat.sid").read_bytes() == (sw / "congabeat.sid").read_bytes()
    record = json.loads((out / "sources.json").read_text())
    by = {Path(t["file"]).stem: t for t in record["tunes"]}
    assert set(by) == {"congabeat", "flashitback", "dojo", "sixpack"}
    assert by["congabeat"]["held_out"] and by["dojo"]["held_out"] and not by["sixpack"]["held_out"]
    assert by["congabeat"]["licence"] == "WTFPL" and by["dojo"]["licence"] == "GPL-2.0-or-later"
    assert by["sixpack"]["author"] == "No-XS (after beek)" and by["sixpack"]["composer"] == "No-XS"
    assert by["dojo"]["frames"] == pytest.approx(100, abs=2) and min(by["dojo"]["gate_ons"]) >= 0
    assert [a["origin"] for a in record["set_aside"]] == [str(gt / "funktest.sng")]
    md = (out / "SOURCES.md").read_text()
    assert "WTFPL" in md and "GPL-2" in md and "funktest.sng" in md and "held out" in md
    assert (out / "held-out.txt").read_text().split() == list(realtunes.HELD_OUT)
    # a second run keeps every output as it is
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.sid*")}
    code, stdout, _ = run(capsys, *argv)
    assert code == 0 and {p: p.stat().st_mtime_ns for p in out.rglob("*.sid*")} == stamps
    # and the folder builds, the held-out tunes into test
    code, _, err = run(capsys, "corpus", "build", tmp_path / "c", "--source", out, "--seconds", 2, "--quiet")
    assert code == 0, err
    split = pieces(tmp_path / "c")
    assert {"congabeat", "dojo"} <= split["test"] and not {"congabeat", "dojo"} & split["train"]


def test_gather_bad_input_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, _, err = run(capsys, "corpus", "gather", tmp_path / "file", "--quiet")
    assert code == 1 and err.count("\n") == 1 and "not a folder" in err
    code, _, err = run(capsys, "corpus", "gather", tmp_path / "out", "--seconds", 0, "--quiet")
    assert code == 2 and "--seconds" in err and err.count("\n") == 1


def test_held_out_names_match_exactly_or_as_globs():
    assert realtunes.held_out("wisdom-adrift") and realtunes.held_out("Dojo")
    assert not realtunes.held_out("dojo2") and not realtunes.held_out("congabeat-remix")
    assert realtunes.held_out("Last_Ninja_2", ["last_ninja*"]) and not realtunes.held_out("ninja", ["last*"])
    assert len(set(realtunes.HELD_OUT)) == 12


def test_sid_wizard_source_is_the_shared_testdata(testdata):
    """The gather's default SID-Wizard folder is the one beside the checkout (it once pointed
    inside the checkout after the package moved, and gather skipped every SID-Wizard tune)."""
    from sidlang.corpus.realtunes import SOURCES

    wizard = next(s for s in SOURCES if s.name == "sid-wizard")
    assert wizard.default_dir.resolve() == (testdata / "sid-wizard" / "sid-exports").resolve()
    assert any(wizard.default_dir.glob("*.sid"))
