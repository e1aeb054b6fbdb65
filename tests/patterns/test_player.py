"""The player: what registers a song writes, and in which frames."""

from __future__ import annotations

import pytest

from sidlang.errors import FormatError
from sidlang.patterns import parse
from sidlang.patterns.player import TAIL_FRAMES, play
from sidlang.pitch import PAL_HZ, note_to_reg

FREQ = {
    n: note_to_reg(m, 0, PAL_HZ) for n, m in {"C-4": 60, "D-4": 62, "E-4": 64, "G-4": 67, "C-5": 72}.items()
}
LEAD = """\
instr 1
  ad $0a
  sr $a6
  wave pulse +0
"""


def song(patterns: str, order: str = "v1 0", tempo: str = "6", instruments: str = LEAD, header: str = ""):
    return parse(f"{header}{instruments}{patterns}subtune 1\n  tempo {tempo}\n  {order}\n")


def frames(tune, chip: int = 0) -> dict[int, list[tuple[int, int]]]:
    """Writes of one chip by frame: ``{frame: [(reg, val), …]}`` in write order."""
    out: dict[int, list[tuple[int, int]]] = {}
    h = tune.header
    for w in tune.writes:
        if w["chip"] == chip:
            out.setdefault((int(w["cycle"]) - h.start_cycle) // h.frame_cycles, []).append(
                (int(w["reg"]), int(w["val"]))
            )
    return out


def freq_track(tune, frames_n: int, voice: int = 0) -> list[int]:
    """The voice's frequency register after each frame."""
    lo = hi = 0
    per = frames(tune)
    track = []
    for f in range(frames_n):
        for reg, val in per.get(f, []):
            if reg == voice * 7:
                lo = val
            elif reg == voice * 7 + 1:
                hi = val
        track.append(lo | hi << 8)
    return track


def ctrl_writes(tune, voice: int = 0) -> list[tuple[int, int]]:
    return [(f, v) for f, ws in sorted(frames(tune).items()) for r, v in ws if r == voice * 7 + 4]


def test_one_note_sets_freq_adsr_and_gate_in_frame_0_and_closes_at_the_end():
    tune = play(song("pattern 0\n  C-4 01\n  --- --\n"))
    f0 = frames(tune)[0]
    assert f0[:5] == [(0, FREQ["C-4"] & 0xFF), (1, FREQ["C-4"] >> 8), (5, 0x0A), (6, 0xA6), (4, 0x41)]
    assert ctrl_writes(tune) == [(0, 0x41), (12, 0x40)]  # two rows of 6 frames, then the gate closes
    assert tune.header.frames == 12 + TAIL_FRAMES


def test_filter_and_volume_are_set_in_frame_0():
    f0 = frames(play(song("pattern 0\n  C-4 01\n")))[0]
    assert (0x18, 0x0F) in f0 and (0x17, 0x00) in f0


@pytest.mark.parametrize("hr, at", [(2, 4), (3, 3), (1, 5)])
def test_hard_restart_closes_the_gate_and_zeroes_adsr_before_the_next_note(hr, at):
    tune = play(song("pattern 0\n  C-4 01\n  D-4 01\n", instruments=LEAD + f"  hr {hr} $00 $00\n"))
    per = frames(tune)
    assert per[at] == [(5, 0), (6, 0), (4, 0x40)]
    assert all(f not in per or f == 0 for f in range(1, at))
    assert per[6][-3:] == [(5, 0x0A), (6, 0xA6), (4, 0x41)]
    assert freq_track(tune, 7)[6] == FREQ["D-4"]


def test_without_hard_restart_the_gate_is_retriggered_inside_the_frame():
    tune = play(song("pattern 0\n  C-4 01\n  D-4 01\n", instruments=LEAD + "  hr 0 $00 $00\n"))
    assert ctrl_writes(tune)[:3] == [(0, 0x41), (6, 0x40), (6, 0x41)]


def test_hard_restart_with_own_adsr_values():
    tune = play(song("pattern 0\n  C-4 01\n  D-4 01\n", instruments=LEAD + "  hr 2 $0f $01\n"))
    assert frames(tune)[4] == [(5, 0x0F), (6, 0x01), (4, 0x40)]


