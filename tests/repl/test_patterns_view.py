"""The tracker level in the REPL: ``patterns``, ``row`` and ``ptranspose``, typed as a person
would, on the example song and on tunes that have no patterns."""

from __future__ import annotations

from pathlib import Path

import pytest

import sidlang
from sidlang.patterns import parse
from sidlang.patterns.model import Row
from sidlang.patterns.player import play
from sidlang.repl import patternview
from tests.repl.conftest import CLEAR_LINE

ROOT = Path(__file__).resolve().parents[2]
SONG = str(ROOT / "examples" / "first-pattern.sidp")
PLAIN = str(ROOT / "examples" / "first-light.sidl")
SNG = Path("/usr/share/doc/goattracker/examples/consultant.sng")


def song() -> sidlang.patterns.Song:
    return parse(Path(SONG).read_text(encoding="utf-8"))


def test_patterns_shows_orderlists_and_the_first_patterns_side_by_side(typist):
    typist.run("patterns", "quit", path=SONG)
    out = typist.printed
    assert "First Pattern by sidlang" in out
    assert "v1  0 0+5 0 0+7" in out and "v2  1*2 1+5 1+7" in out and "v3  2 3 2+5 3" in out
    assert "v1: pattern 0" in out and "v2: pattern 1" in out and "v3: pattern 2" in out
    # Row 4: v1's vibrato, v2's bass note, v3's chord, side by side.
    line = next(x for x in out.splitlines() if x.strip().startswith("4 "))
    assert line.split() == ["4", "G-5", "--", "vib:2,24", "C-3", "--", "F-4", "03"]


def test_patterns_n_shows_one_pattern_and_who_plays_it(typist):
    typist.run("patterns 3", "patterns 9", "quit", path=SONG)
    out = typist.printed
    assert "pattern 3 (4 rows, played by v3)" in out
    assert [x.split() for x in out.splitlines() if x.strip()[:1].isdigit() and "C-4" in x] == [
        ["0", "C-4", "04"],
        ["2", "C-4", "04"],
        ["3", "C-4", "04"],
    ]
    assert "error: pattern 9 is not in the song (patterns: 0, 1, 2, 3)" in out


def test_row_edit_replays_the_song_and_undo_restores_the_frames(typist):
    loaded = sidlang.load(SONG)
    repl = typist.run("row 0 4 E-5 01 vib:2,24", "patterns 0", "quit", "quit", path=SONG)
    s = repl.session
    edited = song()
    edited.patterns[0].rows[4] = patternview.parse_row("E-5 01 vib:2,24")
    assert s.tune != loaded
    assert s.tune == play(edited)
    assert s.tune.meta["patterns"] == edited
    assert "✓ row 0 4 E-5 01 vib:2,24" in typist.printed
    assert "4    E-5 01 vib:2,24" in typist.printed  # the table shows the new row

    repl = typist.run("row 0 4 E-5 01 vib:2,24", "undo", "quit", path=SONG, restore=False)
    assert repl.session.tune == loaded
    assert "undid: row 0 4 E-5 01 vib:2,24" in typist.printed


def test_a_second_edit_builds_on_the_first_and_redo_brings_it_back(typist):
    repl = typist.run("row 0 4 E-5 01", "ptranspose 1 12", "undo", "redo", "quit", "quit", path=SONG)
    edited = song()
    edited.patterns[0].rows[4] = patternview.parse_row("E-5 01")
    edited.patterns[1].rows = [
        Row(r.note + 12 if r.note is not None and r.note >= 0 else r.note, r.instrument, r.effect)
        for r in edited.patterns[1].rows
    ]
    assert repl.session.tune == play(edited)
    assert [p.label for p in repl.session.undo_stack][1:] == ["row 0 4 E-5 01", "ptranspose pattern 1 +12"]


def test_a_bad_row_is_one_line_and_changes_nothing(typist):
    loaded = sidlang.load(SONG)
    repl = typist.run(
        "row 0 4 X-5",
        CLEAR_LINE + "row 0 4 C-5 01 upp:3",
        CLEAR_LINE + "row 0 4 C-5 09",
        "row 0 9 C-5",
        "ptranspose 1 90",
        "quit",
        path=SONG,
    )
    errors = repl.validator.errors
    assert errors[0].startswith("bad note 'X-5' — a note C-0–B-7")
    assert errors[1] == "unknown effect 'upp' — did you mean 'up'?"
    out = typist.printed
    assert "error: row 0 4: instrument 9 is not defined — defined: 1, 2, 3, 4\n" in out
    assert "error: pattern 0 has rows 0–7; row 9 is not one of them (row 8 adds one)\n" in out
    assert "error: ptranspose 1 +90 takes notes past C-0–B-7" in out
    assert repl.session.tune == loaded
    assert [p.label for p in repl.session.undo_stack] == [f"load {SONG}"]


