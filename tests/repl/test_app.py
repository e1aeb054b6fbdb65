"""The REPL driven through its keyboard, as a person would use it."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sidlang import dumps, load, parse
from tests.repl.conftest import CLEAR_LINE, ENTER

TUNE_LINES = (
    "v1 ad=$0a sr=$a6 pw=$400 | vol=15",
    "v1 freq=A-4 wave=pulse,gate",
    "v1 pw+=64",
    "v1 wave=pulse",
)
SAME_AS_FILE = """\
0 v1 ad=$0a sr=$a6 pw=$400 | vol=15
1 v1 freq=A-4 wave=pulse,gate
2 v1 pw=$440
3 v1 wave=pulse
"""


def test_typed_frames_append_and_match_the_language(typist):
    repl = typist.run(*TUNE_LINES, "quit", "quit")
    assert repl.session.tune == parse(SAME_AS_FILE)
    # The canonical form of each typed frame is echoed back.
    assert "1  v1 freq=A-4 wave=pulse,gate" in typist.printed
    assert "2  v1 pw=$440" in typist.printed


def test_numbered_line_replaces_and_wait_skips(typist):
    repl = typist.run(*TUNE_LINES, "1 v1 freq=C-5 wave=saw,gate", "wait 4", "v1 wave=saw", "quit", "quit")
    t = repl.session.tune
    assert dumps(t).splitlines()[-4:] == [
        "1 v1 freq=C-5 wave=saw,gate",
        "2 v1 pw=$440",
        "3 v1 wave=pulse",
        "8 v1 wave=saw",
    ]
    assert len(t.frames) == 9


def test_syntax_error_is_shown_at_the_cursor_then_corrected(typist):
    def script(send, wait_for):
        send("v1 frq=3" + ENTER)
        assert wait_for("unknown field 'frq' — did you mean 'freq'?")
        # The cursor sits on the mistake (column 4): type over the field name there.
        send("\x1b[3~\x1b[3~\x1b[3~freq" + ENTER)  # three Deletes, then the right name
        assert wait_for("1> ")
        send("quit" + ENTER + "quit" + ENTER)

    repl = typist.run_live(script)
    assert repl.validator.errors == ["unknown field 'frq' — did you mean 'freq'?"]
    assert repl.session.tune == parse("0 v1 freq=3\n")


def test_command_arguments_are_checked_before_accepting(typist):
    repl = typist.run("transpose up", CLEAR_LINE + "bogus 3", CLEAR_LINE + "quit")
    assert repl.validator.errors[0].startswith("semitones (12, -3) or cents (50c) expected, got 'up'")
    assert repl.validator.errors[1].startswith("unknown command 'bogus'")
    assert repl.session.undo_stack == []


def test_multi_line_paste_and_esc_enter(typist):
    paste = "\x1b[200~" + SAME_AS_FILE.rstrip("\n") + "\x1b[201~" + ENTER
    repl = typist.run(paste, "v1 freq=C-4\x1b" + ENTER + "v1 freq=D-4" + ENTER, "quit", "quit")
    expected = parse(SAME_AS_FILE + "4 v1 freq=C-4\n5 v1 freq=D-4\n")
    assert repl.session.tune == expected
    assert [p.label for p in repl.session.undo_stack] == ["typed frames 0–3", "typed frames 4–5"]


def test_directive_lines_set_the_header(typist):
    repl = typist.run('@title "Starfish"', "@model 8580", "quit", "quit")
    assert repl.session.tune.header.title == "Starfish"
    assert repl.session.tune.header.models == (8580,)


def test_transforms_undo_and_redo(typist):
    repl = typist.run(
        *TUNE_LINES, "transpose 12", "swap v1 v2", "undo", "undo", "redo", "loop 1-2 3", "quit", "quit"
    )
    s = repl.session
    base = parse(SAME_AS_FILE)
    assert [p.label for p in s.undo_stack][-2:] == [
        "transpose +12 semitones, all voices",
        "loop frames 1–2 × 3",
    ]
    assert len(s.tune.frames) == len(base.frames) + 4
    freq = s.tune.frames.state(0)[1, 0] | s.tune.frames.state(0)[1, 1].astype(int) << 8
    assert (
        int(freq)
        == int(parse("0 v1 freq=A-5").writes["val"][0]) | int(parse("0 v1 freq=A-5").writes["val"][1]) << 8
    )
    assert "undid: swap v1 and v2" in typist.printed
    # Undo all the way gives the empty tune back; every step is there.
    for _ in range(len(s.undo_stack)):
        s.undo()
    assert len(s.tune.writes) == 0


def test_show_roll_state_info_and_help(typist):
    typist.run(
        *TUNE_LINES, "show", "show 1-2", "roll", "state 1", "info", "help", "help transpose", "quit", "quit"
    )
    out = typist.printed
    assert "filter·vol" in out and "freq=A-4 wave=pulse,gate" in out
    assert "█" in out and "A-4" in out
    assert "state after frame 1" in out and "pulse,gate" in out
    assert "frames  4" in out
    for name in ("load", "transpose", "asid", "quit"):
        assert name in out
    assert "transpose -3 v2" in out


def test_every_command_has_an_example_in_help():
    from sidlang.repl.commands import COMMANDS

    for c in COMMANDS:
        assert c.examples and all(e.split()[0] == c.name for e in c.examples), c.name


def test_save_and_reload(typist, tmp_path):
    repl = typist.run(
        *TUNE_LINES,
        "save song.sidl",
        "transpose 2",
        "save song.vice",
        "save song.sidl",
        "save song.sidl --force",
        "load song.sidl",
        "quit",
    )
    saved = load("song.sidl")
    assert repl.session.tune == saved
    assert not repl.session.dirty
    assert Path("song.vice").exists()
    # Saving to the session's own file is allowed; another existing file needs --force: once song.vice
    # is the session's file, the plain "save song.sidl" is refused and the forced one replaces it.
    assert typist.printed.count("song.sidl already exists; add --force to replace it") == 1
    assert typist.printed.count("saved song.sidl") >= 2


def test_save_refuses_to_replace_another_file(typist):
    Path("other.sidl").write_text("0 vol=1\n")
    typist.run(*TUNE_LINES, "save other.sidl", "quit", "quit")
    assert "already exists; add --force" in typist.printed
    assert Path("other.sidl").read_text() == "0 vol=1\n"


def test_errors_are_one_line_not_tracebacks(typist):
    typist.run("load missing.sidl", "show", "state 9", "paste", "cut 5-9", "quit")
    out = typist.printed
    assert "Traceback" not in out
    assert out.count("error:") == 5


def test_file_that_does_not_exist_yet(typist):
    repl = typist.run(*TUNE_LINES, "save", "quit", path="fresh.sidl")
    assert "does not exist yet" in typist.printed
    assert load("fresh.sidl") == repl.session.tune


def test_history_persists_between_sessions(typist):
    typist.run("v1 freq=C-4", "quit", "quit")
    assert "v1 freq=C-4" in (typist.folder / "history").read_text()


def test_quit_asks_once_when_unsaved(typist):
    repl = typist.run("v1 freq=C-4", "quit", "quit")
    assert "unsaved changes" in typist.printed
    assert repl.session.dirty
    # A clean end removes the journal.
    assert not list((typist.folder / "journal").glob("*.journal"))


def test_big_tune_commands(typist, tmp_path):
    from sidlang import save
    from sidlang.testing import player_log

    save(player_log(300), tmp_path / "big.sidl")
    repl = typist.run(
        "show",
        "transpose -2 v1",
        "reverse 10-20",
        "simplify",
        "undo",
        "undo",
        "undo",
        "12 v2 freq+=16",
        "quit",
        "quit",
        path=str(tmp_path / "big.sidl"),
    )
    t = repl.session.tune
    before = load(tmp_path / "big.sidl")
    assert len(t.frames) == len(before.frames)
    other = np.flatnonzero(t.frames.index != 12)
    assert np.array_equal(t.writes[other], before.writes[before.frames.index != 12])
