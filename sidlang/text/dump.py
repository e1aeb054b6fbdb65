"""Tune -> sidlang text, canonical: the same Tune always prints the same text.

Each frame with writes (or interrupt events) is one line: its number, then its writes in
order, grouped by voice with ``|`` between groups. Two-byte values are folded into one field
(``freq=A-4``) only where the parse of the folded form gives back the same two writes at the
same cycles; offsets are printed only where they differ from the default spacing. Every
write becomes one entry of a prebuilt string table, so printing costs a table lookup and a
few comparisons per write.
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

from sidlang.pitch import CLOCK_NAMES, default_frame_cycles, reg_to_note_table
from sidlang.registers import (
    MODE_BITS,
    N_REGS,
    REGISTERS,
    ROUTE_BITS,
    VOICE_STRIDE,
    WAVE_BITS,
    WAVE_PRINT_ORDER,
    WIDE_LOW,
    bits_to_names,
)
from sidlang.text.runs import find_runs
from sidlang.tune import Tune

MAGIC = "# sidlang 1"
_CLOCK_WORD = {hz: name for name, hz in CLOCK_NAMES.items()}


@lru_cache(maxsize=1)
def _tables() -> tuple[list[list[str]], list[list[str]], list[int], dict[int, tuple]]:
    """``first[reg][val]``, ``rest[reg][val]``: the printed form of one register write.

    The offset suffix goes between the two (``res=15@40 route=v1``), so bit-field registers
    that print as two fields still parse back into one write.
    """
    first = [[""] * 256 for _ in range(N_REGS)]
    rest = [[""] * 256 for _ in range(N_REGS)]
    voice_of = [-1] * N_REGS
    for r in REGISTERS:
        if r.voice is not None:
            voice_of[r.offset] = r.voice
        rel = r.offset - VOICE_STRIDE * r.voice if r.voice is not None else r.offset
        for v in range(256):
            if not r.writable:
                first[r.offset][v] = f"${r.offset:02x}=${v:02x}"
            elif r.voice is not None and rel == 4:
                first[r.offset][v] = "wave=" + bits_to_names(v, WAVE_BITS, WAVE_PRINT_ORDER)
            elif r.offset == 23:
                first[r.offset][v] = f"res={v >> 4}"
                rest[r.offset][v] = " route=" + bits_to_names(v & 15, ROUTE_BITS)
            elif r.offset == 24:
                first[r.offset][v] = "mode=" + bits_to_names(v >> 4, MODE_BITS)
                rest[r.offset][v] = f" vol={v & 15}"
            else:
                first[r.offset][v] = f"{r.name}=${v:02x}"
    # Wide fields, keyed by the register of their low byte: (field, digits).
    wide: dict[int, tuple] = {}
    for reg, f in WIDE_LOW.items():
        wide[reg] = (f, (f.bits + 3) // 4)  # hex digits: freq $1234, pw/cut $800
    return first, rest, voice_of, wide


def dumps_header(tune: Tune) -> list[str]:
    h = tune.header
    out = [MAGIC]
    for key, value in (("title", h.title), ("author", h.author), ("released", h.released)):
        if value:
            out.append(f"@{key} {json.dumps(value, ensure_ascii=False)}")
    out.append(f"@clock {_CLOCK_WORD.get(h.clock_hz, h.clock_hz)}")
    if h.frame_cycles != default_frame_cycles(h.clock_hz):
        out.append(f"@frame {h.frame_cycles}")
    for key, value in (("start", h.start_cycle), ("gap", h.gap)):
        if value:
            out.append(f"@{key} {value}")
    models = h.models[:1] if len(set(h.models)) == 1 else h.models
    out.append("@model " + " ".join(map(str, models)))
    if h.sids != (0xD400,):
        out.append("@sids " + " ".join(f"${s:04x}" for s in h.sids))
    for key, value in (("subtune", h.subtune), ("songs", h.songs), ("startsong", h.start_song)):
        if value:
            out.append(f"@{key} {value}")
    if h.speed:
        out.append(f"@speed ${h.speed:08x}")
    if h.timing != "grid":
        out.append(f"@timing {h.timing}")
    if h.frames:
        out.append(f"@frames {h.frames}")
    return out


def _events_by_frame(times: np.ndarray, start: int, length: int) -> dict[int, list[int]]:
    by: dict[int, list[int]] = {}
    if len(times):
        frames, offs = np.divmod(times - start, length)
        for f, o in zip(frames.tolist(), offs.tolist()):
            by.setdefault(f, []).append(o)
    return by


def _foldable(tune: Tune, wide: dict[int, tuple]) -> np.ndarray:
    """``out[i]``: writes ``i`` and ``i + 1`` print as one two-byte field (``freq=C-4``).

    Exact only when they are the field's low then high byte, adjacent in one frame on one chip,
    the second at the default spacing, and both bytes inside the field's range.
    """
    w = tune.writes
    n = len(w)
    out = np.zeros(n, dtype=bool)
    if n < 2:
        return out
    lo_bits = np.zeros(256, np.int64)
    hi_max = np.zeros(256, np.int64)
    for r, (f, _) in wide.items():
        lo_bits[r] = f.lo_bits
        hi_max[r] = f.max >> f.lo_bits
    reg = w["reg"].astype(np.int64)
    val = w["val"].astype(np.int64)
    fr = tune.frames
    a, b = slice(0, n - 1), slice(1, n)
    bits = lo_bits[reg[a]]
    out[:-1] = (
        (bits > 0)
        & (reg[b] == reg[a] + 1)
        & (w["chip"][a] == w["chip"][b])
        & (fr.index[a] == fr.index[b])
        & (fr.offset[b] == fr.offset[a] + tune.header.gap)
        & (val[a] < (1 << bits))
        & (val[b] <= hi_max[reg[a]])
    )
    return out


def dumps(tune: Tune) -> str:
    """Print a Tune as canonical sidlang text (``parse(dumps(t)) == t``)."""
    h = tune.header
    first, rest, voice_of, wide = _tables()
    notes = reg_to_note_table(h.clock_hz)
    L, G = h.frame_cycles, h.gap
    fr = tune.frames
    off = fr.offset.tolist()
    w = tune.writes
    ch = w["chip"].tolist()
    rg = w["reg"].tolist()
    vl = w["val"].tolist()
    fold_mask = _foldable(tune, wide)
    skip_mask, starts = find_runs(tune, fold_mask)
    fold = fold_mask.tolist()
    skip = skip_mask.tolist() if starts else None
    printed = (np.bincount(fr.index[~skip_mask], minlength=len(fr)).tolist()
               if starts else fr.counts.tolist())
    irqs = _events_by_frame(tune.irq, h.start_cycle, L)
    nmis = _events_by_frame(tune.nmi, h.start_cycle, L)
    irq_timing = h.timing == "irq"
    if irqs or nmis:
        frames_to_print = sorted({f for f, c in enumerate(printed) if c} | set(irqs) | set(nmis))
    else:
        frames_to_print = [f for f, c in enumerate(printed) if c]

    lines = dumps_header(tune)
    lines.append("")
    bounds = fr.bounds.tolist()
    for f in frames_to_print:
        i, j = bounds[f], bounds[f + 1]
        parts = [str(f)]
        if irq_timing or irqs:
            ev = irqs.get(f)
            if irq_timing and printed[f]:
                if ev is None:
                    parts.append("noirq")
                elif ev != [0]:
                    parts.extend("irq" if o == 0 else f"irq@{o}" for o in ev)
            elif ev:
                parts.extend("irq" if o == 0 else f"irq@{o}" for o in ev)
        if nmis:
            parts.extend(f"nmi@{o}" for o in nmis.get(f, ()))
        prev = -1
        cchip = 0
        cvoice = -1
        seg = None
        while i < j:
            if skip is not None and skip[i]:
                i += 1
                continue
            r = rg[i]
            c = ch[i]
            v = vl[i]
            o = off[i]
            default = 0 if prev < 0 else prev + G
            if fold[i]:
                fld, digits = wide[r]
                if starts and i in starts:
                    tok = fld.name + starts[i]
                else:
                    value = vl[i + 1] << fld.lo_bits | v
                    if fld.notes:
                        text = notes.get(value) or f"${value:04x}"
                    else:
                        text = f"${value:0{digits}x}"
                    tok = f"{fld.name}={text}"
                tail = ""
                step = 2
            else:
                tok, tail, step = first[r][v], rest[r][v], 1
            vo = voice_of[r]
            if vo >= 0:
                if c != cchip:
                    parts.append(f"| s{c + 1}.v{vo + 1}" if seg is not None else f"s{c + 1}.v{vo + 1}")
                    cchip, cvoice = c, vo
                elif vo != cvoice:
                    parts.append(f"| v{vo + 1}" if seg is not None else f"v{vo + 1}")
                    cvoice = vo
                elif seg != (c, vo):
                    parts.append("|")
                seg = (c, vo)
            else:
                if c != cchip:
                    parts.append(f"| s{c + 1}" if seg is not None else f"s{c + 1}")
                    cchip = c
                elif seg is not None and seg != (c, -1):
                    parts.append("|")
                seg = (c, -1)
            if o != default:
                tok = f"{tok}@{o}"
            parts.append(tok + tail if tail else tok)
            prev = off[i + step - 1]
            i += step
        lines.append(" ".join(parts))
    lines.append("")
    return "\n".join(lines)
