"""The REPL's ``continue N``: the bundled model writes frames, as one undoable step."""

import pytest

from sidlang import parse
from tests.repl.test_app import CLEAR_LINE, SAME_AS_FILE, TUNE_LINES

pytest.importorskip("torch")
pytest.importorskip("safetensors")


def test_continue_appends_frames_undoably_and_repeatably(typist):
    from sidlang.model.network import continue_tune

    repl = typist.run(
        *TUNE_LINES, "continue 12 seed=3 temp=0.8", "continue 6 seed=1 from=2 keep=v1", "undo", "quit", "quit"
    )
    s = repl.session
    base = parse(SAME_AS_FILE)
    assert len(s.tune.frames) == len(base.frames) + 12
    assert s.tune == continue_tune(base, 12, temperature=0.8, seed=3)  # same seed, same frames
    assert [p.label for p in s.undo_stack][-1] == "continue 12 frames from frame 4"
    assert "undid: continue 6 frames from frame 2, keeping v1 (frames 2–15 replaced)" in typist.printed


def test_continue_settings_are_checked_before_accepting(typist):
    repl = typist.run(
        "continue 5 temp=hot",
        CLEAR_LINE + "continue 5 colour=3",
        CLEAR_LINE + "continue 0",
        CLEAR_LINE + "quit",
    )
    errors = repl.validator.errors
    assert errors[0].startswith("a temperature from 0 to 10 expected, got 'hot'")
    assert errors[1].startswith("a setting like seed=…")
    assert errors[2].startswith("a count of 1 or more expected")
    assert repl.session.undo_stack == []


def test_continue_from_past_the_end_is_one_line(typist):
    typist.run(*TUNE_LINES, "continue 4 from=99", "quit", "quit")
    assert "from= must be a frame from 0 to 4, got 99" in typist.printed
