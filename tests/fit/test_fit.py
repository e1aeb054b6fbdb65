"""Fitting by analysis by synthesis: patches rendered by reSIDfp are found again (judged by the
sound), transcriptions of rendered tunes recover their notes, bad audio gets a clear answer."""

import numpy as np
import pytest

import sidlang
from sidlang.c64.compare import score, score_at
from sidlang.cli import main
from sidlang.errors import FormatError
from sidlang.fit.patch import Patch
from sidlang.fit.search import fit_patch
from sidlang.fit.synth import render_frames
from sidlang.fit.transcribe import TranscribeOptions, transcribe
from sidlang.formats.render import RenderOptions, render, wav_bytes
from sidlang.pitch import PAL_HZ, note_to_reg, reg_to_midi

PLUCK = Patch(wave="pulse", pw=0x400, a=0, d=9, s=0, r=0, gate=30, freq=note_to_reg(60, 0, PAL_HZ))


def test_a_rendered_patch_is_fitted_to_one_that_sounds_the_same():
    x = render_frames(PLUCK.frames(45), rate=44100)
    result = fit_patch(x, 44100, budget=60, seconds=120)  # the render count bounds it, not the clock
    # The budget bounds the search; the first guess and its envelope shapes (at most four
    # renders) and the final full-length comparison of the grid's winners come before it is checked.
    assert result.renders <= 60 + 5
    y = render_frames(result.patch.frames(45), rate=44100)
    assert score(y, x)[0] >= 0.95  # judged by the sound: equivalent settings are fine
    assert result.loss < 0.45  # 0.396 and 0.412 seen on a loaded machine (the sound: >= 0.95 both)
    assert abs(reg_to_midi(result.patch.freq, PAL_HZ) - 60) < 0.5  # and it is the same note


def test_fitting_refuses_silence_and_sounds_too_short_or_long():
    with pytest.raises(FormatError, match="silent"):
        fit_patch(np.zeros(22050), 22050)
    with pytest.raises(FormatError, match="at least 3 frames"):
        fit_patch(0.5 * np.sin(np.arange(400)), 22050)
    with pytest.raises(FormatError, match="at most 20 s"):
        fit_patch(np.ones(22050 * 21) * 0.1, 22050)


DUET = """\
@clock pal
@model 6581
0 v1 ad=$00 sr=$a0 pw=$800 | v2 ad=$00 sr=$a0 | vol=15
1 v1 freq=C-4 wave=pulse,gate | v2 freq=E-5 wave=saw,gate
21 v1 wave=pulse | v2 wave=saw
25 v1 freq=G-4 wave=pulse,gate | v2 freq=C-5 wave=saw,gate
45 v1 wave=pulse | v2 wave=saw
49 v1 freq=A-3 wave=pulse,gate | v2 freq=A-5 wave=saw,gate
69 v1 wave=pulse | v2 wave=saw
80 vol=15
"""


def semitones_per_frame(tune) -> list[set[int]]:
    """Per frame, the rounded pitch of every gated voice, from the register state."""
    state = np.zeros(32, int)
    w = tune.writes
    fc = tune.header.frame_cycles
    out, i = [], 0
    for k in range(len(tune.frames)):
        while i < len(w) and w["cycle"][i] < (k + 1) * fc:
            state[w["reg"][i]] = w["val"][i]
            i += 1
        notes = set()
        for v in range(3):
            if state[7 * v + 4] & 1:
                f = state[7 * v] | state[7 * v + 1] << 8
                if f:
                    notes.add(int(round(reg_to_midi(f, PAL_HZ))))
        out.append(notes)
    return out


def test_transcribing_a_rendered_duet_recovers_its_notes():
    tune = sidlang.parse(DUET)
    x = render(tune, RenderOptions(rate=44100)).astype(np.float64).ravel() / 32768
    got = transcribe(x, 44100, TranscribeOptions(voices=2))
    truth, found = semitones_per_frame(tune), semitones_per_frame(got)
    frames = [k for k in range(3, 69) if truth[k] and k % 24 not in (0, 1, 2, 21, 22, 23)]  # away from edges
    hits = sum(len(truth[k] & found[k]) for k in frames) / sum(len(truth[k]) for k in frames)
    assert hits >= 0.8
    y = render(got, RenderOptions(rate=44100)).astype(np.float64).ravel()
    assert score_at(y / 32768, x) >= 0.75  # lag 0: a transcription keeps the recording's time


@pytest.mark.parametrize(
    "make",
    [
        lambda x: np.clip(x * 20, -1, 1),  # clipped
        lambda x: np.round(x * 127) / 127,  # 8-bit
    ],
)
def test_distorted_audio_still_transcribes_to_the_notes(make):
    tune = sidlang.parse(DUET)
    x = make(render(tune, RenderOptions(rate=44100)).astype(np.float64).ravel() / 32768)
    got = transcribe(x, 44100, TranscribeOptions(voices=2))
    truth, found = semitones_per_frame(tune), semitones_per_frame(got)
    frames = [k for k in range(5, 19)]
    assert sum(len(truth[k] & found[k]) for k in frames) >= len(frames)  # at least one voice right


def test_silence_transcribes_to_silence_and_rates_are_taken_as_given():
    assert transcribe(np.zeros(48000), 96000).meta["silent"]
    tune = sidlang.parse(DUET)
    x = render(tune, RenderOptions(rate=96000)).astype(np.float64).ravel() / 32768
    got = transcribe(np.stack([x, x], axis=1), 96000)  # stereo at 96 kHz
    assert abs(got.header.frames - len(tune.frames)) <= 1


