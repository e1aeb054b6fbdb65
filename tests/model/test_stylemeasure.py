"""The style measure: onsets from gate edges, a distance that is 0 for equal stretches and
small for the same tune a bar later, kept 1 for the truth and 0 for another tune, new frames
0 for a loop; small tunes written out as sidlang text."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sidlang import parse
from sidlang import transforms as T
from sidlang.model import stylemeasure as sm


def song(
    notes: list[str],
    *,
    step: int = 8,
    wave: str = "pulse",
    ad: str = "$09",
    sr: str = "$a8",
    bars: int = 8,
    sweep: bool = False,
    bass: str | None = None,
) -> str:
    """A one-line melody on voice 1 (and a bass note per bar on voice 2): ``bars`` bars of
    ``notes``, a note every ``step`` frames, its gate off two frames before the next."""
    lines = ["@clock pal"]
    f = 0
    for _ in range(bars):
        for i, note in enumerate(notes):
            head = f"{f} v1 freq={note} ad={ad} sr={sr} wave={wave},gate"
            if bass and i == 0:
                head += f" | v2 freq={bass} ad=$0a sr=$00 wave=tri,gate"
            lines.append(head + (" | cut=$100 mode=lp vol=15" if sweep else ""))
            if sweep:
                for k in range(1, step - 2):
                    lines.append(f"{f + k} cut=${0x100 + 0x20 * k:03x}")
            lines.append(
                f"{f + step - 2} v1 wave={wave}" + (" | v2 wave=tri" if bass and i == len(notes) - 1 else "")
            )
            f += step
    lines.append(str(f))
    return "\n".join(lines) + "\n"


A = parse(song(["C-4", "E-4", "G-4", "C-5"], bass="C-2", sweep=True))  # 8 bars of 32 frames
B = parse(song(["F#5", "A#5", "C#6", "D#6", "F#6", "G#6"], step=4, wave="saw", ad="$00", sr="$f0", bars=20))
C = parse(song(["D-3", "A-3"], step=16, wave="noise", ad="$22", sr="$44", bars=12))
A2 = parse(song(["A-3", "C-4", "E-4", "A-4"], bass="A-1", sweep=True))  # A's sound, other notes
BAR = 32


def test_onsets_follow_every_gate_write_in_order():
    tune = parse(
        "@clock pal\n"
        "0 v1 wave=pulse,gate\n"  # 0 -> 1: an onset
        "1 v1 wave=pulse,gate\n"  # held: none
        "2 v1 wave=pulse\n"  # released
        "4 v1 wave=pulse,gate | v2 wave=saw,gate\n"  # two voices at once
        "5 v1 wave=pulse wave=pulse,gate@100\n"  # off and on inside one frame: a retrigger
        "6 v1 wave=test wave=pulse,gate@100\n"  # hard restart: test (gate off), then gate
        "7 v1 wave=pulse,gate wave=pulse@50 wave=pulse,gate@90 wave=pulse@120 wave=pulse,gate@150\n"
        "9 v3 wave=0\n"  # gate never on: none
    )
    on = sm.onsets(tune)
    expect = np.zeros((10, 3), np.int64)
    expect[[0, 4, 5, 6], 0] = 1
    expect[7, 0] = 2  # the frame starts gated, then two more rising edges
    expect[4, 1] = 1
    assert on.tolist() == expect.tolist()
    assert sm.features(tune).onsets == 7


def test_onset_envelope_and_pitch_are_read_after_the_frame():
    tune = parse(
        "@clock pal\n0 v1 freq=A-4 ad=$1a sr=$b3 wave=pulse,gate\n3 v1 wave=pulse\n"
        "5 v1 freq=A-2 ad=$1a sr=$b3 wave=pulse,gate\n9\n"
    )
    f = sm.features(tune)
    assert f.onsets == 2
    assert f.hists["ad"][0x1A] == 2 and f.hists["sr"][0xB3] == 2
    assert np.flatnonzero(f.hists["pitch_class"]).tolist() == [9]  # A
    assert f.hists["octave"][4] == 1 and f.hists["octave"][2] == 1
    assert f.hists["wave"][0x40 >> 1] == 8  # pulse with the gate on in frames 0-2 and 5-9
    assert f.onset_rate == pytest.approx(2 / (10 / tune.header.frame_hz))


def test_distance_of_a_stretch_to_itself_is_zero_and_symmetric():
    a, b = sm.features(A, 0, 128), sm.features(B, 0, 128)
    assert sm.distance(a, a) == 0
    assert sm.distance(a, b) == pytest.approx(sm.distance(b, a))
    assert sm.distance(a, b) > 1


def test_a_bar_later_is_closer_than_another_tune():
    a = sm.features(A, 0, 100)
    later = sm.features(A, BAR, BAR + 100)
    assert sm.distance(a, later) < 0.5 * min(sm.distance(a, sm.features(t, 0, 100)) for t in (B, C))


def test_each_term_moves_with_what_it_measures():
    a = sm.features(A, 0, 128)
    terms = sm.distance_terms(a, sm.features(T.transpose(A, 5), 0, 128))
    assert terms["pitch_class"] > 0.5 and terms["wave"] == 0 and terms["ad"] == 0
    assert terms["onset_rate"] == 0
    slow = parse(song(["C-4", "E-4", "G-4", "C-5"], step=16, bass="C-2", sweep=True, bars=4))
    terms = sm.distance_terms(a, sm.features(slow, 0, 128))
    assert terms["onset_rate"] == pytest.approx(math.log(2), rel=0.1)
    assert terms["pitch_class"] < 0.05


def test_kept_is_one_for_the_truth_and_zero_for_another_tune():
    prompt, truth = sm.features(A, 0, 128), sm.features(A2, 128, 256)
    others = [sm.features(B, 0, 128), sm.features(C, 0, 128)]
    assert sm.distance(prompt, truth) > 0.3  # the truth is not the prompt again
    assert sm.kept(prompt, truth, truth, others) == pytest.approx(1.0)
    assert sm.kept(prompt, others[0], truth, others[:1]) == pytest.approx(0.0)
    # Scored as continuations, the other tunes average 0: their mean distance is the zero.
    assert np.mean([sm.kept(prompt, o, truth, others) for o in others]) == pytest.approx(0.0, abs=1e-12)
    assert (
        sm.kept(prompt, sm.features(A, 112, 240), truth, others) > 1
    )  # the prompt again: closer than the truth
    assert math.isnan(sm.kept(prompt, truth, truth, []))


def test_new_frames_of_a_loop_is_zero_and_of_a_transposed_copy_is_not():
    prompt = sm.features(A, 0, 128)
    loop = T.repeat(T.cut(A, 128), 128 - BAR, 128, times=5)
    assert sm.new_frames(prompt, sm.features(loop, 128, 256)) == 0
    assert sm.new_frames(prompt, sm.features(T.transpose(A, 2), 128, 256)) == 1
    half = T.transpose(A, 2, voices=[0])  # voice 1 moved, voice 2 kept
    assert sm.new_frames(prompt, sm.features(half, 128, 256)) > 0.9
    lower = sm.features(A, 0, 128, voices=(2, 3))
    assert sm.new_frames(lower, sm.features(half, 128, 256, voices=(2, 3))) == 0  # voices 2-3 only
    with pytest.raises(ValueError):
        sm.new_frames(prompt, sm.features(A, 128, 256, voices=(2,)))


def test_voices_left_out_do_not_count_but_the_globals_do():
    other_lead = T.transpose(A, 3, voices=[0])
    assert sm.distance(sm.features(A, voices=(2, 3)), sm.features(other_lead, voices=(2, 3))) == 0
    assert sm.distance(sm.features(A), sm.features(other_lead)) > 0
    no_sweep = parse(song(["C-4", "E-4", "G-4", "C-5"], bass="C-2"))
    assert sm.distance_terms(sm.features(A, voices=(2, 3)), sm.features(no_sweep, voices=(2, 3)))["rates"] > 0


def test_second_chip_pools_as_more_voices():
    two = parse(
        "@clock pal\n@sids $d400 $d420\n0 s2.v1 freq=C-4 ad=$44 wave=saw,gate\n3 s2.v1 wave=saw\n"
        "4 s2.v1 wave=saw,gate\n7\n"
    )
    f = sm.features(two)
    assert f.onsets == 2 and f.hists["ad"][0x44] == 2
    assert f.rows.shape == (8, 50)


def test_zero_onsets_are_handled():
    silent = parse("@clock pal\n0 v1 freq=C-4 wave=pulse\n10 cut=$200\n99\n")
    held = sm.features(A, 1, 5)  # inside one note: the gate went on before the stretch
    for f in (sm.features(silent), held):
        assert f.onsets == 0
        assert f.onset_rate == sm.ONSET_FLOOR
        assert sm.distance(f, f) == 0
    a = sm.features(A, 0, 128)
    d = sm.distance_terms(sm.features(silent), a)
    assert all(d[k] == 1 for k in ("ad", "sr", "pitch_class", "octave"))  # empty against full
    assert math.isfinite(sm.distance(sm.features(silent), a))
    assert sm.kept(a, sm.features(silent), sm.features(A, 128, 256), [sm.features(B, 0, 128)]) < 0
    empty = sm.features(A, 10, 10)
    assert empty.onsets == 0 and len(empty.rows) == 0 and sm.new_frames(a, empty) == 0


def test_js_divergence_bounds():
    p = np.array([3, 0, 1])
    assert sm.js_divergence(p, p * 5) == pytest.approx(0.0)
    assert sm.js_divergence(np.array([1, 0]), np.array([0, 1])) == pytest.approx(1.0)
    assert sm.js_divergence(np.zeros(3), np.zeros(3)) == 0
    assert sm.js_divergence(np.zeros(3), p) == 1