def test_no_hard_restart_before_a_tone_portamento_or_an_empty_row():
    tune = play(song("pattern 0\n  C-4 01\n  ---\n  D-4 -- tp:9999\n"))
    assert ctrl_writes(tune) == [(0, 0x41), (18, 0x40)]


def test_funktempo_alternates_row_lengths():
    tune = play(
        song(
            "pattern 0\n  C-4 01\n  D-4 01\n  E-4 01\n  G-4 01\n",
            tempo="6 4",
            instruments=LEAD + "  hr 0 $00 $00\n",
        )
    )
    starts = [f for f, v in ctrl_writes(tune) if v == 0x41]
    assert starts == [0, 6, 10, 16]
    assert tune.header.frames == 20 + TAIL_FRAMES


def test_tempo_effect_changes_the_row_length_from_its_own_row():
    tune = play(
        song(
            "pattern 0\n  C-4 01\n  D-4 01 tempo:3\n  E-4 01\n  G-4 01 tempo:2,5\n  C-4 01\n  C-5 01\n",
            instruments=LEAD + "  hr 0 $00 $00\n",
        )
    )
    assert [f for f, v in ctrl_writes(tune) if v == 0x41] == [0, 6, 9, 12, 14, 19]


def test_arpeggio_table_steps_one_note_per_frame_and_loops():
    arp = "instr 1\n  ad $00\n  sr $f0\n  wave pulse +0\n  wave pulse +4\n  wave pulse +7\n  wave loop 0\n"
    tune = play(song("pattern 0\n  C-4 01\n", instruments=arp))
    c, e, g = FREQ["C-4"], FREQ["E-4"], FREQ["G-4"]
    assert freq_track(tune, 6) == [c, e, g, c, e, g]


def test_wave_table_absolute_notes_ignore_the_row_note_and_hold_the_last_step():
    drum = "instr 1\n  wave noise C-5\n  wave pulse +0\n"
    tune = play(song("pattern 0\n  D-4 01\n  --- --\n", instruments=drum))
    assert freq_track(tune, 4) == [FREQ["C-5"], FREQ["D-4"], FREQ["D-4"], FREQ["D-4"]]
    assert ctrl_writes(tune)[:2] == [(0, 0x81), (1, 0x41)]


def test_orderlist_transpose_shifts_the_notes():
    tune = play(song("pattern 0\n  C-4 01\n", order="v1 0 0+4", instruments=LEAD + "  hr 0 $00 $00\n"))
    track = freq_track(tune, 12)
    assert track[0] == FREQ["C-4"] and track[6] == FREQ["E-4"]


def test_portamento_up_and_down_move_the_frequency_every_frame():
    up = freq_track(play(song("pattern 0\n  C-4 01 up:10\n")), 4)
    assert up == [FREQ["C-4"] + 10 * k for k in range(1, 5)]
    dn = freq_track(play(song("pattern 0\n  C-4 01 dn:7\n")), 3)
    assert dn == [FREQ["C-4"] - 7 * k for k in range(1, 4)]


