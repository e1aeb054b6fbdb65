"""The arranger on real scores and on MIDI made by tools nobody here wrote.

Every arrangement must render, use one chip (so never more than three voices) and keep the
melody: the notes of the score's melody part, found independently of the arranger.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
from hypothesis import given
from hypothesis import strategies as st

music21 = pytest.importorskip("music21")

import sidlang  # noqa: E402
from sidlang.cli import main  # noqa: E402
from sidlang.corpus import arranger  # noqa: E402
from sidlang.corpus.arranger import QNote, arrange, line, styles  # noqa: E402
from sidlang.corpus.measure import (  # noqa: E402
    cosine,
    melody_kept,
    pitch_class_histogram,
    reference_melody,
    tune_pitch_classes,
)
from sidlang.corpus.sources import corpus_score, score_to_midi  # noqa: E402
from sidlang.corpus.styles import load_style, parse_style  # noqa: E402
from sidlang.errors import SidlangError  # noqa: E402
from sidlang.formats.render import RenderOptions, render  # noqa: E402
from sidlang.formats.sidnotes import notes  # noqa: E402

M21 = Path(music21.__file__).parent
CHORALE = "bach/bwv66.6"
FOLK_WITH_CHORDS = "nottingham-dataset/reelsa-c"  # "Cuckoo's Nest": melody plus chord symbols


def check(tune, melody_ref=None, style="classic", minimum=0.95) -> None:
    """Renders with sound, one chip, and (given a reference) keeps the melody."""
    assert tune.header.chips == 1
    assert {n.voice for n in notes(tune)} <= {0, 1, 2}
    # 8580: reSIDfp keeps some 6581 state between SID objects in one process, and the exact
    # onset checks of tests/formats/test_render.py fail after a 6581 render of a long tune
    audio = render(tune, RenderOptions(rate=8000, seconds=min(tune.seconds, 3.0), chip=8580))
    assert np.sqrt(np.mean(audio.astype(float) ** 2)) > 100  # not silence
    if melody_ref is not None:
        voice = tune.meta["arrangement"]["roles"]["melody"]
        transpose = load_style(style).melody.transpose
        assert melody_kept(melody_ref, tune, voice, transpose) >= minimum


@pytest.fixture(scope="module")
def chorale():
    return corpus_score(CHORALE)


@pytest.fixture(scope="module")
def folk():
    return corpus_score(FOLK_WITH_CHORDS)


def test_styles_are_listed_and_load():
    names = styles()
    assert {"classic", "plain", "arcade", "soft"} <= set(names)
    for name in names:
        assert load_style(name).name == name


@pytest.mark.parametrize("style", ["classic", "plain", "arcade", "soft"])
def test_bach_chorale_every_style(chorale, style):
    tune = arrange(chorale, style=style)
    check(tune, reference_melody(chorale, tune.header.frame_hz), style)
    assert tune.meta["arrangement"]["mode"] == "arrange"  # four parts: melody, bass, harmony


def test_chorale_harmony_is_arpeggiated_and_pitch_classes_match(chorale):
    tune = arrange(chorale)
    pm = score_to_midi(chorale)
    parts, _, _ = arranger.quantize(pm, tune.header.frame_hz)
    source = pitch_class_histogram(q for p in parts for q in p)
    assert cosine(source, tune_pitch_classes(tune)) > 0.95
    planned = arranger.plan(parts, [], load_style("classic"), names=[i.name for i in pm.instruments])
    harmony = planned.voices[planned.roles["harmony"]]
    assert any(len(v.pitches) >= 2 for v in harmony)  # alto and tenor as an arpeggio


def test_folk_tune_with_chord_symbols(folk):
    tune = arrange(folk, style="arcade")
    check(tune, reference_melody(folk, tune.header.frame_hz), "arcade")
    harmony = [n for n in notes(tune) if n.voice == 2]
    assert any(n.bends for n in harmony)  # chord symbols became arpeggios (bends in the note view)
    assert tune.header.title == "Cuckoo's Nest"


@pytest.mark.parametrize("name", ["test02.mid", "test03.mid", "test09.mid", "test11.mid", "test17.mid"])
def test_music21_bundled_midi_files(name):
    path = M21 / "midi" / "testPrimitive" / name
    tune = sidlang.load(path, style="classic")
    parts, _, _ = arranger.quantize(pretty_midi.PrettyMIDI(str(path)), tune.header.frame_hz)
    plan = arranger.plan(parts, [], load_style("classic"))
    check(tune, plan.melody)


def test_omr_quintet_five_parts_to_three_voices():
    tune = arrange(M21 / "omr" / "k525short.mid")
    check(tune)
    assert tune.meta["arrangement"]["mode"] == "arrange"


@pytest.mark.skipif(shutil.which("abc2midi") is None, reason="abc2midi (Debian's abcmidi) not installed")
def test_abc2midi_output_of_a_corpus_tune(tmp_path):
    """MIDI written by abc2midi (melody, bass and chord channels from the chord symbols)."""
    abc = M21 / "corpus" / "nottingham-dataset" / "reelsa-c.abc"
    out = tmp_path / "tune.mid"
    number = next(line[2:].strip() for line in abc.read_text().splitlines() if line.startswith("X:"))
    subprocess.run(["abc2midi", str(abc), number, "-o", str(out), "-quiet"], check=True, capture_output=True)
    tune = sidlang.load(out)
    check(tune)
    # abc2midi writes the tune's melody as its first track, chords and bass after it
    parts, _, _ = arranger.quantize(pretty_midi.PrettyMIDI(str(out)), tune.header.frame_hz)
    check(tune, line(parts[0])[0])
    assert tune.meta["arrangement"]["mode"] == "arrange"


def test_drums_go_to_the_drum_voice_and_spare_the_melody():
    pm = pretty_midi.PrettyMIDI(initial_tempo=120)
    lead, pad, bass, drums = (
        pretty_midi.Instrument(p, is_drum=d) for p, d in ((80, False), (88, False), (33, False), (0, True))
    )
    for i in range(16):
        t = i * 0.25
        lead.notes.append(pretty_midi.Note(100, 72 + i % 5, t, t + 0.25))
        drums.notes.append(pretty_midi.Note(100, (36, 42, 38, 42)[i % 4], t, t + 0.1))
    for i in range(4):
        pad.notes += [pretty_midi.Note(80, p, i, i + 1) for p in (60, 64, 67)]
        bass.notes.append(pretty_midi.Note(90, 36, i, i + 1))
    pm.instruments += [lead, pad, bass, drums]
    buf = io.BytesIO()
    pm.write(buf)
    tune = sidlang.load(buf.getvalue(), format="mid")
    style = load_style("classic")
    found = notes(tune)
    assert sum(n.drum for n in found if n.voice == style.drums.voice) >= 12
    assert not any(n.drum for n in found if n.voice == style.melody.voice)
    parts, _, _ = arranger.quantize(pm, tune.header.frame_hz)
    check(tune, arranger.line(parts[0])[0])


def test_keep_mode_and_errors():
    pm = pretty_midi.PrettyMIDI()
    for p in (60, 64, 67, 71):
        inst = pretty_midi.Instrument(0)
        inst.notes.append(pretty_midi.Note(100, p, 0, 1))
        pm.instruments.append(inst)
    with pytest.raises(SidlangError, match="at most 3 parts"):
        arrange(pm, voices="keep")
    with pytest.raises(SidlangError, match="voices must be"):
        arrange(pm, voices="all")
    with pytest.raises(SidlangError, match="no notes"):
        arrange(pretty_midi.PrettyMIDI())
    with pytest.raises(SidlangError, match="not in the music21 corpus"):
        arrange("music21:no/such/piece")
    with pytest.raises(SidlangError, match="cannot arrange a .txt"):
        arrange(__file__.replace(".py", ".txt"))


def test_style_yaml_is_checked_and_user_files_load(tmp_path):
    text = (Path(arranger.__file__).parent / "styles" / "classic.yaml").read_text()
    mine = tmp_path / "mine.yaml"
    mine.write_text(text.replace("arpeggio_speed: 1 ", "arpeggio_speed: 3 "))
    assert load_style(str(mine)).arpeggio_speed == 3
    for bad, message in [
        (text.replace("volume: 15", "volume: 16"), "volume: expected a whole number 0–15"),
        (text.replace("    decay: 9\n", "    decay: 9\n    dekay: 2\n", 1), "unknown key 'dekay'"),
        (text.replace("wave: [pulse]", "wave: [square]", 1), "unknown waveform 'square'"),
        (text.replace("drums:   {voice: 3", "drums:   {voice: 1"), "may not share the melody"),
        (text.replace("instrument: lead", "instrument: flute"), "no instrument named 'flute'"),
        ("melody: [", "not valid YAML"),
    ]:
        with pytest.raises(SidlangError, match=message):
            parse_style(bad, "bad", "bad.yaml")


def test_cli_convert_music21_source_with_style(tmp_path, capsys):
    out = tmp_path / "chorale.sidl"
    assert main(["convert", f"music21:{CHORALE}", str(out), "--style", "soft"]) == 0
    tune = sidlang.load(out)
    assert len(notes(tune)) > 50
    assert main(["convert", str(out), str(tmp_path / "x.sidl"), "--style", "soft"]) == 2
    assert "--style applies to MIDI" in capsys.readouterr().err


@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(1, 12), st.integers(30, 90)), max_size=30),
    st.booleans(),
)
def test_line_is_monophonic_and_loses_nothing_silently(raw, top):
    qs = [QNote(s, s + d, p) for s, d, p in raw]
    out, rest = line(qs, top)
    assert all(b.start >= a.end for a, b in zip(out, out[1:]))  # one note at a time
    assert len(out) + len(rest) == len(qs)
    starts = {(q.start, q.pitch) for q in qs}
    assert all((q.start, q.pitch) in starts for q in out)


@pytest.mark.parametrize(
    "path", ["ryansMammoth/AcaciaReel.abc", "palestrina/Agnus_II_47.krn", "corelli/opus3no1/1grave.xml"]
)
def test_score_files_load_through_their_formats(path):
    """ABC, Humdrum and MusicXML files read by ``sidlang.load`` (music21 parses, the arranger arranges)."""
    tune = sidlang.load(M21 / "corpus" / path, style="plain")
    score = music21.converter.parse(M21 / "corpus" / path)
    check(tune, reference_melody(score, tune.header.frame_hz), "plain")
