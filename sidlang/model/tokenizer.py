"""Tunes <-> token sequences for the model: a fixed vocabulary over the frames view.

The vocabulary is built from the register table alone (no data, no out-of-vocabulary
snapping), so every tune has a token form and every token sequence the grammar allows decodes
to a valid Tune. A token sequence reads::

    BOS  FRAME v1 <ops> v3 <ops> glob <ops>  FRAME v1 REPEAT  AGAIN  AGAIN  FRAME ...  EOS

* ``FRAME`` starts a frame; the segments that follow hold its writes in order. A *segment* is
  a group marker (``v1`` ``v2`` ``v3`` ``glob``, with ``s2.`` … for further chips) and then
  either explicit ops or one of the whole-segment ops ``REPEAT``/``FLIP``.
* Explicit ops are one token per write. ``SET reg=val`` writes a byte. ``DIFF reg+=d`` writes
  the register's last value plus ``d`` (``|d| <= diff_range``); it exists for the registers
  that slide (frequency, pulse width, cutoff), where the encoder prefers it, and ``DIFF +0``
  is a rewrite of an unchanged value. On a low byte the sum is modulo 256 (a slide carries
  into the high byte); on a high byte (``freq_hi``, ``pw_hi``, ``cutoff_hi``) it must stay in
  0–255: the grammar forbids a high-byte DIFF, REPEAT or FLIP that would wrap, since one such
  token is a jump of octaves (a sampled continuation drifted out of range that way).
  ``freq_hi`` moves by DIFF only ±``freq_hi_diff`` (1: the carry of a slide or vibrato);
  a new note sets it, so pitch is absolute and a wrong note is not inherited by the next. Voice registers are voice-relative: the
  same token means ``freq_lo`` of whichever voice the marker named.
* ``REPEAT`` (preframr's idea): this segment's ops are the previous frame's ops of the same
  group again (a PWM sweep is one token per frame). ``FLIP``: the same with every DIFF negated
  (vibrato). ``AGAIN`` is a whole frame whose segment tokens equal the previous frame's, so
  a held note or a steady effect costs one token per frame.

What is exact and what is quantized, for ``decode(encode(t), t.header)``:

* exact: every write's frame, chip, register and value, and the order of writes in a frame;
  the number of frames;
* quantized: the cycle offset inside a frame. Decoded writes lie ``header.gap`` cycles apart
  from the frame start (clamped inside the frame), so a tune typed by hand or made by the
  arranger (offsets on that grid) comes back identical, and a real log loses only its
  in-frame timing, at most one frame's cycles per write;
* dropped: IRQ/NMI times (the decoded header has ``timing="grid"``).

:class:`TokenState` is the one state machine behind decoding, encoding and the grammar mask
used while sampling: the model can only emit what the decoder accepts.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np

from sidlang.errors import SidlangError, TuneError
from sidlang.registers import FIELDS, N_REGS, REGISTERS, VOICE_STRIDE, VOICES
from sidlang.tune import Header, Tune, make_writes

TOKENIZER_VERSION = 3
SPECIALS = ("PAD", "BOS", "EOS", "FRAME", "AGAIN", "REPEAT", "FLIP")
PAD, BOS, EOS, FRAME, AGAIN, REPEAT, FLIP = range(len(SPECIALS))
GROUPS = ("v1", "v2", "v3", "glob")
GLOBAL = 3  #: group index of the filter/volume registers
FIRST_GLOBAL = min(r.offset for r in REGISTERS if r.voice is None)  #: register 21, $15
N_GLOBAL = N_REGS - FIRST_GLOBAL  #: 11 registers, $15–$1f (read-only slots kept for exactness)
#: DIFF slots: the low and high byte of each two-byte field, freq and pw (voice-relative)
#: then cut (global). DIFF is for the registers that slide, where the encoder prefers it.
_DIFF_SLOTS = [
    (f, i)
    for voiced in (True, False)
    for f in FIELDS.values()
    if f.kind == "wide" and f.voiced == voiced
    for i in range(2)
]
DIFF_VOICE_REGS = tuple(f.regs[i] for f, i in _DIFF_SLOTS if f.voiced)  #: (0, 1, 2, 3)
DIFF_GLOBAL_REGS = tuple(f.regs[i] for f, i in _DIFF_SLOTS if not f.voiced)  #: (21, 22)
#: DIFF slots of high bytes (freq_hi, pw_hi, cut_hi): their sums may not wrap around.
NOWRAP_SLOTS = tuple(slot for slot, (_, i) in enumerate(_DIFF_SLOTS) if i == 1)  #: (1, 3, 5)
#: Distances (in frames) a COPY token may reach back: every frame up to 32 (arpeggios, rows of
#: a pattern), then the spans trackers repeat at (pattern rows of 2-8 frames times 8-64 rows).
COPY_BACK = (*range(2, 33), *range(40, 129, 8), *range(160, 513, 32))


def diff_register(slot: int, group: int) -> int:
    """The register a DIFF slot writes in ``group`` (voice slots 0-3 move with the voice)."""
    return DIFF_GLOBAL_REGS[slot - 4] if slot >= 4 else DIFF_VOICE_REGS[slot] + VOICE_STRIDE * group


@dataclass(frozen=True)
class TokenizerConfig:
    """The parameters of the vocabulary; saved as JSON beside the weights."""

    version: int = TOKENIZER_VERSION
    diff_range: int = 64  #: DIFF tokens cover -diff_range … +diff_range
    #: freq_hi moves by DIFF only this far (a slide's carry); a note change sets it absolutely,
    #: so one wrong note does not shift every later one (version 2).
    freq_hi_diff: int = 1
    max_chips: int = 8
    max_writes_per_frame: int = 4096

    def to_json(self) -> str:
        import sidlang

        return json.dumps({**asdict(self), "sidlang": sidlang.__version__, "numpy": np.__version__})

    @classmethod
    def from_json(cls, text: str) -> TokenizerConfig:
        d = json.loads(text)
        if d.get("version") != TOKENIZER_VERSION:
            raise SidlangError(
                f"made for tokenizer version {d.get('version')}; this sidlang's is "
                f"{TOKENIZER_VERSION} (token forms differ: train again on a corpus built "
                f"by this sidlang)"
            )
        keys = ("version", "diff_range", "freq_hi_diff", "max_chips", "max_writes_per_frame")
        return cls(**{k: d[k] for k in keys})


class Vocab:
    """Token ids: specials, group markers, SET (voice, global), DIFF; names for each."""

    def __init__(self, config: TokenizerConfig) -> None:
        self.config = config
        self.n_diff = 2 * config.diff_range + 1
        self.mark0 = len(SPECIALS)
        self.setv0 = self.mark0 + config.max_chips * len(GROUPS)
        self.setg0 = self.setv0 + VOICE_STRIDE * 256
        self.diff0 = self.setg0 + N_GLOBAL * 256
        self.copy0 = self.diff0 + (len(DIFF_VOICE_REGS) + len(DIFF_GLOBAL_REGS)) * self.n_diff
        self.size = self.copy0 + config.max_chips * len(GROUPS) * len(COPY_BACK)

    def marker(self, chip: int, group: int) -> int:
        return self.mark0 + chip * len(GROUPS) + group

    def set_token(self, group: int, reg: int, val: int) -> int:
        if group == GLOBAL:
            return self.setg0 + (reg - FIRST_GLOBAL) * 256 + val
        return self.setv0 + (reg % VOICE_STRIDE) * 256 + val

    def diff_slot(self, group: int, reg: int) -> int | None:
        """The DIFF slot of a register (0–5), or None where it has no DIFF tokens."""
        if group == GLOBAL:
            return 4 + DIFF_GLOBAL_REGS.index(reg) if reg in DIFF_GLOBAL_REGS else None
        rel = reg % VOICE_STRIDE
        return rel if rel in DIFF_VOICE_REGS else None

    def diff_token(self, slot: int, d: int) -> int:
        return self.diff0 + slot * self.n_diff + d + self.config.diff_range

    def copy_token(self, chip: int, group: int, back: int) -> int:
        """The token that opens ``group`` and writes what it wrote ``COPY_BACK[back]`` frames ago."""
        return self.copy0 + (chip * len(GROUPS) + group) * len(COPY_BACK) + back

    def describe(self, t: int) -> tuple[str, int, int]:
        """``(kind, a, b)``: ("mark", chip, group), ("set", rel_reg, val), ("diff", slot, d),
        ("copy", chip * 4 + group, index into COPY_BACK)."""
        if t < self.mark0:
            return ("special", t, 0)
        if t < self.setv0:
            return ("mark", *divmod(t - self.mark0, len(GROUPS)))
        if t < self.setg0:
            return ("setv", *divmod(t - self.setv0, 256))
        if t < self.diff0:
            rel, val = divmod(t - self.setg0, 256)
            return ("setg", rel + FIRST_GLOBAL, val)
        if t < self.copy0:
            slot, d = divmod(t - self.diff0, self.n_diff)
            return ("diff", slot, d - self.config.diff_range)
        if t < self.size:
            return ("copy", *divmod(t - self.copy0, len(COPY_BACK)))
        raise SidlangError(f"token {t} out of range 0–{self.size - 1}")

    def name(self, t: int) -> str:
        kind, a, b = self.describe(t)
        if kind == "special":
            return SPECIALS[a]
        if kind == "mark":
            return f"s{a + 1}.{GROUPS[b]}" if a else GROUPS[b]
        if kind == "setv":
            return f"{REGISTERS[a].name}=${b:02x}"
        if kind == "setg":
            return f"{REGISTERS[a].name}=${b:02x}"
        if kind == "copy":
            chip, group = divmod(a, len(GROUPS))
            return f"{f's{chip + 1}.' if chip else ''}{GROUPS[group]}~{COPY_BACK[b]}"
        reg = diff_register(a, 0)
        return f"{REGISTERS[reg].name}{b:+d}"


class TokenState:
    """Decoder, grammar and encoder helper in one: feed tokens, read writes and legal next tokens.

    ``writes`` collects ``(frame, chip, reg, val)`` in order. ``allowed()`` is a bool mask over
    the vocabulary of the tokens that may come next; ``feed`` raises on anything else.
    ``blocked_groups`` holds ``(chip, group)`` pairs the sampler must not open (voices kept
    from a given tune).
    """

    def __init__(self, vocab: Vocab, chips: int = 1) -> None:
        if not 1 <= chips <= vocab.config.max_chips:
            raise SidlangError(f"the tokenizer handles 1 to {vocab.config.max_chips} SIDs, got {chips}")
        self.v = vocab
        self.chips = chips
        self.regs = np.zeros((chips, N_REGS), np.int64)  # last value written per register
        self.known = np.zeros((chips, N_REGS), bool)  # registers written so far (regs is their value)
        self.phase = "start"  # start | frame | open | ops | done | again | end
        self.frame = -1
        self.group: tuple[int, int] | None = None
        self.body: list[int] = []
        self.prev_body: list[int] = []
        self.seg: list[int] = []  # expanded op tokens of the open segment
        self.last: dict[tuple[int, int], list[int]] = {}  # this frame's last segment per group
        self.prev_last: dict[tuple[int, int], list[int]] = {}
        self.seg_w: list[tuple[int, int]] = []  # (reg, val) writes of the open segment
        self.last_w: dict[tuple[int, int], tuple] = {}  # this frame's last segment writes per group
        #: last-segment writes per group of the frames before, newest last (COPY reads it)
        self.hist: deque[dict[tuple[int, int], tuple]] = deque(maxlen=COPY_BACK[-1])
        # per chip*4+group: bit b set where COPY_BACK[b] can copy; made for the grammar only,
        # once per frame (encoding never asks for it)
        self._avail: tuple[int, tuple[int, ...]] = (-2, ())
        self.n_writes = 0
        self.writes: list[tuple[int, int, int, int]] = []
        self.blocked_groups: frozenset[tuple[int, int]] = frozenset()
        self.allow_again = True
        self.allow_eos = True
        self.max_writes = vocab.config.max_writes_per_frame
        self.high_diffs = False  # this frame has a high-byte DIFF (AGAIN then needs a check)
        self.has_copy = False  # this frame has a COPY (AGAIN then needs a check too)
        self._again_memo: tuple[int, bool] = (-1, False)

    # -- feeding -------------------------------------------------------------------------
    def feed(self, t: int, check: bool = True) -> None:
        """Advance by one token; with ``check``, raise unless the grammar allows it."""
        if check and not self.allowed()[t]:
            raise SidlangError(f"token {self.v.name(t)!r} is not allowed here ({self.phase})")
        kind, a, b = self.v.describe(t)
        if t == BOS:
            self.phase = "frame0"
            return
        if t in (FRAME, AGAIN, EOS):
            self._close_frame()
            if t == EOS:
                self.phase = "end"
                return
            self.frame += 1
            self.n_writes = 0
            if t == AGAIN:
                self.phase = "frame"
                for u in self.prev_body:
                    self.feed(u, check=False)
                self.phase = "again"
            else:
                self.phase = "frame"
            return
        self.body.append(t)
        if kind == "mark":
            self._close_segment()
            self.group = (a, b)
            self.phase = "open"
        elif kind == "copy":
            self._close_segment()
            self.group = divmod(a, len(GROUPS))
            back = COPY_BACK[b]
            if back > len(self.hist) or not self.hist[-back].get(self.group):
                raise SidlangError(f"{self.v.name(t)}: that group wrote nothing {back} frames ago")
            chip, group = self.group
            self.has_copy = True
            for reg, val in self.hist[-back][self.group]:
                self._apply(self.op_token(chip, group, reg, val, self.regs))
            self.phase = "done"
        elif t in (REPEAT, FLIP):
            ops = self.prev_last[self.group]
            for u in ops if t == REPEAT else [self._negate(u) for u in ops]:
                self._apply(u)
            self.phase = "done"
        else:
            self._apply(t)
            self.phase = "ops"

    def _apply(self, t: int) -> None:
        chip, group = self.group
        kind, a, b = self.v.describe(t)
        if kind == "diff":
            reg = diff_register(a, group)
            val = int(self.regs[chip, reg]) + b
            if a in NOWRAP_SLOTS:
                if not 0 <= val <= 255:
                    raise SidlangError(f"{self.v.name(t)} wraps {REGISTERS[reg].name} (now {val - b})")
                self.high_diffs = True
            val &= 0xFF
        else:
            reg = a + VOICE_STRIDE * group if kind == "setv" else a
            val = b
        self.regs[chip, reg] = val
        self.known[chip, reg] = True
        self.writes.append((self.frame, chip, reg, val))
        self.seg.append(t)
        self.seg_w.append((reg, val))
        self.n_writes += 1

    def _negate(self, t: int) -> int:
        kind, slot, d = self.v.describe(t)
        return self.v.diff_token(slot, -d) if kind == "diff" else t

    def _close_segment(self) -> None:
        if self.group is not None:
            self.last[self.group] = self.seg
            self.last_w[self.group] = tuple(self.seg_w)
        self.group, self.seg, self.seg_w = None, [], []

    def _close_frame(self) -> None:
        self._close_segment()
        self.high_diffs, self.has_copy, self._again_memo = False, False, (-1, False)
        self.prev_body, self.body = self.body, []
        self.prev_last, self.last = self.last, {}
        if self.frame >= 0:
            self.hist.append(self.last_w)
        self.last_w = {}

    @property
    def copy_avail(self) -> tuple[int, ...]:
        if self._avail[0] != self.frame:
            self._avail = (self.frame, self._copy_bits())
        return self._avail[1]

    def _copy_bits(self) -> tuple[int, ...]:
        hist, n = self.hist, len(self.hist)
        out = []
        for chip in range(self.chips):
            for group in range(len(GROUPS)):
                key, bits = (chip, group), 0
                for b, back in enumerate(COPY_BACK):
                    if back > n:
                        break
                    if hist[-back].get(key):
                        bits |= 1 << b
                out.append(bits)
        return tuple(out)

    def copy_back(self, chip: int, group: int, writes: tuple) -> int | None:
        """The index into ``COPY_BACK`` of the nearest frame whose ``group`` wrote ``writes``."""
        key, hist, n = (chip, group), self.hist, len(self.hist)
        for b, back in enumerate(COPY_BACK):
            if back > n:
                return None
            if hist[-back].get(key) == writes:
                return b
        return None

    def changes(self, writes: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
        """``writes`` without those that rewrite a register's current value (the model form)."""
        regs, known = self.regs, self.known
        out, now = [], {}
        for chip, reg, val in writes:
            old = now.get((chip, reg), int(regs[chip, reg]) if known[chip, reg] else -1)
            if old != val:
                out.append((chip, reg, val))
                now[chip, reg] = val
        return out

    # -- encoding helpers ------------------------------------------------------------------
    def op_token(self, chip: int, group: int, reg: int, val: int, regs: np.ndarray) -> int:
        """The canonical op for writing ``val`` to ``reg``: DIFF where in range, else SET."""
        slot = self.v.diff_slot(group, reg)
        if slot is not None:
            old = int(regs[chip, reg])
            d = val - old if slot in NOWRAP_SLOTS else ((val - old + 128) & 0xFF) - 128
            if abs(d) <= (self.v.config.freq_hi_diff if slot == 1 else self.v.config.diff_range):
                return self.v.diff_token(slot, d)
        return self.v.set_token(group, reg, val)

    def segment_tokens(self, chip: int, group: int, ops: list[int], writes: tuple) -> list[int]:
        """One COPY token where an earlier frame wrote the same; else the marker plus
        ``REPEAT``/``FLIP`` where the previous frame allows, else plus the ops."""
        back = self.copy_back(chip, group, writes)
        if back is not None:
            return [self.v.copy_token(chip, group, back)]
        prev = self.prev_last.get((chip, group))
        mark = self.v.marker(chip, group)
        if prev is not None and prev == ops:
            return [mark, REPEAT]
        if prev is not None and self._flippable(prev) and [self._negate(u) for u in prev] == ops:
            return [mark, FLIP]
        return [mark, *ops]

    def frame_tokens(self, writes: list[tuple[int, int, int]]) -> list[int]:
        """The tokens of one whole frame from its ``(chip, reg, val)`` writes, without feeding."""
        if not writes:
            return [FRAME]
        regs = self.regs.copy()
        segs: list[tuple[int, int, list[int], list]] = []
        for chip, reg, val in writes:
            group = reg // VOICE_STRIDE if reg < FIRST_GLOBAL else GLOBAL
            if not segs or segs[-1][:2] != (chip, group):
                segs.append((chip, group, [], []))
            segs[-1][2].append(self.op_token(chip, group, reg, val, regs))
            segs[-1][3].append((reg, val))
            regs[chip, reg] = val
        # REPEAT/FLIP compare with the frame being closed now, which becomes "previous", and
        # COPY reaches back from it: both see the state as it will be once this frame opens.
        saved = self.prev_last
        self.prev_last = {**self.last, **({self.group: self.seg} if self.group else {})}
        hist, dropped = self.hist, None
        if self.frame >= 0:  # the frame being closed, on the history for a moment
            dropped = hist[0] if len(hist) == hist.maxlen else None
            hist.append({**self.last_w, **({self.group: tuple(self.seg_w)} if self.group else {})})
        body = [u for chip, group, ops, w in segs for u in self.segment_tokens(chip, group, ops, tuple(w))]
        if self.frame >= 0:
            hist.pop()
            if dropped is not None:
                hist.appendleft(dropped)
        self.prev_last = saved
        if body and body == self.body and self.allow_again:
            return [AGAIN]
        return [FRAME, *body]

    def forced_tokens(self, writes: list[tuple[int, int, int]]) -> list[int]:
        """Segment tokens for ``(chip, reg, val)`` writes added to the open frame (kept voices)."""
        regs = self.regs.copy()
        out: list[int] = []
        run: list[int] = []
        rw: list[tuple[int, int]] = []
        key = None
        for chip, reg, val in self.changes(writes):
            group = reg // VOICE_STRIDE if reg < FIRST_GLOBAL else GLOBAL
            if (chip, group) != key:
                if key:
                    out += self.segment_tokens(*key, run, tuple(rw))
                key, run, rw = (chip, group), [], []
            run.append(self.op_token(chip, group, reg, val, regs))
            rw.append((reg, val))
            regs[chip, reg] = val
        if key:
            out += self.segment_tokens(*key, run, tuple(rw))
        return out

    def _flippable(self, ops: list[int]) -> bool:
        return any(self.v.describe(u)[0] == "diff" and self.v.describe(u)[2] for u in ops)

    # -- the grammar -----------------------------------------------------------------------
    def mask_key(self) -> tuple:
        """Everything the legal-next set depends on; masks are cached by this key."""
        g = self.group
        prev = self.prev_last.get(g) if g else None
        full = self.n_writes >= self.max_writes
        opening = self.phase == "open"
        return (
            self.phase,
            self.chips,
            g,
            prev is not None and not (opening and self._wraps(prev, 1)),
            bool(prev) and self._flippable(prev) and not (opening and self._wraps(prev, -1)),
            full,
            bool(self.body) and self.allow_again and not self._again_wraps(),
            self.blocked_groups,
            self.allow_eos,
            self._room() if self.phase in ("open", "ops") else (),
            self.copy_avail if self.phase in ("frame", "ops", "done") else (),
        )

    def _room(self) -> tuple:
        """``(slot, lowest d, highest d)`` for the open group's high bytes near 0 or 255."""
        if self.group is None:
            return ()
        chip, group = self.group
        r, out = self.v.config.diff_range, []
        for slot in NOWRAP_SLOTS:
            if (slot >= 4) == (group == GLOBAL):
                now = int(self.regs[chip, diff_register(slot, group)])
                if now < r or now > 255 - r:
                    out.append((slot, max(-r, -now), min(r, 255 - now)))
        return tuple(out)

    def _again_wraps(self) -> bool:
        """Whether ``AGAIN`` now (this frame's body once more) would wrap a high byte, or copy
        from a frame where the group wrote nothing."""
        if not (self.high_diffs or self.has_copy):
            return False
        n = len(self.body)
        if self._again_memo[0] != n:
            final = {**self.last, **({self.group: self.seg} if self.group else {})}
            vals: dict[tuple[int, int], int] = {}
            group, wraps = None, False
            for u in self.body:
                kind, a, b = self.v.describe(u)
                if kind == "mark":
                    group = (a, b)
                elif kind == "copy":  # absolute values: they cannot wrap, but later DIFFs start there
                    group = divmod(a, len(GROUPS))
                    # In the next frame this frame is on the history: the copy reaches one less back.
                    back = COPY_BACK[b] - 1
                    source = self.hist[-back].get(group) if back <= len(self.hist) else None
                    if not source:
                        wraps = True  # nothing to copy there: AGAIN cannot repeat this frame
                        break
                    for reg, val in source:
                        vals[group[0], reg] = val
                elif u in (REPEAT, FLIP):
                    wraps = self._wraps(final.get(group, []), 1 if u == REPEAT else -1, group, vals)
                else:
                    wraps = self._wraps([u], 1, group, vals)
                if wraps:
                    break
            self._again_memo = (n, wraps)
        return self._again_memo[1]

    def _wraps(
        self, ops: list[int], sign: int, group: tuple[int, int] | None = None, vals: dict | None = None
    ) -> bool:
        """Whether applying ``ops`` (negated DIFFs for ``sign`` -1) now would wrap a high byte.

        ``vals`` carries values already changed by earlier ops, keyed ``(chip, reg)``.
        """
        chip, g = group or self.group
        vals = {} if vals is None else vals
        for u in ops:
            kind, a, b = self.v.describe(u)
            if kind == "diff" and a in NOWRAP_SLOTS:
                reg = diff_register(a, g)
                now = vals.get((chip, reg), int(self.regs[chip, reg])) + sign * b
                if not 0 <= now <= 255:
                    return True
                vals[chip, reg] = now
            elif kind != "diff":
                vals[chip, a + VOICE_STRIDE * g if kind == "setv" else a] = b
        return False

    def allowed(self) -> np.ndarray:
        return _mask(self.v, self.mask_key())


