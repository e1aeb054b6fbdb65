"""Synthetic tunes shaped like real player logs, for tests and benchmarks.

:func:`player_log` imitates what a tracker's play routine writes once per frame: an interrupt
(with a few cycles of raster jitter), then a burst of writes per voice in a fixed order (the
frequency with vibrato, the pulse width sweeping, the control register with gate changes and
hard-restart retriggers, the envelope on new notes) and the filter, spaced by a few cycles
like ``STA $D400,X`` loops. Deterministic for a given seed.
"""

from __future__ import annotations

import numpy as np

from sidlang.pitch import PAL_FRAME, PAL_HZ, note_to_reg
from sidlang.registers import sid_addresses
from sidlang.tune import Header, Tune, make_writes


def player_log(
    frames: int = 3000,
    *,
    seed: int = 0,
    chips: int = 1,
    jitter: int = 7,
    start: int = 1_234_567,
    irq: bool = False,
) -> Tune:
    """A Tune of ``frames`` frames of plausible player writes (about 20 per frame per chip)."""
    rng = np.random.default_rng(seed)
    L = PAL_FRAME
    cyc: list[int] = []
    chip_l: list[int] = []
    reg_l: list[int] = []
    val_l: list[int] = []
    irqs: list[int] = []
    melody = rng.integers(36, 84, size=(chips, 3, frames // 6 + 2))
    for f in range(frames):
        base = start + f * L
        t = base + (int(rng.integers(0, jitter + 1)) if jitter else 0)
        irqs.append(t)
        t += 30
        for c in range(chips):
            for v in range(3):
                step = f // 6
                note = int(melody[c, v, step])
                new_note = f % 6 == 0
                freq = note_to_reg(note, int(12 * np.sin(f / 2.0)) if v == 0 else 0, PAL_HZ)
                pw = (0x400 + 40 * (f % 64)) & 0xFFF
                gate = 0x41 if f % 6 < 4 else 0x40
                regs = [(0, freq & 0xFF), (1, freq >> 8), (2, pw & 0xFF), (3, pw >> 8)]
                if new_note:
                    regs += [(5, 0x09), (6, 0xA8), (4, 0x08), (4, gate)]  # hard restart
                else:
                    regs += [(4, gate)]
                for r, val in regs:
                    t += int(rng.choice((8, 8, 8, 8, 6, 10, 14)))
                    cyc.append(t)
                    chip_l.append(c)
                    reg_l.append(7 * v + r)
                    val_l.append(val)
            cut = 0x200 + (f * 7) % 0x500
            for r, val in ((21, cut & 7), (22, cut >> 3), (23, 0xF1), (24, 0x1F)):
                t += 8
                cyc.append(t)
                chip_l.append(c)
                reg_l.append(r)
                val_l.append(val)
    header = Header(
        title="synthetic",
        frame_cycles=L,
        start_cycle=start,
        gap=8,
        sids=sid_addresses(chips),
        timing="irq" if irq else "grid",
    )
    return Tune(header, make_writes(cyc, chip_l, reg_l, val_l), irq=np.array(irqs) if irq else None)