def test_tone_portamento_slides_to_the_note_without_retriggering():
    tune = play(song("pattern 0\n  C-4 01\n  D-4 -- tp:100\n", tempo="20"))
    track = freq_track(tune, 40)
    c, d = FREQ["C-4"], FREQ["D-4"]
    assert track[19] == c
    steps = -(-(d - c) // 100)
    assert track[20 : 20 + steps] == [min(c + 100 * k, d) for k in range(1, steps + 1)]
    assert track[20 + steps : 40] == [d] * (20 - steps)
    assert [v for f, v in ctrl_writes(tune)] == [0x41, 0x40]


def test_vibrato_is_a_triangle_around_the_note():
    track = freq_track(play(song("pattern 0\n  C-4 01 vib:1,10\n")), 6)
    c = FREQ["C-4"]
    assert track == [c, c + 10, c, c - 10, c, c + 10]


def test_pulse_table_sets_then_sweeps_then_holds():
    inst = LEAD + "  pulse set $400\n  pulse add 16 3\n"
    per = frames(play(song("pattern 0\n  C-4 01\n  ---\n", instruments=inst)))
    pw = []
    lo = hi = 0
    for f in range(6):
        for r, v in per.get(f, []):
            lo, hi = (v, hi) if r == 2 else (lo, v) if r == 3 else (lo, hi)
        pw.append(lo | hi << 8)
    assert pw == [0x400, 0x410, 0x420, 0x430, 0x430, 0x430]


def test_filter_table_takes_the_filter_for_its_voice():
    inst = LEAD + "  filter set $100\n  filter add 8 2\n  fmode lp,hp\n  fres 9\n"
    per = frames(play(song("pattern 0\n  C-4 01\n", instruments=inst)))
    assert (0x15, 0) in per[0] and (0x16, 0x20) in per[0]
    assert (0x17, 0x91) in per[0] and (0x18, 0x5F) in per[0]
    assert per[1] == [(0x16, 0x21)]  # $108: only the changed register is written


def test_gate_off_row():
    tune = play(song("pattern 0\n  C-4 01\n  ===\n  ---\n"))
    assert ctrl_writes(tune)[:2] == [(0, 0x41), (6, 0x40)]


def test_second_sid_voices_write_the_second_chip():
    tune = play(song("pattern 0\n  C-4 01\n", order="v4 0", header="chips 2\n"))
    assert tune.header.sids == (0xD400, 0xD420)
    assert frames(tune, 0)[0] == [(0x17, 0), (0x18, 0x0F)]
    assert frames(tune, 1)[0][:2] == [(0, FREQ["C-4"] & 0xFF), (1, FREQ["C-4"] >> 8)]


def test_a_looping_song_plays_until_every_voice_has_been_through_once():
    tune = play(
        song(
            "pattern 0\n  C-4 01\npattern 1\n  D-4 01\n  D-4 01\n  D-4 01\n",
            order="v1 @0\n  v2 1",
            instruments=LEAD + "  hr 0 $00 $00\n",
        )
    )
    assert [f for f, v in ctrl_writes(tune, 0) if v == 0x41] == [0, 6, 12]
    assert tune.header.frames == 18 + TAIL_FRAMES


def test_length_and_subtunes():
    s = parse(
        LEAD
        + "pattern 0\n  C-4 01\nsubtune 1\n  tempo 6\n  v1 @0\nsubtune 2\n  tempo 3\n  length 30\n  v2 0\n"
    )
    assert play(s, 2).header.frames == 30
    assert play(s, 2).header.subtune == 2
    assert play(s, 1, frames=100).header.frames == 100
    with pytest.raises(FormatError, match="subtune 3"):
        play(s, 3)


def test_the_example_plays_on_three_voices():
    from .test_text import EXAMPLE

    tune = play(parse(EXAMPLE.read_text()))
    voices = {int(w["reg"]) // 7 for w in tune.writes if w["reg"] < 21}
    assert voices == {0, 1, 2}
    assert tune.header.frames > 200


def test_hard_restart_takes_the_next_notes_instrument():
    other = LEAD + "instr 2\n  ad $11\n  sr $22\n  hr 3 $0f $0e\n  wave saw +0\n"
    per = frames(play(song("pattern 0\n  C-4 01\n  D-4 02\n", instruments=other)))
    assert per[3] == [(5, 0x0F), (6, 0x0E), (4, 0x40)]
    assert per[6][-3:] == [(5, 0x11), (6, 0x22), (4, 0x21)]


def test_an_instrument_change_without_a_note_keeps_the_wave_table_in_range():
    """A row that switches to an instrument with a shorter wave table, with no new note, once
    read past that table's end (IndexError): the table holds at its last step instead."""
    from sidlang.patterns import play
    from sidlang.patterns.parse import parse

    song = parse("""# sidp 1
instr 1
  wave noise +0
  wave pulse +0
  wave saw +0
  wave tri +0
instr 2
  wave pulse +0

pattern 0
  C-4 01
  ---
  ---
  --- 02
  ---

subtune 1
  tempo 1
  v1 0
""")
    tune = play(song)
    assert len(tune.frames) > 5
