"""The register table is the one source: fields encode and decode, every writable register is
printed by some field, and what other modules derive from it stays what saved files expect."""

import re
from pathlib import Path

import numpy as np
import pytest

from sidlang import dumps, parse
from sidlang.formats import registry
from sidlang.registers import (
    FIELDS,
    N_WRITABLE,
    PRINT_FIELDS,
    REGISTERS,
    SID_BASE,
    SID_STRIDE,
    VOICE_STRIDE,
    VOICES,
    WIDE_LOW,
    sid_addresses,
)
from sidlang.tune import Header, Tune, make_writes

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("name", list(FIELDS))
def test_field_encode_decode_are_inverses(name):
    f = FIELDS[name]
    for value in range(f.max + 1):
        assert f.decode(*f.encode(value)) == value
    if f.kind == "sub":  # the other bits of the register are kept
        for old in range(256):
            (byte,) = f.encode(f.decode(old), old)
            assert byte == old
            (byte,) = f.encode(f.max, old)
            assert byte & ~f.mask & 0xFF == old & ~f.mask & 0xFF


def test_field_read_works_on_lists_and_arrays():
    state = list(range(N_WRITABLE))
    assert FIELDS["freq"].offsets(1) == (7, 8)
    assert FIELDS["freq"].read(state, 1) == 8 << 8 | 7
    assert FIELDS["cut"].read(state) == (22 << 3) | (21 & 7)
    assert FIELDS["vol"].read(state) == 24 & 15
    frames = np.array([state, state[::-1]], np.int64).T  # (register, frame)
    assert FIELDS["pw"].read(frames, 2).tolist() == [(17 << 8 | 16) & 0xFFF, (7 << 8 | 8) & 0xFFF]


def test_every_field_is_on_writable_registers():
    for f in FIELDS.values():
        for v in range(VOICES) if f.voiced else [None]:
            for o in f.offsets(v):
                assert REGISTERS[o].writable, (f.name, o)
                assert (REGISTERS[o].voice is not None) == f.voiced, (f.name, o)


@pytest.mark.parametrize("reg", [r for r in REGISTERS if r.writable], ids=lambda r: f"{r.offset}:{r.name}")
def test_every_writable_register_is_printed_by_some_field(reg):
    names = PRINT_FIELDS[reg.rel]
    fields = [FIELDS[n] for n in names]
    assert all(f.regs == (reg.rel,) and f.kind in ("byte", "sub") for f in fields)
    masks = [0xFF if f.kind == "byte" else f.mask for f in fields]
    assert sum(masks) == 0xFF and np.bitwise_or.reduce(masks) == 0xFF  # all eight bits, each once
    # Every value printed through those fields, and parsed back to the same write.
    n = 256
    writes = make_writes(np.arange(n) * 20_000, np.zeros(n, int), np.full(n, reg.offset), np.arange(n))
    tune = Tune(Header(frame_cycles=20_000, gap=8), writes)
    text = dumps(tune)
    assert parse(text) == tune
    lines = [line for line in text.splitlines() if line[:1].isdigit()]
    assert len(lines) == n
    for line in lines:
        printed = [tok.split("=")[0] for tok in line.split()[1:] if "=" in tok]
        assert tuple(printed) == names, line


def test_print_fields_name_only_registers_of_the_table():
    rels = {r.rel for r in REGISTERS if r.writable}
    assert set(PRINT_FIELDS) == rels


def test_wide_fields_by_low_register():
    for f in FIELDS.values():
        if f.kind == "wide":
            for v in range(VOICES) if f.voiced else [None]:
                lo, hi = f.offsets(v)
                assert WIDE_LOW[lo] is f and hi == lo + 1


def test_sid_addresses():
    assert sid_addresses(3) == (0xD400, 0xD420, 0xD440)
    assert Header().sids == (SID_BASE,)
    assert SID_STRIDE >= len(REGISTERS)


def test_token_vocabulary_constants_are_what_saved_weights_expect():
    """Derived from the table, but the bundled weights were trained on these exact slots."""
    from sidlang.model import tokenizer as tk

    assert tk.FIRST_GLOBAL == VOICES * VOICE_STRIDE == 21
    assert tk.DIFF_VOICE_REGS == (0, 1, 2, 3)
    assert tk.DIFF_GLOBAL_REGS == (21, 22)
    assert tk.NOWRAP_SLOTS == (1, 3, 5)


def test_readme_formats_table_names_every_registered_format():
    text = README.read_text(encoding="utf-8")
    section = text.split("## Formats", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    named = {n for row in rows for n in re.findall(r"`([a-z0-9]+)`", row.split("|")[1])}
    endings = {e for row in rows for e in re.findall(r"`(\.[a-z0-9]+)`", row.split("|")[2])}
    for fmt in registry().values():
        assert fmt.name in named, f"README's formats table lacks {fmt.name!r}"
        assert set(fmt.extensions) <= endings, f"README's formats table lacks the endings of {fmt.name!r}"


def test_help_lists_every_registered_format_with_its_endings(capsys):
    from sidlang.cli import main

    assert main(["--help"]) == 0
    text = capsys.readouterr().out.split("formats (by name, or from the file ending):", 1)[1]
    lines = {line.split()[0]: line.split() for line in text.splitlines() if line.startswith("  ")}
    for fmt in registry().values():
        assert fmt.name in lines, f"--help does not list {fmt.name!r}"
        assert set(fmt.extensions) <= set(lines[fmt.name]), f"--help lacks the endings of {fmt.name!r}"
