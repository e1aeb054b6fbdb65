"""``sidlang convert`` and friends on .sidp files, in-process."""

from __future__ import annotations

import shutil

import sidlang
from sidlang.cli import main
from sidlang.patterns import parse
from sidlang.patterns.player import play

from .test_text import EXAMPLE


def test_convert_sidp_to_sidl(tmp_path):
    src = tmp_path / "x.sidp"
    shutil.copy(EXAMPLE, src)
    out = tmp_path / "y.sidl"
    assert main(["convert", str(src), str(out)]) == 0
    got = sidlang.parse(out.read_text())
    want = play(parse(EXAMPLE.read_text()))
    assert (got.writes == want.writes).all()
    assert got.header.frames == want.header.frames


def test_subtune_and_seconds_options(tmp_path):
    src = tmp_path / "x.sidp"
    src.write_text("pattern 0\n  C-4\nsubtune 1\n  tempo 6\n  v1 @0\nsubtune 2\n  tempo 3\n  v2 0\n")
    out = tmp_path / "y.sidl"
    assert main(["convert", str(src), str(out), "--subtune", "2", "--seconds", "2"]) == 0
    assert sidlang.parse(out.read_text()).header.frames == 100  # PAL: 50 frames a second
    assert main(["convert", str(src), str(tmp_path / "z.sidl"), "--subtune", "3"]) == 2


def test_a_bad_file_is_exit_1_with_line_and_column(tmp_path, capsys):
    src = tmp_path / "bad.sidp"
    src.write_text("pattern 0\n  C-4 01 upp:3\n")
    assert main(["convert", str(src), str(tmp_path / "y.sidl")]) == 1
    err = capsys.readouterr().err
    assert "bad.sidp:2:10:" in err and "did you mean 'up'" in err
    assert not (tmp_path / "y.sidl").exists()


def test_writing_sidp_from_frames_infers_patterns(tmp_path):
    src = tmp_path / "x.sidl"
    src.write_text("# sidlang 1\n0 v1 freq=C-4 ad=$09 wave=pulse,gate\n12 v1 wave=pulse\n")
    assert main(["convert", str(src), str(tmp_path / "y.sidp")]) == 0
    song = parse((tmp_path / "y.sidp").read_text())
    assert song.patterns and song.subtunes[0].length == 13  # the tests in test_infer.py check the rest


def test_render_and_sid_out(tmp_path):
    import wave

    wav = tmp_path / "p.wav"
    assert main(["render", str(EXAMPLE), str(wav)]) == 0
    with wave.open(str(wav)) as w:
        assert w.getnframes() > w.getframerate() * 4  # 292 frames at 50 Hz: about 5.8 s
    sid = tmp_path / "p.sid"
    assert main(["convert", str(EXAMPLE), str(sid)]) == 0
    assert sid.read_bytes()[:4] == b"PSID"
