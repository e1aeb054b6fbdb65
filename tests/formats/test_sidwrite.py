"""Writing a .sid keeps the in-frame timing of writes, and the compact form where it does not matter."""

from __future__ import annotations

import numpy as np
import pytest
from sidlang.formats.sidreplay import AFTER_UNDERFLOW, EARLIEST, END_FRAME, START, frame_bytes
from sidlang.formats.sidwrite import CAPACITY, encode_sid, fit, frame_streams

import sidlang
from sidlang.tune import Header, Tune, make_writes

PAL = 19656
TOLERANCE = 13  #: cycles: polling every 9 (-3..+5), a page crossed (+4), DRIFT (±3)


def _spread_tune(frames: int, seed: int = 5) -> Tune:
    """Frames of 2–11 writes at random offsets past cycle 1000, at least ``EARLIEST`` cycles apart."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in range(frames):
        k = int(rng.integers(2, 12))
        offsets = np.sort(rng.choice(np.arange(1000 // EARLIEST + 1, 19000 // EARLIEST) * EARLIEST, k, replace=False))
        for o, r in zip(offsets, rng.choice(25, k, replace=False)):
            rows.append((n * PAL + int(o), 0, int(r), int(rng.integers(0, 256))))
    cyc, ch, rg, vl = zip(*rows)
    return Tune(Header(frame_cycles=PAL), make_writes(cyc, ch, rg, vl))


def _changes(tune: Tune) -> list[tuple[int, int, int]]:
    """(cycle, reg, value) of the writes that change a register, as the encoder keeps them."""
    state: dict[int, int] = {}
    out = []
    for c, r, v in zip(tune.writes["cycle"].tolist(), tune.writes["reg"].tolist(), tune.writes["val"].tolist()):
        if state.get(r) != v:
            state[r] = v
            out.append((c, r, v))
    return out


def test_writes_spread_in_a_frame_land_at_their_offsets():
    tune = _spread_tune(40)
    back = sidlang.load(encode_sid(tune), format="sid", seconds=40 * PAL / 985248)
    got = list(zip(back.writes["cycle"].tolist(), back.writes["reg"].tolist(), back.writes["val"].tolist()))
    want = _changes(tune)
    assert [(r, v) for _, r, v in got] == [(r, v) for _, r, v in want]
    err = np.array([g[0] - w[0] for g, w in zip(got, want)])
    # Past the frame's untimed start; frame 0 is played by init, whose own code comes first.
    timed = err[np.array([(w[0] % PAL) > 1000 and w[0] >= PAL for w in want])]
    assert len(timed) > 100 and np.abs(timed).max() <= TOLERANCE, (timed.min(), timed.max())


def test_writes_at_the_frame_start_keep_the_compact_form():
    pairs = [(0, 1), (1, 2), (24, 15), (4, 17)]
    offsets = [20, 45, 60, 100]  # a player's burst: written straight away as before
    assert frame_bytes(pairs, offsets, PAL) == bytes([0, 1, 1, 2, 24, 15, 4, 17, END_FRAME])
    late = frame_bytes(pairs, [20, 45, 60, 5000], PAL)
    assert late[0] == START and len(late) > 9
    # A timed write's underflow comes AFTER_UNDERFLOW cycles before it lands.
    assert int.from_bytes(late[1:3], "little") < 5000 - AFTER_UNDERFLOW


def test_untimed_tune_streams_are_unchanged():
    rng = np.random.default_rng(2)
    rows = [(n * PAL + 30 + 40 * k, 0, k, int(rng.integers(0, 256))) for n in range(50) for k in range(8)]
    cyc, ch, rg, vl = zip(*rows)
    tune = Tune(Header(), make_writes(cyc, ch, rg, vl))
    for f in frame_streams(tune):
        assert f[-1] == END_FRAME and len(f) % 2 == 1 and START not in f[::2]  # pairs and $ff only


@pytest.mark.parametrize("seed", [1, 2])
def test_capacity_is_exact_with_timed_frames(seed):
    # Dense timed frames: what fit says is the stream's size, and cutting one frame later fails.
    rng = np.random.default_rng(seed)
    n = CAPACITY // 30 + 50  # about 34 bytes a frame
    k = 10
    cyc = np.repeat(np.arange(n) * PAL, k) + np.tile(300 + np.arange(k) * 1500, n)
    regs, vals = np.tile(np.arange(k), n), rng.integers(0, 256, n * k)
    tune = Tune(Header(), make_writes(cyc, np.zeros(n * k), regs, vals))
    with pytest.raises(sidlang.SidlangError, match=r"\((\d+) frames\) fit") as err:
        fit(tune)
    fits = int(err.value.message.split(" frames) fit")[0].rsplit("(", 1)[1])
    cut = tune.replace(writes=tune.writes[tune.writes["cycle"] < fits * PAL])
    used, room = fit(cut)
    assert room - 200 < used <= room
    encode_sid(cut)
    with pytest.raises(sidlang.SidlangError, match="too long"):
        encode_sid(tune.replace(writes=tune.writes[tune.writes["cycle"] < (fits + 1) * PAL]))