@lru_cache(maxsize=4096)
def _mask(v: Vocab, key: tuple) -> np.ndarray:
    phase, chips, g, has_prev, flippable, full, again_ok, blocked, eos_ok, room, copies = key
    m = np.zeros(v.size, bool)
    if phase == "start":
        m[BOS] = True
        return m
    if phase == "end":
        return m
    closing = phase in ("frame", "ops", "done", "again")
    if phase == "frame0" or closing:
        m[FRAME] = True
        m[EOS] = eos_ok
    if closing and again_ok and phase != "frame0":
        m[AGAIN] = True
    if phase in ("frame", "ops", "done") and not full:
        for chip in range(chips):
            for group in range(len(GROUPS)):
                if (chip, group) != g and (chip, group) not in blocked:
                    m[v.marker(chip, group)] = True
                    bits = copies[chip * len(GROUPS) + group] if copies else 0
                    b = 0
                    while bits:
                        if bits & 1:
                            m[v.copy_token(chip, group, b)] = True
                        bits >>= 1
                        b += 1
    if phase in ("open", "ops") and not full and g not in blocked:
        chip, group = g
        if group == GLOBAL:
            m[v.setg0 : v.diff0] = True
            m[v.diff0 + 4 * v.n_diff : v.copy0] = True
        else:
            m[v.setv0 : v.setg0] = True
            m[v.diff0 : v.diff0 + 4 * v.n_diff] = True
            k = v.config.freq_hi_diff  # freq_hi: only a carry's DIFF, notes are SET
            m[v.diff_token(1, -v.config.diff_range) : v.diff_token(1, -k)] = False
            m[v.diff_token(1, k) + 1 : v.diff_token(1, v.config.diff_range) + 1] = False
        for slot, lo, hi in room:  # high bytes near an end: no DIFF past 0 or 255
            first = v.diff_token(slot, -v.config.diff_range)
            m[first : v.diff_token(slot, lo)] = False
            m[v.diff_token(slot, hi) + 1 : first + v.n_diff] = False
    if phase == "open":
        m[REPEAT] = has_prev
        m[FLIP] = flippable
    return m


