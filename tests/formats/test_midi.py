"""The ``mid`` format: export mapping, the note round trip, reading other tools' MIDI, bad input."""

from __future__ import annotations

import io

import mido
import numpy as np
import pretty_midi
import pytest
from hypothesis import given
from hypothesis import strategies as st

import sidlang
from sidlang.errors import FormatError, UsageError
from sidlang.formats import midi
from sidlang.formats.sidnotes import notes
from sidlang.pitch import NTSC_HZ, PAL_HZ, note_to_reg
from sidlang.registers import VOICE_STRIDE, WAVE_BITS
from sidlang.tune import Header, Tune, make_writes

WAVES = [WAVE_BITS["pulse"], WAVE_BITS["saw"], WAVE_BITS["tri"]]
GATE = WAVE_BITS["gate"]


def note_tune(
    voices: dict[tuple[int, int], list[tuple[int, int, int, int]]],
    clock: int = PAL_HZ,
    chips: int = 1,
    extra: list[tuple[int, int, int, int]] = (),
) -> Tune:
    """A tune written register by register (no sidlang player involved).

    ``voices[(chip, voice)]`` lists ``(start, end, midi pitch, wave)``; a note that starts
    where the previous one ends closes and reopens the gate inside its first frame.
    ``extra`` adds raw ``(frame, chip, reg, val)`` writes.
    """
    header = Header(
        clock_hz=clock, gap=8, models=(6581,) * chips, sids=tuple(0xD400 + 0x20 * i for i in range(chips))
    )
    L = header.frame_cycles
    rows: list[tuple[int, int, int, int]] = []  # (cycle, chip, reg, val)
    for chip in range(chips):
        rows += [(0, chip, 24, 0x0F)]
        for (c, v), ns in voices.items():
            if c != chip:
                continue
            o = v * VOICE_STRIDE
            rows += [(1, chip, o + 5, 0x09), (2, chip, o + 6, 0xA4)]
            for i, (s, e, pitch, wave) in enumerate(ns):
                reg = note_to_reg(pitch, 0, clock)
                at = s * L + 100
                rows += [(at, chip, o, reg & 0xFF), (at + 8, chip, o + 1, reg >> 8)]
                if i and ns[i - 1][1] == s:
                    rows.append((at + 16, chip, o + 4, wave))
                rows.append((at + 24, chip, o + 4, wave | GATE))
                if i + 1 == len(ns) or ns[i + 1][0] != e:
                    rows.append((e * L + 100, chip, o + 4, wave))
    rows += [(f * L + 500, chip, reg, val) for f, chip, reg, val in extra]
    rows.sort(key=lambda r: r[0])
    cyc, chip_l, reg_l, val_l = zip(*rows)
    return Tune(header, make_writes(cyc, chip_l, reg_l, val_l))


@st.composite
def voice_notes(draw):
    out, t = [], draw(st.integers(0, 5))
    for _ in range(draw(st.integers(0, 8))):
        length = draw(st.integers(1, 30))
        out.append((t, t + length, draw(st.integers(24, 96)), draw(st.sampled_from(WAVES))))
        t += length + draw(st.sampled_from([0, 0, 1, 3, 10]))
    return out


def key(n):
    return (n.chip, n.voice, n.start, n.end - n.start, n.pitch)


@given(chips=st.integers(1, 2), clock=st.sampled_from([PAL_HZ, NTSC_HZ]), data=st.data())
def test_round_trip_keeps_every_note(chips, clock, data):
    voices = {(c, v): data.draw(voice_notes()) for c in range(chips) for v in range(3)}
    if not any(voices.values()):
        voices[(0, 0)] = [(0, 4, 60, WAVES[0])]
    tune = note_tune(voices, clock, chips)
    expected = sorted((c, v, s, e - s, p) for (c, v), ns in voices.items() for s, e, p, _ in ns)
    assert sorted(map(key, notes(tune))) == expected  # the note reader sees what was written
    back = midi.read_mid(midi.write_mid(tune))
    assert back.header.clock_hz == clock and back.header.chips == chips
    assert sorted(map(key, notes(back))) == expected


def test_sidlang_made_midi_round_trips_through_load_and_save(tmp_path):
    tune = note_tune(
        {(0, 0): [(0, 10, 60, WAVES[0]), (10, 20, 62, WAVES[0])], (0, 2): [(5, 9, 40, WAVES[2])]}
    )
    path = tmp_path / "x.mid"
    sidlang.save(tune, path)
    back = sidlang.load(path)
    assert sorted(map(key, notes(back))) == sorted(map(key, notes(tune)))


