"""The command line, run in-process: exit codes, one-line errors, whole-or-nothing outputs."""

import io
import os
import sys

import pytest

from sidlang.cli import main
from sidlang.formats.vice import write_vice, write_vice6
from sidlang.testing import player_log

TUNE_TEXT = '@title "t"\n0 v1 freq=C-4 wave=pulse,gate ad=$09 | vol=15\n8 v1 wave=pulse\n'


@pytest.fixture
def files(tmp_path):
    (tmp_path / "song.vice").write_bytes(write_vice(player_log(120)))
    (tmp_path / "song.vice6").write_bytes(write_vice6(player_log(120, chips=2, irq=True)))
    (tmp_path / "song.sidl").write_text(TUNE_TEXT)
    (tmp_path / "bad.sidl").write_text("0 v1 freq=C-4\n1 v1 frq=2\n")
    return tmp_path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("name, fmt", [("song.vice", "vice"), ("song.vice6", "vice6")])
def test_dump_to_sidl_and_back_is_byte_identical(files, capsys, name, fmt):
    src = files / name
    before = src.read_bytes()
    assert run(capsys, "convert", src, files / "x.sidl")[0] == 0
    assert run(capsys, "convert", files / "x.sidl", files / f"back.{fmt}")[0] == 0
    assert (files / f"back.{fmt}").read_bytes() == before
    assert src.read_bytes() == before  # the input is never touched


def test_info(files, capsys):
    code, out, err = run(capsys, "info", files / "song.vice")
    assert code == 0 and err == ""
    assert "frames" in out and "inferred from write bursts" in out and "v1 v2 v3" in out
    code, out, _ = run(capsys, "info", files / "song.vice6")
    assert "from IRQ times" in out and "s2.v1" in out


def test_info_says_whether_a_sid_can_hold_the_tune(files, capsys):
    import numpy as np

    import sidlang
    from sidlang.formats.sidwrite import CAPACITY
    from sidlang.tune import Header, Tune, make_writes

    def as_sid(out):
        return [line for line in out.splitlines() if line.startswith("as .sid")][0].split(None, 2)[2]

    _, out, _ = run(capsys, "info", files / "song.sidl")
    used = int(as_sid(out).split()[1])
    assert as_sid(out) == f"fits: {used} of {CAPACITY} bytes of C64 memory (0.2 s)" and 0 < used < 100
    # 12 random writes a frame (25 bytes) for more frames than fit: the error writing gives.
    n = CAPACITY // 20
    cyc = np.repeat(np.arange(n) * 19656, 12) + np.tile(np.arange(12) * 30, n)
    vals = np.random.default_rng(0).integers(0, 256, len(cyc))
    sidlang.save(
        Tune(Header(), make_writes(cyc, np.zeros(len(cyc)), np.tile(np.arange(12), n), vals)),
        files / "long.sidl",
    )
    code, out, _ = run(capsys, "info", files / "long.sidl")
    assert code == 0 and as_sid(out).startswith("cannot be written: too long for a .sid: the tune (")
    assert f"C64 memory holds {CAPACITY}; its first " in as_sid(out)


def test_syntax_error_is_one_line_with_position(files, capsys):
    code, out, err = run(capsys, "convert", files / "bad.sidl", files / "out.vice")
    assert code == 1
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"{files / 'bad.sidl'}:2:6: unknown field 'frq'" in err and "did you mean 'freq'" in err
    assert not (files / "out.vice").exists()


def test_bad_dump_is_one_line_with_line_number(files, capsys):
    (files / "bad.vice").write_text("1 4 1\n2 4 999\n")
    code, _, err = run(capsys, "info", files / "bad.vice")
    assert code == 1 and err.strip() == f"sidlang: {files / 'bad.vice'}:2: value 999 out of range 0–255"


@pytest.mark.parametrize(
    "argv, code",
    [
        ([], 2),
        (["convert", "only-one-arg"], 2),
        (["frobnicate"], 2),
        (["convert", "song.sidl", "out.xyz"], 2),
        (["convert", "song.sidl", "out.sidl", "--to", "nope"], 2),
        (["convert", "missing.sidl", "out.vice"], 1),
        (["info", "."], 1),
        (["--help"], 0),
        (["convert", "--help"], 0),
    ],
)
def test_exit_codes(files, capsys, monkeypatch, argv, code):
    monkeypatch.chdir(files)
    got, out, err = run(capsys, *argv)
    assert got == code
    if code == 1:
        assert err.count("\n") == 1 and "Traceback" not in err


def test_existing_output_needs_force(files, capsys):
    target = files / "out.vice"
    target.write_text("keep me")
    code, _, err = run(capsys, "convert", files / "song.sidl", target)
    assert code == 1 and "--force" in err and target.read_text() == "keep me"
    assert run(capsys, "convert", files / "song.sidl", target, "--force")[0] == 0
    assert target.read_text() != "keep me"


def test_output_may_not_be_the_input(files, capsys):
    src = files / "song.sidl"
    code, _, err = run(capsys, "convert", src, src, "--force", "--to", "sidl")
    assert code == 2 and src.read_text() == TUNE_TEXT


def test_failed_write_leaves_nothing_behind(files, capsys, monkeypatch):
    def broken(a, b):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken)
    monkeypatch.setattr(os, "link", broken)
    for force in ((), ("--force",)):
        code, _, err = run(capsys, "convert", files / "song.sidl", files / "out.vice", *force)
        assert code == 1 and err.count("\n") == 1 and "No space left on device" in err
    assert sorted(p.name for p in files.iterdir()) == sorted(
        ["song.vice", "song.vice6", "song.sidl", "bad.sidl"]
    )


def test_unwritable_conversion_writes_nothing(files, capsys):
    # A VICE dump counts cycles from 0, so a tune whose frame 0 starts earlier cannot be one.
    (files / "neg.sidl").write_text("@start -100\n0 vol=1\n")
    code, _, err = run(capsys, "convert", files / "neg.sidl", files / "neg.vice")
    assert code == 1 and "before cycle 0" in err and not (files / "neg.vice").exists()


def test_stdin_to_stdout(files, capsys, monkeypatch):
    data = (files / "song.vice").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    out = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out))
    assert main(["convert", "-", "-", "--from", "vice", "--to", "vice"]) == 0
    sys.stdout.flush()
    assert out.getvalue() == data


def test_stdin_needs_a_format(files, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"1 2 3\n")))
    code, _, err = run(capsys, "convert", "-", files / "o.sidl")
    assert code == 2 and "--from" in err


def test_api_load_save(files):
    import sidlang

    tune = sidlang.load(files / "song.vice")
    sidlang.save(tune, files / "again.sidl")
    assert sidlang.load(files / "again.sidl") == tune
    assert sidlang.parse(sidlang.dumps(tune)) == tune
    with pytest.raises(sidlang.UsageError):
        sidlang.load(b"1 2 3\n")


def test_outputs_get_the_usual_file_mode(files, capsys):
    old = os.umask(0o022)
    try:
        assert run(capsys, "convert", files / "song.sidl", files / "m.vice")[0] == 0
    finally:
        os.umask(old)
    assert (files / "m.vice").stat().st_mode & 0o777 == 0o644
