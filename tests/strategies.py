"""Hypothesis strategies for random Tunes that stress the text language and the formats."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from sidlang.pitch import NTSC_HZ, PAL_HZ, default_frame_cycles
from sidlang.tune import Header, Tune, make_writes

text_st = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@st.composite
def headers(draw, chips: int | None = None, timing: str | None = None) -> Header:
    chips = chips or draw(st.integers(1, 3))
    clock = draw(st.sampled_from([PAL_HZ, NTSC_HZ, 1_000_000]))
    frame = draw(st.sampled_from([default_frame_cycles(clock), 19656 // 4, 5000, 20000]))
    return Header(
        title=draw(text_st), author=draw(text_st), released=draw(st.sampled_from(["", "1987 Rob"])),
        clock_hz=clock, frame_cycles=frame, start_cycle=draw(st.integers(0, 10**7)),
        gap=draw(st.sampled_from([0, 0, 4, 8, 13])),
        models=tuple(draw(st.sampled_from([6581, 8580])) for _ in range(chips)),
        sids=tuple(0xD400 + 0x20 * i for i in range(chips)),
        subtune=draw(st.integers(0, 3)),
        timing=timing or draw(st.sampled_from(["grid", "irq"])),
    )


@st.composite
def tunes(draw, max_frames: int = 25, max_writes: int = 10, chips: int | None = None,
          events: bool = True, regs: int = 32) -> Tune:
    """Random tunes: several chips, repeated writes to one register in a frame, default and
    exact timing, empty frames, long waits, interrupt events, an explicit length."""
    h = draw(headers(chips=chips, timing=None if events else "grid"))
    L, S, G = h.frame_cycles, h.start_cycle, h.gap
    cyc, chip, reg, val, irq, nmi = [], [], [], [], [], []
    frame = draw(st.integers(0, 3))
    for _ in range(draw(st.integers(0, max_frames))):
        base = S + frame * L
        n = draw(st.integers(0, max_writes))
        off = -1
        if events and draw(st.integers(0, 3)) == 0:
            irq.append(base + draw(st.sampled_from([0, 0, 3, L - 1])))
        elif events and h.timing == "irq" and n:
            irq.append(base)
        for _ in range(n):
            if off < 0:
                o = 0 if draw(st.booleans()) else draw(st.integers(0, L // 2))
            else:
                o = off + G if draw(st.booleans()) else draw(st.integers(off, min(off + 300, L - 1)))
            off = min(o, L - 1)
            cyc.append(base + off)
            chip.append(draw(st.integers(0, h.chips - 1)))
            r = draw(st.integers(0, regs - 1))
            reg.append(r)
            # Bias towards pairs that fold (freq lo then hi) and small values.
            val.append(draw(st.one_of(st.integers(0, 255), st.integers(0, 15))))
            if r in (0, 2, 21) and draw(st.booleans()) and off + G < L:
                off += G
                cyc.append(base + off)
                chip.append(chip[-1])
                reg.append(r + 1)
                val.append(draw(st.integers(0, 15)))
        if events and draw(st.integers(0, 5)) == 0:
            t = base + draw(st.integers(0, L - 1))
            if not nmi or t > nmi[-1]:
                nmi.append(t)
        frame += draw(st.sampled_from([1, 1, 1, 2, 7, 500]))
    irq = sorted(set(irq))
    if draw(st.booleans()):
        h = h.replace(frames=frame + draw(st.integers(0, 3)))
    writes = make_writes(cyc, chip, reg, val)
    return Tune(h, writes, np.array(irq, np.int64), np.array(nmi, np.int64))


@st.composite
def swept_tunes(draw) -> Tune:
    """Tunes full of slides, vibrato and sweeps (what REPEAT and FLIP print), mixed with other
    writes before, between and after them, so the runs' placement rules are exercised."""
    h = draw(headers(chips=draw(st.integers(1, 2)), timing="grid"))
    h = h.replace(gap=draw(st.sampled_from([0, 4, 8])), title="", author="")
    L, S, G = h.frame_cycles, h.start_cycle, h.gap
    sweeps = []
    for _ in range(draw(st.integers(1, 3))):
        chip = draw(st.integers(0, h.chips - 1))
        lo = draw(st.sampled_from([0, 2, 7, 9, 14, 16, 21]))
        f_max = {0: 0xFFFF, 7: 0xFFFF, 14: 0xFFFF, 2: 0xFFF, 9: 0xFFF, 16: 0xFFF, 21: 0x7FF}[lo]
        lo_bits = 3 if lo == 21 else 8
        kind = draw(st.sampled_from(["repeat", "flip", "random"]))
        step = draw(st.integers(1, 40))
        sweeps.append((chip, lo, f_max, lo_bits, kind, step, draw(st.integers(0, 300)),
                       draw(st.integers(0, f_max))))
    cyc, chips, regs, vals = [], [], [], []
    n_frames = draw(st.integers(3, 14))
    for fi in range(n_frames):
        base = S + fi * L
        items = []  # (offset, order, [(chip, reg, val), ...])
        for k, (chip, lo, f_max, lo_bits, kind, step, off, start) in enumerate(sweeps):
            if draw(st.integers(0, 6)) == 0:
                continue  # a frame without the sweep ends a run
            if kind == "repeat":
                v = start + step * fi
            elif kind == "flip":
                v = start + (step if fi % 2 else 0)
            else:
                v = draw(st.integers(0, f_max))
            v = min(max(v, 0), f_max)
            o = off if draw(st.integers(0, 5)) else draw(st.integers(0, 300))
            items.append((o, k, [(chip, lo, v & ((1 << lo_bits) - 1)), (chip, lo + 1, v >> lo_bits)]))
        for k in range(draw(st.integers(0, 4))):
            o = draw(st.integers(0, 320))
            items.append((o, 10 + k, [(draw(st.integers(0, h.chips - 1)), draw(st.sampled_from([4, 5, 24, 1, 3])),
                                        draw(st.integers(0, 255)))]))
        items.sort(key=lambda t: (t[0], t[1]))
        t = 0
        for o, _, ws in items:
            t = max(t, o)
            for j, (c, r, v) in enumerate(ws):
                cyc.append(base + t + (G if j else 0))
                chips.append(c)
                regs.append(r)
                vals.append(v)
            t += G if len(ws) > 1 else 0
    return Tune(h, make_writes(cyc, chips, regs, vals))


def mutate(rng, text: str, alphabet: str, most: int = 4) -> str:
    """``text`` with 1–``most`` characters replaced, deleted or inserted (from ``alphabet``)."""
    chars = list(text)
    for _ in range(rng.randint(1, most)):
        i = rng.randrange(len(chars)) if chars else 0
        op = rng.random()
        if op < 0.4 and chars:
            chars[i] = rng.choice(alphabet)
        elif op < 0.7 and chars:
            del chars[i]
        else:
            chars.insert(i, rng.choice(alphabet))
    return "".join(chars)
