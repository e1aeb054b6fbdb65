"""The hub every format reads into and writes from: :class:`Header` plus a write array.

``tune.writes`` is a NumPy structured array of :data:`WRITE_DTYPE` ``(cycle, chip, reg, val)``
in time order: ``cycle`` is an absolute CPU cycle count (int64), ``chip`` an index into
``header.sids``, ``reg`` a register slot 0–31, ``val`` the byte written. Writes at the same cycle
keep their order. ``tune.irq`` and ``tune.nmi`` are the cycles of the interrupts a log recorded
(asid-vice dumps, 6502 emulation); most tunes have none.

Frames are derived, never stored: see :mod:`sidlang.frames`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from sidlang.errors import TuneError
from sidlang.pitch import PAL_HZ, default_frame_cycles
from sidlang.registers import N_REGS, SID_BASE

if TYPE_CHECKING:
    from sidlang.frames import Frames

WRITE_DTYPE = np.dtype([("cycle", np.int64), ("chip", np.uint8), ("reg", np.uint8), ("val", np.uint8)])
EVENT_DTYPE = np.int64
MODELS = (6581, 8580)
MAX_FRAMES = 1 << 22  #: about 23 hours at 50 Hz; bounds the memory of the frames view


@dataclass(frozen=True)
class Header:
    """Everything about a tune that is not a register write.

    ``frame_cycles`` is the player's tick length in cycles and ``start_cycle`` where frame 0
    begins: frame ``n`` spans ``start_cycle + n * frame_cycles`` onwards. ``gap`` is the cycle
    spacing the text language assumes between consecutive writes of a frame. ``timing`` is
    ``"irq"`` when the tune carries interrupt times, else ``"grid"``. ``irq_diff`` and
    ``nmi_diff`` are set where a log's IRQ or NMI column holds one number on every line (0 in
    dumps from tools that do not track interrupts): it carries no interrupt times, so the tune
    keeps that number instead of an event per write.
    """

    title: str = ""
    author: str = ""
    released: str = ""
    clock_hz: int = PAL_HZ
    frame_cycles: int = 0  #: 0 means the clock's default (19656 PAL, 17095 NTSC)
    start_cycle: int = 0
    gap: int = 0
    models: tuple[int, ...] = (6581,)  #: one chip model per SID
    sids: tuple[int, ...] = (SID_BASE,)  #: base address per SID; len() is the number of chips
    subtune: int = 0  #: 0 = not given; 1-based otherwise
    songs: int = 0  #: number of subtunes in the source, 0 = not given
    start_song: int = 0
    speed: int = 0  #: PSID speed bits (bit n: song n+1 on CIA timer)
    frames: int = 0  #: length in frames; 0 = up to the frame of the last write
    timing: str = "grid"
    irq_diff: int | None = None  #: the IRQ column of every write, where it is one number
    nmi_diff: int | None = None  #: the NMI column of every write, where it is one number

    def __post_init__(self) -> None:
        if self.frame_cycles == 0:
            object.__setattr__(self, "frame_cycles", default_frame_cycles(self.clock_hz))
        if len(self.models) != len(self.sids):
            models = (self.models + self.models[-1:] * len(self.sids))[: len(self.sids)]
            object.__setattr__(self, "models", models)
        check = [
            (self.clock_hz > 0, f"clock must be positive, got {self.clock_hz}"),
            (self.frame_cycles > 0, f"frame length must be positive, got {self.frame_cycles}"),
            (self.frames >= 0, f"length in frames must be 0 or more, got {self.frames}"),
            (self.gap >= 0, f"gap must be 0 or more, got {self.gap}"),
            (1 <= len(self.sids) <= 8, f"1 to 8 SIDs allowed, got {len(self.sids)}"),
            (all(m in MODELS for m in self.models), f"chip model must be 6581 or 8580, got {self.models}"),
            (self.timing in ("grid", "irq"), f"timing must be grid or irq, got {self.timing!r}"),
            (
                self.irq_diff is None or self.irq_diff >= 0,
                f"IRQ column must be 0 or more, got {self.irq_diff}",
            ),
            (
                self.nmi_diff is None or self.nmi_diff >= 0,
                f"NMI column must be 0 or more, got {self.nmi_diff}",
            ),
        ]
        for ok, message in check:
            if not ok:
                raise TuneError(message)

    @property
    def chips(self) -> int:
        return len(self.sids)

    @property
    def frame_hz(self) -> float:
        return self.clock_hz / self.frame_cycles

    def replace(self, **changes: Any) -> Header:
        return replace(self, **changes)


def empty_writes(n: int = 0) -> np.ndarray:
    return np.zeros(n, dtype=WRITE_DTYPE)


def make_writes(cycles, chips, regs, vals) -> np.ndarray:
    """A write array from four equal-length sequences."""
    w = empty_writes(len(cycles))
    w["cycle"], w["chip"], w["reg"], w["val"] = cycles, chips, regs, vals
    return w


class Tune:
    """A SID tune: :class:`Header`, writes in time order and optional interrupt times.

    ``meta`` carries what a reader noticed (lines skipped, how frames were found); it is not
    part of the tune's identity and is not compared. Treat a Tune as a value: the frames view
    is computed once and cached, so change a tune with :meth:`replace`, not in place.
    """

    def __init__(
        self,
        header: Header | None = None,
        writes: np.ndarray | None = None,
        irq: np.ndarray | None = None,
        nmi: np.ndarray | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.header = header or Header()
        self.writes = empty_writes() if writes is None else np.asarray(writes, dtype=WRITE_DTYPE)
        self.irq = np.zeros(0, EVENT_DTYPE) if irq is None else np.asarray(irq, dtype=EVENT_DTYPE)
        self.nmi = np.zeros(0, EVENT_DTYPE) if nmi is None else np.asarray(nmi, dtype=EVENT_DTYPE)
        self.meta = dict(meta or {})
        self.validate()

    def validate(self) -> None:
        """Raise :class:`TuneError` unless the invariants hold."""
        if self.header.frames > MAX_FRAMES:  # what the text's @frames takes: nothing writes what is not read
            raise TuneError(f"the tune lasts {self.header.frames} frames; at most {MAX_FRAMES} are supported")
        w = self.writes
        if w.ndim != 1:
            raise TuneError("writes must be a one-dimensional array")
        if len(w):
            if np.any(np.diff(w["cycle"]) < 0):
                i = int(np.argmax(np.diff(w["cycle"]) < 0)) + 1
                raise TuneError(f"writes out of time order at write {i} (cycle {int(w['cycle'][i])})")
            if int(w["chip"].max()) >= self.header.chips:
                raise TuneError(
                    f"a write names chip {int(w['chip'].max()) + 1} but the header has "
                    f"{self.header.chips} SID(s)"
                )
            if int(w["reg"].max()) >= N_REGS:
                raise TuneError(f"register {int(w['reg'].max())} out of range 0–31")
            span = (int(w["cycle"][-1]) - self.header.start_cycle) // self.header.frame_cycles
            if span >= MAX_FRAMES:
                raise TuneError(f"the tune spans {span} frames; at most {MAX_FRAMES} are supported")
            if int(w["cycle"][0]) < self.header.start_cycle:
                raise TuneError(
                    f"first write at cycle {int(w['cycle'][0])} is before frame 0 "
                    f"(start cycle {self.header.start_cycle})"
                )
        for name in ("irq", "nmi"):
            ev = getattr(self, name)
            if len(ev) and (np.any(np.diff(ev) <= 0) or ev[0] < self.header.start_cycle):
                raise TuneError(f"{name} times must be increasing and not before frame 0")
            if len(ev) and getattr(self.header, f"{name}_diff") is not None:
                raise TuneError(f"a tune whose {name.upper()} column is one number has no {name} times")

    # -- identity ------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Tune):
            return NotImplemented
        return (
            self.header == other.header
            and np.array_equal(self.writes, other.writes)
            and np.array_equal(self.irq, other.irq)
            and np.array_equal(self.nmi, other.nmi)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        h = self.header
        title = f" {h.title!r}" if h.title else ""
        return f"<Tune{title}: {len(self.writes)} writes, {len(self.frames)} frames, {h.chips} SID(s)>"

    def replace(self, **changes: Any) -> Tune:
        """A new Tune with some of ``header``, ``writes``, ``irq``, ``nmi``, ``meta`` replaced."""
        parts = {k: getattr(self, k) for k in ("header", "writes", "irq", "nmi", "meta")}
        parts.update(changes)
        return Tune(**parts)

    # -- derived views ---------------------------------------------------------------------
    @cached_property
    def frames(self) -> Frames:
        """The frames view (:class:`sidlang.frames.Frames`), computed once per Tune."""
        from sidlang.frames import Frames

        return Frames(self)

    @property
    def end_cycle(self) -> int:
        """The cycle where the tune ends: after its last frame."""
        return self.frames.end_cycle

    @property
    def seconds(self) -> float:
        return (self.end_cycle - self.header.start_cycle) / self.header.clock_hz


def header_field_names() -> list[str]:
    return [f.name for f in fields(Header)]