def test_the_cli_fits_a_patch_and_converts_a_wav(tmp_path, capsys):
    note = tmp_path / "note.wav"
    note.write_bytes(
        wav_bytes(np.rint(render_frames(PLUCK.frames(40), rate=44100) * 32767).astype(np.int16), 44100)
    )
    out = tmp_path / "patch.sidl"
    assert main(["fit", str(note), str(out), "--renders", "25", "--budget", "120"]) == 0
    text = out.read_text()
    assert "# patch: wave=" in text and "loss" in text
    assert sidlang.parse(text).header.frames == 40  # a tune that plays the patch
    err = capsys.readouterr().err
    assert "renders" in err
    assert main(["fit", str(note), str(out)]) == 1  # exists: not replaced
    assert "exists" in capsys.readouterr().err
    song = tmp_path / "song.wav"
    (tmp_path / "duet.sidl").write_text(DUET)
    assert main(["render", str(tmp_path / "duet.sidl"), str(song)]) == 0
    assert main(["convert", str(song), str(tmp_path / "back.sidl")]) == 0
    assert sidlang.load(tmp_path / "back.sidl").meta is not None
    assert main(["fit", str(song), str(tmp_path / "t.sidl"), "--tune", "--voices", "2"]) == 0
    assert "notes" in capsys.readouterr().err
    assert main(["fit", str(note), str(tmp_path / "y.sidl"), "--voices", "3"]) == 2


@pytest.mark.parametrize(
    "patch",
    [
        PLUCK,
        Patch(
            wave="pulse",
            pw=0x300,
            pw_sweep=20,
            a=0,
            d=6,
            s=10,
            r=8,
            gate=40,
            freq=note_to_reg(50, 0, PAL_HZ),
            mode="lp",
            cut=0x300,
            res=8,
            cut_sweep=6,
        ),
        Patch(
            wave="tri",
            a=2,
            d=4,
            s=12,
            r=6,
            gate=35,
            freq=note_to_reg(72, 0, PAL_HZ),
            vib_depth=60,
            vib_period=8,
        ),
    ],
    ids=["pluck", "filtered-sweep", "vibrato"],
)
def test_a_patch_as_a_tracker_instrument_sounds_like_the_patch(patch):
    """The pattern song written for a patch plays, through the pattern player, what the patch's
    own frames play (the text parsed back first, as a user's file would be)."""
    from sidlang.fit.patchsong import patch_song
    from sidlang.patterns import play
    from sidlang.patterns.dump import dump
    from sidlang.patterns.parse import parse as parse_song

    song = parse_song(dump(patch_song(patch, 60)))
    assert song.instruments[1].hr == 0 and song.patterns[0].rows[0].instrument == 1
    y = render(play(song), RenderOptions(rate=44100)).astype(np.float64)
    y = y.mean(axis=1) if y.ndim == 2 else y
    x = render_frames(patch.frames(60), rate=44100) * 32768
    n = min(len(x), len(y))
    assert score_at(y[:n], x[:n], 44100) >= 0.95


def test_the_cli_writes_a_fitted_patch_as_pattern_text(tmp_path):
    note = tmp_path / "note.wav"
    note.write_bytes(
        wav_bytes(np.rint(render_frames(PLUCK.frames(40), rate=44100) * 32767).astype(np.int16), 44100)
    )
    out = tmp_path / "patch.sidp"
    assert main(["fit", str(note), str(out), "--renders", "20", "--budget", "120"]) == 0
    text = out.read_text()
    assert text.startswith("# sidp 1") and "instr 1" in text
    assert main(["convert", str(out), str(tmp_path / "back.sidl")]) == 0  # and it plays


def test_the_filter_is_chosen_by_ear():
    """A duet played through a dark low-pass is transcribed with the low-pass on; played dry,
    with it off (the chooser renders each setting and keeps the one that sounds closest)."""
    from sidlang.fit.tunefilter import with_filter

    dry = sidlang.parse(DUET)
    dark = with_filter(dry, 0x180, 3)
    for tune, on in ((dark, True), (dry, False)):
        x = render(tune, RenderOptions(rate=44100)).astype(np.float64).ravel() / 32768
        got = transcribe(x, 44100, TranscribeOptions(voices=2))
        assert got.meta["filter"].startswith("low-pass") == on, got.meta["filter"]


def test_a_slow_offset_is_not_taken_for_notes():
    """A SID render often starts on an offset that dies away over half a second (the volume
    write's step through the renderer's high-pass): no bands hear it, so nothing is played there."""
    from sidlang.fit.features import highpass

    duet = render(sidlang.parse(DUET), RenderOptions(rate=44100)).astype(np.float64).ravel() / 32768
    t = np.arange(int(0.6 * 44100)) / 44100
    x = np.r_[0.4 * np.exp(-t / 0.14), duet]
    assert np.abs(highpass(x, rate=44100)[2000 : len(t) - 2000]).max() < 0.02  # the offset goes
    tone = np.sin(2 * np.pi * 220 * t)
    assert np.allclose(highpass(tone, rate=44100)[2000:-2000], tone[2000:-2000], atol=1e-3)  # a tone stays
    got = transcribe(x, 44100, TranscribeOptions(voices=2, refine=False))
    lead = int(0.6 * 50)
    assert not any(semitones_per_frame(got)[k] for k in range(3, lead - 2))  # (its step is a click)
    assert sum(bool(s) for s in semitones_per_frame(got)[lead + 3 : lead + 20]) >= 15  # the duet plays
