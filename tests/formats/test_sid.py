"""PSID/RSID: header both ways, playing tiny players assembled here, errors, writing a .sid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sidlang
from sidlang.c64.player import tick
from sidlang.cli import main
from sidlang.errors import FormatError, UsageError
from sidlang.formats.sid import SidFile, build, parse
from sidlang.formats.sidwrite import CAPACITY, encode_sid, fit
from sidlang.tune import Header, Tune, make_writes
from tests.sidfiles import CIA_PLAYER, psid

EXPORTS = Path(__file__).resolve().parents[2] / ".." / "shared" / "testdata" / "sid-wizard" / "sid-exports"
PAL = 19656


def load(data: bytes, **options) -> Tune:
    return sidlang.load(data, format="sid", **options)


def test_header_round_trips_every_field():
    s = SidFile(
        magic="PSID",
        version=4,
        load=0x1000,
        init=0x1003,
        play=0x1006,
        songs=3,
        start_song=2,
        speed=0b101,
        name="Ä title",
        author="Ø",
        released="1987 €",
        flags=0x02A4,
        start_page=0x20,
        page_length=4,
        second_sid=0x42,
        third_sid=0xE0,
        data=b"\x60\x60\x60\x60\x60\x60\x60",
    )
    back = parse(build(s))
    assert back == s
    assert back.sid_addresses() == (0xD400, 0xD420, 0xDE00)
    assert back.song_is_cia(1) and not back.song_is_cia(2) and back.song_is_cia(3)
    s.load_in_data = False
    assert parse(build(s)).load == 0x1000


VBI_PLAYER = """
init:   lda #$0f
        sta $d418
        rts
        nop
play:   inc count
        lda count
        sta $d400
        rts
count:  .byte 0
"""


def test_vbi_play_writes_exact_cycles():
    tune = load(psid(VBI_PLAYER), seconds=0.1)
    h = tune.header
    assert (h.title, h.author, h.released) == ("Test", "Me", "2026 Ünïcödé €")
    assert h.frame_cycles == PAL and h.start_cycle == 0 and h.frames == 6
    w = tune.writes
    # the player's volume (as libsidplayfp's driver sets it), then init's own write
    assert [(int(c), int(r), int(v)) for c, r, v in zip(w["cycle"][:2], w["reg"][:2], w["val"][:2])] == [
        (0, 0x18, 15),
        (5, 0x18, 15),
    ]
    # play at frame n: INC abs (6) + LDA abs (4) + STA abs writes on its 4th cycle
    assert w["cycle"][2:].tolist() == [n * PAL + 13 for n in range(1, 6)]
    assert w["val"][2:].tolist() == [1, 2, 3, 4, 5]
    state = tune.frames.state(0)
    assert state[3, 0] == 3 and state[0, 0x18] == 15


@pytest.mark.parametrize("latch, frame", [(0x4CC7, 0x4CC8), (PAL // 4 - 1, PAL // 4)])
def test_cia_speed_and_multispeed_follow_the_tunes_timer(latch, frame):
    tune = load(psid(CIA_PLAYER.format(latch=latch), speed=1), seconds=0.2)
    assert tune.header.frame_cycles == frame
    calls = tune.writes["cycle"][1::2]  # INC writes twice; the second is the new value
    assert np.all(np.diff(calls) == frame)


def test_vbi_song_ignores_the_timer_and_subtune_goes_in_a():
    src = "init: sta $d402\nrts\nplay: rts"
    tune = load(psid(src, songs=3, start_song=2), seconds=0.05)
    assert tune.writes["val"].tolist() == [15, 1] and tune.header.subtune == 2  # the volume first
    assert load(psid(src, songs=3), subtune=3, seconds=0.05).writes["val"].tolist() == [15, 2]
    with pytest.raises(UsageError, match="--subtune must be 1–3"):
        load(psid(src, songs=3), subtune=4)


def test_two_and_three_sids_become_chips():
    src = "init: rts\nplay: lda #1\nsta $d400\nsta $d420\nsta $d440\nsta $de00\nrts"
    two = load(psid(src, version=3, second_sid=0x42, flags=0x0024 | 0x0040), seconds=0.05)
    assert two.header.sids == (0xD400, 0xD420) and two.header.models == (8580, 6581)
    assert sorted(set(two.writes["chip"].tolist())) == [0, 1]
    assert "$d440" in two.meta["sid"]["mirrors"] and "dropped" in two.meta["sid"]
    three = load(psid(src, version=4, second_sid=0x42, third_sid=0x44), seconds=0.05)
    assert three.header.chips == 3 and sorted(set(three.writes["chip"].tolist())) == [0, 1, 2]


RSID_CIA = """
        sei
        lda #<irq
        sta $0314
        lda #>irq
        sta $0315
        lda #$7f
        sta $dc0d
        lda #<4999
        sta $dc04
        lda #>4999
        sta $dc05
        lda #$81
        sta $dc0d
        lda #$11
        sta $dc0e
        cli
main:   jmp main
irq:    inc $d40f
        lda $dc0d
        jmp $ea81
