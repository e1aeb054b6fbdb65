"""ASID: message bytes, decode(encode(frames)) with retriggers, .syx errors, .mid timing, pacing."""

from __future__ import annotations

import io

import mido
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sidlang
from sidlang.errors import FormatError, UsageError
from sidlang.formats import asid, asid_midi
from sidlang.pitch import NTSC_FRAME, NTSC_HZ, PAL_FRAME, PAL_HZ
from sidlang.registers import N_WRITABLE
from sidlang.tune import Header, Tune, make_writes

# The protocol's table (protocol.md, "ASID to SID register mapping"), typed in from the spec.
SPEC_MAP = [
    0x00,
    0x01,
    0x02,
    0x03,
    0x05,
    0x06,
    0x07,
    0x08,
    0x09,
    0x0A,
    0x0C,
    0x0D,
    0x0E,
    0x0F,
    0x10,
    0x11,
    0x13,
    0x14,
    0x15,
    0x16,
    0x17,
    0x18,
    0x04,
    0x0B,
    0x12,
    0x04,
    0x0B,
    0x12,
]


def test_register_map_is_the_protocols():
    assert list(asid.ASID_TO_REG) == SPEC_MAP
    assert (asid.FIRST_CONTROL, asid.SECOND_CONTROL) == (22, 25)


def test_update_bytes():
    # freq lo/hi of voice 1 (indices 0, 1) and voice 1 control (22) = $81 (noise, gate):
    message = asid.encode_update(0, {0: 0x45, 1: 0x1D, 22: 0x81})
    assert message == bytes.fromhex(
        "F0 2D 4E"
        " 03 00 00 02"  # mask: bits 0,1 of byte 0; bit 1 of byte 3 (index 22 = 7*3 + 1)
        " 00 00 00 02"  # MSBs: index 22's value has bit 7 set
        " 45 1D 01"  # data, ascending index, 7 bits each
        " F7"
    )
    assert asid.decode_update(message[3:-1]) == {0: 0x45, 1: 0x1D, 22: 0x81}


def test_multi_sid_commands():
    assert [asid.encode_update(c, {})[2] for c in (0, 1, 2, 16)] == [0x4E, 0x50, 0x51, 0x5F]
    with pytest.raises(UsageError):
        asid.encode_update(17, {})


