"""``sidlang render``, ``play`` and ``asid`` in-process: exit codes, files, one-line errors."""

from __future__ import annotations

import io
import sys
import time
import types

import mido
import pytest

import sidlang
from sidlang.cli import main
from sidlang.formats import asid, asid_midi
from sidlang.formats.render import read_wav
from sidlang.pitch import PAL_FRAME, PAL_HZ

TUNE = """\
# sidlang 1
@title "Two voices"
@clock pal
@frames 25
0 vol=15 | v1 freq=A-4 sr=$f0 wave=tri,gate | v2 freq=E-3 sr=$f0 wave=pulse,gate pw=$800
10 v1 wave=tri
12 v1 wave=tri,gate freq=C-5
"""
SAMPLES = 25 * PAL_FRAME * 44100 // PAL_HZ


@pytest.fixture
def song(tmp_path):
    path = tmp_path / "song.sidl"
    path.write_text(TUNE)
    return path


def test_render_writes_a_wav(song, tmp_path, capsys):
    out = tmp_path / "song.wav"
    assert main(["render", str(song), str(out)]) == 0
    samples, rate = read_wav(out.read_bytes())
    assert rate == 44100 and samples.shape == (SAMPLES, 1)
    assert capsys.readouterr().err == ""  # no progress when stderr is not a terminal


def test_render_options(song, tmp_path):
    out = tmp_path / "x.wav"
    assert (
        main(
            [
                "render",
                str(song),
                str(out),
                "--rate",
                "22050",
                "--stereo",
                "--seconds",
                "0.5",
                "--chip",
                "8580",
                "--normalize",
                "--no-filter",
                "--method",
                "decimate",
            ]
        )
        == 0
    )
    samples, rate = read_wav(out.read_bytes())
    assert rate == 22050 and samples.shape == (11025, 2)