"""

RSID_RASTER = """
        sei
        lda #$35
        sta $01
        lda #<irq
        sta $fffe
        lda #>irq
        sta $ffff
        lda #$7f
        sta $dc0d
        lda $dc0d
        lda #$40
        sta $d012
        lda #$1b
        sta $d011
        lda #1
        sta $d01a
        sta $d019       ; acknowledge a compare that happened before we enabled it
        cli
        rts
irq:    pha
        lda #$11
        sta $d404
        asl $d019
        pla
        rti
"""


def test_rsid_runs_the_installed_cia_handler_through_0314():
    tune = load(psid(RSID_CIA, load=0x0900, magic="RSID", play=None), seconds=0.1)
    assert tune.header.frame_cycles == 5000 and tune.header.timing == "irq"
    # an IRQ waits for the instruction in progress, and for a bad line's DMA
    assert np.all(np.abs(np.diff(tune.irq) - 5000) <= 43)
    incs = tune.writes[tune.writes["reg"] == 0x0F]
    assert len(incs) == 2 * len(tune.irq)


def test_tick_of_a_fast_timer_is_its_period_not_the_commonest_gap():
    # Latch 125: a 126-cycle timer. Each IRQ waits for the JMP in progress, so gaps of 125
    # come twice as often as gaps of 128; the tick is still the timer's 126.
    src = RSID_CIA.replace("<4999", "<125").replace(">4999", ">125")
    tune = load(psid(src, load=0x0900, magic="RSID", play=None), seconds=0.05)
    assert tune.meta["sid"]["song speed"] == "the tune's own interrupts, 126 cycles per tick"
    gaps = np.array([125, 125, 128] * 50 + [5000] + [125, 125, 128] * 50)
    assert tick(np.cumsum(gaps)) == (126, False)  # a pause does not move it, but breaks the grid
    assert tick(np.cumsum([125, 125, 128] * 50)) == (126, True)
    assert tick(np.array([10, 20])) == (0, False)


def test_play_zero_psid_with_raster_irq_through_fffe():
    tune = load(psid(RSID_RASTER, play=None), seconds=0.2)
    assert tune.header.frame_cycles == PAL
    w = tune.writes
    cycles = w["cycle"][w["reg"] == 4]
    assert len(cycles) == 10 and np.all(np.diff(cycles) == PAL)
    assert all(0x40 * 63 <= c % PAL < 0x41 * 63 + 40 for c in cycles.tolist())


@pytest.mark.parametrize(
    "data, match",
    [
        (b"PSI", "not a PSID/RSID file"),
        (b"MTHd" + bytes(200), "not a PSID/RSID file"),
        (b"PSID" + bytes(20), "truncated header"),
        (psid("init: rts\nplay: rts")[:0x7C], "load address .* is missing"),
        (psid("init: rts\nplay: rts", load=0)[:0x7E], "no C64 data"),
        (psid("init: rts\nplay: rts").replace(b"PSID\x00\x02", b"PSID\x00\x07", 1), "version must be 1–4"),
        (psid("init: rts\nplay: rts", magic="RSID"), "play address must be 0"),
        (psid("init: rts\nplay: rts", load=0x0400, magic="RSID", play=None), "load at \\$07e8"),
        (psid("init: rts\nplay: rts\n.byte 0", load=0xFFFE), "runs past \\$ffff"),
        (psid("init: rts\nplay: rts", songs=0), "number of songs"),
        (psid("init: .byte 2\nplay: rts"), "JAM opcode \\$02 at \\$1000"),
        (psid("init: jmp init\nplay: rts"), "loops forever"),
        (psid("init: rts\nplay: inx\nbne play\niny\nbne play\njmp play"), "play at \\$1001 did not return"),
        (psid("init: jsr $ffc0\nrts\nplay: rts"), "the KERNAL's OPEN \\(\\$f34a\\)"),
        (psid("init: rts", magic="RSID", play=None, flags=2), "BASIC program"),
    ],
)
def test_bad_files_give_one_clear_line(data, match):
    with pytest.raises(FormatError, match=match) as e:
        load(data, seconds=0.1)
    assert "\n" not in str(e.value)


def test_bad_options_are_usage_errors():
    data = psid(VBI_PLAYER)
    for opts, match in (
        ({"seconds": 0}, "--seconds"),
        ({"seconds": 1e9}, "--seconds"),
        ({"clock": "secam"}, "--clock"),
    ):
        with pytest.raises(UsageError, match=match):
            load(data, **opts)
    assert load(data, clock="ntsc", seconds=0.05).header.frame_cycles == 17095


def _tune(frames: int, chips: int = 1, frame: int = PAL, seed: int = 1) -> Tune:
    rng = np.random.default_rng(seed)
    pattern = [
        (c, r, int(v)) for c in range(chips) for r, v in zip(rng.integers(0, 25, 6), rng.integers(0, 256, 6))
    ]
    rows = []
    for n in range(frames):
        for k, (c, r, v) in enumerate(pattern):
            rows.append((n * frame + 40 * k, c, r, (v + (n % 8)) & 0xFF))
    cyc, ch, rg, vl = zip(*rows)
    sids = (0xD400, 0xD420, 0xD440)[:chips]
    return Tune(
        Header(title="Round", frame_cycles=frame, sids=sids, models=(8580,) * chips),
        make_writes(cyc, ch, rg, vl),
    )


@pytest.mark.parametrize("chips, frame", [(1, PAL), (3, PAL), (1, 4914)])
def test_written_sid_replays_the_same_frame_states(chips, frame):
    tune = sidlang.parse(sidlang.dumps(_tune(200, chips, frame)))  # through the text, as a user would
    data = encode_sid(tune)
    back = load(data, seconds=200 * frame / 985248)
    assert back.header.frame_cycles == frame and back.header.sids == tune.header.sids
    assert back.header.title == "Round" and back.header.models == tune.header.models
    n = len(tune.frames)
    for c in range(chips):
        assert np.array_equal(back.frames.state(c)[:n], tune.frames.state(c))
    assert len(data) < 200 * 6 * chips * 2  # repeated frames are stored once


def test_too_long_is_a_clear_error():
    rng = np.random.default_rng(0)
    n = CAPACITY // 20 + 100
    cyc = np.repeat(np.arange(n) * PAL, 12) + np.tile(np.arange(12) * 30, n)
    tune = Tune(
        Header(),
        make_writes(cyc, np.zeros(len(cyc)), np.tile(np.arange(12), n), rng.integers(0, 256, len(cyc))),
    )
    with pytest.raises(FormatError, match="too long for a .sid.*C64 memory holds"):
        encode_sid(tune)


def test_too_long_says_exactly_how_much_fits(tmp_path, capsys):
    # 2000 silent frames, then frames of 12 random writes (25 bytes each): the average density
    # is no guide to how much fits, so the figure must come from the encoding.
    rng = np.random.default_rng(1)
    quiet, dense = 2000, CAPACITY // 20 + 100
    frames = quiet + dense
    cyc = quiet * PAL + np.repeat(np.arange(dense) * PAL, 12) + np.tile(np.arange(12) * 30, dense)
    regs, vals = np.tile(np.arange(12), dense), rng.integers(0, 256, len(cyc))
    tune = Tune(Header(), make_writes(cyc, np.zeros(len(cyc)), regs, vals))
    with pytest.raises(FormatError, match=r"its first [0-9.]+ s \((\d+) frames\) fit") as err:
        fit(tune)
    k = int(err.value.message.split(" frames) fit")[0].rsplit("(", 1)[1])
    assert abs(k - frames * CAPACITY // fit_bytes(tune)) > 300  # not the average's guess
    cut = tune.replace(writes=tune.writes[tune.writes["cycle"] < k * PAL])
    used, room = fit(cut)
    assert CAPACITY - 30 < used <= room
    encode_sid(cut)
    one_more = tune.replace(writes=tune.writes[tune.writes["cycle"] < (k + 1) * PAL])
    with pytest.raises(FormatError, match="too long"):
        encode_sid(one_more)
    path = tmp_path / "long.sidl"
    sidlang.save(tune, path)
    assert main(["info", str(path)]) == 0
    assert f"its first {k * PAL / 985248:.1f} s ({k} frames) fit" in capsys.readouterr().out


def fit_bytes(tune: Tune) -> int:
    """Bytes the whole tune's stream needs, from the error :func:`fit` raises."""
    try:
        return fit(tune)[0]
    except FormatError as e:
        return int(e.message.split(" bytes of frame data")[0].rsplit(" ", 1)[1])


