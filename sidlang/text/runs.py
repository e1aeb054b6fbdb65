"""REPEAT and FLIP: one token that stands for the same change over several frames.

``pw+=16*8`` adds 16 to the pulse width in this frame and the next 7 (REPEAT, a PWM or filter
sweep, a slide); ``freq~=24*6`` adds 24, then takes 24 away, and so on for 6 frames (FLIP,
vibrato or a trill). Each frame's write is relative to the field's value just before it, and
lands at the same cycle offset as the first one.

Where a later frame has other writes, the repeated write goes after every write of that frame
whose offset is at most its own (after earlier-started repeats at the same offset), and before
the rest. Writes without ``@`` in that frame are spaced from the previous *typed* write, as if
the repeated one were not there. The parser (:class:`RunQueue`) expands by exactly these rules
and the printer (:func:`find_runs`) folds writes into a run only where expanding the run gives
back the same writes in the same order at the same cycles; the language stays lossless.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from sidlang.registers import WIDE_LOW, Field

MIN_RUN = 3  #: the printer folds runs of at least this many frames
MAX_COUNT = 100_000  #: the largest frame count a run may have
#: The most writes the runs of one text may add after their first frames, in all. Typed writes
#: are bounded by the text's length; runs are not (a 20-byte token stands for 200,000 writes),
#: so this bounds what a short text can cost. The printer folds no more than this either, so
#: everything it prints parses back.
MAX_RUN_WRITES = 1 << 21


class Later:
    """The changes of a run's frames after its first: ``len()`` of them, made on demand.

    REPEAT adds ``step`` every frame; FLIP (``flip``) goes ``-step, +step, …`` after its first
    ``+step``. Holding three numbers rather than a list keeps a ``*100000`` token small.
    """

    __slots__ = ("step", "n", "flip")

    def __init__(self, step: int, n: int, flip: bool) -> None:
        self.step, self.n, self.flip = step, n, flip

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, k: int) -> int:
        if not 0 <= k < self.n:
            raise IndexError(k)
        return -self.step if self.flip and k % 2 == 0 else self.step

    def __iter__(self):
        return (self[k] for k in range(self.n))

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, list | Later) else NotImplemented

    def array(self) -> np.ndarray:
        """The changes as an int64 array."""
        out = np.full(self.n, self.step, dtype=np.int64)
        if self.flip:
            out[0::2] = -self.step
        return out


@dataclass(order=True)
class Pending:
    """One expanded write waiting for its frame, ordered as the rules above place it."""

    offset: int
    seq: int  #: order in which runs started: earlier runs first at equal offsets
    chip: int
    reg: int  #: absolute register (the low byte for two-byte fields)
    delta: int
    field: Field
    origin: tuple  #: (line, column, line text, token) of the run token, for errors


class RunQueue:
    """The parser's runs still going: one entry per run, not one per frame it will write."""

    def __init__(self) -> None:
        # (next frame, seq, first frame, offset, chip, reg, field, later, origin)
        self.heap: list[tuple] = []
        self.seq = 0

    def __bool__(self) -> bool:
        return bool(self.heap)

    def start(
        self, frame: int, offset: int, chip: int, reg: int, f: Field, deltas: Later | list[int], origin: tuple
    ) -> None:
        """A run started in ``frame``: ``deltas[k]`` is the change ``k + 1`` frames later."""
        self.seq += 1
        if len(deltas):
            heapq.heappush(self.heap, (frame + 1, self.seq, frame, offset, chip, reg, f, deltas, origin))

    def _due(self, frame: int) -> list[Pending]:
        """The writes of every run due in ``frame`` (the heap's first frame), advancing them."""
        heap = self.heap
        out = []
        while heap and heap[0][0] == frame:
            entry = heapq.heappop(heap)
            _, seq, first, offset, chip, reg, f, deltas, origin = entry
            k = frame - first - 1
            out.append(Pending(offset, seq, chip, reg, deltas[k], f, origin))
            if k + 1 < len(deltas):
                heapq.heappush(heap, (frame + 1,) + entry[1:])
        out.sort()
        return out

    def take(self, frame: int) -> list[Pending]:
        """The writes due in ``frame``, in placement order (and forget them)."""
        if not self.heap or self.heap[0][0] != frame:
            return []
        return self._due(frame)

    def take_before(self, frame: int) -> list[tuple[int, list[Pending]]]:
        """Every frame before ``frame`` with pending writes, in order (for frames with no line)."""
        out = []
        while self.heap and self.heap[0][0] < frame:
            f = self.heap[0][0]
            out.append((f, self._due(f)))
        return out


