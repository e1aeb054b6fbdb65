"""sidlang text -> Tune.

The grammar is in ``docs/sidlang.md``. The parser works a line at a time; each whitespace
token of a frame line is compiled once into a small tuple and cached, since real tunes repeat
the same tokens thousands of times, so the hot loop is a dict lookup and a few appends per
write. Every mistake becomes a :class:`~sidlang.errors.SidlangSyntaxError` with the line,
the column, the text and a hint.
"""

from __future__ import annotations

import re
from itertools import chain

import numpy as np

from sidlang.errors import SidlangSyntaxError, TuneError
from sidlang.pitch import note_fits, note_to_reg, parse_note
from sidlang.registers import ALIASES, FIELDS, N_REGS, VOICE_STRIDE, Field
from sidlang.text import runs as runs_module
from sidlang.text.directives import build_header, directive_value
from sidlang.text.fastparse import parse_fast
from sidlang.text.lexicon import (
    DIRECTIVES,
    EVENTS,
    ValueError_,
    field_words,
    parse_bits,
    parse_int,
    strip_comment,
    suggest,
)
from sidlang.text.runs import MAX_COUNT, Pending, RunQueue, deltas_for, run_writes
from sidlang.text.tokens import BYTE, CTX, EVENT, MAX_DIGITS, RAW, RUN, SEP, SUB, WIDE, BadToken
from sidlang.tune import MAX_FRAMES, WRITE_DTYPE, Header, Tune

_OPS = ("+=", "-=", "~=", "=")
_RAW_FIELD = Field("register", "byte", False, (0,))
_TOKEN_RE = re.compile(r"\S+")
_CTX_RE = re.compile(r"(?:s(\d))?(?:\.?v([123]))?")
_LONG_WORD = re.compile(r"[^\s'\"]{61,}")


def shorten(message: str) -> str:
    """``message`` with every word over 60 characters cut to 40 and its length (a 10 MB bad
    word is not echoed whole)."""
    return _LONG_WORD.sub(lambda m: f"{m.group()[:40]}…({len(m.group())} characters)", message)