def test_render_refuses_to_overwrite_without_force(song, tmp_path, capsys):
    out = tmp_path / "song.wav"
    out.write_bytes(b"precious")
    assert main(["render", str(song), str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists" in err
    assert out.read_bytes() == b"precious"
    assert main(["render", str(song), str(out), "--force"]) == 0


def test_render_stems(song, tmp_path):
    out = tmp_path / "song.wav"
    assert main(["render", str(song), str(out), "--stems"]) == 0
    for name in ("song-v1.wav", "song-v2.wav", "song-v3.wav"):
        samples, _ = read_wav((tmp_path / name).read_bytes())
        assert samples.shape == (SAMPLES, 1)


def test_render_bad_rate_is_a_usage_error(song, tmp_path, capsys):
    assert main(["render", str(song), str(tmp_path / "x.wav"), "--rate", "100"]) == 2
    assert "rate must be" in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()


def test_render_missing_input(tmp_path, capsys):
    assert main(["render", str(tmp_path / "nope.sidl"), str(tmp_path / "x.wav")]) == 1
    assert "no such file" in capsys.readouterr().err


def test_render_pictures(song, tmp_path):
    pytest.importorskip("matplotlib")
    spec, roll = tmp_path / "spec.png", tmp_path / "roll.png"
    assert (
        main(
            [
                "render",
                str(song),
                str(tmp_path / "x.wav"),
                "--spectrogram",
                str(spec),
                "--pianoroll",
                str(roll),
            ]
        )
        == 0
    )
    for png in (spec, roll):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_render_pictures_without_matplotlib(song, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails as if not installed
    assert main(["render", str(song), str(tmp_path / "x.wav"), "--spectrogram", str(tmp_path / "s.png")]) == 1
    assert "sidlang[pictures]" in capsys.readouterr().err
    assert not (tmp_path / "x.wav").exists()  # refused before rendering


# -- play --------------------------------------------------------------------------------------


def test_play_without_sounddevice_writes_the_wav_and_says_where(song, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "sounddevice", None)
    wav = tmp_path / "heard.wav"
    assert main(["play", str(song), "--wav", str(wav)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sounddevice" in err and str(wav) in err
    assert read_wav(wav.read_bytes())[0].shape == (SAMPLES, 1)


def test_play_without_an_output_device(song, monkeypatch, capsys, tmp_path):
    fake = types.ModuleType("sounddevice")

    def query_devices(kind=None):
        raise ValueError("No output device matching ''")

    fake.query_devices = query_devices
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    assert main(["play", str(song)]) == 1
    err = capsys.readouterr().err
    assert "no audio output device" in err and "sidlang-play-song.wav" in err
    assert (tmp_path / "sidlang-play-song.wav").exists()


def test_play_through_a_device(song, monkeypatch):
    played = {}
    fake = types.ModuleType("sounddevice")
    fake.query_devices = lambda kind=None: {"name": "speaker"}
    fake.play = lambda data, rate, blocking: played.update(shape=data.shape, rate=rate)
    monkeypatch.setitem(sys.modules, "sounddevice", fake)
    assert main(["play", str(song), "--rate", "48000"]) == 0
    assert played == {"shape": (25 * PAL_FRAME * 48000 // PAL_HZ, 1), "rate": 48000}


# -- asid --------------------------------------------------------------------------------------


def test_asid_to_syx_and_back(song, tmp_path):
    out = tmp_path / "song.syx"
    assert main(["asid", str(song), "--out", str(out)]) == 0
    back = sidlang.load(out)
    tune = sidlang.parse(TUNE)
    assert (back.frames.state(0) == tune.frames.state(0)).all()


def test_asid_to_mid(song, tmp_path):
    out = tmp_path / "song.mid"
    assert main(["asid", str(song), "--out", str(out)]) == 0
    midi = mido.MidiFile(out)
    ticks, tick = [], 0
    for msg in midi.tracks[0]:
        tick += msg.time
        if msg.type == "sysex" and msg.data[1] == asid.UPDATE:
            ticks.append(tick)
    assert ticks == [0, 10, 12]


def test_asid_bad_ending(song, tmp_path, capsys):
    assert main(["asid", str(song), "--out", str(tmp_path / "x.txt")]) == 2
    assert ".syx or .mid" in capsys.readouterr().err


def test_asid_needs_a_destination(song):
    assert main(["asid", str(song)]) == 2


def test_asid_without_a_midi_system(song, monkeypatch, capsys):
    def no_alsa():
        raise OSError("MidiOutAlsa::initialize: error creating ALSA sequencer client object.")

    monkeypatch.setattr(mido, "get_output_names", no_alsa)
    assert main(["asid", "--list-ports"]) == 1
    assert main(["asid", str(song), "--port", "SidStation"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2 and all("no MIDI system" in line for line in lines)


class FakePort:
    name = "TherapSID MIDI 1"

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.times: list[float] = []
        self.closed = False

    def send(self, message) -> None:
        self.received.append(bytes(message.bytes()))
        self.times.append(time.monotonic())

    def close(self) -> None:
        self.closed = True


def test_asid_live_to_a_port(song, monkeypatch, capsys):
    port = FakePort()
    monkeypatch.setattr(mido, "get_output_names", lambda: ["Midi Through", port.name])
    monkeypatch.setattr(mido, "open_output", lambda name: port)
    # A short tune (25 frames, half a second) sent in real time.
    assert main(["asid", str(song), "--port", "therapsid"]) == 0
    assert port.closed
    commands = [m[2] for m in port.received]
    assert commands[0] == asid.START and commands[-1] == asid.STOP
    # Updates for the frames that change (0, 10, 12), then the closing silence at frame 25.
    at = [t for t, m in zip(port.times, port.received) if m[2] == asid.UPDATE]
    assert len(at) == 4
    frame = PAL_FRAME / PAL_HZ
    for n, t in zip((10, 12, 25), at[1:]):
        assert t - at[0] == pytest.approx(n * frame, abs=0.005)
    assert "worst lateness" in capsys.readouterr().err


def test_asid_unknown_port(song, monkeypatch, capsys):
    monkeypatch.setattr(mido, "get_output_names", lambda: ["Midi Through"])
    assert main(["asid", str(song), "--port", "SidStation"]) == 1
    assert "'Midi Through'" in capsys.readouterr().err


def test_list_ports(monkeypatch, capsys):
    monkeypatch.setattr(mido, "get_output_names", lambda: ["A", "B"])
    assert main(["asid", "--list-ports"]) == 0
    assert capsys.readouterr().out == "A\nB\n"


def test_help_lists_the_new_formats(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "render" in out and "asid" in out and ".syx" in out


def test_convert_to_wav_on_stdout(song, monkeypatch):
    buf = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", types.SimpleNamespace(buffer=buf, flush=lambda: None))
    assert main(["convert", str(song), "-", "--to", "wav"]) == 0
    assert read_wav(buf.getvalue())[0].shape == (SAMPLES, 1)


def test_asid_mid_reads_back(song, tmp_path):
    out = tmp_path / "song.mid"
    assert main(["asid", str(song), "--out", str(out)]) == 0
    back = asid_midi.read_mid(out.read_bytes())
    assert len(back.frames) == 25