def test_setup_messages():
    assert asid.sysex(asid.START) == bytes.fromhex("F0 2D 4C F7")
    assert asid.display("Hi\u00e9") == bytes.fromhex("F0 2D 4F 48 69 3F F7")  # é is not ASCII
    # PAL, 1x, 19950 µs = 0x4DEE: 7-bit groups 6E 1B 01
    assert asid.speed(PAL_HZ, PAL_FRAME) == bytes.fromhex("F0 2D 31 00 6E 1B 01 F7")
    # NTSC 2x: bit 0 set, multiplier 2 -> (2 - 1) << 1
    assert asid.speed(NTSC_HZ, NTSC_FRAME // 2)[3] == 0x03
    assert asid.chip_type(1, 8580) == bytes.fromhex("F0 2D 32 01 01 F7")


# -- round trips -------------------------------------------------------------------------

CONTROL_REGS = list(asid.CONTROL)


@st.composite
def tunes(draw, max_frames: int = 12) -> Tune:
    """Random frames, biased to write control registers several times a frame (retriggers)."""
    chips = draw(st.integers(1, 3))
    frame = draw(st.sampled_from([PAL_FRAME, NTSC_FRAME, PAL_FRAME // 4]))
    clock = NTSC_HZ if frame == NTSC_FRAME else PAL_HZ
    write = st.tuples(
        st.integers(0, frame - 1),
        st.integers(0, chips - 1),
        st.one_of(st.sampled_from(CONTROL_REGS), st.integers(0, 31)),
        st.one_of(st.sampled_from([0x40, 0x41, 0x08, 0x81, 0x11]), st.integers(0, 255)),
    )
    frames = draw(st.lists(st.lists(write, max_size=12), min_size=1, max_size=max_frames))
    rows = [(n * frame + off, c, r, v) for n, ws in enumerate(frames) for off, c, r, v in sorted(ws)]
    header = Header(
        clock_hz=clock,
        frame_cycles=frame,
        models=tuple(draw(st.sampled_from([6581, 8580])) for _ in range(chips)),
        sids=tuple(0xD400 + 0x20 * i for i in range(chips)),
        frames=len(frames) + draw(st.integers(0, 2)),
    )
    return Tune(header, make_writes(*zip(*rows)) if rows else None)


def control_steps(tune: Tune, chip: int) -> dict[tuple[int, int], list[int]]:
    """Per (frame, control register): the writes that change what the register holds."""
    fr, w = tune.frames, tune.writes
    held: dict[int, int | None] = {r: None for r in CONTROL_REGS}
    out: dict[tuple[int, int], list[int]] = {}
    for n in range(len(fr)):
        frame = w[fr.bounds[n] : fr.bounds[n + 1]]
        for reg in CONTROL_REGS:
            vals = [int(x["val"]) for x in frame if x["chip"] == chip and x["reg"] == reg]
            if n == 0 and not vals:
                vals = [0]  # frame 0 starts from the reset state, which ASID sends too
            steps = []
            for v in vals:
                if v != (steps[-1] if steps else held[reg]):
                    steps.append(v)
            if steps:
                out[n, reg] = steps
                held[reg] = steps[-1]
    return out


def is_subsequence(short: list[int], long: list[int]) -> bool:
    it = iter(long)
    return all(any(x == y for y in it) for x in short)


def assert_same_control_changes(back: Tune, tune: Tune) -> None:
    """Up to two changes a frame come back exactly (retriggers); more keep the final value and
    at most one earlier change, taken from the original ones."""
    for chip in range(tune.header.chips):
        want, got = control_steps(tune, chip), control_steps(back, chip)
        assert set(got) == set(want)
        for key, steps in want.items():
            if len(steps) <= 2:
                assert got[key] == steps, key
            else:
                assert got[key][-1] == steps[-1] and len(got[key]) <= 2, key
                assert is_subsequence(got[key], steps), key


@settings(max_examples=60)
@given(tunes())
def test_decode_encode_gives_back_frame_states_and_retriggers(tune):
    back = asid.decode(asid.encode(tune))
    assert len(back.frames) == len(tune.frames)
    assert back.header.models == tune.header.models
    assert (back.header.clock_hz, back.header.frame_cycles) == (
        tune.header.clock_hz,
        tune.header.frame_cycles,
    )
    for chip in range(tune.header.chips):
        assert np.array_equal(back.frames.state(chip), tune.frames.state(chip))
    assert_same_control_changes(back, tune)


@settings(max_examples=40)
@given(tunes(max_frames=8))
def test_mid_round_trip(tune):
    back = asid_midi.read_mid(asid_midi.write_mid(tune))
    assert len(back.frames) == len(tune.frames)
    for chip in range(tune.header.chips):
        assert np.array_equal(back.frames.state(chip), tune.frames.state(chip))
    assert_same_control_changes(back, tune)


RETRIGGER = """\
# sidlang 1
@title "Retrig"
@clock pal
@frames 8
0 vol=15 | v1 freq=A-4 ad=$00 sr=$f0 pw=$800 wave=pulse,gate@10
2 v1 wave=pulse@10 wave=pulse,gate@30
4 v1 freq=C-4
"""


def test_a_retrigger_is_a_second_control_write():
    updates = asid.frame_updates(sidlang.parse(RETRIGGER))
    assert updates[2] == {22: 0x40, 25: 0x41}  # gate off, then on again, in one frame
    assert updates[1] == {} and updates[3] == {}
    assert set(updates[4]) == {0, 1}  # C-4 changes both frequency bytes


def test_more_control_changes_than_asid_holds():
    # Frame 1: gate on -> test -> gate off -> gate on: the retrigger (off, on) survives.
    # Frame 2: on -> off -> on -> off: no two writes can say that; the final value goes.
    w = make_writes(
        [0, 19656, 19666, 19676, 39312, 39322, 39332],
        [0] * 7,
        [4] * 7,
        [0x41, 0x08, 0x40, 0x41, 0x40, 0x41, 0x40],
    )
    updates = asid.frame_updates(Tune(Header(), w))
    assert updates[1] == {22: 0x40, 25: 0x41}
    assert updates[2] == {22: 0x40}


def test_mid_has_one_update_per_changed_frame_at_its_tick():
    tune = sidlang.parse(RETRIGGER)
    midi = mido.MidiFile(file=io.BytesIO(asid_midi.write_mid(tune)))
    assert midi.type == 0 and len(midi.tracks) == 1
    tick, updates, stop = 0, [], None
    for msg in midi.tracks[0]:
        tick += msg.time
        if msg.type == "sysex" and msg.data[1] == asid.UPDATE:
            updates.append(tick)
        if msg.type == "sysex" and msg.data[1] == asid.STOP:
            stop = tick
        if msg.type == "set_tempo":
            # one tick per frame: ticks_per_beat frames of 19656 cycles at the PAL clock
            assert msg.tempo == round(midi.ticks_per_beat * PAL_FRAME / PAL_HZ * 1e6)
    assert updates == [0, 2, 4]  # frame 0 sets everything; frames 2 and 4 change something
    assert stop == len(tune.frames)


def test_write_order_recipe_times_the_decoded_writes():
    tune = sidlang.parse(RETRIGGER)
    order, waits = asid.order_recipe(tune)
    assert sorted(order) == list(range(asid.N_INDEX))
    assert order.index(25) == order.index(22) + 1  # the second control write follows the first
    back = asid.decode(asid.encode(tune))
    frame2 = back.frames[2]
    assert frame2.writes["val"].tolist() == [0x40, 0x41]
    assert frame2.offsets.tolist() == [0, 20]  # median gap between the two control writes


def test_classic_leaves_out_extensions():
    tune = sidlang.parse(RETRIGGER)
    commands = [m[2] for _, m in asid.split_sysex(asid.encode(tune, classic=True))]
    assert not {asid.ORDER, asid.SPEED, asid.CHIP_TYPE} & set(commands)
    assert commands[:2] == [asid.START, asid.DISPLAY] and commands[-1] == asid.STOP
    two = Tune(Header(models=(6581, 6581), sids=(0xD400, 0xD420)))
    with pytest.raises(UsageError):
        asid.encode(two, classic=True)


def test_title_is_shown_and_read_back():
    tune = sidlang.parse(RETRIGGER)
    assert sidlang.load(asid.encode(tune), format="syx").header.title == "Retrig"


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (bytes.fromhex("F0 2D 4C"), "without its end byte"),
        (bytes.fromhex("2D 4C F7"), "expected SysEx start"),
        (bytes.fromhex("F0 2D 4E 03 00 00 00 00 00 00 00 45 F7"), "mask names 2 registers but 1"),
        (bytes.fromhex("F0 2D 4E 00 00 F7"), "needs 8 mask/MSB bytes"),
        (bytes.fromhex("F0 2D 31 00 6E F7"), "speed message needs 4"),
        (bytes.fromhex("F0 2D 4F 48 C8 F7"), "7-bit"),
    ],
)
def test_bad_syx_is_a_format_error(data, says):
    with pytest.raises(FormatError, match=says):
        sidlang.load(data, format="syx")


def test_other_makers_sysex_is_skipped():
    data = bytes.fromhex("F0 43 10 4C 00 00 7E 00 F7") + asid.encode_update(0, {21: 15})
    tune = sidlang.load(data, format="syx")
    assert tune.meta["skipped_messages"] == 1
    assert tune.frames.state(0)[0, 24] == 15


def test_updates_only_touch_writable_registers():
    w = make_writes([0, 5], [0, 0], [25, 28], [7, 9])  # read-only paddles and env3
    update = asid.frame_updates(Tune(Header(), w))[0]
    assert all(asid.ASID_TO_REG[i] < N_WRITABLE for i in update)


# -- live pacing -----------------------------------------------------------------------------


class FakeClock:
    """A monotonic clock where every sleep oversleeps by ``late`` seconds."""

    def __init__(self, late: float = 0.0) -> None:
        self.now = 1000.0
        self.late = late

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds + self.late


def test_pacing_runs_on_absolute_deadlines():
    clock = FakeClock(late=0.004)  # every wake-up is 4 ms late
    sent = []
    schedule = [(n * 0.02, n.to_bytes(2)) for n in range(1000)]
    worst = asid_midi.pace(schedule, lambda m: sent.append((clock.now, m)), clock=clock, sleep=clock.sleep)
    lateness = [t - (1000.0 + n * 0.02) for n, (t, _) in enumerate(sent)]
    # Late wake-ups do not add up: frame 999 is as late as frame 1, 4 ms, not 4 s.
    assert max(lateness) == pytest.approx(0.004) and worst == pytest.approx(0.004)


class FakePort:
    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.name = "fake"

    def send(self, message) -> None:
        self.received.append(bytes(message.bytes()))


def test_live_stream_ends_with_silence():
    tune = sidlang.parse(RETRIGGER)
    port, clock = FakePort(), FakeClock()
    asid_midi.play_live(tune, port, clock=clock, sleep=clock.sleep)
    commands = [m[2] for m in port.received]
    assert commands[0] == asid.START and commands[-1] == asid.STOP
    silence = asid.decode_update(port.received[-2][3:-1])
    assert silence == {22: 0, 23: 0, 24: 0, 21: 0}
    assert clock.now == pytest.approx(1000.0 + asid_midi.LEAD + 8 * PAL_FRAME / PAL_HZ)


def test_live_stream_cut_short_still_silences():
    class Broken(FakePort):
        def send(self, message):
            super().send(message)
            if len(self.received) == 7:
                raise KeyboardInterrupt

    port, clock = Broken(), FakeClock()
    with pytest.raises(KeyboardInterrupt):
        asid_midi.play_live(sidlang.parse(RETRIGGER), port, clock=clock, sleep=clock.sleep)
    assert port.received[-1] == asid.sysex(asid.STOP)


# -- the array encoder against the frame-by-frame rules it replaced ---------------------------


from tests.strategies import tunes as any_tunes  # noqa: E402


def reference_frame_updates(tune: Tune, chip: int = 0) -> list[dict[int, int]]:
    """The encoder's rules written out frame by frame (the encoder computes them over arrays)."""
    fr, w = tune.frames, tune.writes
    sel = np.flatnonzero((w["chip"] == chip) & (w["reg"] < N_WRITABLE))
    frame_of = fr.index[sel].tolist()
    regs, vals = w["reg"][sel].tolist(), w["val"][sel].tolist()
    held: list[int | None] = [None] * N_WRITABLE
    out, pos = [], 0
    for n in range(len(fr)):
        last = [0] * N_WRITABLE if n == 0 else list(held)
        controls: dict[int, list[int]] = {}
        while pos < len(regs) and frame_of[pos] == n:
            reg, val = regs[pos], vals[pos]
            last[reg] = val
            if asid.REG_TO_ASID[reg] >= asid.FIRST_CONTROL:
                controls.setdefault(reg, []).append(val)
            pos += 1
        update = {
            i: last[r] for r, i in asid.REG_TO_ASID.items() if i < asid.FIRST_CONTROL and last[r] != held[r]
        }
        for c, reg in enumerate(asid.CONTROL):
            steps = []
            for v in controls.get(reg, [last[reg]] if held[reg] is None else []):
                if v != (steps[-1] if steps else held[reg]):
                    steps.append(v)
            first, second = asid.FIRST_CONTROL + c, asid.SECOND_CONTROL + c
            middle = [v for v in steps[:-1] if v != held[reg] and v != steps[-1]]
            if len(steps) == 1 or (steps and not middle):
                update[first] = steps[-1]
            elif steps:
                update[first], update[second] = middle[-1], steps[-1]
        held = last
        out.append(update)
    return out


def reference_encode(tune: Tune) -> bytes:
    """``encode`` as one message at a time."""
    out = [m for _, m in asid.encode_stream(tune, updates=False)]
    per_chip = [reference_frame_updates(tune, c) for c in range(tune.header.chips)]
    for n in range(len(tune.frames)):
        for chip, updates in enumerate(per_chip):
            out.insert(-1, asid.encode_update(chip, updates[n]))
    return b"".join(out)


@settings(max_examples=100)
@given(st.one_of(tunes(), any_tunes(max_writes=14)))
def test_array_encoder_follows_the_frame_rules(tune):
    for chip in range(tune.header.chips):
        assert asid.frame_updates(tune, chip) == reference_frame_updates(tune, chip)
    assert asid.encode(tune) == reference_encode(tune)


def test_array_encoder_on_a_player_log():
    from sidlang.testing import player_log

    tune = player_log(300, chips=2)
    assert asid.encode(tune) == reference_encode(tune)
    w = make_writes(
        [0, 19656, 19666, 19676, 19686, 39312, 39322, 39332],
        [0] * 8,
        [4] * 8,
        [0x41, 0x08, 0x40, 0x41, 0x08, 0x40, 0x41, 0x40],
    )
    retrig = Tune(Header(), w)
    assert asid.encode(retrig) == reference_encode(retrig)
