"""A note's analysis before the search: noise told from pitch, the vibrato and slide measured
from the pitch frame by frame, the noise colour found; each would cost the search its renders."""

import numpy as np
import pytest

from sidlang.c64.compare import score_at
from sidlang.fit.features import to_rate
from sidlang.fit.noteshape import NOISE_FLATNESS, TONE_FLATNESS, fit_motion, flatness
from sidlang.fit.patch import Patch
from sidlang.fit.search import SPF, fit_patch
from sidlang.fit.synth import RATE, render_frames
from sidlang.pitch import PAL_HZ, note_to_reg, reg_to_hz

NOISE = Patch(wave="noise", a=0, d=7, s=0, r=0, gate=5, freq=0x3000)
VIBRATO = Patch(
    wave="tri", a=2, d=4, s=12, r=6, gate=35, freq=note_to_reg(72, 0, PAL_HZ), vib_depth=60, vib_period=8
)


def test_noise_is_told_from_a_waveform_with_harmonics():
    assert flatness(render_frames(NOISE.frames(40))) > NOISE_FLATNESS
    for wave in ("pulse", "saw", "tri"):
        assert flatness(render_frames(VIBRATO.replace(wave=wave).frames(40))) < TONE_FLATNESS


@pytest.mark.parametrize(
    "patch",
    [
        VIBRATO,
        Patch(wave="pulse", freq=3000, vib_depth=40, vib_period=12, a=0, d=0, s=15, gate=50),
        Patch(wave="saw", freq=5000, slide=7, a=0, d=0, s=15, gate=50),
        Patch(wave="saw", freq=5000, a=0, d=0, s=15, gate=50),
    ],
    ids=["tri-vibrato", "pulse-vibrato", "saw-slide", "saw-steady"],
)
def test_the_pitch_program_is_measured_from_the_sound(patch):
    x = render_frames(patch.frames(60))
    # the search starts from the pitch of the mean spectrum, a little off: 1 % here
    m = fit_motion(x, 60, SPF, reg_to_hz(patch.freq, PAL_HZ) * 1.01)
    assert abs(m.freq - patch.freq) <= patch.freq * 0.002
    assert abs(m.slide - patch.slide) <= 1
    if patch.vib_depth:
        assert m.vib_period == patch.vib_period
        assert abs(m.vib_depth - patch.vib_depth) <= 0.15 * patch.vib_depth
    else:
        assert m.vib_depth == 0


def test_a_noise_hit_is_fitted_by_its_colour_in_few_renders():
    x = render_frames(NOISE.frames(60), rate=44100)
    result = fit_patch(x, 44100, budget=40, seconds=120)  # renders bound it, not the clock
    assert result.patch.wave == "noise" and result.renders <= 41
    assert abs(np.log(result.patch.freq / NOISE.freq)) < np.log(1.1)  # the colour within 10 %
    y = render_frames(result.patch.frames(60), rate=44100)
    assert score_at(y * 32768, x * 32768, 44100) >= 0.95


def test_a_vibrato_note_is_fitted_in_few_renders():
    x = render_frames(VIBRATO.frames(60), rate=44100)
    result = fit_patch(x, 44100, budget=40, seconds=120)
    assert result.patch.vib_period == VIBRATO.vib_period and result.patch.vib_depth > 30
    y = render_frames(result.patch.frames(60), rate=44100)
    assert score_at(y * 32768, x * 32768, 44100) >= 0.95


def test_resampling_keeps_a_tone_and_its_level():
    t = np.arange(44100) / 44100
    y = to_rate(0.5 * np.sin(2 * np.pi * 1000 * t), 44100)
    assert len(y) == RATE
    spec = np.abs(np.fft.rfft(y[2000:-2000] * np.hanning(len(y) - 4000)))
    assert abs(np.argmax(spec) * RATE / (len(y) - 4000) - 1000) < 2
    assert abs(np.sqrt(np.mean(y[2000:-2000] ** 2)) - 0.5 / np.sqrt(2)) < 0.01
