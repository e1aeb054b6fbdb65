"""The refinement of transcriptions against the render: wrong guesses put right by ear, what does
not help left out, and the time budget kept."""

import time
from dataclasses import replace

import numpy as np

import sidlang
from sidlang.fit.refine import Scorer, refine
from sidlang.fit.synth import RATE
from sidlang.fit.transcribe import TranscribeOptions, transcribe
from sidlang.formats.render import RenderOptions, render

from .test_fit import DUET


def _duet_draft():
    tune = sidlang.parse(DUET)
    x = render(tune, RenderOptions(rate=RATE)).astype(np.float64).ravel() / 32768
    draft, _ = transcribe(x, RATE, TranscribeOptions(voices=2, refine=False), draft_out=lambda d, t: (d, t))
    return draft


def _correlations(draft):
    y = render(draft.tune(), RenderOptions(rate=RATE)).astype(np.float64).ravel() / 32768
    return Scorer(draft.x).correlations(y)


def test_the_scorer_scores_a_recording_against_itself_as_perfect():
    x = _duet_draft().x
    s = Scorer(x)
    assert np.allclose(s.per_cell(x), 0)
    assert min(s.correlations(x)) > 0.999
    assert s.per_cell(0.5 * x[::-1].copy()).sum() > 1  # and something else as not


def test_wrong_waveforms_and_levels_are_put_right_by_ear():
    """The draft's notes spoilt (every note a triangle, the second voice's quiet): the render says
    what is wrong. (One voice's level, since a correlation cannot hear the whole tune too quiet:
    only a voice too quiet beside the other.)"""
    draft = _duet_draft()
    draft.notes[:] = [
        replace(
            n,
            wave="tri",
            pw=0x800,
            pws=[],
            level=3 if n.voice == 1 else n.level,
            timbres=[("tri", 0x800), *n.timbres],
        )
        for n in draft.notes
    ]
    spoilt = _correlations(draft)
    said = refine(draft, seconds=120)
    fixed = _correlations(draft)
    assert said["kept"] and fixed[0] > spoilt[0] + 0.02 and fixed[1] > spoilt[1] + 0.02
    assert any(n.wave != "tri" for n in draft.notes)  # some waveform put right
    assert any(n.level > 3 for n in draft.notes if n.voice == 1)  # and some level


def test_a_refinement_that_does_not_help_keeps_the_draft_and_the_budget_is_kept():
    draft = _duet_draft()
    notes = list(draft.notes)
    t0 = time.perf_counter()
    said = refine(draft, seconds=0.01)  # no time: only the first render
    assert time.perf_counter() - t0 < 10
    assert said["renders"] == 1 and not said["kept"] and draft.notes == notes


def test_the_cli_transcribes_with_and_without_the_refinement(tmp_path, capsys):
    from sidlang.cli import main

    (tmp_path / "duet.sidl").write_text(DUET)
    song = tmp_path / "song.wav"
    assert main(["render", str(tmp_path / "duet.sidl"), str(song)]) == 0
    assert main(["fit", str(song), str(tmp_path / "a.sidl"), "--tune", "--voices", "2"]) == 0
    assert "renders" in capsys.readouterr().err  # what the refinement did is said
    assert main(["fit", str(song), str(tmp_path / "b.sidl"), "--tune", "--no-refine"]) == 0
    assert "renders" not in capsys.readouterr().err
    assert main(["fit", str(song), str(tmp_path / "c.sidl"), "--no-refine"]) == 2  # a patch has none


def test_a_note_heard_twice_is_rested():
    """The duet's first voice copied onto a third voice an octave down (a doubled pitch the
    analysis can make): the render says those notes only add what the recording lacks."""
    from sidlang.fit.transcribe import REST

    draft = _duet_draft()
    draft.opts = replace(draft.opts, voices=3)
    ghosts = [
        replace(n, voice=2, midi=[m - 12 for m in n.midi], level=12)
        for n in draft.notes
        if n.voice == 0 and n.end - n.start > 5
    ]
    draft.notes[:] = [*draft.notes, *ghosts]
    spoilt = _correlations(draft)
    said = refine(draft, seconds=120)
    fixed = _correlations(draft)
    rested = [n for n in draft.notes if n.voice == 2 and n.wave == REST]
    assert said["kept"].get("rest", 0) >= 2 and len(rested) >= len(ghosts) - 1
    assert fixed[0] > spoilt[0] + 0.02 and fixed[1] > spoilt[1] + 0.02
    assert not any(n.wave == REST for n in draft.notes if n.voice == 0 and n.end - n.start > 5)


def test_the_progress_total_counts_every_round():
    """The total a transcription announces is the one it ends on: the refinement's rounds are
    counted in it (the CLI's bar would otherwise jump)."""
    x = _duet_draft().x
    seen = []
    transcribe(x, RATE, TranscribeOptions(voices=2), progress=lambda k, n: seen.append((k, n)))
    assert len({n for _, n in seen}) == 1 and seen[-1][0] == seen[-1][1]
