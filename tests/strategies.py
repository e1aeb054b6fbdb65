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
        title=draw(text_st),
        author=draw(text_st),
        released=draw(st.sampled_from(["", "1987 Rob"])),
        clock_hz=clock,
        frame_cycles=frame,
        start_cycle=draw(st.integers(0, 10**7)),
        gap=draw(st.sampled_from([0, 0, 4, 8, 13])),
        models=tuple(draw(st.sampled_from([6581, 8580])) for _ in range(chips)),
        sids=tuple(0xD400 + 0x20 * i for i in range(chips)),
        subtune=draw(st.integers(0, 3)),
        timing=timing or draw(st.sampled_from(["grid", "irq"])),
    )


@st.composite
def tunes(
    draw,
    max_frames: int = 25,
    max_writes: int = 10,
    chips: int | None = None,
    events: bool = True,
    regs: int = 32,
) -> Tune:
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
        sweeps.append(
            (chip, lo, f_max, lo_bits, kind, step, draw(st.integers(0, 300)), draw(st.integers(0, f_max)))
        )
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
            items.append(
                (
                    o,
                    10 + k,
                    [
                        (
                            draw(st.integers(0, h.chips - 1)),
                            draw(st.sampled_from([4, 5, 24, 1, 3])),
                            draw(st.integers(0, 255)),
                        )
                    ],
                )
            )
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


@st.composite
def asid_dumps(draw, nmi: str | None = None, where: str | None = None, sweeps: int = 0) -> bytes:
    """asid-vice dumps (``CLOCK_DIFF IRQ_DIFF NMI_DIFF CHIPNO REG VAL``) shaped like real ones.

    A player's IRQ lands at a different cycle in each frame (raster jitter, or a free-running
    timer), now and then twice in a frame or not at all; it writes its registers a few cycles
    apart, sweeping and trilling two-byte fields so that the printer makes runs that span
    frames, some of them into frames that have no other writes. Init code writes before the
    first IRQ, counting from an IRQ before the log began. The NMI column is ``zero``,
    ``constant``, ``growing`` (cycles since an NMI before the log) or ``events`` (sample NMIs);
    ``where`` where the IRQ lands (see below); ``sweeps`` the fewest sweeping fields.
    """
    L = draw(st.sampled_from([19656, 17095, 19656 // 2, 19656 // 4]))
    chips = draw(st.integers(1, 2))
    nmi = nmi or draw(st.sampled_from(["zero", "constant", "growing", "events"]))
    first = draw(st.integers(0, 3 * L))  # cycle of the first write: sound opened before it
    irq_before = first - draw(st.integers(0, 10 * L))  # the IRQ the init writes count from
    rows: list[tuple[int, int, int, int, int]] = []  # (cycle, irq time, chip, reg, val)
    t = first
    for _ in range(draw(st.integers(0, 6))):  # init: writes before the first IRQ
        rows.append(
            (
                t,
                irq_before,
                draw(st.integers(0, chips - 1)),
                draw(st.integers(0, 24)),
                draw(st.integers(0, 255)),
            )
        )
        t += draw(st.sampled_from([0, 4, 6, 8, 8, 300]))
    # Sweeps: (chip, low register, step, kind, value); kind repeat/flip/random.
    sweeps = draw(
        st.lists(
            st.tuples(
                st.integers(0, chips - 1),
                st.sampled_from([0, 2, 7, 9, 14, 16, 21]),
                st.integers(1, 200),
                st.sampled_from(["repeat", "repeat", "flip", "random"]),
                st.integers(0, 0x7FF),
            ),
            min_size=sweeps,
            max_size=max(3, sweeps),
            unique_by=lambda s: s[:2],
        )
    )
    # Where the IRQ lands: always at one offset (a CIA timer), jittered by a few cycles (a raster
    # IRQ), anywhere; "raster": anywhere, but the player waits for a raster line to write.
    where = where or draw(st.sampled_from(["fixed", "jitter", "varied", "raster"]))
    fixed = draw(st.sampled_from([0, 0, 5, 40]))
    lead = draw(st.integers(20, 60))  # from the IRQ (or the raster line) to the first write
    lo_hi, step_after = draw(st.sampled_from([7, 7, 9])), draw(st.sampled_from([7, 7, 12]))
    # Other writes: mostly control, envelope and filter registers (as players write them).
    others = st.one_of(st.sampled_from([4, 5, 6, 11, 12, 13, 18, 19, 20, 23, 24]), st.integers(0, 24))
    frame0 = (t - first) // L + 1
    for f in range(frame0, frame0 + draw(st.integers(1, 24))):
        base = first + f * L
        irqs = []
        kind = draw(st.integers(0, 19))
        if kind:  # 0: no IRQ this frame
            shift = {
                "fixed": 0,
                "jitter": draw(st.integers(0, 7)),
                "varied": draw(st.integers(0, 400)),
                "raster": draw(st.integers(0, 400)),
            }[where]
            irqs.append(base + fixed + shift)
            if kind == 19:  # a second call in the frame (multispeed)
                irqs.append(base + L // 2 + draw(st.integers(0, 50)))
        for irq in irqs:
            t = max(t, irq) + lead
            if where == "raster" and irq < base + L // 2:
                t = max(t, base + 420 + lead)
            only_runs = draw(st.integers(0, 4)) == 0  # a frame whose writes all fold into runs
            for chip, lo, step, how, value in sweeps:
                wide_max = 0x7FF if lo == 21 else (0xFFF if lo in (2, 9, 16) else 0xFFFF)
                lo_bits = 3 if lo == 21 else 8
                v = {
                    "repeat": value + step * f,
                    "flip": value + step * (f % 2),
                    "random": draw(st.integers(0, wide_max)),
                }[how] % (wide_max + 1)
                rows.append((t, irq, chip, lo, v & ((1 << lo_bits) - 1)))
                t += lo_hi
                rows.append((t, irq, chip, lo + 1, v >> lo_bits))
                t += step_after
            if not only_runs or not sweeps:
                for _ in range(draw(st.integers(1, 12))):
                    rows.append(
                        (t, irq, draw(st.integers(0, chips - 1)), draw(others), draw(st.integers(0, 255)))
                    )
                    t += draw(st.sampled_from([lo_hi] * 4 + [0, 9, 12, 40]))
        t = max(t, base + L - 1)  # keep every write of a frame inside its frame
    if not rows:
        rows.append((t, irq_before, 0, 24, 15))
    cycles = [r[0] for r in rows]
    if nmi == "zero":
        nmi_d = [0] * len(rows)
    elif nmi == "constant":
        nmi_d = [draw(st.integers(1, 10**6))] * len(rows)
    elif nmi == "growing":
        origin = first - draw(st.integers(0, 10**6))
        nmi_d = [c - origin for c in cycles]
    else:
        times = sorted(
            set(
                draw(
                    st.lists(
                        st.integers(first - 100, cycles[-1] if cycles else first), min_size=1, max_size=8
                    )
                )
            )
        )
        nmi_d = []
        for c in cycles:
            before = [x for x in times if x <= c]
            nmi_d.append(c - (before[-1] if before else first - 10**5))  # one before the log
    out, prev = [], 0
    for (c, irq, chip, reg, val), n in zip(rows, nmi_d):
        out.append(f"{c - prev} {c - irq} {n} {chip} {reg} {val}\n")
        prev = c
    return "".join(out).encode()
