"""REPEAT and FLIP runs on the parser's fast path (:mod:`sidlang.text.fastparse`).

The fast path has placed every typed write, a run's first write included; this module adds the
writes a run makes in the frames after its own and gives all of a run's writes their values.
Placement follows :mod:`sidlang.text.runs` (and the exact parser's ``_flush``): in its frame a
run's write goes after every typed write whose offset is at most its own and before the rest,
runs started earlier first at equal offsets. That is one sort: by frame, offset, typed before
run, then token order (typed) or start order (runs). Values follow the register state just
before each write, so they are computed in that order, a run at a time, in Python: runs are few.

Returns None wherever the exact parser would stop with an error (a run leaving its field's
range, a typed write between the two bytes of a two-byte run) or where its state rule is not
plain "the last write wins" (a run's write between the two bytes of a two-byte write), so that
the exact parser decides.
"""

from __future__ import annotations

import numpy as np

from sidlang.tune import WRITE_DTYPE, Header

_BIG = 1 << 32  # frame * _BIG + offset: one sortable key (offsets stay below a frame)


def expand_runs(
    writes: np.ndarray,
    rep: np.ndarray,
    hi: np.ndarray,
    wframe: np.ndarray,
    start: np.ndarray,
    run_w: np.ndarray,
    runs: list[tuple],
    line_frames: np.ndarray,
    h: Header,
) -> np.ndarray | None:
    """All writes in order, runs expanded; see the module docstring.

    ``writes`` are the typed writes in text order (``rep[i]``: the write token of write ``i``,
    ``hi[i]``: its high byte); ``wframe``/``start``: frame and offset of each write token;
    ``run_w``: the write tokens that start runs, in text order, with their compiled ``runs``;
    ``line_frames``: the frame of every line.
    """
    S, L, G = h.start_cycle, h.frame_cycles, h.gap
    n_typed = len(writes)
    t_frame = wframe[rep]
    t_off = start[rep] + G * hi
    seq_of_token = np.zeros(len(wframe), dtype=np.int64)
    seq_of_token[run_w] = np.arange(1, len(run_w) + 1)

    # The pending writes: one entry per run per later frame (two writes for a two-byte field).
    counts = np.array([len(c[7]) for c in runs], dtype=np.int64)
    wide_run = np.array([c[5].kind == "wide" for c in runs], dtype=bool)
    first_write = np.searchsorted(rep, run_w)  # each run's first (typed) write
    e_run = np.repeat(np.arange(len(runs)), counts)
    e_k = np.arange(len(e_run)) - np.repeat(np.cumsum(counts) - counts, counts) + 1
    e_frame = wframe[run_w][e_run] + e_k
    e_off = start[run_w][e_run]
    e_delta = np.concatenate([c[7].array() for c in runs])  # c[7]: a runs.Later
    e_wide = wide_run[e_run]

    # A two-byte run's write must not be split by a typed write: the next flush limit after its
    # offset (a typed write's offset, or the frame's end) must not come before its high byte.
    with_line = np.isin(e_frame, line_frames)
    if (e_wide & with_line).any():
        keys = t_frame * _BIG + t_off
        q = e_frame * _BIG + e_off
        nxt = np.searchsorted(keys, q, side="right")
        limit = np.full(len(q), L, dtype=np.int64)
        inside = nxt < len(keys)
        same = np.zeros(len(q), dtype=bool)
        same[inside] = keys[nxt[inside]] // _BIG == e_frame[inside]
        limit[same] = keys[nxt[same]] % _BIG
        if (e_wide & with_line & (limit < e_off + G)).any():
            return None

    # Pending writes in their order, each inserted after the typed writes at or before it.
    p_rep = np.repeat(np.arange(len(e_run)), 1 + e_wide)
    p_hi = np.zeros(len(p_rep), dtype=bool)
    p_hi[1:] = p_rep[1:] == p_rep[:-1]
    p_order = np.lexsort((p_hi, e_run[p_rep], e_off[p_rep], e_frame[p_rep]))
    p_rep, p_hi = p_rep[p_order], p_hi[p_order]
    keys = t_frame * _BIG + t_off  # nondecreasing: typed writes are in time order
    ins = np.searchsorted(keys, e_frame[p_rep] * _BIG + e_off[p_rep], side="right")
    n = n_typed + len(p_rep)
    pos_t = np.arange(n_typed) + np.searchsorted(ins, np.arange(n_typed), side="right")
    pos_p = ins + np.arange(len(p_rep))
    fw = first_write[e_run[p_rep]]
    out = np.zeros(n, dtype=WRITE_DTYPE)
    out[pos_t] = writes
    out["cycle"][pos_p] = S + e_frame[p_rep] * L + e_off[p_rep] + G * p_hi
    out["chip"][pos_p] = writes["chip"][fw]
    out["reg"][pos_p] = writes["reg"][fw] + p_hi

    # Each run write: merged position of its low byte, its high byte's (or -1), its change.
    lo_typed = np.flatnonzero(hi[1:]) if n_typed else np.zeros(0, np.int64)
    starts_at = pos_t[first_write]
    pair_of_start = np.full(n_typed, -1, dtype=np.int64)
    pair_of_start[lo_typed] = pos_t[lo_typed + 1]
    pend_lo = pos_p[~p_hi]
    e_of_pend = p_rep[~p_hi]
    ev_pos = np.concatenate((starts_at, pend_lo))
    ev_hi = np.concatenate((pair_of_start[first_write], np.where(e_wide[e_of_pend], pend_lo + 1, -1)))
    ev_delta = np.concatenate(([c[6] for c in runs], e_delta[e_of_pend])).astype(np.int64)
    ev_field = [c[5] for c in runs] + [runs[r][5] for r in e_run[e_of_pend].tolist()]
    ev_order = np.argsort(ev_pos, kind="stable")

    # The last write to a register before a position, among the registers runs read.
    rkey = out["chip"].astype(np.int64) * 32 + out["reg"]
    ev_key = rkey[ev_pos]
    wanted = np.zeros(int(rkey.max()) + 2 if n else 1, dtype=bool)
    wanted[ev_key] = wanted[ev_key + 1] = True
    sub = np.flatnonzero(wanted[rkey])
    by_reg = sub[np.lexsort((sub, rkey[sub]))]
    sorted_key = rkey[by_reg] * n + by_reg

    def last_before(regs: np.ndarray, pos: np.ndarray) -> np.ndarray:
        i = np.searchsorted(sorted_key, regs * n + pos) - 1
        ok = (i >= 0) & (sorted_key[np.maximum(i, 0)] // n == regs)
        return np.where(ok, by_reg[np.maximum(i, 0)], -1)

    prev_lo = last_before(ev_key, ev_pos)
    prev_hi = last_before(ev_key + 1, ev_pos)
    # A write between the two bytes of a two-byte write sees the old state of both registers
    # in the exact parser; leave that case to it.
    pair_hi = np.full(n, -1, dtype=np.int64)
    pair_hi[pos_t[lo_typed]] = pos_t[lo_typed + 1]
    for prev in (prev_lo, prev_hi):
        if ((prev >= 0) & (pair_hi[np.maximum(prev, 0)] > ev_pos)).any():
            return None
    vals = out["val"]  # a view: only the runs' writes are read and set, one by one
    pos_l, hi_l, d_l = ev_pos.tolist(), ev_hi.tolist(), ev_delta.tolist()
    plo_l, phi_l = prev_lo.tolist(), prev_hi.tolist()
    for k in ev_order.tolist():
        f = ev_field[k]
        lo = int(vals[plo_l[k]]) if plo_l[k] >= 0 else 0
        if f.kind == "wide":
            lb = f.lo_bits
            hb = int(vals[phi_l[k]]) if phi_l[k] >= 0 else 0
            v = ((hb & (f.max >> lb)) << lb | (lo & ((1 << lb) - 1))) + d_l[k]
            if not 0 <= v <= f.max:
                return None
            vals[pos_l[k]] = v & ((1 << lb) - 1)
            vals[hi_l[k]] = v >> lb
        else:
            v = lo + d_l[k]
            if not 0 <= v <= f.max:
                return None
            vals[pos_l[k]] = v
    return out
