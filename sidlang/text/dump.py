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
from sidlang.registers import FIELDS, N_REGS, PRINT_FIELDS, REGISTERS, SID_BASE, WIDE_LOW
from sidlang.text.runs import find_runs
from sidlang.tune import Tune

MAGIC = "# sidlang 1"
_LO_BITS = np.array([WIDE_LOW[r].lo_bits if r in WIDE_LOW else 0 for r in range(N_REGS)], dtype=np.int64)
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
        if not r.writable:
            first[r.offset] = [f"${r.offset:02x}=${v:02x}" for v in range(256)]
            continue
        head, *others = (FIELDS[name] for name in PRINT_FIELDS[r.rel])
        first[r.offset] = [f"{head.name}={head.text(head.decode(v))}" for v in range(256)]
        rest[r.offset] = ["".join(f" {f.name}={f.text(f.decode(v))}" for f in others) for v in range(256)]
    # Wide fields, keyed by the register of their low byte: (field, hex digits of its value).
    wide = {reg: (f, (f.bits + 3) // 4) for reg, f in WIDE_LOW.items()}
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
    if h.sids != (SID_BASE,):
        out.append("@sids " + " ".join(f"${s:04x}" for s in h.sids))
    for key, value in (("subtune", h.subtune), ("songs", h.songs), ("startsong", h.start_song)):
        if value:
            out.append(f"@{key} {value}")
    if h.speed:
        out.append(f"@speed ${h.speed:08x}")
    if h.timing != "grid":
        out.append(f"@timing {h.timing}")
    for key, value in (("irqdiff", h.irq_diff), ("nmidiff", h.nmi_diff)):
        if value is not None:
            out.append(f"@{key} {value}")
    if h.frames:
        out.append(f"@frames {h.frames}")
    return out


def _events_by_frame(times: np.ndarray, start: int, length: int, lo: int, hi: int) -> dict[int, list[int]]:
    """Offsets of the events in frames ``lo``..``hi - 1``, by frame (``times`` in time order)."""
    by: dict[int, list[int]] = {}
    if len(times):
        frames, offs = np.divmod(times - start, length)
        a, b = np.searchsorted(frames, [lo, hi])
        for f, o in zip(frames[a:b].tolist(), offs[a:b].tolist()):
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


@lru_cache(maxsize=1)
def _object_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_tables` as NumPy object arrays indexed by ``reg * 256 + val``, and voice by reg."""
    first, rest, voice_of, _ = _tables()
    return (
        np.array([s for row in first for s in row], dtype=object),
        np.array([s for row in rest for s in row], dtype=object),
        np.array(voice_of, dtype=np.int64),
    )


def _heads(tune: Tune, frames: np.ndarray, printed: np.ndarray) -> list[str]:
    """``"\n12 irq@3"``: each printed frame's number and interrupt events, a new line first.

    ``frames`` is sorted; only the events in their span are looked at.
    """
    h = tune.header
    if not len(frames):
        return []
    lo, hi = int(frames[0]), int(frames[-1]) + 1
    irqs = _events_by_frame(tune.irq, h.start_cycle, h.frame_cycles, lo, hi)
    nmis = _events_by_frame(tune.nmi, h.start_cycle, h.frame_cycles, lo, hi)
    irq_timing = h.timing == "irq"
    if not (irq_timing or irqs or nmis):
        return [f"\n{f}" for f in frames.tolist()]
    out = []
    for f, p in zip(frames.tolist(), printed[frames].tolist()):
        parts = [f"\n{f}"]
        ev = irqs.get(f)
        if irq_timing and p:
            if ev is None:
                parts.append("noirq")
            elif ev != [0]:
                parts.extend("irq" if o == 0 else f"irq@{o}" for o in ev)
        elif ev:
            parts.extend("irq" if o == 0 else f"irq@{o}" for o in ev)
        parts.extend(f"nmi@{o}" for o in nmis.get(f, ()))
        out.append(" ".join(parts))
    return out


def _event_frames(tune: Tune) -> np.ndarray:
    """The frames holding an interrupt event, sorted, each once."""
    h = tune.header
    times = np.concatenate((tune.irq, tune.nmi))
    return np.unique((times - h.start_cycle) // h.frame_cycles) if len(times) else np.zeros(0, np.int64)


#: Tokens printed in one piece: the arrays and strings of a piece cost a few hundred bytes a
#: token, so the whole text is printed piece by piece (each a run of whole lines).
CHUNK_TOKENS = 1 << 18


def dumps(tune: Tune) -> str:
    """Print a Tune as canonical sidlang text (``parse(dumps(t)) == t``).

    All writes at once: each printed token is ``" "``, the context words before it (``| v2``),
    its text from a string table, its offset where not the default, and the rest of a
    bit-field pair; every piece is picked with NumPy and the text is one join. Memory beyond
    the text itself is bounded: lines are printed :data:`CHUNK_TOKENS` tokens at a time (a
    tune of 8 M writes once took 3.9 GB).
    """
    fr = tune.frames
    w = tune.writes
    fold_mask = _foldable(tune, _tables()[3])
    skip_mask, starts = find_runs(tune, fold_mask)
    # Typed writes per frame: under @timing irq a line gets its implied IRQ from these, and a
    # run's first write (both bytes: runs are printed for two-byte fields) is not one of them.
    if starts:
        typed = ~skip_mask
        first = np.fromiter(starts, np.int64, len(starts))
        typed[first] = typed[first + 1] = False
        printed = np.bincount(fr.index[typed], minlength=len(fr))
        del typed
    else:
        printed = fr.counts
    start_keys = np.array(sorted(starts), dtype=np.int64)
    start_ops = [starts[k] for k in start_keys.tolist()]

    # One token per write, but for skipped writes (a run stands for them) and the high byte
    # of a two-byte field folded into its low byte's token.
    second = np.zeros(len(w), dtype=bool)
    second[1:] = fold_mask[:-1] & ~skip_mask[:-1]
    it_all = np.flatnonzero(~skip_mask & ~second)
    del second, skip_mask
    frame_all = fr.index[it_all]
    events = _event_frames(tune)
    out = ["\n".join(dumps_header(tune)) + "\n"]
    n, lo, ev_lo = len(it_all), 0, 0
    while True:
        hi = min(lo + CHUNK_TOKENS, n)
        if hi < n:  # end the piece at the end of a line
            hi = int(np.searchsorted(frame_all, frame_all[hi - 1], side="right"))
        ev_hi = int(np.searchsorted(events, frame_all[hi])) if hi < n else len(events)
        it = it_all[lo:hi]
        ka, kb = np.searchsorted(start_keys, [it[0], it[-1] + 1]) if len(it) else (0, 0)
        out.append(
            _lines(
                tune,
                it,
                frame_all[lo:hi],
                fold_mask,
                printed,
                events[ev_lo:ev_hi],
                dict(zip(start_keys[ka:kb].tolist(), start_ops[ka:kb])),
            )
        )
        if hi == n:
            break
        lo, ev_lo = hi, ev_hi
    return "".join(out) + "\n"


def _lines(
    tune: Tune,
    it: np.ndarray,
    frame: np.ndarray,
    fold_mask: np.ndarray,
    printed: np.ndarray,
    events: np.ndarray,
    starts: dict[int, str],
) -> str:
    """The text of whole lines: the tokens of writes ``it`` (in frames ``frame``) and the
    frames in ``events`` that hold interrupt events."""
    h = tune.header
    first_s, rest_s, voice_of = _object_tables()
    G = h.gap
    fr = tune.frames
    w = tune.writes
    reg = w["reg"][it].astype(np.int64)
    val = w["val"][it].astype(np.int64)
    chip = w["chip"][it].astype(np.int64)
    off = fr.offset[it]
    fold = fold_mask[it]
    last = off.copy()  # offset of the token's last write
    last[fold] = fr.offset[it[fold] + 1]
    body = first_s[reg * 256 + val]
    tail = rest_s[reg * 256 + val]
    if fold.any():
        value = w["val"][it[fold] + 1].astype(np.int64) << _LO_BITS[reg[fold]] | val[fold]
        keys, inv = np.unique(reg[fold] * 65536 + value, return_inverse=True)
        notes = reg_to_note_table(h.clock_hz)
        texts = []
        for k in keys.tolist():
            fld = WIDE_LOW[k >> 16]
            v = k & 0xFFFF
            texts.append(f"{fld.name}={(fld.notes and notes.get(v)) or fld.text(v)}")
        body[np.flatnonzero(fold)] = np.array(texts, dtype=object)[inv.reshape(-1)]
    if starts:
        pos = np.searchsorted(it, list(starts))
        body[pos] = np.array(
            [WIDE_LOW[int(reg[p])].name + op for p, op in zip(pos.tolist(), starts.values())], dtype=object
        )

    # Context words: from the token before in the same line (chip, voice and group).
    n = len(it)
    lead = np.ones(n, dtype=bool)  # the first token of its line
    lead[1:] = frame[1:] != frame[:-1]
    vo = voice_of[reg]
    pc = np.zeros(n, dtype=np.int64)
    pc[1:] = chip[:-1]
    pc[lead] = 0
    pvo = np.full(n, -1, dtype=np.int64)
    pvo[1:] = vo[:-1]
    voiced_at = np.maximum.accumulate(np.where(vo >= 0, np.arange(n), -1)) if n else np.zeros(0, np.int64)
    before = np.full(n, -1, dtype=np.int64)
    before[1:] = voiced_at[:-1]
    line_start = np.maximum.accumulate(np.where(lead, np.arange(n), 0)) if n else np.zeros(0, np.int64)
    lv = np.where(before >= line_start, vo[np.maximum(before, 0)], -1)  # voice in force
    # case 0: chip (and voice) word, 1: voice word, 2: '|' alone, 3: nothing
    case = np.where(
        chip != pc,
        0,
        np.where(
            vo >= 0, np.where(vo != lv, 1, np.where(pvo != vo, 2, 3)), np.where(~lead & (pvo != -1), 2, 3)
        ),
    )
    chips = max(h.chips, 1)
    table = []
    for ld in (0, 1):
        for cs in range(4):
            for c in range(chips):
                for v in range(-1, 3):
                    bar = "" if ld else "| "
                    if cs == 0:
                        word = f"s{c + 1}.v{v + 1}" if v >= 0 else f"s{c + 1}"
                        table.append(f" {bar}{word} ")
                    elif cs == 1:
                        table.append(f" {bar}v{v + 1} ")
                    elif cs == 2:
                        table.append(" | ")
                    else:
                        table.append(" ")
    prefix = np.array(table, dtype=object)[((lead * 4 + case) * chips + chip) * 4 + vo + 1]

    # Offsets: printed where not @gap after the token before (0 for a line's first).
    default = np.zeros(n, dtype=np.int64)
    default[1:] = last[:-1] + G
    default[lead] = 0
    need = np.flatnonzero(off != default)
    tok = body
    if len(need):
        u, inv = np.unique(off[need], return_inverse=True)
        tok[need] = tok[need] + np.array([f"@{o}" for o in u.tolist()], dtype=object)[inv.reshape(-1)]
    pair = np.flatnonzero(tail != "")
    if len(pair):
        tok[pair] = tok[pair] + tail[pair]

    # Lines: each frame with tokens or events, its number (and events) first.
    frames = np.unique(frame)
    extra = np.setdiff1d(events, frames)
    if len(extra):
        frames = np.union1d(frames, extra)
    heads = np.array(_heads(tune, frames, printed), dtype=object)
    if n:
        prefix[lead] = heads[np.searchsorted(frames, frame[lead])] + prefix[lead]
    pieces = np.empty(2 * n, dtype=object)
    pieces[0::2], pieces[1::2] = prefix, tok
    if len(extra):  # frames with events alone: their heads in place
        alone = np.searchsorted(frames, extra)
        pieces = np.insert(pieces, 2 * np.searchsorted(frame, frames[alone]), heads[alone])
    return "".join(pieces.tolist())
