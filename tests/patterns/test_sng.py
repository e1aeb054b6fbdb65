"""GoatTracker 2 ``.sng`` songs into the pattern text, and the ``sng`` format on the command line.

The songs are Debian's ``goattracker`` examples, read where they are installed (none are copied
into the repository); without them those tests skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import sidlang
from sidlang.cli import main
from sidlang.errors import FormatError
from sidlang.patterns import dump, parse
from sidlang.patterns.goat import read_goat, song_from_goat
from sidlang.patterns.model import GATE_OFF

pytest.importorskip("pygoattracker")

EXAMPLES = Path("/usr/share/doc/goattracker/examples")
SONGS = sorted(EXAMPLES.glob("*.sng")) if EXAMPLES.is_dir() else []
needs_examples = pytest.mark.skipif(
    not SONGS, reason=f"no GoatTracker examples in {EXAMPLES} (Debian package goattracker)"
)


@needs_examples
@pytest.mark.parametrize("path", SONGS, ids=lambda p: p.stem)
def test_every_example_reads_and_its_text_parses_back_the_same(path):
    song = read_goat(path.read_bytes(), str(path))
    text = dump(song)
    assert parse(text, str(path)) == song
    assert dump(parse(text)) == text
    assert song.subtunes and song.instruments and song.patterns


def _tiny_song():
    """A GoatTracker song built in memory: one instrument, one pattern, three voices."""
    import pygoattracker as gt

    song = gt.Song(name="tiny", author="me")
    song.wavetable.add(0x41, 0x00)  # pulse, gate, the row's note
    song.wavetable.add(0xFF, 0x00)  # stop
    song.pulsetable.add(0x88, 0x00)  # width $800
    song.pulsetable.add(0x10, 0x20)  # 16 frames of +32
    song.pulsetable.add(0xFF, 0x02)  # back to the sweep
    song.speedtable.add(0x00, 0x40)  # a speed of $40
    song.instruments.append(
        gt.Instrument(
            attack_decay=0x09,
            sustain_release=0xA8,
            wave_ptr=1,
            pulse_ptr=1,
            gateoff_timer=2,
            first_wave=0x09,
            name="lead",
        )
    )
    rows = [gt.Row(note=0x60 + 48, instrument=1, command=1, data=1), gt.Row(note=0xBE), gt.Row()]
    song.patterns = [gt.Pattern(rows)]
    song.subtunes[0].channels[0].entries = [gt.Transpose(5), gt.Repeat(1), gt.PlayPattern(0)]
    return song


def test_the_mapping_of_a_small_song():
    s = song_from_goat(_tiny_song())
    inst = s.instruments[1]
    assert (inst.ad, inst.sr, inst.hr, inst.hr_ad, inst.name) == (0x09, 0xA8, 2, 0x0F, "lead")
    assert inst.wave[0].wave == 0x08 and inst.wave[1].wave == 0x40  # first wave, then the table
    assert [(p.kind, p.value, p.frames) for p in inst.pulse] == [
        ("add", 0, 1),
        ("set", 0x800, 1),
        ("add", 32, 16),
    ]
    assert inst.pulse_loop == 2
    rows = s.patterns[0].rows
    assert rows[0].note == 48 + 12 and rows[0].instrument == 1
    assert (rows[0].effect.name, rows[0].effect.args) == ("up", (0x40,))
    assert rows[1].note == GATE_OFF and rows[2].note is None
    # GoatTracker stops a slide on the first row without a command; ours needs telling
    assert (rows[1].effect.name, rows[1].effect.args) == ("up", (0,)) and rows[2].effect is None
    order = s.subtunes[0].orders[0]
    lead, entry = order.entries
    assert (entry.pattern, entry.transpose, entry.repeat) == (0, 5, 2)
    assert s.patterns[lead.pattern].rows[0].effect.args == (1,)  # the player's lead-in frame
    assert order.loop == 1
    assert parse(dump(s)) == s


def test_an_instrument_without_a_note_moves_to_the_next_note():
    import pygoattracker as gt

    song = _tiny_song()
    song.patterns = [
        gt.Pattern([gt.Row(instrument=1), gt.Row(), gt.Row(note=0x60 + 24), gt.Row(instrument=1)])
    ]
    rows = song_from_goat(song).patterns[0].rows
    assert [r.instrument for r in rows] == [None, None, 1, None]


@needs_examples
def test_convert_sng_to_sidp_and_to_sidl(tmp_path):
    src = EXAMPLES / "consultant.sng"
    sidp = tmp_path / "c.sidp"
    assert main(["convert", str(src), str(sidp)]) == 0
    assert parse(sidp.read_text()) == read_goat(src.read_bytes())
    sidl = tmp_path / "c.sidl"
    assert main(["convert", str(src), str(sidl), "--seconds", "2"]) == 0
    tune = sidlang.parse(sidl.read_text())
    assert tune.header.title == "The Consultant" and tune.header.frames == 100
    # the frames are pygoattracker's playback, as the corpus reads it
    from sidlang.corpus.realtunes import read_sng

    want = read_sng(src, 2)
    assert (tune.frames.state(0) == want.frames.state(0)).all()


@needs_examples
def test_subtunes_on_the_command_line(tmp_path, capsys):
    src = EXAMPLES / "dojo.sng"  # four subtunes
    assert main(["convert", str(src), str(tmp_path / "d.sidl"), "--subtune", "4", "--seconds", "1"]) == 0
    assert main(["convert", str(src), str(tmp_path / "e.sidl"), "--subtune", "5"]) == 2
    assert "subtunes 1–4" in capsys.readouterr().err
    assert sidlang.parse((tmp_path / "d.sidl").read_text()).header.frames == 50
    assert main(["convert", str(src), str(tmp_path / "d.sidp")]) == 0
    assert len(parse((tmp_path / "d.sidp").read_text()).subtunes) == 4  # all of them, whatever --subtune


def test_a_truncated_sng_is_one_line_and_exit_1(tmp_path, capsys):
    head = (
        b"GTS5"  # identifier
        + b"tiny".ljust(32, b"\0")
        + b"me".ljust(32, b"\0")
        + bytes(32)  # name, author, copyright
        + b"\x01"  # one subtune
        + b"\x02\x00\xff"  # voice 1's orderlist: pattern 0, the end mark, then (cut off) the restart
    )
    src = tmp_path / "bad.sng"
    src.write_bytes(head)
    assert main(["convert", str(src), str(tmp_path / "y.sidp")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.sng" in err and "not a GoatTracker song" in err
    assert not (tmp_path / "y.sidp").exists()
    with pytest.raises(FormatError):
        read_goat(head)


def test_writing_sng_from_frames_is_a_usage_error(tmp_path, capsys):
    src = tmp_path / "x.sidl"
    src.write_text("# sidlang 1\n0 v1 freq=C-4\n")
    assert main(["convert", str(src), str(tmp_path / "y.sng")]) == 2
    assert "writing .sng needs a pattern song" in capsys.readouterr().err
    assert not (tmp_path / "y.sng").exists()