class Parser:
    """Parses one text; use :func:`parse` unless you need the pieces."""

    def __init__(self, text: str, file: str | None = None) -> None:
        self.text = text
        self.file = file
        self.lineno = 0
        self.line = ""
        self.directives: dict[str, object] = {}
        self.cache: dict[str, tuple] = {}

    # -- errors ------------------------------------------------------------------------
    def error(self, message: str, column: int = 1, hint: str | None = None) -> SidlangSyntaxError:
        return SidlangSyntaxError(
            shorten(message),
            line=self.lineno,
            column=column,
            text=self.line,
            hint=None if hint is None else shorten(hint),
            file=self.file,
        )

    def column(self, index: int) -> int:
        """1-based column of the ``index``-th token of the current line."""
        spans = [m.start() for m in _TOKEN_RE.finditer(strip_comment(self.line))]
        return spans[index] + 1 if index < len(spans) else 1

    def token_error(self, index: int, fail: BadToken) -> SidlangSyntaxError:
        return self.error(fail.message, self.column(index) + fail.at, fail.hint)

    # -- header ------------------------------------------------------------------------
    def directive(self, body: str) -> None:
        name, _, rest = body.partition(" ")
        name = name.strip()
        rest = rest.strip()
        if name not in DIRECTIVES:
            raise self.error(f"unknown directive '@{name}'", 1, suggest(name, DIRECTIVES))
        if name in self.directives:
            raise self.error(f"'@{name}' given twice", 1)
        col = len(self.line) - len(self.line.lstrip()) + len(name) + 3
        try:
            self.directives[name] = directive_value(name, rest)
        except ValueError_ as e:
            raise self.error(f"@{name}: {e.message}", col, e.hint) from None

    def header(self) -> Header:
        try:
            return build_header(self.directives)
        except ValueError_ as e:
            raise self.error(e.message, 1) from None

    # -- tokens ------------------------------------------------------------------------
    def compile(self, tok: str) -> tuple:
        """One frame-line token (without its ``@offset``) -> a cached tuple of what it does.

        Writes compile to ``(kind, reg, voiced, op, value, field, lo, hi, relative)``: ``reg``
        is relative to the voice block when ``voiced`` (for raw registers ``voiced`` holds the
        chip, or None); ``lo``/``hi`` are a wide field's two bytes for ``=``.
        """
        if tok == "|":
            return (SEP,)
        head = tok[0]
        if head in "sv" and "=" not in tok:
            m = _CTX_RE.fullmatch(tok)
            if m and (m.group(1) or m.group(2)):
                chip = int(m.group(1)) - 1 if m.group(1) else None
                if chip is not None and not 0 <= chip < self.h.chips:
                    raise BadToken(f"chip s{chip + 1} not in this tune (@sids names {self.h.chips})")
                voice = int(m.group(2)) - 1 if m.group(2) else None
                return (CTX, chip, voice)
        if "=" not in tok:
            if tok in EVENTS:
                return (EVENT, tok)
            raise BadToken(
                f"unknown word {tok!r}", suggest(tok, field_words() + ["v1", "v2", "v3"] + list(EVENTS))
            )
        for op in _OPS:
            i = tok.find(op)
            if i > 0:
                break
        else:
            raise BadToken(
                f"missing field name before '=' in {tok!r}", "write it as field=value, e.g. vol=15"
            )
        name, text = tok[:i], tok[i + len(op) :]
        if not text:
            raise BadToken(f"{name}{op} needs a value", None, i + len(op))
        vcol = i + len(op)
        if name[0] == "$":
            return self._compile_raw(name, op, text, vcol)
        f = FIELDS.get(ALIASES.get(name, name))
        if f is None:
            raise BadToken(f"unknown field {name!r}", suggest(name, field_words()))
        if op == "~=" or "*" in text:
            return self._compile_run(f, op, text, vcol)
        value = self._value(f, text, op, vcol)
        if f.kind == "sub":  # bit fields carry their mask and shift
            return (SUB, f.regs[0], f.voiced, op, value, f, f.mask, f.shift, op != "=")
        # Wide fields carry their two bytes ready-made for the common '=' case.
        kind = WIDE if f.kind == "wide" else BYTE
        return (
            kind,
            f.regs[0],
            f.voiced,
            op,
            value,
            f,
            value & ((1 << f.lo_bits) - 1),
            value >> f.lo_bits,
            op != "=",
        )

    def _compile_run(self, f: Field, op: str, text: str, col: int) -> tuple:
        """``pw+=16*8`` (REPEAT) or ``freq~=24*6`` (FLIP): see :mod:`sidlang.text.runs`."""
        example = f"{f.name}{'~=' if op == '~=' else '+='}16*8"
        if op == "=" or "*" not in text:
            raise BadToken(f"'*' counts the frames of a +=, -= or ~= run, e.g. {example}", None, col)
        if f.kind == "sub":
            raise BadToken(
                f"runs work on whole-register and two-byte fields, not {f.name}",
                "write the register itself, e.g. ad+=1*4",
                col,
            )
        step, _, count_text = text.partition("*")
        delta = parse_int(step)
        count = parse_int(count_text)
        if delta is None or delta > f.max:
            raise BadToken(f"bad change {step!r} for {f.name}", f"a number 0–{f.max}", col)
        if count is None or not 1 <= count <= MAX_COUNT:
            raise BadToken(
                f"bad frame count {count_text!r}",
                f"1–{MAX_COUNT} frames, e.g. {example}",
                col + len(step) + 1,
            )
        first, later = deltas_for(op, delta, count)
        return (RUN, f.regs[0], f.voiced, op, delta, f, first, later)

    def _value(self, f: Field, text: str, op: str, col: int) -> int:
        v = parse_int(text)
        if v is None and f.flags and op == "=":
            v = parse_bits(text, f.flags)
        if v is None and f.notes and op == "=":
            note = parse_note(text)
            if note is not None:
                if not note_fits(note[0], note[1], self.h.clock_hz):
                    raise BadToken(
                        f"note {text} is above the SID's range at this clock",
                        "the highest is about A#7 (PAL) or B-7 (NTSC)",
                        col,
                    )
                v = note_to_reg(note[0], note[1], self.h.clock_hz)
        if v is None:
            kinds = "a number ($hex, 0x hex, %binary)"
            if f.flags:
                kinds += " or " + ",".join(f.flags)
            if f.notes:
                kinds += " or a note like C#4"
            word = text.split(",")[0]
            hint = suggest(word, list(f.flags)) if f.flags else None
            raise BadToken(f"bad value {text!r} for {f.name}", hint or f"{f.name} takes {kinds}", col)
        if v > f.max:
            raise BadToken(f"{f.name} value {v} out of range 0–{f.max}", None, col)
        return v

    def _compile_raw(self, name: str, op: str, text: str, col: int) -> tuple:
        addr = parse_int(name)
        if addr is None:
            raise BadToken(f"bad register {name!r}", "a raw register is $00–$1f or an address like $d404")
        chip = None
        if addr >= N_REGS:
            base = addr & ~0x1F
            if base not in self.h.sids:
                sids = " ".join(f"${s:04x}" for s in self.h.sids)
                raise BadToken(f"no SID at ${base:04x}", f"@sids names {sids}")
            chip, addr = self.h.sids.index(base), addr & 0x1F
        v = parse_int(text)
        if v is None or v > 255:
            raise BadToken(f"bad byte value {text!r}", "a byte is 0–255, $00–$ff", col)
        return (RAW, addr, chip, op, v, _RAW_FIELD, 0, 0, op != "=")

    # -- the whole text ----------------------------------------------------------------
    def parse(self) -> Tune:
        lines = self.text.split("\n")
        out: list[tuple[int, int, int, int]] = []
        irqs: list[int] = []
        nmis: list[int] = []
        self.h = None
        state = None
        frame = -1  # last frame number used
        last_event = -1
        cache = self.cache  # token body (no offset) -> compiled tuple
        whole: dict[str, tuple] = {}  # whole token -> (compiled, offset, index of '@')
        append = out.append
        runs = self.runs = RunQueue()
        last_line = 0  # the last line with something on it (errors after the loop point there)
        self.run_writes = 0  # writes the runs add after their first frames, in all
        self.out, self.state = out, None
        k_sep, k_ctx, k_byte, k_wide, k_raw, k_run = SEP, CTX, BYTE, WIDE, RAW, RUN
        for lineno, raw in enumerate(lines, 1):
            self.lineno, self.line = lineno, raw
            line = raw.strip()
            if not line or line[0] == "#":
                continue
            last_line = lineno
            if line[0] == "@":
                if self.h is not None:
                    raise self.error("header directives must come before the first frame", 1)
                self.directive(line[1:])
                continue
            if self.h is None:
                self.h = self.header()
                h = self.h
                S, L, G = h.start_cycle, h.frame_cycles, h.gap
                state = self.state = [[0] * N_REGS for _ in range(h.chips)]
                irq_timing = h.timing == "irq"
            if " #" in line or "\t#" in line:
                line = strip_comment(line)
            toks = line.split()
            first = toks[0]
            k = 0
            if first.isascii() and first.isdigit():
                n = int(first) if len(first) <= MAX_DIGITS else MAX_FRAMES + 1
                if n >= MAX_FRAMES:
                    raise self.error(f"frame {first} is past the last allowed frame ({MAX_FRAMES - 1})", 1)
                if n <= frame:
                    raise self.error(
                        f"frame {n} comes after frame {frame}", 1, "frames must be in increasing order"
                    )
                frame = n
                k = 1
            elif first == "wait":
                if len(toks) != 2 or not (toks[1].isascii() and toks[1].isdigit()):
                    raise self.error("wait takes one number of frames", 1, "wait 12")
                frame += int(toks[1]) if len(toks[1]) <= MAX_DIGITS else MAX_FRAMES
                if frame >= MAX_FRAMES:
                    raise self.error(f"wait goes past the last allowed frame ({MAX_FRAMES - 1})", 6)
                continue
            else:
                frame += 1
                if frame >= MAX_FRAMES:
                    raise self.error(f"frame {frame} is past the last allowed frame ({MAX_FRAMES - 1})", 1)
            base = S + frame * L
            chip, voice = 0, -1
            st = state[0]
            prev = -1  # offset of the previous write in this frame
            group = None  # (chip, reg, fields set) of an open sub-field write
            explicit_irq = False
            n_before = len(out)
            self.n_expanded = 0
            if runs:
                for m, entries in runs.take_before(frame):
                    for e in entries:
                        self._expand(e, S + m * L)
                todo = runs.take(frame)
            else:
                todo = None
            for i in range(k, len(toks)):
                tok = toks[i]
                hit = whole.get(tok)
                if hit is not None:
                    c, off, at = hit
                else:
                    at = tok.find("@", 1)
                    if at < 0:
                        off = -1
                        body = tok
                    else:
                        o = tok[at + 1 :]
                        off = (
                            int(o)
                            if (o.isascii() and o.isdigit() and len(o) <= MAX_DIGITS)
                            else self._offset(i, at, o)
                        )
                        body = tok[:at]
                    c = cache.get(body)
                    if c is None:
                        try:
                            c = self.compile(body)
                        except BadToken as e:
                            raise self.token_error(i, e) from None
                        cache[body] = c
                    if len(whole) > 100_000:
                        whole.clear()
                    whole[tok] = (c, off, at)
                kind = c[0]
                # The kinds are locals here (k_byte …): this loop runs once per token, and
                # a local beats a global lookup. Writes are BYTE…RAW, contiguous.
                if k_byte <= kind <= k_raw:
                    kind, reg, voiced, op, value, f, lo, hi, rel = c
                    if kind == k_raw:
                        pass  # a raw address names its own chip; the context stays
                    elif voiced:
                        if voice < 0:
                            raise self.token_error(
                                i, BadToken(f"{c[5].name} needs a voice first", "put v1, v2 or v3 before it")
                            )
                        reg += voice * VOICE_STRIDE
                    if off < 0:
                        off = 0 if prev < 0 else prev + G
                    elif off < prev:
                        raise self.token_error(
                            i,
                            BadToken(
                                f"offset {off} is before the previous write (at {prev})",
                                "writes of a frame are in time order",
                            ),
                        )
                    if kind == k_byte or kind == k_raw:  # one register
                        if kind == k_raw and voiced is not None:  # a raw address names its chip
                            wchip, wst = voiced, state[voiced]
                        else:
                            wchip, wst = chip, st
                        if rel:
                            value = self._diff(i, f, wst[reg], op, value)
                        group = None
                        if todo:
                            self._flush(i, todo, off, base)
                        append((base + off, wchip, reg, value))
                        wst[reg] = value
                        prev = off
                    elif kind == k_wide:
                        r1 = reg + 1
                        if rel:
                            lo_bits = f.lo_bits
                            cur = (st[r1] & (f.max >> lo_bits)) << lo_bits | (st[reg] & ((1 << lo_bits) - 1))
                            value = self._diff(i, f, cur, op, value)
                            lo = value & ((1 << lo_bits) - 1)
                            hi = value >> lo_bits
                        group = None
                        if todo:
                            self._flush(i, todo, off, base)
                        append((base + off, chip, reg, lo))
                        prev = off + G
                        if todo:
                            self._flush(i, todo, prev, base)
                        append((base + prev, chip, r1, hi))
                        st[reg] = lo
                        st[r1] = hi
                    else:  # a bit field inside one register
                        mask, shift = lo, hi
                        if (
                            group is not None
                            and group[0] == chip
                            and group[1] == reg
                            and f.name not in group[2]
                            and at < 0
                        ):
                            cur = out[-1][3]
                            if rel:
                                value = self._diff(i, f, (cur & mask) >> shift, op, value)
                            v = (cur & ~mask) | (value << shift)
                            t = out[-1]
                            out[-1] = (t[0], t[1], t[2], v)
                            group[2].add(f.name)
                        else:
                            cur = st[reg]
                            if rel:
                                value = self._diff(i, f, (cur & mask) >> shift, op, value)
                            v = (cur & ~mask) | (value << shift)
                            if todo:
                                self._flush(i, todo, off, base)
                            append((base + off, chip, reg, v))
                            group = (chip, reg, {f.name})
                            prev = off
                        st[reg] = v
                    if prev >= L:
                        raise self.token_error(
                            i, BadToken(f"offset {prev} is past the end of the frame ({L} cycles)")
                        )
                elif kind == k_ctx:
                    if c[1] is not None:
                        chip = c[1]
                        st = state[chip]
                    if c[2] is not None:
                        voice = c[2]
                    group = None
                elif kind == k_sep:
                    continue
                elif kind == k_run:
                    prev = self._run(i, c, off, prev, voice, chip, frame, base, todo)
                    group = None
                else:  # event
                    what = c[1]
                    if off < 0:
                        off = 0
                    elif what == "noirq":
                        raise self.token_error(i, BadToken("noirq takes no offset"))
                    if off >= L:
                        raise self.token_error(
                            i, BadToken(f"offset {off} is past the end of the frame ({L} cycles)")
                        )
                    if what == "noirq":
                        explicit_irq = True
                        continue
                    t = base + off
                    if what == "irq":
                        explicit_irq = True
                        if irqs and t <= irqs[-1]:
                            raise self.token_error(i, BadToken("irq times must increase"))
                        irqs.append(t)
                    else:
                        if nmis and t <= nmis[-1]:
                            raise self.token_error(i, BadToken("nmi times must increase"))
                        nmis.append(t)
                    last_event = max(last_event, frame)
            if todo:
                self._flush(i, todo, L, base)
            if irq_timing and not explicit_irq and len(out) - self.n_expanded > n_before:
                if irqs and base <= irqs[-1]:
                    raise self.error("irq times must increase", 1)
                irqs.append(base)
        if self.h is None:  # no frames: a header error is the last directive's
            self.lineno, self.line = last_line, lines[last_line - 1] if last_line else ""
            self.h = self.header()
        if runs:
            for m, entries in runs.take_before(MAX_FRAMES + MAX_COUNT):
                for e in entries:
                    self._expand(e, self.h.start_cycle + m * self.h.frame_cycles)
        writes = _to_writes(out)
        h = self.h
        if "frames" not in self.directives and frame >= 0:
            natural = -1
            if len(writes):
                natural = (int(writes["cycle"][-1]) - h.start_cycle) // h.frame_cycles
            natural = max(natural, last_event, (irqs[-1] - h.start_cycle) // h.frame_cycles if irqs else -1)
            if frame > natural:
                h = h.replace(frames=frame + 1)
        try:
            return Tune(h, writes, np.array(irqs, np.int64), np.array(nmis, np.int64))
        except TuneError as e:
            raise SidlangSyntaxError(
                shorten(str(e)),
                line=last_line or 1,
                column=1,
                text=lines[last_line - 1] if last_line else "",
                file=self.file,
            ) from None

    # -- REPEAT / FLIP ---------------------------------------------------------------------
    def _run(
        self,
        i: int,
        c: tuple,
        off: int,
        prev: int,
        voice: int,
        chip: int,
        frame: int,
        base: int,
        todo: list[Pending] | None,
    ) -> int:
        """A run token: its first write now, the rest queued for the frames after."""
        _, reg, voiced, op, delta, f, first, later = c
        G, L = self.h.gap, self.h.frame_cycles
        if frame + len(later) >= MAX_FRAMES:
            raise self.token_error(
                i,
                BadToken(
                    f"this run of {len(later) + 1} frames goes past the last allowed frame ({MAX_FRAMES - 1})"
                ),
            )
        self.run_writes += run_writes(len(later) + 1, f.kind == "wide")
        most = runs_module.MAX_RUN_WRITES
        if self.run_writes > most:
            raise self.token_error(
                i,
                BadToken(
                    f"the runs of this text add more than {most:,} writes, the most one text may have",
                    "use fewer or shorter runs, or write the frames out",
                ),
            )
        if voiced:
            if voice < 0:
                raise self.token_error(
                    i, BadToken(f"{f.name} needs a voice first", "put v1, v2 or v3 before it")
                )
            reg += voice * VOICE_STRIDE
        if off < 0:
            off = 0 if prev < 0 else prev + G
        elif off < prev:
            raise self.token_error(
                i,
                BadToken(
                    f"offset {off} is before the previous write (at {prev})",
                    "writes of a frame are in time order",
                ),
            )
        last = off + G if f.kind == "wide" else off
        if last >= L:
            raise self.token_error(i, BadToken(f"offset {last} is past the end of the frame ({L} cycles)"))
        if todo:
            self._flush(i, todo, off, base)
        toks = strip_comment(self.line).split()
        token = toks[i] if i < len(toks) else ""
        col = self.column(i)
        entry = Pending(off, 0, chip, reg, first, f, (self.lineno, col, self.line, token))
        self._expand(entry, base, before=todo and (lambda limit: self._flush(i, todo, limit, base)))
        self.runs.start(frame, off, chip, reg, f, later, entry.origin)
        return last

    def _flush(self, i: int, todo: list[Pending], limit: int, base: int) -> None:
        """Write the queued run writes of this frame that come before offset ``limit``."""
        G = self.h.gap
        k = 0
        while k < len(todo) and todo[k].offset < limit:
            e = todo[k]
            k += 1
            self._expand(e, base)
            if e.field.kind == "wide" and e.offset + G > limit:
                raise self.token_error(
                    i,
                    BadToken(
                        f"this write at @{limit} falls between the two bytes of a {e.field.name} run "
                        f"(@{e.offset} and @{e.offset + G})",
                        "give one of them another offset",
                    ),
                )
        del todo[:k]

    def _expand(self, e: Pending, base: int, before=None) -> None:
        """One run write (two for a two-byte field) at ``base + e.offset``."""
        f, st, G = e.field, self.state[e.chip], self.h.gap
        r = e.reg
        if f.kind == "wide":
            lb = f.lo_bits
            cur = (st[r + 1] & (f.max >> lb)) << lb | (st[r] & ((1 << lb) - 1))
        else:
            cur = st[r]
        v = cur + e.delta
        if not 0 <= v <= f.max:
            line, col, text, token = e.origin
            raise SidlangSyntaxError(
                shorten(
                    f"{token} goes out of range: {f.name} would be {v} (0–{f.max}) at cycle {base + e.offset}"
                ),
                line=line,
                column=col,
                text=text,
                file=self.file,
                hint="use fewer frames or a smaller change",
            )
        t = base + e.offset
        if f.kind == "wide":
            lo, hi = v & ((1 << f.lo_bits) - 1), v >> f.lo_bits
            self.out.append((t, e.chip, r, lo))
            if before:
                before(e.offset + G)
            self.out.append((t + G, e.chip, r + 1, hi))
            st[r], st[r + 1] = lo, hi
            self.n_expanded += 2
        else:
            self.out.append((t, e.chip, r, v))
            st[r] = v
            self.n_expanded += 1

    def _offset(self, i: int, at: int, text: str) -> int:
        v = parse_int(text) if len(text) <= MAX_DIGITS + 2 else None
        if v is None and text.isascii() and text.isdigit():
            raise self.token_error(
                i,
                BadToken(
                    f"offset {text} is past the end of the frame ({self.h.frame_cycles} cycles)", None, at + 1
                ),
            )
        if v is None:
            raise self.token_error(
                i, BadToken(f"bad cycle offset {text!r}", "an offset is a number: @120", at + 1)
            )
        return v

    def _diff(self, i: int, f: Field, current: int, op: str, delta: int) -> int:
        v = current + delta if op == "+=" else current - delta
        if not 0 <= v <= f.max:
            raise self.token_error(
                i, BadToken(f"{f.name}{op}{delta} gives {v}, out of range 0–{f.max} (it was {current})")
            )
        return v


def _to_writes(out: list[tuple[int, int, int, int]]) -> np.ndarray:
    """The parser's (cycle, chip, reg, val) tuples as a write array (fromiter beats
    np.array on a list of tuples by about half)."""
    flat = np.fromiter(chain.from_iterable(out), dtype=np.int64, count=4 * len(out)).reshape(-1, 4)
    writes = np.zeros(len(out), dtype=WRITE_DTYPE)
    writes["cycle"], writes["chip"], writes["reg"], writes["val"] = flat.T
    return writes


def parse(text: str, file: str | None = None) -> Tune:
    """Parse sidlang text into a :class:`~sidlang.tune.Tune`.

    Raises :class:`~sidlang.errors.SidlangSyntaxError` with line and column on any mistake.
    Plain frame lines (what the printer writes) take a bulk path,
    :func:`sidlang.text.fastparse.parse_fast`; what it declines (anything else, and every
    mistake), this parser.
    """
    if text.startswith("\ufeff"):  # a byte order mark some editors put first: not part of the text
        text = text[1:]
    tune = parse_fast(Parser(text, file))
    return tune if tune is not None else Parser(text, file).parse()