def deltas_for(op: str, delta: int, count: int) -> tuple[int, Later]:
    """The first change and the changes of the ``count - 1`` frames after it."""
    if op == "~=":
        return delta, Later(delta, count - 1, True)
    step = delta if op == "+=" else -delta
    return step, Later(step, count - 1, False)


def run_writes(count: int, wide: bool) -> int:
    """Writes a run of ``count`` frames adds after its first frame (two per frame for two bytes)."""
    return (count - 1) * (2 if wide else 1)


# -- the printer's side --------------------------------------------------------------------

WIDE_SLOTS = WIDE_LOW  #: the two-byte fields runs are printed for


def _segments(ok: np.ndarray) -> list[tuple[int, int]]:
    """``[start, end)`` spans of consecutive True in ``ok`` (where ``ok[k]`` links k-1 and k)."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], ok.astype(np.int8), [0]))))
    # a True run over links a..b-1 covers elements a-1 .. b-1
    return [(int(a) - 1, int(b)) for a, b in zip(edges[::2], edges[1::2])]


def find_runs(tune, foldable: np.ndarray) -> tuple[np.ndarray, dict[int, str]]:
    """Writes of two-byte fields that print as REPEAT/FLIP runs.

    ``foldable[i]`` says write ``i`` and ``i + 1`` print as one two-byte field. Returns a mask
    of writes the run tokens stand for (not printed) and, for each run's first write, its
    operator text (``"+=16*8"``).
    """
    w = tune.writes
    fr = tune.frames
    n = len(w)
    skip = np.zeros(n, dtype=bool)
    starts: dict[int, str] = {}
    if n < 2 * MIN_RUN or not foldable.any():
        return skip, starts
    chip = w["chip"].astype(np.int64)
    reg = w["reg"].astype(np.int64)
    frame = fr.index
    # A run frame writes its field's two registers exactly once each.
    _, inv, counts = np.unique((frame * 8 + chip) * 32 + reg, return_inverse=True, return_counts=True)
    once = counts[inv] == 1
    slot = np.zeros(32, dtype=bool)
    slot[list(WIDE_SLOTS)] = True
    cand = np.flatnonzero(foldable[:-1] & slot[reg[:-1]] & once[:-1] & once[1:])
    if len(cand) < MIN_RUN:
        return skip, starts
    lo_bits = np.array([WIDE_SLOTS[r].lo_bits if r in WIDE_SLOTS else 8 for r in range(32)])
    hi_max = np.array(
        [WIDE_SLOTS[r].max >> WIDE_SLOTS[r].lo_bits if r in WIDE_SLOTS else 0 for r in range(32)]
    )
    vals = w["val"].astype(np.int64)
    r_c, c_c, f_c = reg[cand], chip[cand], frame[cand]
    value = vals[cand + 1] << lo_bits[r_c] | vals[cand]
    before = np.zeros(len(cand), dtype=np.int64)
    for c in np.unique(c_c).tolist():
        sel = (c_c == c) & (f_c > 0)
        st = fr.state(c).astype(np.int64)
        prev_f = f_c[sel] - 1
        hi = st[prev_f, r_c[sel] + 1]
        lo = st[prev_f, r_c[sel]]
        bits = lo_bits[r_c[sel]]
        before[sel] = (hi & hi_max[r_c[sel]]) << bits | (lo & ((1 << bits) - 1))
    delta = value - before
    order = np.lexsort((f_c, r_c, c_c))
    cand, r_c, c_c, f_c, delta = cand[order], r_c[order], c_c[order], f_c[order], delta[order]
    offs = fr.offset[cand]
    link = np.zeros(len(cand), dtype=bool)
    link[1:] = (
        (r_c[1:] == r_c[:-1]) & (c_c[1:] == c_c[:-1]) & (f_c[1:] == f_c[:-1] + 1) & (offs[1:] == offs[:-1])
    )
    repeat = link & np.concatenate(([False], (delta[1:] == delta[:-1]) & (delta[1:] != 0)))
    flip = link & np.concatenate(([False], (delta[1:] == -delta[:-1]) & (delta[1:] != 0)))
    spans = []
    for a, b in _segments(repeat):
        if b - a >= MIN_RUN:
            d = int(delta[a])
            spans.append((a, b, f"+={d}" if d > 0 else f"-={-d}"))
    for a, b in _segments(flip):
        if delta[a] < 0:
            a += 1  # a FLIP goes up first
        if b - a >= MIN_RUN:
            spans.append((a, b, f"~={int(delta[a])}"))
    owner: dict[int, int] = {}
    taken_until = -1
    budget = MAX_RUN_WRITES  # what the parser takes back; shortening below only lowers it
    for a, b, op in sorted(spans):
        a = max(a, taken_until)  # REPEAT and FLIP spans may share one element at an edge
        if b - a < MIN_RUN or (op.startswith("~") and delta[a] < 0):
            continue
        if run_writes(b - a, True) > budget:  # fold what the budget allows, print the rest
            b = a + budget // 2 + 1
            if b - a < MIN_RUN:
                continue
        budget -= run_writes(b - a, True)
        first = int(cand[a])
        starts[first] = f"{op}*{b - a}"
        for j in cand[a + 1 : b].tolist():
            skip[j] = skip[j + 1] = True
            owner[j] = first
        taken_until = b
    _keep_order(tune, skip, starts, owner)
    return skip, starts


def _keep_order(tune, skip: np.ndarray, starts: dict[int, str], owner: dict[int, int]) -> None:
    """Shorten runs until every frame's writes come back in their order when expanded.

    ``owner`` maps each folded low-byte write to the first write of its run.
    """
    fr = tune.frames
    offs = fr.offset
    by_frame: dict[int, list[int]] = {}
    for j in owner:
        by_frame.setdefault(int(fr.index[j]), []).append(j)
    todo = sorted(by_frame)
    while todo:
        bad = []
        for f in todo:
            pend = sorted((int(offs[j]), owner[j], j) for j in by_frame.get(f, ()) if j in owner)
            if not pend:
                continue
            a, b = int(fr.bounds[f]), int(fr.bounds[f + 1])
            order: list[int] = []
            p = 0
            for i in range(a, b):
                if skip[i]:
                    continue
                while p < len(pend) and pend[p][0] < offs[i]:
                    order += [pend[p][2], pend[p][2] + 1]
                    p += 1
                order.append(i)
            for _, _, j in pend[p:]:
                order += [j, j + 1]
            if order != list(range(a, b)):
                bad.append(f)
        todo = []
        for f in bad:
            for j in list(by_frame.get(f, ())):
                first = owner.get(j)
                if first is None:
                    continue
                op, count = starts[first].split("*")
                keep = f - int(fr.index[first])  # frames the run still covers
                for k in [k for k, v in owner.items() if v == first and int(fr.index[k]) >= f]:
                    skip[k] = skip[k + 1] = False
                    del owner[k]
                if keep >= MIN_RUN:
                    starts[first] = f"{op}*{keep}"
                else:
                    for k in [k for k, v in owner.items() if v == first]:
                        skip[k] = skip[k + 1] = False
                        del owner[k]
                    del starts[first]
                # Writes given back change the frames they were in: check those again.
                todo = sorted(set(todo) | {f} | set(by_frame))
