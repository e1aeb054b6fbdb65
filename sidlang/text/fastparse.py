"""The parser's fast path: plain frame lines parsed in bulk, with NumPy.

Most sidlang text is what the printer writes, or close to it: every line starts with its frame
number, writes are absolute (``=``), bit fields come in whole-register pairs (``res=15
route=v1``), and there are no comments, ``wait`` lines or runs. For such a text the result
depends on no register state, so it can be computed for all tokens at once: the text is split
once, each *distinct* token is compiled once (by the exact parser's own :meth:`Parser.compile`,
or a shortcut for ``name=$hex`` and note names that gives the same values), and offsets,
voices, chips and cycles are computed over arrays.

:func:`parse_plain` raises :class:`~sidlang.text.tokens.Decline`, with the reason, for anything
else (and for every mistake), and :func:`parse_fast` returns None then; the exact parser in
:mod:`sidlang.text.parse` then parses the text from the start: it alone reports errors, with
their line and column, and it defines the results. Nothing else is caught: a bug here is a
failing test, not a quiet fall back to the slow path. Tests check that both paths agree and
that the fast one takes the common texts (``tests/text/test_fastpath.py``).
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache
from itertools import count

import numpy as np

from sidlang.errors import SidlangSyntaxError, TuneError
from sidlang.pitch import reg_to_note_table
from sidlang.registers import ALIASES, FIELDS, VOICE_STRIDE
from sidlang.text import tokens
from sidlang.text.lexicon import parse_int
from sidlang.text.scan import scan
from sidlang.text.tokens import MAX_DIGITS, BadToken, Decline
from sidlang.tune import MAX_FRAMES, WRITE_DTYPE, Tune

# Row kinds of the fast path (column 0 of a token's row; not the compiled kinds of
# sidlang.text.tokens, which _row maps to these).
_LINE, _SEP, _CTX, _ONE, _WIDE, _SUB, _IRQ, _NMI, _NOIRQ, _RUN = range(10)
# Columns of a token's row: kind, register (voice-relative when voiced), voiced, chip of a raw
# address (-1: the context's), first value (a wide field's low byte; for _CTX the chip it sets),
# second value (the high byte; for _CTX the voice), bit-field mask, shift, field id. A run
# (``pw+=16*8``) keeps its field in the last column and its first value 0 (see fastruns).
_ROW = 9
_ODD_SPACE = ("\t", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x1f", "\x00")
#: Whole-register and two-byte fields by every name they are typed as (bit fields go the slow way).
_PLAIN = {
    name: FIELDS[ALIASES.get(name, name)]
    for name in list(FIELDS) + list(ALIASES)
    if FIELDS[ALIASES.get(name, name)].kind != "sub"
}
_FIELD_ID = {name: i for i, name in enumerate(FIELDS)}
#: Texts this long (characters) are cut by the compiled scanner; shorter ones in Python, which
#: is quicker for a line typed at the REPL.
SCAN_FROM = 4096
#: Tokens worked on at once (see :func:`_parse`).
CHUNK_TOKENS = 1 << 18


@lru_cache(maxsize=8)
def note_regs(clock_hz: int) -> dict[str, int]:
    """Note names the printer writes -> their register value (each parses back to it exactly)."""
    return {name: reg for reg, name in reg_to_note_table(clock_hz).items()}


def _row(parser, body: str, notes: dict[str, int], runs: list) -> tuple:
    """One token body as a row (see ``_ROW``); :class:`Decline` where the fast path does not apply.

    A run's compiled tuple goes to ``runs``; its row holds the index there.
    """
    name, eq, text = body.partition("=")
    f = _PLAIN.get(name)
    if f is not None and text:
        v = parse_int(text) if text[0] == "$" else (notes.get(text) if f.notes else None)
        if v is not None:
            if not 0 <= v <= f.max:
                raise Decline(f"{name} value out of range")
            if f.kind == "wide":
                return (
                    _WIDE,
                    f.regs[0],
                    int(f.voiced),
                    -1,
                    v & ((1 << f.lo_bits) - 1),
                    v >> f.lo_bits,
                    0,
                    0,
                    0,
                )
            return (_ONE, f.regs[0], int(f.voiced), -1, v, 0, 0, 0, 0)
    try:
        c = parser.compile(body)
    except BadToken:
        raise Decline("a token that does not compile") from None
    kind = c[0]
    if kind == tokens.RUN:  # (RUN, reg, voiced, op, delta, field, first, later)
        runs.append(c)
        return (_RUN, c[1], int(c[2]), -1, len(runs) - 1, int(c[5].kind == "wide"), 0, 0, 0)
    if kind == tokens.SEP:
        return (_SEP, 0, 0, -1, 0, 0, 0, 0, 0)
    if kind == tokens.CTX:
        return (_CTX, 0, 0, -1, -1 if c[1] is None else c[1], -1 if c[2] is None else c[2], 0, 0, 0)
    if kind == tokens.EVENT:
        return ((_IRQ, _NMI, _NOIRQ)[("irq", "nmi", "noirq").index(c[1])], 0, 0, -1, 0, 0, 0, 0, 0)
    _, reg, voiced, _, value, f, lo, hi, relative = c  # a write: BYTE, WIDE, SUB or RAW
    if relative:
        raise Decline("a relative change (+=, -=), which needs the register state")
    if value < 0:  # parse_int reads ``$-5``: the exact parser decides what it is
        raise Decline("a negative value")
    if kind == tokens.RAW:  # ``voiced`` holds the chip an address names, or None
        return (_ONE, reg, 0, -1 if voiced is None else voiced, value, 0, 0, 0, 0)
    if kind == tokens.SUB:
        return (_SUB, reg, int(voiced), -1, value, 0, lo, hi, _FIELD_ID[f.name])
    if kind == tokens.WIDE:
        return (_WIDE, reg, int(voiced), -1, lo, hi, 0, 0, 0)
    return (_ONE, reg, int(voiced), -1, value, 0, 0, 0, 0)


def _body_start(parser) -> int:
    """Read the header lines (directives, comments, blank) into ``parser``; where frames begin.

    A mistake in the header declines: the exact parser reports it.
    """
    text = parser.text
    pos = 0
    lineno = 0
    while pos < len(text):
        end = text.find("\n", pos)
        if end < 0:
            end = len(text)
        lineno += 1
        raw = text[pos:end]
        line = raw.strip()
        if line and line[0] != "#":
            parser.lineno, parser.line = lineno, raw
            try:
                if line[0] != "@":
                    parser.h = parser.header()
                    return pos
                parser.directive(line[1:])
            except SidlangSyntaxError:
                raise Decline("a mistake in the header") from None
        pos = end + 1
    raise Decline("no frame lines")


def _cut(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]] | None:
    """What :func:`sidlang.text.scan.scan` returns, in Python (short texts, or no numba)."""
    # Lines: the frame number, then the rest. Blank lines are skipped, as by the exact parser.
    parts = [line.partition(" ") for line in text.split("\n") if line]
    heads = [p[0] for p in parts]
    if not all(heads) or not "".join(heads).isdigit():
        return None  # a line without its frame number, a wait, an indented line …
    if max(map(len, heads), default=0) > MAX_DIGITS:
        return None  # past 64 bits (and past the last frame): as the scanner does
    frames = np.array(list(map(int, heads)), dtype=np.int64)
    # Tokens, with "\0" between lines; every distinct token gets an id, then every body.
    ids_of: defaultdict[str, int] = defaultdict(count().__next__)
    ids_of["\0"]  # id 0 ends a line
    toks = " \0 ".join([p[2] for p in parts]).split()
    ids = np.array(list(map(ids_of.__getitem__, toks)), dtype=np.int64)
    split = [k.partition("@") for k in list(ids_of)[1:]]
    offs_text = [p[2] for p in split]
    if sum(map(len, [p[1] for p in split])) != sum(1 for o in offs_text if o) or (
        any(offs_text) and not "".join(offs_text).isdigit()
    ):
        return None  # an empty or odd @offset
    if max(map(len, offs_text), default=0) > MAX_DIGITS:
        return None  # an offset past 64 bits (and past every frame's end)
    key_off = np.array([-1] + [int(o) if o else -1 for o in offs_text], dtype=np.int64)
    body_of: defaultdict[str, int] = defaultdict(count().__next__)
    key_body = np.array([-1] + list(map(body_of.__getitem__, [p[0] for p in split])), dtype=np.int64) + 1
    return frames, key_body[ids], key_off[ids], list(body_of)


def parse_fast(parser) -> Tune | None:
    """The Tune of ``parser.text`` where every frame line is plain, else None (see above).

    ``parser`` is a fresh :class:`sidlang.text.parse.Parser`: its header and compile steps are
    used, and it is not reused afterwards.
    """
    try:
        return parse_plain(parser)
    except Decline:
        return None


def parse_plain(parser) -> Tune:
    """The Tune of ``parser.text``, or :class:`~sidlang.text.tokens.Decline` saying why not."""
    start = _body_start(parser)
    text = parser.text[start:]
    if not text.isascii():
        raise Decline("text that is not ASCII")
    h = parser.h
    S, L, G = h.start_cycle, h.frame_cycles, h.gap

    # Lines and tokens: each line's frame number; per token its distinct body and offset. The
    # scanner also refuses comments and control bytes; in Python they are looked for first.
    if len(text) >= SCAN_FROM and (cut := scan(text)) is not None:
        pass
    elif any(c in text for c in _ODD_SPACE):
        raise Decline("a tab, carriage return or other control byte")
    elif " #" in text or "\n#" in text:
        raise Decline("a comment among the frame lines")
    elif " @" in text:
        raise Decline("an offset without its write")
    else:
        cut = _cut(text)
        if cut is None:
            raise Decline("a line that is not a frame number and tokens (wait, indent, odd @offset …)")
    frames, tb, off_all, bodies = cut
    if (len(frames) and frames[-1] >= MAX_FRAMES) or (np.diff(frames) <= 0).any():
        raise Decline("frame numbers out of order or past the last frame")
    notes = note_regs(h.clock_hz)
    rows = [(_LINE,) + (0,) * (_ROW - 1)]
    runs: list[tuple] = []
    for body in bodies:
        rows.append(_row(parser, body, notes, runs))
    table = np.array(rows, dtype=np.int64)  # (bodies + 1, _ROW)

    # Per token (line ends included, separators dropped: '|' changes nothing), a piece of
    # whole lines at a time: a token costs some 200 bytes of arrays while it is worked on, so
    # a text of 12 M tokens in one piece took 3.9 GB.
    tc = np.ascontiguousarray(table.T)
    ends_at = np.flatnonzero(tb == 0)  # row 0 is _LINE: the token that ends a line
    pieces = []
    t0 = l0 = w0 = 0
    while t0 < len(tb) or not pieces:
        k = int(np.searchsorted(ends_at, t0 + CHUNK_TOKENS))
        t1 = int(ends_at[k]) + 1 if k < len(ends_at) else len(tb)
        piece = _piece(tc, tb[t0:t1], off_all[t0:t1], l0, frames, S, L, G)
        piece[1] += w0  # write tokens are numbered through the whole text
        w0 += len(piece[3])
        pieces.append(piece)
        l0 += int(np.count_nonzero(tb[t0:t1] == 0))
        t0 = t1
    writes, rep, hi, wline, start, is_run, run_ids, kind, off, line = (
        np.concatenate(col) for col in zip(*pieces)
    )
    del pieces
    if is_run.any():  # the runs' writes, placed among the typed ones, values from the state
        from sidlang.text import runs as runs_module
        from sidlang.text.fastruns import expand_runs

        added = sum(
            runs_module.run_writes(len(runs[k][7]) + 1, runs[k][5].kind == "wide") for k in run_ids.tolist()
        )
        if added > runs_module.MAX_RUN_WRITES:
            raise Decline("runs adding too many writes")  # the exact parser names the token

        writes = expand_runs(
            writes,
            rep,
            hi,
            frames[wline],
            start,
            np.flatnonzero(is_run),
            [runs[k] for k in run_ids.tolist()],
            frames,
            h,
        )
        if writes is None:
            raise Decline("a run the state rule of fastruns does not cover, or out of range")

    # Interrupts: irq@N, nmi@N, noirq; under @timing irq a line with writes and neither has
    # an IRQ at its start.
    ekind, eoff, eline = kind, off, line  # the event tokens' (see _piece)
    if ((ekind == _NOIRQ) & (eoff >= 0)).any() or (eoff >= L).any():
        raise Decline("an event offset that is wrong (noirq@N, past the frame)")
    eoff = np.maximum(eoff, 0)
    is_irq = ekind == _IRQ
    irq_line, irq_off = eline[is_irq], eoff[is_irq]
    if h.timing == "irq":
        has_writes = np.zeros(len(frames), dtype=bool)
        has_writes[wline[~is_run]] = True  # a run's first write does not count
        has_writes[eline[ekind != _NMI]] = False  # irq or noirq said otherwise
        implicit = np.flatnonzero(has_writes)
        irq_line = np.concatenate((irq_line, implicit))
        irq_off = np.concatenate((irq_off, np.zeros(len(implicit), np.int64)))
        order = np.argsort(irq_line, kind="stable")
        irq_line, irq_off = irq_line[order], irq_off[order]
    irqs = S + frames[irq_line] * L + irq_off
    nmi = ekind == _NMI
    nmis = S + frames[eline[nmi]] * L + eoff[nmi]
    if (np.diff(irqs) <= 0).any() or (np.diff(nmis) <= 0).any():
        raise Decline("irq or nmi times that do not increase")
    last_event = int(frames[eline[ekind != _NOIRQ]].max()) if (ekind != _NOIRQ).any() else -1

    if "frames" not in parser.directives and len(frames):
        frame = int(frames[-1])
        natural = (int(writes["cycle"][-1]) - S) // L if len(writes) else -1
        natural = max(natural, last_event, (int(irqs[-1]) - S) // L if len(irqs) else -1)
        if frame > natural:
            h = h.replace(frames=frame + 1)
    try:
        return Tune(h, writes, irqs.astype(np.int64), nmis.astype(np.int64))
    except TuneError:
        raise Decline("a Tune that does not hold together (the exact parser says where)") from None


def _piece(
    tc: np.ndarray, tb: np.ndarray, off: np.ndarray, l0: int, frames: np.ndarray, S: int, L: int, G: int
) -> list:
    """The typed writes of whole lines (tokens ``tb`` with offsets ``off``; ``l0`` the index
    of their first line): writes, the write token of each write and whether it is a high
    byte, per write token its line, offset and whether it starts a run (with the runs'
    indices), and per event token its kind, offset and line. :class:`Decline` where the fast
    path does not apply."""
    kind = tc[0][tb]
    keep = kind != _SEP
    tb, kind, off = tb[keep], kind[keep], off[keep]
    ends = kind == _LINE
    line = np.cumsum(ends) - ends + l0  # line index of each token
    # A token's row, column by column, only where it is needed (a whole (tokens, _ROW) matrix
    # moves ten times the memory).
    c4, c5 = tc[4][tb], tc[5][tb]  # first and second value (for context words: chip, voice)
    n = len(kind)
    idx = np.arange(n)
    # Context: chip 0 and no voice at each line start; ctx tokens set them for what follows.
    first = np.ones(n, dtype=bool)
    first[1:] = ends[:-1]
    is_ctx = kind == _CTX
    sets_chip = is_ctx & (c4 >= 0)
    sets_voice = is_ctx & (c5 >= 0)
    chip = np.where(sets_chip, c4, 0)[np.maximum.accumulate(np.where(sets_chip | first, idx, 0))]
    voice = np.where(sets_voice, c5, -1)[np.maximum.accumulate(np.where(sets_voice | first, idx, 0))]

    # Bit fields: only whole-register pairs (res=15 route=v1), the second without an offset.
    sub = kind == _SUB
    if sub.any():
        r1, mask, shift, fid = tc[1][tb], tc[6][tb], tc[7][tb], tc[8][tb]
        link = np.zeros(n, dtype=bool)  # this token and the next could be one write
        link[:-1] = (
            sub[:-1]
            & sub[1:]
            & (r1[:-1] == r1[1:])
            & (fid[:-1] != fid[1:])
            & ((mask[:-1] | mask[1:]) == 0xFF)
            & ((mask[:-1] & mask[1:]) == 0)
            & (off[1:] < 0)
        )
        # In a chain of links (res=0 route=0 res=0 route=0: the register written twice) the
        # exact parser pairs from the left: a pair holds both fields, so the next starts anew.
        chain = link.copy()
        chain[1:] &= ~link[:-1]  # the first link of each chain
        chain_start = np.maximum.accumulate(np.where(chain, idx, 0))
        nxt = link & ((idx - chain_start) % 2 == 0)
        closer = np.zeros(n, dtype=bool)
        closer[1:] = nxt[:-1]
        if (nxt & closer).any() or ((nxt | closer) != sub).any():
            raise Decline("a bit field not in a whole-register pair (res=15 route=v1)")
        opener = np.flatnonzero(nxt)
        c4[opener] = (c4[opener] << shift[opener]) | (c4[opener + 1] << shift[opener + 1])
        wr = (kind == _ONE) | (kind == _WIDE) | (kind == _RUN) | nxt
    else:
        wr = (kind == _ONE) | (kind == _WIDE) | (kind == _RUN)

    # Writes: voices resolved, then offsets (default: @gap after the previous write).
    w = np.flatnonzero(wr)
    tw = tb[w]
    w_reg, w_chip, w_lo, w_hi = tc[1][tw], tc[3][tw], c4[w], c5[w]
    voiced = tc[2][tw] == 1
    wvoice = voice[w]
    if (voiced & (wvoice < 0)).any():
        raise Decline("a voice field before any v1, v2 or v3")
    reg = w_reg + np.where(voiced, wvoice * VOICE_STRIDE, 0)
    wchip = np.where(w_chip >= 0, w_chip, chip[w])
    is_run = kind[w] == _RUN
    wide = ((kind[w] == _WIDE) | (is_run & (w_hi == 1))).astype(np.int64)
    wline = line[w]
    woff = off[w]
    lead = np.ones(len(w), dtype=bool)  # the first write of its line
    lead[1:] = wline[1:] != wline[:-1]
    anchor = lead | (woff >= 0)
    step = G + G * wide  # from one write's offset to the default offset of the next
    acc = np.concatenate(([0], np.cumsum(step)[:-1]))
    a = np.maximum.accumulate(np.where(anchor, np.arange(len(w)), 0))
    start = np.where(woff >= 0, woff, 0)[a] + acc - acc[a]
    last = start + G * wide  # offset of the write's last byte
    if len(w) and ((~lead[1:] & (start[1:] < last[:-1])).any() or (last >= L).any()):
        raise Decline("offsets going back, or past the frame")  # the exact parser says where
    base = S + frames[wline] * L
    rep = np.repeat(np.arange(len(w)), 1 + wide)
    hi = np.zeros(len(rep), dtype=bool)
    hi[1:] = rep[1:] == rep[:-1]
    writes = np.zeros(len(rep), dtype=WRITE_DTYPE)
    writes["cycle"] = base[rep] + start[rep] + G * hi
    writes["chip"] = wchip[rep]
    writes["reg"] = reg[rep] + hi
    writes["val"] = np.where(hi, w_hi[rep], w_lo[rep])
    ev = np.flatnonzero((kind >= _IRQ) & (kind <= _NOIRQ))  # not _RUN, which sorts after them
    return [writes, rep, hi, wline, start, is_run, w_lo[is_run], kind[ev], off[ev], line[ev]]
