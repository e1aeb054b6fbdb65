"""The REPL's hooks one at a time: typed text, arguments, highlighting, completion, views."""

from __future__ import annotations

import io

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from rich.console import Console

from sidlang import dumps, parse
from sidlang.repl.args import ArgError, parse_pitch, parse_range
from sidlang.repl.commands import BY_NAME, check
from sidlang.repl.completer import SidlangCompleter
from sidlang.repl.fragment import TypedError, apply_text
from sidlang.repl.lexer import tokens
from sidlang.repl.views import roll, show_table, split_line, state_table
from sidlang.testing import player_log

BASE = parse("0 v1 freq=A-4 pw=$400 wave=pulse,gate | res=3 route=v1 mode=lp vol=15\n1 v2 freq=C-3\n")


# -- typed text ------------------------------------------------------------------------------


def test_relative_change_starts_from_the_tunes_state():
    edit = apply_text(BASE, "v1 pw+=16 | vol-=5")
    assert dumps(edit.tune).splitlines()[-1] == "2 v1 pw=$410 | mode=lp vol=10"
    assert edit.frames == (2,) and edit.label == "typed frame 2"


def test_replacing_a_frame_keeps_its_neighbours():
    edit = apply_text(BASE, "0 v3 freq=E-5")
    assert dumps(edit.tune).splitlines()[-2:] == ["0 v3 freq=E-5", "1 v2 freq=C-3"]


def test_a_bare_number_past_the_end_lengthens():
    edit = apply_text(BASE, "9")
    assert len(edit.tune.frames) == 10 and len(edit.tune.writes) == len(BASE.writes)


def test_errors_point_into_the_typed_text():
    with pytest.raises(TypedError) as e:
        apply_text(BASE, "v1 freq=C-4\nv2 wave=pulze")
    assert e.value.line == 1 and e.value.column == 9
    assert e.value.hint == "did you mean 'pulse'?"
    assert e.value.position("v1 freq=C-4\nv2 wave=pulze") == 12 + 8


def test_a_run_typed_in_the_repl_reaches_later_frames():
    edit = apply_text(BASE, "v1 pw+=16*4")
    assert len(edit.tune.frames) == 6
    pw = [
        int(edit.tune.frames.state(0)[f, 2]) | int(edit.tune.frames.state(0)[f, 3]) << 8 for f in range(2, 6)
    ]
    assert pw == [0x410, 0x420, 0x430, 0x440]
    assert [k for k, _ in tokens("v1 freq~=24*6") if k] == [
        "context",
        "field",
        "op",
        "number",
        "op",
        "number",
    ]


def test_irq_timed_tunes_keep_their_interrupts():
    t = player_log(20, irq=True)
    edit = apply_text(t, "5 v1 freq=C-4")
    assert len(edit.tune.irq) == len(t.irq)
    assert edit.tune.frames[5].writes["reg"].tolist() == [0, 1]


# -- commands and arguments ------------------------------------------------------------------


def test_ranges_and_pitches():
    assert parse_range("4-7") == (4, 8)
    assert parse_range("4") == (4, 5)
    assert parse_range("4-") == (4, None)
    assert parse_range("-7") == (0, 8)
    assert parse_pitch("-3") == (-3, 0) and parse_pitch("25c") == (0, 25)
    with pytest.raises(ValueError):
        parse_range("7-4")


def test_command_lines_versus_sidlang():
    assert check("cut=$400") is None  # a write, not the cut command
    cmd, args = check("cut 4-7")
    assert cmd.name == "cut" and args["RANGE"] == (4, 8)
    cmd, args = check("transpose -3 v2 v3")
    assert args == {"N|Nc": (-3, 0), "VOICES": [1, 2]}
    cmd, args = check("paste 3 replace")
    assert args == {"AT": 3, "replace": True}
    assert check("exit")[0] is BY_NAME["quit"]
    with pytest.raises(ArgError) as e:
        check("swap v1 v4")
    assert e.value.word == 2
    with pytest.raises(ArgError):
        check("save a.sidl b.sidl")


# -- highlighting and completion -------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "12 v1 freq=C#4 wave=pulse,gate@40 | vol+=1 # c#",
        '@title "a b"',
        "v2 frq=3 irq@3 $d404=$41@10",
        "wait 4",
        "show 1-3",
        "   ",
    ],
)
def test_lexer_pieces_join_back(line):
    assert "".join(t for _, t in tokens(line, {"show"})) == line


def test_lexer_marks_unknown_fields():
    kinds = dict((t, k) for k, t in tokens("v1 frq=3 freq=C-4"))
    assert kinds["frq"] == "unknown" and kinds["freq"] == "field" and kinds["C-4"] == "note"


def complete(text: str) -> list[str]:
    doc = Document(text, len(text))
    return [c.text for c in SidlangCompleter().get_completions(doc, CompleteEvent(completion_requested=True))]


def test_completion_by_position(tmp_path, monkeypatch):
    assert "transpose" in complete("tra")
    assert "freq=" in complete("v1 fr")
    assert complete("v1 wave=pulse,g") == ["gate"]
    assert "C#4" in complete("v1 freq=C#")
    assert set(complete("swap v1 ")) == {"v1", "v2", "v3"}
    assert "transpose" in complete("help tr")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "song.sidl").write_text("")
    assert "ng.sidl" in complete("load so")


def test_mode_bits_complete():
    assert set(complete("mode=")) >= {"lp", "bp", "hp", "3off"}


# -- views -----------------------------------------------------------------------------------


def render(renderable) -> str:
    out = io.StringIO()
    Console(file=out, width=140, color_system=None).print(renderable)
    return out.getvalue()


def test_show_splits_voices_into_columns():
    cells, events = split_line("v1 freq=A-4 | v2 freq=C-3 | cut=$100 vol=1 mode=lp", 1)
    assert cells[(0, 0)] == ["freq=A-4"] and cells[(0, 1)] == ["freq=C-3"]
    assert cells[(0, -1)] == ["cut=$100", "vol=1", "mode=lp"]
    text = render(show_table(BASE, 0, 2))
    assert "freq=A-4 pw=$400 wave=pulse,gate" in text and "res=3 route=v1 mode=lp vol=15" in text


def test_roll_and_state():
    assert "█" in render(roll(BASE, 0, 2))
    text = render(state_table(BASE, 1))
    assert "A-4" in text and "C-3" in text and "vol=15" in text
