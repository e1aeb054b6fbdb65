"""Rendering through reSIDfp: pitch, silence, exact lengths, exact write times, mixing, stems."""

from __future__ import annotations

import numpy as np
import pytest

import sidlang
from sidlang.errors import UsageError
from sidlang.formats.render import (
    NORMALIZE_PEAK,
    RenderOptions,
    read_wav,
    render,
    render_chip,
    render_stems,
    span,
)
from sidlang.pitch import NTSC_HZ, PAL_FRAME, PAL_HZ
from sidlang.tune import Header, Tune, make_writes

RATE = 44100


def note(name: str = "A-4", wave: str = "tri", frames: int = 50, extra: str = "", header: str = "") -> Tune:
    """One voice holding a note at full sustain for ``frames`` frames."""
    return sidlang.parse(
        f"# sidlang 1\n@clock pal\n@frames {frames}\n{header}"
        f"0 vol=15 | v1 freq={name} ad=$00 sr=$f0 wave={wave},gate {extra}\n"
    )


def peak_hz(samples: np.ndarray, rate: int = RATE) -> float:
    """Frequency of the strongest spectral line, refined by parabolic interpolation."""
    x = samples.astype(np.float64).ravel()
    x = (x - x.mean()) * np.hanning(len(x))
    spectrum = np.abs(np.fft.rfft(x))
    k = int(np.argmax(spectrum[1:])) + 1
    a, b, c = np.log(spectrum[k - 1 : k + 2] + 1e-9)
    shift = 0.5 * (a - c) / (a - 2 * b + c)
    return (k + shift) * rate / len(x)