def test_a_row_one_past_the_end_adds_one(typist):
    repl = typist.run("row 3 4 C-5 04", "quit", "quit", path=SONG)
    assert repl.session.tune.meta["patterns"].patterns[3].rows[4] == patternview.parse_row("C-5 04")


@pytest.mark.parametrize("line", ["patterns", "patterns 0", "row 0 0 C-4", "ptranspose 0 1"])
def test_a_tune_without_patterns_says_so_in_one_line(typist, line):
    repl = typist.run(line, "quit", path=PLAIN)
    assert typist.printed.splitlines()[-1] == f"error: {patternview.NO_PATTERNS}"
    assert "'explain' infers them" in patternview.NO_PATTERNS
    assert len(repl.session.undo_stack) == 1


def test_explain_infers_patterns_that_the_editing_commands_then_use(typist):
    # The plain example has no song: 'explain' finds one in its frames, 'patterns' shows it,
    # 'ptranspose' edits it and re-plays it; the inferred song played back is the tune itself.
    repl = typist.run("explain 32", "patterns", "ptranspose 1 2", "quit", "quit", path=PLAIN)
    out = typist.printed
    line = next(x for x in out.splitlines() if "register changes" in x)
    whole = int(line.split("they make ")[1].split("%")[0])
    assert 50 <= whole <= 100 and "from frame 32 on:" in line
    assert "v1: pattern" in out and "error" not in out
    assert len(repl.session.undo_stack) == 2  # the load, the transpose
    new = repl.session.tune
    assert isinstance(new.meta["patterns"], sidlang.patterns.Song)


def test_explained_song_plays_the_frames_and_goes_with_them(typist):
    from sidlang.patterns.infer_frames import same

    tune = sidlang.load(PLAIN)
    song, (hit, total), _ = patternview.explain(tune)
    assert 0 < hit <= total and same(play(song), tune)
    assert patternview.song_of(tune, None) is song
    with pytest.raises(sidlang.errors.UsageError, match="no patterns"):
        patternview.song_of(sidlang.load(PLAIN), None)  # other frames (a new read): not this song


@pytest.mark.parametrize("line, message", [("explain 99999", "frame 99999 is not in the tune")])
def test_explain_out_of_range(typist, line, message):
    typist.run(line, "quit", path=PLAIN)
    assert message in typist.printed.splitlines()[-1]


def test_after_frame_edits_the_sidp_is_no_longer_the_tune(typist):
    typist.run("transpose 2", "patterns", "quit", "quit", path=SONG)
    assert "the frames are no longer what" in typist.printed


def test_a_song_in_the_meta_is_the_one_used():
    s = song()
    tune = play(s).replace(meta={"patterns": s})
    assert patternview.song_of(tune, None) is s
    with pytest.raises(sidlang.errors.UsageError, match="no patterns"):
        patternview.song_of(play(s).replace(meta={"patterns": "Song(...)"}), None)  # as a journal keeps it


@pytest.mark.skipif(not SNG.is_file(), reason="no GoatTracker examples (Debian package goattracker)")
def test_a_sng_song_is_shown_and_edited(typist):
    pytest.importorskip("pygoattracker")
    repl = typist.run("patterns", "ptranspose 0 1", "quit", "quit", path=str(SNG))
    assert "v1: pattern" in typist.printed
    assert "✓ ptranspose pattern 0 +1" in typist.printed
    assert repl.session.tune.meta["patterns"] is not None


def test_row_syntax_is_checked_at_the_prompt_on_the_word_that_is_wrong():
    from sidlang.repl.commands import ArgError, check

    assert check("row 0 4 --- --")[1] == {"P": 0, "R": 4, "TEXT": "--- --"}  # not taken for options
    for line, word in [
        ("row 0 4 X-5", 3),
        ("row 0 4 C-5 01 upp:3", 5),
        ("row 0 4 C-5 1x", 4),
        ("row 0 4 C-5 01 up:3 x", 6),
        ("row 0 4", 3),
        ("row 256 0 C-4", 1),
        ("ptranspose 0 5c", 2),
    ]:
        with pytest.raises(ArgError) as e:
            check(line)
        assert e.value.word == word, line


def test_an_edit_that_plays_the_same_frames_is_not_kept(typist):
    repl = typist.run("row 0 0 C-5 01", "quit", path=SONG)
    assert "the frames are the same" in typist.printed
    assert len(repl.session.undo_stack) == 1