class Tokenizer:
    """``encode(tune) -> list[int]`` and ``decode(tokens, header) -> Tune`` over a fixed vocabulary."""

    def __init__(self, config: TokenizerConfig | None = None) -> None:
        self.config = config or TokenizerConfig()
        self.vocab = Vocab(self.config)

    @property
    def vocab_size(self) -> int:
        return self.vocab.size

    def state(self, chips: int = 1) -> TokenState:
        return TokenState(self.vocab, chips)

    def encode(self, tune: Tune, *, eos: bool = True) -> list[int]:
        """Tokens of a whole tune: ``BOS``, one frame after another, then ``EOS`` if asked."""
        st = self.state(tune.header.chips)
        st.feed(BOS)
        out = [BOS, *self.encode_frames(st, tune, 0, len(tune.frames))]
        if eos:
            st.feed(EOS)
            out.append(EOS)
        return out

    def encode_frames(self, st: TokenState, tune: Tune, start: int, stop: int) -> list[int]:
        """Feed frames ``start``–``stop - 1`` of ``tune`` to ``st``; returns their tokens."""
        w = tune.writes
        fr = tune.frames
        keep = changed_writes(w)
        chip, reg, val = w["chip"].tolist(), w["reg"].tolist(), w["val"].tolist()
        out: list[int] = []
        for n in range(start, stop):
            a, b = int(fr.bounds[n]), int(fr.bounds[n + 1])
            if b - a > self.config.max_writes_per_frame:
                raise TuneError(
                    f"frame {n} has {b - a} writes; the tokenizer takes at most "
                    f"{self.config.max_writes_per_frame}"
                )
            ks = keep[a:b].tolist()
            toks = st.frame_tokens([x for x, k in zip(zip(chip[a:b], reg[a:b], val[a:b]), ks) if k])
            for t in toks:
                st.feed(t, check=False)
            out += toks
        return out

    def decode(self, tokens, header: Header | None = None) -> Tune:
        """A Tune from tokens (``BOS`` optional); writes on the ``header.gap`` grid in each frame."""
        header = header or Header()
        st = self.state(header.chips)
        toks = [int(t) for t in tokens]
        if not toks or toks[0] != BOS:
            toks = [BOS, *toks]
        for t in toks:
            if t == PAD:
                continue
            st.feed(t)
            if t == EOS:
                break
        return writes_to_tune(st.writes, max(st.frame + 1, 0), header)

    def model_form(self, tune: Tune) -> Tune:
        """What the token form keeps of ``tune``: every write that changes a register, in order
        and in its frame (``decode(encode(t))`` equals this on the ``gap`` grid)."""
        return Tune(
            tune.header,
            tune.writes[changed_writes(tune.writes)],
            irq=tune.irq,
            nmi=tune.nmi,
            meta=dict(tune.meta),
        )


