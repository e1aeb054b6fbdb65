"""A small two-pass 6502 assembler, driven by the same opcode table as the emulation core.

It exists so that the replay routine of a written ``.sid`` is readable source in this
repository rather than an opaque byte string, and so that tests can write tiny players
inline. Syntax, one statement per line (``;`` starts a comment)::

    name = $d400          ; a constant (zero page if < $100)
    label:  lda #$0f      ; immediate
            sta name+24   ; absolute (zero page when the value is known and < $100)
            lda (ptr),y   ; (zp),y   also (zp,x), (abs), abs,x abs,y zp,x zp,y
            bne label     ; branches take a label or an address
            .byte 1, $02, <label, >label
            .word label
            .org $ea31    ; continue at another address (:func:`assemble_segments` only)

Numbers are decimal, ``$hex`` or ``%binary``; expressions are ``term(+|-)term…`` where a term
is a number, a name, or ``<``/``>`` (low/high byte) of one.
"""

from __future__ import annotations

import re

from sidlang.c64.opcodes import ENTRIES, OPCODE, OPERAND_BYTES

_MNEMONICS = {e[0] for e in ENTRIES}
_TERM = re.compile(r"\s*([<>]?)\s*(\$[0-9a-fA-F]+|%[01]+|\d+|[A-Za-z_][A-Za-z0-9_]*)\s*")


class AsmError(ValueError):
    """A line the assembler cannot read (message names the line)."""


def _value(expr: str, names: dict[str, int], strict: bool) -> int | None:
    """The value of ``expr``, or None when a name is not known yet (pass 1)."""
    total, pos, sign = 0, 0, 1
    expr = expr.strip()
    while True:
        m = _TERM.match(expr, pos)
        if not m:
            raise AsmError(f"bad expression {expr!r}")
        part, word = m.group(1), m.group(2)
        if word[0] == "$":
            v = int(word[1:], 16)
        elif word[0] == "%":
            v = int(word[1:], 2)
        elif word.isdigit():
            v = int(word)
        elif word in names:
            v = names[word]
        elif strict:
            raise AsmError(f"unknown name {word!r}")
        else:
            return None
        v = v & 0xFF if part == "<" else (v >> 8) & 0xFF if part == ">" else v
        total += sign * v
        pos = m.end()
        if pos >= len(expr):
            return total
        if expr[pos] not in "+-":
            raise AsmError(f"bad expression {expr!r}")
        sign = 1 if expr[pos] == "+" else -1
        pos += 1


def _mode(mn: str, operand: str, names: dict[str, int], strict: bool) -> tuple[str, int | None]:
    """(addressing mode, operand value) of one instruction."""
    op = operand.replace(" ", "")
    low = op.lower()
    if not op:
        return ("acc" if (mn, "acc") in OPCODE else "impl"), None
    if low == "a":
        return "acc", None
    if (mn, "rel") in OPCODE:
        return "rel", _value(op, names, strict)
    if op.startswith("#"):
        return "imm", _value(op[1:], names, strict)
    if low.endswith(",x)"):
        return "indx", _value(op[1:-3], names, strict)
    if low.endswith("),y"):
        return "indy", _value(op[1:-3], names, strict)
    if op.startswith("(") and op.endswith(")"):
        return "ind", _value(op[1:-1], names, strict)
    index = ""
    if low.endswith(",x") or low.endswith(",y"):
        index, op = low[-1], op[:-2]
    v = _value(op, names, strict)
    zp_mode, abs_mode = ("zp" + index, "abs" + index)
    if v is not None and v < 0x100 and (mn, zp_mode) in OPCODE:
        return zp_mode, v
    return abs_mode, v


def assemble(source: str, origin: int) -> tuple[bytes, dict[str, int]]:
    """Assemble ``source`` to run at ``origin``; returns the bytes and the label values."""
    segments, names = assemble_segments(source, origin)
    if len(segments) > 1:
        raise AsmError(".org makes several pieces; use assemble_segments()")
    return (segments[0][1] if segments else b""), names


def assemble_segments(source: str, origin: int = 0) -> tuple[list[tuple[int, bytes]], dict[str, int]]:
    """Assemble ``source``, where ``.org ADDR`` lines start new pieces: ([(address, bytes)], labels).

    Pieces that overlap are an error, so code placed at fixed addresses (the KERNAL's entry
    points) cannot silently run into the next one.
    """
    lines = [ln.split(";", 1)[0].strip() for ln in source.splitlines()]
    names: dict[str, int] = {}
    forward: set[int] = set()  # lines whose operand was unknown in pass 1: kept absolute
    segments: list[tuple[int, bytearray]] = []
    for strict in (False, True):
        segments = [(origin, bytearray())]
        for number, line in enumerate(lines, 1):
            try:
                if line.lower().startswith(".org"):
                    at = _value(line[4:], names, True)
                    segments.append((at, bytearray()))
                    continue
                start, out = segments[-1]
                _statement(line, start + len(out), names, out, strict, number, forward)
            except AsmError as e:
                raise AsmError(f"line {number}: {e} in {line!r}") from None
    pieces = sorted((a, bytes(b)) for a, b in segments if b)
    for (a, b), (c, _) in zip(pieces, pieces[1:]):
        if a + len(b) > c:
            raise AsmError(f"the code at ${a:04x} runs into the piece at ${c:04x}")
    return pieces, names


def _statement(
    line: str, pc: int, names: dict[str, int], out: bytearray, strict: bool, number: int, forward: set[int]
) -> int:
    if not line:
        return pc
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)$", line)
    if m:
        v = _value(m.group(2), names, strict)
        if v is not None:
            names[m.group(1)] = v
        return pc
    m = re.match(r"([A-Za-z_][A-Za-z0-9_]*):\s*(.*)$", line)
    if m:
        names[m.group(1)] = pc
        line = m.group(2)
        if not line:
            return pc
    word, _, operand = line.partition(" ")
    word = word.lower()
    if word in (".byte", ".word"):
        size = 1 if word == ".byte" else 2
        for item in operand.split(","):
            v = _value(item, names, strict) or 0
            out += (v & 0xFFFF).to_bytes(2, "little")[:size]
        return pc + size * len(operand.split(","))
    mn = word.upper()
    if mn not in _MNEMONICS:
        raise AsmError(f"unknown instruction {word!r}")
    mode, v = _mode(mn, operand.strip(), names, strict)
    if not strict and v is None:
        forward.add(number)
    if strict and number in forward and mode in ("zp", "zpx", "zpy"):
        mode = "abs" + mode[2:]
    if (mn, mode) not in OPCODE:
        raise AsmError(f"{mn} has no {mode} mode")
    out.append(OPCODE[(mn, mode)])
    size = OPERAND_BYTES[mode]
    v = v or 0
    if mode == "rel":
        delta = v - (pc + 2)
        if strict and not -128 <= delta <= 127:
            raise AsmError(f"branch out of range ({delta})")
        v = delta & 0xFF
    if strict and size == 1 and not 0 <= v <= 0xFF:
        raise AsmError(f"operand {v} does not fit a byte")
    out += (v & 0xFFFF).to_bytes(2, "little")[:size]
    return pc + 1 + size