@pytest.mark.parametrize("model", [6581, 8580])
@pytest.mark.parametrize(("name", "hz"), [("A-4", 440.0), ("C-3", 130.81), ("E-5", 659.26)])
def test_pitch_of_a_note_from_its_spectrum_peak(model, name, hz):
    audio = render(note(name), RenderOptions(chip=model))
    assert abs(peak_hz(audio[RATE // 10 :]) - hz) < hz * 0.003  # 5 cents


def test_ntsc_clock_gives_the_same_pitch():
    tune = sidlang.parse(
        "# sidlang 1\n@clock ntsc\n@frames 60\n0 vol=15 | v1 freq=A-4 sr=$f0 wave=tri,gate\n"
    )
    assert tune.header.clock_hz == NTSC_HZ
    assert abs(peak_hz(render(tune)[RATE // 10 :]) - 440.0) < 1.5


def test_silence_without_gate():
    # Everything set up, volume up, but the gate never opens: only the chip's DC drift remains.
    quiet = render(sidlang.parse("# sidlang 1\n@frames 50\n0 vol=15 | v1 freq=A-4 ad=$00 sr=$f0 wave=tri\n"))
    loud = render(note())
    tail = slice(RATE // 10, None)
    assert np.std(np.diff(quiet[tail, 0].astype(float))) < 20
    assert np.std(np.diff(loud[tail, 0].astype(float))) > 100


@pytest.mark.parametrize("method", ["resample", "decimate"])
@pytest.mark.parametrize("rate", [44100, 48000, 22050])
@pytest.mark.parametrize("frames", [1, 7, 50])
def test_exact_sample_count_for_a_cycle_count(method, rate, frames):
    tune = note(frames=frames)
    cycles = frames * PAL_FRAME
    audio = render(tune, RenderOptions(rate=rate, method=method))
    assert audio.shape == (cycles * rate // PAL_HZ, 1)


@pytest.mark.parametrize("seconds", [0.25, 1.0, 1.5])
def test_seconds_gives_exactly_that_many_samples(seconds):
    audio = render(note(frames=20), RenderOptions(seconds=seconds, rate=48000))
    assert len(audio) == round(seconds * 48000)


def test_seconds_past_the_end_rings_on():
    # 10 frames of a held note, rendered for 1 s: the note keeps sounding to the end.
    audio = render(note(frames=10), RenderOptions(seconds=1.0))
    assert np.std(np.diff(audio[-RATE // 10 :, 0].astype(float))) > 100


def onset(samples: np.ndarray) -> int:
    """First sample after the volume click of frame 0 where the output leaves the chip's slow
    idle drift. The drift usually moves under 4 a sample, but a reSIDfp 6581 can carry more
    after earlier renders in the same process, so the threshold follows the drift measured
    in the idle stretch before any note (samples 100–300)."""
    d = np.abs(np.diff(samples[100:, 0].astype(float)))
    threshold = max(8.0, 3 * float(d[:200].max()))
    return 100 + int(np.argmax(d > threshold))


@pytest.mark.parametrize("shift", [1000, 4321, 19656])
def test_a_write_lands_at_its_exact_cycle(shift):
    # Pulse at frequency 0 with width 0 is a constant full-scale wave, so the note starts as a
    # DC step scaled by the envelope: its onset does not depend on an oscillator's phase.
    base = 10_000

    def gated_at(cycle):
        w = make_writes([0, 0, 0, cycle], [0] * 4, [24, 6, 5, 4], [15, 0xF0, 0x00, 0x41])
        return Tune(Header(frames=4), w)

    a, b = render(gated_at(base)), render(gated_at(base + shift))
    expected = shift * RATE / PAL_HZ
    assert onset(a) > base * RATE / PAL_HZ
    assert abs((onset(b) - onset(a)) - expected) <= 1.0


def same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal but for reSIDfp's output noise: two runs of the same writes differ by a few LSB
    (at most 4 in hundreds of runs here, and rarely a little more), where a different sound
    differs by thousands."""
    d = np.abs(a.astype(np.int32) - b) if a.shape == b.shape else None
    return d is not None and int(d.max()) <= 32 and float(d.mean()) <= 2


def test_mono_mix_averages_the_chips_and_stereo_pans_them():
    w = make_writes(
        [0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1], [24, 1, 6, 4, 24, 1], [15, 0x20, 0xF0, 0x21, 15, 0x30]
    )
    tune = Tune(Header(models=(6581, 6581), sids=(0xD400, 0xD420), frames=25), w)
    one, two = render_chip(tune, 0), render_chip(tune, 1)
    mono = render(tune)
    assert mono.shape[1] == 1
    assert np.abs(mono[:, 0] - (one.astype(float) + two) / 2).max() <= 4
    stereo = render(tune, RenderOptions(stereo=True))
    assert stereo.shape[1] == 2
    assert same(stereo[:, 0], one) and same(stereo[:, 1], two)
    assert not same(stereo[:, 0], stereo[:, 1])


def test_one_chip_in_stereo_is_the_same_on_both_sides():
    stereo = render(note(frames=10), RenderOptions(stereo=True))
    assert same(stereo[:, 0], stereo[:, 1])


def test_chip_option_overrides_the_header_model():
    tune = note(frames=10)
    assert tune.header.models == (6581,)
    assert not same(render(tune), render(tune, RenderOptions(chip=8580)))
    assert same(render(tune, RenderOptions(chip=6581)), render(tune))


def test_filter_options_change_the_sound():
    tune = note("A-3", wave="saw", frames=20, extra="| cut=$300 res=8 route=v1 mode=lp vol=15")
    plain = render(tune)
    assert not same(plain, render(tune, RenderOptions(filter=False)))
    assert not same(plain, render(tune, RenderOptions(curve_6581=0.9)))


def test_normalize_puts_the_peak_at_minus_one_dbfs():
    audio = render(note(frames=20), RenderOptions(normalize=True))
    assert abs(int(np.abs(audio.astype(np.int32)).max()) - NORMALIZE_PEAK * 32767) <= 1


def test_stems_hold_one_voice_each():
    tune = sidlang.parse(
        "# sidlang 1\n@frames 40\n0 vol=15 | v1 freq=A-3 sr=$f0 wave=tri,gate | "
        "v2 freq=E-4 sr=$f0 wave=tri,gate | v3 freq=C-5 sr=$f0 wave=tri,gate\n"
    )
    stems = render_stems(tune)
    assert list(stems) == ["v1", "v2", "v3"]
    for (name, samples), hz in zip(stems.items(), (220.0, 329.63, 523.25)):
        assert samples.shape == (len(render(tune)), 1), name
        assert abs(peak_hz(samples[RATE // 10 :]) - hz) < hz * 0.003, name


def test_wav_format_through_save_and_convert(tmp_path):
    tune = note(frames=25)
    path = tmp_path / "x.wav"
    sidlang.save(tune, path, rate=22050, stereo=True)
    samples, rate = read_wav(path.read_bytes())
    assert rate == 22050 and samples.shape == (25 * PAL_FRAME * 22050 // PAL_HZ, 2)
    text = tmp_path / "x.sidl"
    text.write_text(sidlang.dumps(tune))
    from sidlang.cli import main

    assert main(["convert", str(text), str(tmp_path / "y.wav")]) == 0
    assert read_wav((tmp_path / "y.wav").read_bytes())[1] == 44100


@pytest.mark.parametrize(
    "options",
    [
        {"rate": 1000},
        {"chip": 6582},
        {"seconds": -1.0},
        {"curve_6581": 2.0},
        {"method": "cubic"},
        {"volume": 3},
    ],
)
def test_bad_options_are_usage_errors(options):
    with pytest.raises(UsageError):
        sidlang.io.encode(note(frames=1), "x.wav", **options)


def test_span_starts_at_frame_zero():
    tune = Tune(Header(start_cycle=5000, frames=3), make_writes([5000], [0], [24], [15]))
    assert span(tune, RenderOptions()) == (5000, 5000 + 3 * PAL_FRAME, 3 * PAL_FRAME * RATE // PAL_HZ)