def changed_writes(writes: np.ndarray) -> np.ndarray:
    """A bool mask of the writes that change their register: the first to each (chip, register)
    and every one whose value differs from the write before it to the same register.

    The others rewrite what the chip already holds and do nothing to the sound; real players
    rewrite every register every frame, so dropping them halves a real log's tokens.
    """
    n = len(writes)
    if not n:
        return np.zeros(0, bool)
    key = writes["chip"].astype(np.int64) * 256 + writes["reg"]
    order = np.argsort(key, kind="stable")  # time order inside each register
    k, v = key[order], writes["val"][order]
    same = np.r_[False, (k[1:] == k[:-1]) & (v[1:] == v[:-1])]
    keep = np.empty(n, bool)
    keep[order] = ~same
    return keep


def writes_to_tune(
    writes: list[tuple[int, int, int, int]], n_frames: int, header: Header, first_frame: int = 0
) -> Tune:
    """A Tune from ``(frame, chip, reg, val)`` writes, ``header.gap`` cycles apart in a frame."""
    L, G = header.frame_cycles, header.gap
    arr = np.array(writes, np.int64).reshape(-1, 4)
    frame = arr[:, 0] + first_frame
    # Position of each write inside its frame: 0, 1, 2, … restarting at every new frame.
    starts = np.flatnonzero(np.r_[True, frame[1:] != frame[:-1]]) if len(arr) else np.zeros(0, int)
    pos = np.arange(len(arr)) - np.repeat(starts, np.diff(np.r_[starts, len(arr)]))
    cycles = header.start_cycle + frame * L + np.minimum(pos * G, L - 1)
    last_written = int(frame[-1]) + 1 if len(arr) else 0
    total = first_frame + n_frames
    h = header.replace(timing="grid", frames=total if total > last_written else 0)
    return Tune(h, make_writes(cycles, arr[:, 1], arr[:, 2], arr[:, 3]))


