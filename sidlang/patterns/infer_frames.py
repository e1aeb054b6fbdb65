"""What "the same register writes" means when frames go to patterns and back, and the raw
writes that make a song play a tune exactly.

**The same** (the lossless promise of :func:`sidlang.patterns.infer.infer`): two tunes make
the same writes when, frame by frame, chip by chip and register by register, they write the
same sequence of *effective* values. An effective write is one that changes the register (a
chip after reset holds 0 everywhere); writing the value a register already holds does nothing
on a SID, whose registers are latches, so such writes are dropped. The order of writes to
*different* registers inside one frame, and their cycle offsets in it, are not kept: the
pattern player writes in its own order, :data:`~sidlang.patterns.player.WRITE_GAP` cycles
apart. Two writes to one register in one frame (a gate closed and reopened, an ``sr`` changed
twice) stay two writes, in their order.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sidlang.registers import N_REGS
from sidlang.tune import Tune

from .model import Song

Cell = tuple[int, int, int]  #: (frame, chip, reg)


def effective(tune: Tune) -> np.ndarray:
    """The tune's effective writes as an ``(n, 4)`` int64 array of ``(frame, chip, reg, val)``,
    in the tune's order: the writes that change their register."""
    w = tune.writes
    if not len(w):
        return np.zeros((0, 4), np.int64)
    frames = tune.frames.index.astype(np.int64)
    chips, regs, vals = w["chip"].astype(np.int64), w["reg"].astype(np.int64), w["val"].astype(np.int64)
    slot = chips * N_REGS + regs
    keep = np.zeros(len(w), bool)
    # A write is effective when its value differs from the previous write to its register
    # (the first write to a register: from 0). Sort stably by register to compare neighbours.
    order = np.argsort(slot, kind="stable")
    s, v = slot[order], vals[order]
    prev = np.concatenate(([0], v[:-1]))
    first = np.concatenate(([True], s[1:] != s[:-1]))
    prev[first] = 0
    keep[order] = v != prev
    return np.stack([frames[keep], chips[keep], regs[keep], vals[keep]], axis=1)


def cells(eff: np.ndarray) -> dict[Cell, tuple[int, ...]]:
    """``(frame, chip, reg)`` to the values written there, in order."""
    out: dict[Cell, list[int]] = {}
    for f, c, r, v in eff.tolist():
        out.setdefault((f, c, r), []).append(v)
    return {k: tuple(v) for k, v in out.items()}


def same(a: Tune, b: Tune) -> bool:
    """Whether two tunes make the same writes in the sense of this module's docstring."""
    return cells(effective(a)) == cells(effective(b)) and len(a.frames) == len(b.frames)


def explained(target: dict[Cell, tuple[int, ...]], played: dict[Cell, tuple[int, ...]]) -> tuple[int, int]:
    """(writes of ``target`` that ``played`` makes too, cell for cell; all of ``target``'s)."""
    hit = sum(len(v) for k, v in target.items() if played.get(k) == v)
    return hit, sum(len(v) for v in target.values())


def patterns_only(song: Song) -> Song:
    """The song without its raw writes."""
    return replace(song, subtunes=[replace(s, raw=()) for s in song.subtunes])


def raw_writes(song: Song, tune: Tune, target: dict[Cell, tuple[int, ...]]) -> tuple:
    """The raw writes that make subtune 1 of ``song`` play ``tune``'s effective writes exactly.

    The player's own state never depends on what reached the chip, so what it means to write
    (:func:`~sidlang.patterns.player.intents`) is compared frame by frame with the target,
    starting from the target's register state before each frame; every register whose
    effective writes differ gets the target's writes (or its held value, where the target
    writes nothing there), which the player then writes instead of its own.
    """
    from .player import intents

    n = len(tune.frames)
    plan = intents(song, 1, frames=n)
    states = [tune.frames.state(c) for c in range(tune.header.chips)]
    by_frame: dict[int, list[tuple[int, int, tuple[int, ...]]]] = {}
    for (f, c, r), seq in target.items():
        by_frame.setdefault(f, []).append((c, r, seq))
    raw: list[tuple[int, int, int, int]] = []
    zero = [[0] * N_REGS for _ in states]
    for f in range(n):
        held = [list(s[f - 1]) + [0] * (N_REGS - s.shape[1]) for s in states] if f else zero
        mine: dict[tuple[int, int], list[int]] = {}
        cur: dict[tuple[int, int], int] = {}
        for c, r, v, _ in plan[f] if f < len(plan) else ():
            key = (c, r)
            if v != cur.get(key, held[c][r]):
                mine.setdefault(key, []).append(v)
                cur[key] = v
        wanted = {(c, r): seq for c, r, seq in by_frame.get(f, ())}
        for (c, r), seq in wanted.items():
            if tuple(mine.get((c, r), ())) != seq:
                raw.extend((f, c, r, v) for v in seq)
        raw.extend((f, c, r, held[c][r]) for c, r in mine if (c, r) not in wanted)
    return tuple(raw)
