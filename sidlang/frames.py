"""The frames view of a Tune: frame boundaries, the writes of each frame, register state.

Frame ``n`` starts at ``header.start_cycle + n * header.frame_cycles``. Readers choose those
two numbers from what the source knows: the IRQ times of an asid-vice dump or a 6502 run, the
header of a ``.sid``, or the write bursts of a plain log (:func:`infer_frame_timing`); the
choice is kept in ``tune.meta["frame_source"]`` and shown by ``sidlang info``.

The view is computed from the Tune and never stored beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from sidlang.pitch import NTSC_FRAME, PAL_FRAME
from sidlang.registers import N_WRITABLE, WIDE_LOW

if TYPE_CHECKING:
    from sidlang.tune import Tune


@dataclass(frozen=True)
class Frame:
    """One frame: its number, start cycle, its writes and their cycle offsets in the frame."""

    index: int
    start: int
    writes: np.ndarray  #: structured (cycle, chip, reg, val), in order
    offsets: np.ndarray  #: int64, cycle - start

    def __len__(self) -> int:
        return len(self.writes)


class Frames(Sequence):
    """``tune.frames``: a sequence of :class:`Frame` with vectorised helpers.

    ``index[i]`` and ``offset[i]`` are the frame and in-frame cycle of write ``i``;
    ``bounds[n]:bounds[n+1]`` are the positions of frame ``n``'s writes.
    """

    def __init__(self, tune: Tune) -> None:
        h = tune.header
        self.start_cycle = h.start_cycle
        self.frame_cycles = h.frame_cycles
        self.chips = h.chips
        self.source = tune.meta.get("frame_source", "header")
        self._writes = tune.writes
        rel = tune.writes["cycle"] - h.start_cycle
        self.index, self.offset = np.divmod(rel, h.frame_cycles)
        last = int(self.index[-1]) + 1 if len(rel) else 0
        for ev in (tune.irq, tune.nmi):
            if len(ev):
                last = max(last, int((ev[-1] - h.start_cycle) // h.frame_cycles) + 1)
        self.n = max(last, h.frames)
        self.bounds = np.searchsorted(self.index, np.arange(self.n + 1), side="left")

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.n))]
        if i < 0:
            i += self.n
        if not 0 <= i < self.n:
            raise IndexError(f"frame {i} out of range 0–{self.n - 1}")
        a, b = int(self.bounds[i]), int(self.bounds[i + 1])
        return Frame(i, self.start(i), self._writes[a:b], self.offset[a:b])

    def start(self, i: int) -> int:
        """Start cycle of frame ``i``."""
        return self.start_cycle + i * self.frame_cycles

    @property
    def end_cycle(self) -> int:
        return self.start(self.n)

    @cached_property
    def counts(self) -> np.ndarray:
        """Number of writes in each frame (int64, length ``len(self)``)."""
        return np.diff(self.bounds)

    def state(self, chip: int = 0) -> np.ndarray:
        """Register state after each frame: a ``(len(self), 25)`` uint8 matrix for one chip.

        Registers start at 0 (the state after a reset); the last write to a register in a
        frame wins.
        """
        return self._states[chip]

    @cached_property
    def _states(self) -> list[np.ndarray]:
        out = []
        w = self._writes
        for chip in range(self.chips):
            sel = np.flatnonzero((w["chip"] == chip) & (w["reg"] < N_WRITABLE))
            last = np.full((self.n, N_WRITABLE), -1, dtype=np.int64)
            np.maximum.at(last, (self.index[sel], w["reg"][sel].astype(np.int64)), sel)
            last = np.maximum.accumulate(last, axis=0)
            held = w["val"][np.maximum(last, 0)] if len(w) else np.zeros(last.shape, np.uint8)
            vals = np.where(last >= 0, held, 0).astype(np.uint8)
            out.append(vals)
        return out


MIN_TICK, MAX_TICK = 256, 4 * PAL_FRAME  #: plausible player ticks, in cycles


def _snap(spacing: int) -> int:
    """The video-frame tick (or a multispeed fraction of it) that ``spacing`` is a multiple of."""
    for speed in range(1, 17):
        for base in (PAL_FRAME, NTSC_FRAME):
            tick = base / speed
            k = round(spacing / tick)
            if 1 <= k <= 8 and abs(spacing - k * tick) <= 0.005 * k * tick:
                return round(tick)
    return spacing


def infer_frame_timing(cycles: np.ndarray, default: int = PAL_FRAME) -> tuple[int, int, str]:
    """Frame length and start cycle from the write bursts of a log without interrupt data.

    A player routine writes its registers in a burst once per tick; bursts are separated by
    gaps much longer than the gaps inside them. The modal distance between burst starts gives
    the frame length: snapped to PAL's 19656 or NTSC's 17095 cycles, or an integer fraction of
    them for multispeed tunes, when it is within 0.5% of a whole multiple of one (a tune that
    writes only every second frame still ticks every frame). Frame 0 starts so that every
    burst begins at or just after a frame boundary. Returns ``(frame_cycles, start_cycle, source)``.
    """
    if len(cycles) == 0:
        return default, 0, "header"
    first = int(cycles[0])
    gaps = np.diff(cycles)
    if len(gaps) < 8:
        return default, first, "header"
    # A burst boundary is a gap far longer than the typical in-burst gap.
    # (np.median, not np.percentile, which imports numpy.ma: 10 ms of every dump's reading)
    threshold = max(1000, int(np.median(gaps)) * 20)
    starts = np.concatenate(([cycles[0]], cycles[1:][gaps > threshold]))
    if len(starts) < 4:
        return default, first, "header"
    spacing = np.diff(starts)
    # Mode of burst spacing, on a coarse grid so jitter of a few cycles still agrees.
    coarse = np.round(spacing / 16).astype(np.int64)
    values, counts = np.unique(coarse, return_counts=True)
    mode = values[np.argmax(counts)]
    near = spacing[np.abs(coarse - mode) <= 1]
    length = _snap(int(round(float(np.median(near)))))
    if not MIN_TICK <= length <= MAX_TICK:  # not a player tick: bursts of something else
        return default, first, "header"
    # Phase: put frame boundaries just before every burst start that sits on the grid.
    phase = (starts - first) % length
    centred = np.where(phase > length // 2, phase - length, phase)
    on_grid = centred[np.abs(centred) < length // 8]
    start = first + int(on_grid.min()) if len(on_grid) else first
    return length, min(start, first), "bursts"


_WIDE_LO = np.zeros(256, dtype=bool)
_WIDE_LO[list(WIDE_LOW)] = True


def default_gap(writes: np.ndarray, start: int, length: int, limit: int = 512) -> int:
    """The spacing between a frame's writes that lets the text omit the most ``@offsets``.

    Each write whose distance from the previous write of its frame equals the gap needs no
    offset; a two-byte field's low and high writes at that distance also fold into one token,
    so they count twice. Readers of real logs store this as ``header.gap``.
    """
    if len(writes) < 2:
        return 0
    cyc = writes["cycle"]
    d = np.diff(cyc)
    same = (np.diff((cyc - start) // length) == 0) & (d < limit) & (d >= 0)
    if not same.any():
        return 0
    counts = np.bincount(d[same], minlength=limit)
    reg = writes["reg"]
    pair = same & _WIDE_LO[reg[:-1]] & (reg[1:] == reg[:-1] + 1) & (writes["chip"][1:] == writes["chip"][:-1])
    counts[:limit] += np.bincount(d[pair], minlength=limit)[:limit]
    return int(np.argmax(counts))