# -- augmentation -----------------------------------------------------------------------------
# Voice rotation and transposition are the shared transforms (sidlang.transforms.rotate_voices,
# .transpose); rotation is also a fixed permutation of token ids, applied while training.
def rotation_map(k: int, config: TokenizerConfig | None = None) -> np.ndarray:
    """Token permutation equal to ``transforms.rotate_voices(t, k)``: ``encode(rotate(t)) == map[encode(t)]``.

    Group markers and COPY tokens of voices move, the filter routing bits in ``res_route`` SET tokens rotate;
    voice-relative ops need no change. Training applies it per window for free.
    """
    v = Vocab(config or TokenizerConfig())
    m = np.arange(v.size)
    k %= VOICES
    for chip in range(v.config.max_chips):
        for g in range(VOICES):
            m[v.marker(chip, g)] = v.marker(chip, (g + k) % VOICES)
            for b in range(len(COPY_BACK)):
                m[v.copy_token(chip, g, b)] = v.copy_token(chip, (g + k) % VOICES, b)
    for val in range(256):
        bits = val & 0x7
        rotated = ((bits << k) | (bits >> (VOICES - k))) & 0x7
        m[v.set_token(GLOBAL, 23, val)] = v.set_token(GLOBAL, 23, (val & 0xF8) | rotated)
    return m


