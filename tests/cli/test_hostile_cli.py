"""The command line against hostile and clumsy use, in-process where it can be.

Each case asserts the exit code (1 bad input, 2 usage), exactly one ``sidlang: …`` line on
stderr and nothing left behind: no output, no temporary file, the inputs unchanged. A long
render runs in a subprocess under an address-space cap; racing writers are forked processes.
"""

from __future__ import annotations

import hashlib
import io
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import sidlang
from sidlang.cli import main
from sidlang.repl import commands, journal
from sidlang.repl.session import Session

TUNE = """\
# sidlang 1
@title "Hostile"
@clock pal
@frames 40
0 vol=15 | v1 freq=A-4 sr=$f0 wave=tri,gate | v2 freq=E-3 sr=$f0 wave=pulse,gate pw=$800
10 v1 wave=tri
12 v1 wave=tri,gate freq=C-5
30 v2 wave=pulse
"""
ABC = "X:1\nT:t\nM:4/4\nL:1/4\nK:C\nCDEF|GABc|\n"
#: Bytes that are no safetensors file: the first 8 say a header of ~2**57 bytes.
GARBAGE = bytes(range(256)) * 4


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A folder holding the inputs, made the current folder; returns it."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "song.sidl").write_text(TUNE)
    (tmp_path / "in" / "garbage.weights").write_bytes(GARBAGE)
    (tmp_path / "in" / "ok.abc").write_text(ABC)
    for ending in ("abc", "krn", "musicxml"):  # a score whose text is the path of another score
        (tmp_path / "in" / f"path.{ending}").write_text(str(tmp_path / "in" / "ok.abc"))
    (tmp_path / "in" / "corpus" / "shard-0").mkdir(parents=True)
    (tmp_path / "in" / "corpus" / "shard-0" / "part-0.npz").write_bytes(b"")  # looks like a corpus
    (tmp_path / "in" / "silent.wav").write_bytes(_silent_wav())
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path / "out")
    return tmp_path


def _silent_wav() -> bytes:
    """A second of 16-bit mono digital silence at 44.1 kHz."""
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(bytes(2 * 44100))
    return buf.getvalue()


