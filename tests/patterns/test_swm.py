"""SID-Wizard modules (``.swm``/``.sws``/``.swt``) into the pattern text, the ``swm`` format on the
command line, and the imported songs played against the modules' own ``.sid`` exports.

Small modules are built in memory with pysidwizard's model (no binaries in the repository); the
14 example modules and their exports are read where they are (``../shared/testdata/sid-wizard``),
and those tests skip without them.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sidlang.cli import main
from sidlang.errors import FormatError
from sidlang.patterns import dump, parse
from sidlang.patterns.model import GATE_OFF, Effect, Row
from sidlang.patterns.player import play
from sidlang.patterns.swm import MIDI_OF_NOTE1, read_swm

pw = pytest.importorskip("pysidwizard")
warnings.filterwarnings("ignore", category=pw.SWMUnsupportedEffectWarning)

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "sid-wizard"
MODULES = sorted((DATA / "modules").glob("*.sw[mst]")) if (DATA / "modules").is_dir() else []
needs_modules = pytest.mark.skipif(not MODULES, reason=f"no SID-Wizard modules in {DATA}")


def _instrument(**kw) -> pw.Instrument:
    base = dict(control=0x1A, hr_decay=0xF, sustain=0xF, release=0x8, first_waveform=0x09)
    return pw.Instrument(**(base | kw))


def tiny_module(rows=None, *, tempo=(0x86, 0x83)) -> bytes:
    """A one-SID module: a pulse lead with an arpeggio and a pulse sweep, a filtered bass, three
    voices, a transpose and a loop."""
    lead = _instrument(
        name=b"LEAD    ",
        wf_table=bytes([0x41, 0x00, 0x00, 0x41, 0x0C, 0x00, 0xFE, 0x10]),  # pulse +0, +12, loop
        pw_table=bytes([0x84, 0x00, 0x00, 0x10, 0x20, 0x00, 0xFF]),  # $400, 16 frames of +32
    )
    bass = _instrument(
        name=b"BASS    ",
        wf_table=bytes([0x21, 0x00, 0x00]),
        filter_table=bytes([0x9F, 0x40, 0x00, 0x08, 0xF8, 0x00]),  # low-pass, res 15, sweep down
    )
    rows = rows or [
        pw.Row(note=49, instrument=1),  # C-5 with the lead
        pw.Row(),
        pw.Row(note=53),
        pw.Row(note=0x7E),  # gate off
        pw.Row(note=56, instrument=2, fx=0x01, fx_value=0x20),  # slide up
        pw.Row(),
        pw.Row(note=49, instrument=0x3F),  # legato
        pw.Row(fx=0x08, fx_value=0x44),  # vibrato
    ]
    swm = pw.SWMFile(
        author=b"SIDLANG TESTS",
        patterns=[pw.Pattern(rows=list(rows)), pw.Pattern(rows=[pw.Row(note=37, instrument=2), pw.Row()])],
        instruments=[lead, bass],
        sequences=[
            [pw.PlayPattern(1), pw.Transpose(5), pw.PlayPattern(1), pw.Loop(0)],
            [pw.PlayPattern(2), pw.PlayPattern(2), pw.End()],
            [pw.End()],
        ],
        subtune_tempos=[tempo],
    )
    return pw.build_swm(swm)


def test_a_tiny_module_maps_its_rows_instruments_and_orderlists():
    song = read_swm(tiny_module(), "tiny.swm").song
    assert song.author == "SIDLANG TESTS" and song.chips == 1
    assert parse(dump(song)) == song
    p = song.patterns[1]
    assert [r.note for r in p.rows[:5]] == [60, None, 64, GATE_OFF, 67]  # byte 49 is C-5, MIDI 60
    assert p.rows[4].effect.name == "up" and p.rows[4].effect.args[0] > 0
    assert p.rows[6].effect.name == "tp"  # legato: a slide there at once, no new note
    assert p.rows[7].effect.name == "vib"
    lead, bass = song.instruments[1], song.instruments[2]
    assert (lead.ad, lead.sr, lead.hr, lead.hr_ad, lead.hr_sr) == (0x00, 0xF8, 2, 0x0F, 0x00)
    assert [s.note for s in lead.wave] == [0, 0, 12] and lead.wave_loop == 1  # the jump back
    assert lead.pulse[1].kind == "set" and lead.pulse[1].value == 0x400
    assert (bass.fmode, bass.fres) == (1, 15) and bass.filter[1].value == 0x40 << 3
    sub = song.subtunes[0]
    assert sub.tempo == (6,)
    v1, v2 = sub.orders[0], sub.orders[1]
    lead, copy = v1.entries[0].pattern, v1.entries[1].pattern
    assert song.patterns[lead].rows == [Row(effect=Effect("tempo", (2,)))]  # the 2-frame lead-in
    assert song.patterns[copy].rows[0].effect == Effect("tempo", (6,))  # the tempo back after it
    assert song.patterns[copy].rows[1:] == p.rows[1:]
    # SID-Wizard's loop keeps the transpose in force: the loop is pattern 1 five up, not 0.
    assert (v1.entries[2].pattern, v1.entries[2].transpose, v1.loop) == (1, 5, 2)
    assert (v2.entries[1].pattern, v2.entries[1].repeat) == (2, 2)  # two plays, one entry
    hold = v2.entries[2].pattern  # the end: the last note goes on ringing, as SID-Wizard's does
    assert set(song.patterns[hold].rows) == {Row()} and v2.loop == 2
    assert 2 not in sub.orders


def _ref_states(data: bytes, frames: int) -> np.ndarray:
    player = pw.SWMPlayer(pw.parse_swm(data))
    state, out = np.zeros(25, np.int64), np.zeros((frames, 25), np.int64)
    for i in range(frames):
        for reg, val in player.play_frame():
            state[reg] = val
        out[i] = state
    return out


def test_a_tiny_module_plays_like_sid_wizards_player():
    """Register by register against pysidwizard's transcription of SID-Wizard's player: the
    notes start and stop on the same frames with the same ADSR and waveforms."""
    data = tiny_module()
    frames = 230  # two passes of voice 1's loop (see the test below for more)
    ref = _ref_states(data, frames)
    ours = play(read_swm(data).song, 1, frames=frames).frames.state(0)[:frames].astype(np.int64)
    for regs, floor in (((5, 6, 12, 13), 0.97), ((4, 11), 0.9), ((1, 8), 0.85)):  # ADSR, control, freq hi
        agree = (ref[2:, list(regs)] == ours[2:, list(regs)]).mean()
        assert agree >= floor, (regs, agree)


def test_a_loop_that_is_not_the_first_entry_goes_on_looping():
    song = read_swm(tiny_module()).song  # voice 1: lead-in, the tempo copy, then 1+5 looping
    tune = play(song, 1, frames=600)
    gates = tune.frames.state(0)[:, 4] & 1
    assert gates[400:].any()  # the loop still plays notes after five passes


notes = st.one_of(st.none(), st.integers(1, 0x5F), st.just(0x7E))
rows = st.lists(
    st.builds(pw.Row, note=notes, instrument=st.one_of(st.none(), st.sampled_from([1, 2, 0x3F]))),
    min_size=1,
    max_size=24,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows, left=st.integers(2, 12), right=st.integers(2, 12), funk=st.booleans())
def test_generated_modules_keep_every_note_and_print_back_the_same(rows, left, right, funk):
    data = tiny_module(rows, tempo=(left, right) if funk else (0x80 | left, 0x80 | left))
    song = read_swm(data).song
    assert parse(dump(song)) == song
    got = [r.note for r in song.patterns[1].rows]
    want = [
        None if r.note is None else GATE_OFF if r.note == 0x7E else r.note - 1 + MIDI_OF_NOTE1 for r in rows
    ]
    assert got == want
    assert song.subtunes[0].tempo == ((left, right) if funk else (left,))
    play(song, 1, frames=200)


@pytest.mark.parametrize(
    "data",
    [b"", b"SWM1", b"SWM1" + bytes(80), b"not a module at all" * 10],
    ids=["empty", "magic", "zeros", "text"],
)
def test_bad_bytes_are_one_format_error(data):
    with pytest.raises(FormatError) as e:
        read_swm(data, "bad.swm")
    assert str(e.value).startswith("bad.swm: not a SID-Wizard module") and "\n" not in str(e.value)


def test_a_truncated_module_is_one_line_naming_the_file_and_exit_1(tmp_path, capsys):
    bad = tmp_path / "cut.swm"
    bad.write_bytes(tiny_module()[:70])
    assert main(["info", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"sidlang: {bad}: not a SID-Wizard module") and "\n" not in err


def test_convert_a_module_in_process(tmp_path, capsys):
    src = tmp_path / "tiny.swm"
    src.write_bytes(tiny_module())
    assert main(["convert", str(src), str(tmp_path / "t.sidp")]) == 0
    assert parse((tmp_path / "t.sidp").read_text()) == read_swm(src.read_bytes()).song
    assert main(["convert", str(src), str(tmp_path / "t.swm")]) == 0
    assert (tmp_path / "t.swm").read_bytes() == src.read_bytes()  # the module itself, byte for byte
    assert main(["convert", str(src), str(tmp_path / "t.sidl"), "--seconds", "2"]) == 0
    assert (tmp_path / "t.sidl").read_text().count("\n") > 50
    assert main(["convert", str(src), str(tmp_path / "u.sidl"), "--subtune", "2"]) == 2
    assert "subtune" in capsys.readouterr().err


@needs_modules
@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_every_example_module_reads_writes_and_reads_again(path, tmp_path):
    import sidlang

    data = path.read_bytes()
    imported = read_swm(data, str(path))
    song = imported.song
    text = dump(song)
    assert parse(text, str(path)) == song and dump(parse(text)) == text
    assert song.subtunes and song.instruments and song.patterns
    tune = sidlang.load(path, seconds=1)
    out = tmp_path / path.name
    sidlang.save(tune, out)
    assert out.read_bytes() == data  # pysidwizard rebuilds the module byte for byte
    assert read_swm(out.read_bytes()).song == song
    play(song, 1, frames=100)


def _export(module: Path) -> Path:
    for name in (module.stem, f"{module.stem}-2SID", f"{module.stem}-3SID"):
        p = DATA / "sid-exports" / f"{name}.sid"
        if p.exists():
            return p
    pytest.skip(f"no export of {module.name}")


@needs_modules
def test_imported_songs_sound_like_their_sid_exports():
    """The pattern player's rendering of two imported modules (one SID and two SIDs) against
    each module's ``.sid`` export run through the 6502 emulation: well above what a different
    song scores (measured here: about 0.95 and 0.97 against about 0.2)."""
    import sidlang
    from sidlang.c64.compare import score, score_at
    from sidlang.formats.render import RenderOptions, render

    seconds, rate = 4.0, 22050
    opts = RenderOptions(rate=rate, seconds=seconds, chip=6581)

    def mono(tune):
        x = np.asarray(render(tune, opts), dtype=np.float64)
        return (x.mean(axis=1) if x.ndim == 2 else x) / 32768

    names = ["kerekesintro.swm", "childhood.sws"]
    paths = [p for p in MODULES if p.name in names]
    if len(paths) < 2:
        pytest.skip("kerekesintro and childhood not there")
    refs = [mono(sidlang.load(_export(p), seconds=seconds)) for p in paths]
    for i, p in enumerate(paths):
        ours = mono(play(read_swm(p.read_bytes()).song, 1, frames=round(seconds * 50.125)))
        best, _ = score(ours, refs[i], rate)
        other = score_at(refs[1 - i], refs[i], rate)
        assert best >= 0.8 and best >= other + 0.4, (p.name, best, other)