def roundtrip_error(tune: Tune, tok: Tokenizer | None = None) -> dict:
    """How far ``decode(encode(tune))`` is from ``tune``: what is kept, and the quantized offsets.

    ``writes_kept`` is the share of the tune's writes the model form keeps (the rest rewrite an
    unchanged value); ``writes_exact`` the share of those whose frame, chip, register and value come back
    (1.0 by construction, measured anyway); ``offsets_exact`` the share whose cycle comes back
    too; ``mean_cycle_error`` / ``max_cycle_error`` the in-frame timing lost, in cycles.
    """
    tok = tok or Tokenizer()
    back = tok.decode(tok.encode(tune), tune.header)
    kept = tok.model_form(tune)
    share = len(kept.writes) / len(tune.writes) if len(tune.writes) else 1.0
    tune = kept
    a, b = tune.writes, back.writes
    n = len(a)
    if len(b) != n:
        return {
            "writes": n,
            "writes_kept": share,
            "writes_exact": 0.0,
            "offsets_exact": 0.0,
            "mean_cycle_error": None,
            "max_cycle_error": None,
            "frames_exact": False,
        }
    same = (
        (tune.frames.index == back.frames.index)
        & (a["chip"] == b["chip"])
        & (a["reg"] == b["reg"])
        & (a["val"] == b["val"])
    )
    err = np.abs(a["cycle"] - b["cycle"])
    return {
        "writes": n,
        "writes_kept": share,
        "writes_exact": float(same.mean()) if n else 1.0,
        "offsets_exact": float((err == 0).mean()) if n else 1.0,
        "mean_cycle_error": float(err.mean()) if n else 0.0,
        "max_cycle_error": int(err.max()) if n else 0,
        "frames_exact": len(back.frames) == len(tune.frames),
    }