def _sums(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


def _one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("sidlang: ") and "Traceback" not in err, err
    return err


#: (id, argv with {in} the input folder, exit code, words the line holds).
REFUSED = [
    (
        "seconds-on-sidl",
        ["convert", "{in}/song.sidl", "o.vice", "--seconds", "10"],
        2,
        "--seconds does not apply",
    ),
    (
        "subtune-on-sidl",
        ["convert", "{in}/song.sidl", "o.vice", "--subtune", "2"],
        2,
        "--subtune does not apply",
    ),
    (
        "clock-on-sidl",
        ["convert", "{in}/song.sidl", "o.vice", "--clock", "ntsc"],
        2,
        "--clock does not apply",
    ),
    ("seconds-on-info", ["info", "{in}/song.sidl", "--seconds", "3"], 2, "--seconds does not apply"),
    (
        "continue-frames",
        ["continue", "{in}/song.sidl", "o.sidl", "--frames", "5000000"],
        2,
        "--frames must be",
    ),
    ("continue-seed", ["continue", "{in}/song.sidl", "o.sidl", "--frames", "9", "--seed", "-1"], 2, "--seed"),
    (
        "continue-nan",
        ["continue", "{in}/song.sidl", "o.sidl", "--frames", "9", "--temperature", "nan"],
        2,
        "--temperature",
    ),
    (
        "continue-inf",
        ["continue", "{in}/song.sidl", "o.sidl", "--frames", "9", "--temperature", "inf"],
        2,
        "--temperature",
    ),
    (
        "continue-negative",
        ["continue", "{in}/song.sidl", "o.sidl", "--frames", "9", "--temperature", "-1"],
        2,
        "--temperature",
    ),
    (
        "continue-top-p",
        ["continue", "{in}/song.sidl", "o.sidl", "--frames", "9", "--top-p", "nan"],
        2,
        "--top-p",
    ),
    (
        "continue-weights",
        ["continue", "{in}/song.sidl", "o.sidl", "--frames", "9", "--weights", "{in}/garbage.weights"],
        1,
        "not a sidlang weights file",
    ),
    (
        "continue-weights-folder",
        ["continue", "{in}/song.sidl", "o.sidl", "--frames", "9", "--weights", "{in}"],
        1,
        "is a folder",
    ),
    (
        "continue-weights-missing",
        ["continue", "{in}/song.sidl", "o.sidl", "--frames", "9", "--weights", "{in}/none.weights"],
        1,
        "no such weights file",
    ),
    (
        "eval-weights",
        ["eval", "{in}/song.sidl", "--weights", "{in}/garbage.weights"],
        1,
        "not a sidlang weights",
    ),
    ("eval-frames", ["eval", "{in}/song.sidl", "--frames", "0"], 2, "--frames"),
    ("eval-seed", ["eval", "{in}/song.sidl", "--seed", "-1"], 2, "--seed"),
    ("train-no-corpus", ["train", "{in}", "run", "--init", "{in}/garbage.weights"], 1, "no corpus parts"),
    (
        "train-init",
        ["train", "{in}/corpus", "run", "--init", "{in}/garbage.weights"],
        1,
        "not a sidlang weights",
    ),
    ("render-seconds-nan", ["render", "{in}/song.sidl", "o.wav", "--seconds", "nan"], 2, "seconds"),
    ("render-seconds-day", ["render", "{in}/song.sidl", "o.wav", "--seconds", "1e9"], 2, "at most a day"),
    (
        "pianoroll-in-no-folder",
        ["render", "{in}/song.sidl", "o.wav", "--seconds", "0.2", "--pianoroll", "nodir/p.png"],
        1,
        "no such folder",
    ),
    ("render-over-input", ["render", "{in}/song.sidl", "{in}/song.sidl", "--force"], 2, "is the input file"),
    (
        "pianoroll-over-input",
        ["render", "{in}/song.sidl", "o.wav", "--pianoroll", "{in}/song.sidl", "--force"],
        2,
        "is the input file",
    ),
    (
        "continue-over-input",
        ["continue", "{in}/song.sidl", "{in}/song.sidl", "--frames", "2", "--force"],
        2,
        "is the input file",
    ),
    (
        "convert-over-input",
        ["convert", "{in}/song.sidl", "{in}/song.sidl", "--force"],
        2,
        "is the input file",
    ),
    ("play-wav-over-input", ["play", "{in}/song.sidl", "--wav", "{in}/song.sidl"], 2, "is the input file"),
    ("abc-text-is-a-path", ["convert", "{in}/path.abc", "o.sidl"], 1, "not a readable abc file"),
    ("krn-text-is-a-path", ["convert", "{in}/path.krn", "o.sidl"], 1, "not a readable humdrum file"),
    (
        "musicxml-text-is-a-path",
        ["convert", "{in}/path.musicxml", "o.sidl"],
        1,
        "not a readable musicxml file",
    ),
    ("corpus-name-is-a-path", ["convert", "music21:{in}/ok.abc", "o.sidl"], 1, "not in the music21 corpus"),
    ("fit-silence", ["fit", "{in}/silent.wav", "o.sidl"], 1, "silent.wav: the sound is silent"),
]


@pytest.mark.parametrize("case_id, argv, code, words", REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_in_one_line_leaving_nothing(work, capsys, case_id, argv, code, words):
    before = _sums(work / "in")
    assert main([a.replace("{in}", str(work / "in")) for a in argv]) == code
    captured = capsys.readouterr()
    assert words in _one_line(captured.err) and captured.out == ""
    assert list((work / "out").iterdir()) == []  # no output, no temporary file
    assert _sums(work / "in") == before  # inputs never modified


def test_a_stem_that_is_a_folder_leaves_no_other_output(work, capsys):
    (work / "out" / "o-v2.wav").mkdir()
    assert main(["render", str(work / "in" / "song.sidl"), "o.wav", "--stems"]) == 1
    assert "o-v2.wav: is a folder" in _one_line(capsys.readouterr().err)
    assert [p.name for p in (work / "out").iterdir()] == ["o-v2.wav"]


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null")
def test_a_device_is_never_replaced_even_with_force(work, capsys):
    assert main(["convert", str(work / "in" / "song.sidl"), "/dev/null", "--to", "vice", "--force"]) == 1
    assert "not a plain file" in _one_line(capsys.readouterr().err)
    assert Path("/dev/null").is_char_device()


def test_an_endless_input_stops_at_the_size_limit(work, capsys, monkeypatch):
    monkeypatch.setattr(sidlang.io, "MAX_INPUT_BYTES", 1000)
    (work / "in" / "big.sidl").write_text("0 vol=15\n" * 200)
    assert main(["info", str(work / "in" / "big.sidl")]) == 1
    assert "inputs may be at most" in _one_line(capsys.readouterr().err)
    if os.path.exists("/dev/zero"):
        assert main(["info", "/dev/zero", "--from", "sidl"]) == 1
        assert "goes on past" in _one_line(capsys.readouterr().err)


# -- binary output and standard output ----------------------------------------------------


class _Terminal(io.BytesIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("fmt", ["wav", "syx", "sid", "mid"])
def test_every_binary_format_is_refused_on_a_terminal(work, capsys, monkeypatch, fmt):
    tty = io.TextIOWrapper(_Terminal())
    monkeypatch.setattr(sys, "stdout", tty)
    assert main(["convert", str(work / "in" / "song.sidl"), "-", "--to", fmt]) == 2
    assert "terminal" in _one_line(capsys.readouterr().err)
    assert tty.buffer.getvalue() == b""


def test_continue_to_standard_output(work, capsys, monkeypatch):
    tty = io.TextIOWrapper(_Terminal())
    monkeypatch.setattr(sys, "stdout", tty)
    song = str(work / "in" / "song.sidl")
    assert main(["continue", song, "-", "--frames", "2", "--to", "mid"]) == 2  # before the model loads
    assert "terminal" in _one_line(capsys.readouterr().err)
    monkeypatch.undo()
    monkeypatch.chdir(work / "out")
    assert main(["continue", song, "-", "--frames", "2", "--seed", "1"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# sidlang") and len(sidlang.parse(text).frames) >= 40
    assert list((work / "out").iterdir()) == []  # no file named '-'


# -- outputs: link or fail, stale temporary files -------------------------------------------


def _convert_at_barrier(barrier, argv) -> None:
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115 - the child ends with os._exit
    barrier.wait()
    os._exit(main(argv))


def test_racing_converts_to_one_new_name_exactly_one_wins(work):
    """Ten rounds of two forked ``convert`` runs to one new name, released together."""
    fork = multiprocessing.get_context("fork")
    song = str(work / "in" / "song.sidl")
    vice = sidlang.io.encode(sidlang.load(song), "x.vice")
    vice6 = sidlang.io.encode(sidlang.load(song), "x.vice6")
    for r in range(10):
        out = str(work / "out" / f"o{r}.vice")
        barrier = fork.Barrier(2)
        racers = [
            fork.Process(target=_convert_at_barrier, args=(barrier, ["convert", song, out, "--to", to]))
            for to in ("vice", "vice6")
        ]
        for p in racers:
            p.start()
        for p in racers:
            p.join(60)
        codes = [p.exitcode for p in racers]
        assert sorted(codes) == [0, 1], (r, codes)
        assert Path(out).read_bytes() == (vice if codes[0] == 0 else vice6)
    assert sorted(p.name for p in (work / "out").iterdir()) == [f"o{r}.vice" for r in range(10)]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


def test_stale_temporary_files_of_our_pattern_are_removed(work):
    out = work / "out"
    dead = out / f".o.vice.{_dead_pid()}-0a1b2c3d.tmp"
    old = out / ".o.vice.0a1b2c3d.tmp"  # the older pattern, untouched for two hours
    live = out / f".o.vice.{os.getppid()}-0a1b2c3d.tmp"  # a writer that still runs
    fresh = out / ".o.vice.9a8b7c6d.tmp"  # older pattern, written a moment ago
    other = out / ".o.vice.notours"
    for p in (dead, old, live, fresh, other):
        p.write_bytes(b"x")
    os.utime(old, (time.time() - 7200,) * 2)
    assert main(["convert", str(work / "in" / "song.sidl"), "o.vice"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([live.name, fresh.name, other.name, "o.vice"])


# -- the REPL's files: link or fail too ------------------------------------------------------


@pytest.fixture
def repl(tmp_path):
    from rich.console import Console

    session = Session(journal.Journal.create(tmp_path / "journal"))
    session.change(sidlang.parse(TUNE), "load", clean=True)
    return commands.Context(session, Console(file=io.StringIO()))


def _run(ctx, line: str) -> None:
    cmd, args = commands.check(line)
    cmd.run(ctx, args)


@pytest.mark.parametrize("line, name", [("render {}", "o.wav"), ("asid {}", "o.syx"), ("save {}", "o.vice")])
def test_a_repl_file_that_appears_meanwhile_is_not_replaced(repl, work, monkeypatch, line, name):
    """Another program makes the name after the REPL's check and before its file is placed."""
    target = work / "out" / name
    real = sidlang.io._place

    def place(tmp, path, force):
        target.write_bytes(b"theirs")
        real(tmp, path, force)

    monkeypatch.setattr(sidlang.io, "_place", place)
    with pytest.raises(sidlang.SidlangError, match="already exists"):
        _run(repl, line.format(target))
    assert target.read_bytes() == b"theirs"
    assert [p.name for p in (work / "out").iterdir()] == [name]


def test_repl_render_refuses_before_rendering(repl, work, monkeypatch):
    from sidlang.formats import render

    monkeypatch.setattr(render, "stream_wav", lambda *a, **k: pytest.fail("rendered"))
    (work / "out" / "d.wav").mkdir()
    for line, words in (("render d.wav", "is a folder"), ("render nodir/x.wav", "no such folder")):
        with pytest.raises(sidlang.SidlangError, match=words):
            _run(repl, line)
    assert [p.name for p in (work / "out").iterdir()] == ["d.wav"]


@pytest.mark.parametrize(
    "line, words",
    [
        ("loop 0-0 100000000", "frames; a tune has at most"),
        ("continue 5000000", "continue writes 1–"),
        ("transpose 100000000", "at most 96 semitones"),
    ],
)
def test_repl_limits_before_work(repl, line, words):
    from sidlang.repl.args import ArgError

    start = repl.session.tune
    t = time.monotonic()
    with pytest.raises((sidlang.SidlangError, ArgError)) as e:
        _run(repl, line)
    message = e.value.message if isinstance(e.value, ArgError) else str(e.value)
    assert words in message and "\n" not in message and time.monotonic() - t < 5
    assert repl.session.tune == start


# -- a long render: streamed in blocks, memory flat ------------------------------------------

LONG_RENDER = r"""
import resource, sys
cap = int(sys.argv[1]) << 20
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from sidlang.formats import render as R

class Chip:  # reSIDfp's sample count, without its minutes of work: the memory is the renderer's
    def __init__(self):
        self.acc = 0.0
    def clock(self, n):
        self.acc += n * 44100 / 985248
        k = int(self.acc)
        self.acc -= k
        return [0] * k
    def write(self, reg, val):
        pass
    def mute(self, voice, on):
        pass

R._sid = lambda *a: Chip()
from sidlang.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_a_20_minute_render_fits_under_an_800_mb_address_space(work):
    """Held whole (32 bytes a sample) 20 minutes take 1.7 GB; streamed, the cap is plenty."""
    seconds = 1200
    out = work / "out" / "long.wav"
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            LONG_RENDER,
            "800",
            "render",
            str(work / "in" / "song.sidl"),
            str(out),
            "--seconds",
            str(seconds),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.stat().st_size == 44 + seconds * 44100 * 2
    assert [p.name for p in (work / "out").iterdir()] == ["long.wav"]


@pytest.mark.parametrize(
    "error, words",
    [
        (MemoryError(), "info: out of memory"),
        (OSError(28, "No space left on device", "out.wav"), "out.wav: No space left on device"),
    ],
)
def test_memory_and_system_errors_are_one_line(monkeypatch, capsys, error, words):
    """Whatever gives way underneath a command, the user reads one line and exit code 1."""
    import sidlang.cli.info as info_cmd

    def boom(args):
        raise error

    monkeypatch.setattr(info_cmd, "run", boom)
    from sidlang.cli import main

    code = main(["info", str(Path(__file__).resolve().parents[2] / "examples" / "first-light.sidl")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("sidlang: ") and words in err and err.count("\n") == 1