def test_unwritable_headers():
    with pytest.raises(FormatError, match="PAL .* or NTSC"):
        encode_sid(Tune(Header(clock_hz=1_000_000)))
    with pytest.raises(FormatError, match="title .* Windows-1252"):
        encode_sid(Tune(Header(title="日本")))


def test_cli_info_and_convert(tmp_path, capsys):
    path = tmp_path / "t.sid"
    path.write_bytes(psid(VBI_PLAYER))
    assert main(["info", str(path), "--seconds", "1"]) == 0
    out = capsys.readouterr().out
    assert "PSID v2" in out and "vertical blank" in out and "fits:" in out
    assert main(["convert", str(path), str(tmp_path / "t.sidl"), "--seconds", "0.5"]) == 0
    assert main(["convert", str(tmp_path / "t.sidl"), str(tmp_path / "u.sid")]) == 0
    assert main(["info", str(tmp_path / "u.sid"), "--subtune", "2"]) == 2


@pytest.mark.skipif(not EXPORTS.is_dir(), reason="../shared/testdata/sid-wizard is absent")
@pytest.mark.parametrize(
    "name, chips, frame",
    [
        ("bronkosaurus", 1, PAL),
        ("lenore", 1, 4914),
        ("childhood-2SID", 2, PAL),
        ("newwave-3SID", 3, PAL),
        ("echo-test", 1, PAL),
    ],
)
def test_real_exports(name, chips, frame):
    tune = sidlang.load(EXPORTS / f"{name}.sid", seconds=3)
    assert tune.header.chips == chips and tune.header.frame_cycles == frame
    assert len(tune.writes) > 100
    if chips == 3:
        assert "header fault" in tune.meta["sid"]
