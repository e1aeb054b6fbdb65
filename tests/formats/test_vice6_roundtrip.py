"""asid-vice dumps through sidlang and back, byte for byte, shaped as real ones are.

The cases that broke it once: an IRQ at a different cycle in each frame, runs that span frames
(into frames with no other writes), writes before the first IRQ, NMI columns that are zero,
one number, or growing; and every SID-Wizard export dumped by the project's own emulation.
"""

import numpy as np
import pytest
from hypothesis import given

from sidlang import dumps, load, parse
from sidlang.formats.vice import read_vice, read_vice6, write_vice, write_vice6
from sidlang.text.parse import Parser
from sidlang.tune import Header, Tune, make_writes
from tests.conftest import SHARED
from tests.strategies import asid_dumps

L = 19656
EXPORTS = sorted((SHARED / "sid-wizard" / "sid-exports").glob("*.sid"))


def round_trip(dump: bytes) -> str:
    """The dump's text, after checking that both parsers give back the dump exactly."""
    tune = read_vice6(dump)
    text = dumps(tune)
    assert Parser(text).parse() == tune  # the exact parser
    assert parse(text) == tune  # the fast path, where it applies
    assert write_vice6(parse(text)) == dump
    return text


@given(asid_dumps())
def test_asid_dumps_round_trip(dump):
    round_trip(dump)


@given(asid_dumps(where="fixed", sweeps=2))
def test_asid_dumps_with_runs_across_frames_round_trip(dump):
    round_trip(dump)


@given(asid_dumps(where="raster", sweeps=1))
def test_asid_dumps_with_wandering_irqs_round_trip(dump):
    round_trip(dump)


@given(asid_dumps(nmi="zero"))
def test_a_zero_nmi_column_costs_one_directive(dump):
    text = round_trip(dump)
    assert "@nmidiff 0\n" in text and "nmi@" not in text


@given(asid_dumps(nmi="constant"))
def test_a_constant_nmi_column_costs_one_directive(dump):
    text = round_trip(dump)
    assert "@nmidiff " in text and "nmi@" not in text


@given(asid_dumps(nmi="growing"))
def test_a_growing_nmi_column_is_one_nmi(dump):
    text = round_trip(dump)
    assert text.count("nmi@") + text.count("@nmidiff") == 1  # one NMI (or one number) before the log


def test_irq_and_nmi_columns_of_zero():
    """vsid writes 0 in both columns: no interrupt per write, frames from the write bursts."""
    delta = [100 if f == 0 else L - 16 for f in range(20)]  # a burst of three writes a frame
    dump = "".join(f"{d} 0 0 0 0 {f}\n8 0 0 0 1 0\n8 0 0 0 4 65\n" for f, d in enumerate(delta)).encode()
    text = round_trip(dump)
    assert "@irqdiff 0\n@nmidiff 0\n" in text and "irq" not in text.split("@nmidiff 0")[1]
    assert read_vice6(dump).header.frame_cycles == L


def test_a_line_with_only_a_run_keeps_its_irq():
    """A frame whose only write starts a run: the IRQ at its start is printed, not implied."""
    cyc = [f * L + 10 + d for f in range(5) for d in (0, 0)]
    regs = [0, 1] * 5
    vals = [v for f in range(5) for v in (f * 16, 0)]
    tune = Tune(Header(timing="irq"), make_writes(cyc, [0] * 10, regs, vals), irq=np.arange(5) * L)
    text = dumps(tune)
    assert "1 irq v1 freq+=16*4@10" in text or "\n1 irq " in text
    assert Parser(text).parse() == tune and parse(text) == tune


def test_fast_parser_does_not_take_a_run_for_an_event():
    text = "@timing irq\n0 v1 freq=$1000\n1 v1 pw=$100 freq-=39*3@200 wave=tri\n2 v2 pw=$100\n"
    assert parse(text).irq.tolist() == Parser(text).parse().irq.tolist() == [0, L, 2 * L]


def test_a_jittered_irq_starts_its_frame():
    """Frames begin just before the IRQs, so a late IRQ is a few cycles into its frame."""
    irqs = [1000 + f * L + (f * 3) % 7 for f in range(30)]
    rows, prev = [], 0
    for irq in irqs:
        for k, r in enumerate((0, 1, 4)):
            c = irq + 30 + 8 * k
            rows.append(f"{c - prev} {c - irq} {c} 0 {r} {k}\n")
            prev = c
    tune = read_vice6("".join(rows).encode())
    offsets = (tune.irq - tune.header.start_cycle) % tune.header.frame_cycles
    assert offsets.min() == 0 and offsets.max() <= 6


@pytest.mark.parametrize("path", EXPORTS or [None], ids=lambda p: p.stem if p else "absent")
@pytest.mark.parametrize("form", ["vice", "vice6"])
def test_sid_wizard_export_dumps_round_trip(testdata, path, form):
    """Every SID-Wizard export, dumped by the project's emulation, back byte for byte."""
    if path is None:
        pytest.skip(f"no SID-Wizard exports in {testdata}")
    read, write = (read_vice, write_vice) if form == "vice" else (read_vice6, write_vice6)
    dump = write(load(path, seconds=4))
    tune = read(dump)
    text = dumps(tune)
    assert write(parse(text)) == dump
    assert Parser(text).parse() == tune
    assert text.count("nmi@") <= 1