def test_export_mapping_tempo_channels_rpn_programs():
    tune = note_tune(
        {(0, 0): [(0, 10, 60, WAVES[0])], (0, 1): [(2, 5, 48, WAVES[1])], (0, 2): [(3, 6, 72, WAVES[2])]}
    )
    mf = mido.MidiFile(file=io.BytesIO(midi.write_mid(tune)))
    assert mf.type == 1 and mf.ticks_per_beat == midi.TICKS_PER_FRAME * midi.FRAMES_PER_BEAT
    tempo = next(m.tempo for m in mf.tracks[0] if m.type == "set_tempo")
    assert tempo == round(19656 / PAL_HZ * 1e6 * midi.FRAMES_PER_BEAT)
    assert [t.name for t in mf.tracks[1:]] == ["SID1 voice 1", "SID1 voice 2", "SID1 voice 3"]
    for ch, (track, prog) in enumerate(zip(mf.tracks[1:], (80, 81, 82))):
        cc = [(m.control, m.value) for m in track if m.type == "control_change"][:4]
        assert cc == [(101, 0), (100, 0), (6, midi.BEND_RANGE), (38, 0)]  # RPN 0: bend range
        assert {m.channel for m in track if hasattr(m, "channel")} == {ch}
        assert [m.program for m in track if m.type == "program_change"] == [prog]
    pm = pretty_midi.PrettyMIDI(io.BytesIO(midi.write_mid(tune)))
    frame = 19656 / PAL_HZ
    assert [(round(n.start / frame), round(n.end / frame), n.pitch) for n in pm.instruments[0].notes] == [
        (0, 10, 60)
    ]


def test_vibrato_is_pitch_bend_noise_is_drums_filter_is_cc74():
    tune = note_tune(
        {(0, 0): [(0, 10, 60, WAVES[0])], (0, 1): [(0, 3, 100, WAVE_BITS["noise"])]},
        extra=[
            (4, 0, 0, note_to_reg(61, 0, PAL_HZ) & 0xFF),
            (4, 0, 1, note_to_reg(61, 0, PAL_HZ) >> 8),
            (0, 0, 23, 0xF1),
            (0, 0, 22, 0x40),
        ],
    )
    mf = mido.MidiFile(file=io.BytesIO(midi.write_mid(tune)))
    v1, v2 = mf.tracks[1], mf.tracks[2]
    bends = [m.pitch for m in v1 if m.type == "pitchwheel"]
    assert bends == [round(8192 / midi.BEND_RANGE)]  # one semitone up at frame 4
    cut = [m.value for m in v1 if m.type == "control_change" and m.control == midi.CC_CUTOFF]
    assert cut == [0x40 * 8 >> 4]
    res = [m.value for m in v1 if m.type == "control_change" and m.control == midi.CC_RESONANCE]
    assert res == [127]
    assert [m.value for m in v2 if m.type == "control_change" and m.control == midi.CC_CUTOFF] == [127]
    drums = [m for m in v2 if m.type == "note_on"]
    assert [(m.channel, m.note) for m in drums] == [(midi.DRUM_CHANNEL, 42)]


def test_other_tools_three_monophonic_parts_keep_their_voices():
    pm = pretty_midi.PrettyMIDI(initial_tempo=125.0)
    frame = 19656 / PAL_HZ
    parts = [[(0, 8, 72), (8, 16, 74)], [(0, 16, 48)], [(4, 12, 60), (12, 14, 64)]]
    for part in parts:
        inst = pretty_midi.Instrument(0)
        inst.notes = [pretty_midi.Note(100, p, s * frame, e * frame) for s, e, p in part]
        pm.instruments.append(inst)
    buf = io.BytesIO()
    pm.write(buf)
    tune = midi.read_mid(buf.getvalue(), style="plain")
    got = sorted((n.voice, n.start, n.end, n.pitch) for n in notes(tune))
    assert got == sorted((v, s, e, p) for v, part in enumerate(parts) for s, e, p in part)


def test_bad_input_is_one_line_errors():
    with pytest.raises(FormatError, match="not a readable MIDI file"):
        midi.read_mid(b"MThd garbage", "x.mid")
    with pytest.raises(UsageError, match="subtune"):
        midi.read_mid(midi.write_mid(note_tune({(0, 0): [(0, 2, 60, WAVES[0])]})), subtune=2)
    with pytest.raises(sidlang.SidlangError, match="unknown style"):
        midi.read_mid(midi.write_mid(note_tune({(0, 0): [(0, 2, 60, WAVES[0])]})), style="nope")
    with pytest.raises(FormatError, match="at most 5 SIDs"):
        big = Header(sids=tuple(0xD400 + 0x20 * i for i in range(6)))
        midi.write_mid(Tune(big, make_writes([0], [5], [4], [0x41])))


def test_empty_tune_writes_a_valid_file():
    data = midi.write_mid(Tune(Header(), make_writes(np.zeros(0), [], [], [])))
    assert len(mido.MidiFile(file=io.BytesIO(data)).tracks) == 4
