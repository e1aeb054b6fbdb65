"""A :class:`~sidlang.patterns.model.Song` back to pattern text: the inverse of
:func:`sidlang.patterns.parse.parse`.

One canonical text per song (``parse(dump(song)) == song`` and ``dump(parse(dump(song)))``
is the same text): the header in a fixed order, then instruments, patterns and subtunes by
number, one row or table step per line, body lines indented by two spaces.
"""

from __future__ import annotations

import json

from sidlang.pitch import CLOCK_NAMES, PAL_HZ, note_name
from sidlang.registers import MODE_BITS, WAVE_PRINT_ORDER, bits_to_names

from .model import (
    DEFAULT_HR,
    EFFECTS,
    GATE_OFF,
    WAVE_STEP_BITS,
    Effect,
    Instrument,
    Orderlist,
    Row,
    Song,
    Subtune,
)
from .parse import MAGIC
from .raw import dump_raw

ORDER_PER_LINE = 16  #: orderlist entries per line; a longer list continues on the next line
_CLOCK_WORD = {hz: name for name, hz in CLOCK_NAMES.items()}


def _hex(value: int, digits: int = 2) -> str:
    return f"${value:0{digits}x}"


def _string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def dump_effect(effect: Effect) -> str:
    spec = EFFECTS[effect.name]
    if spec.flags is not None:
        return f"{effect.name}:{bits_to_names(effect.args[0], spec.flags)}"
    parts = [
        _hex(a, 3) if spec.hexed and a > 0xFF else _hex(a) if spec.hexed else str(a) for a in effect.args
    ]
    return f"{effect.name}:{','.join(parts)}"


def dump_row(row: Row) -> str:
    note = "---" if row.note is None else "===" if row.note == GATE_OFF else note_name(row.note)
    cols = [note, "--" if row.instrument is None else f"{row.instrument:02d}"]
    if row.effect is not None:
        cols.append(dump_effect(row.effect))
    return " ".join(cols)


def _wave(value: int | None) -> str:
    if value is None:
        return "-"
    order = tuple(n for n in WAVE_PRINT_ORDER if n in WAVE_STEP_BITS)
    return bits_to_names(value, WAVE_STEP_BITS, order)


def dump_instrument(number: int, inst: Instrument) -> list[str]:
    head = f"instr {number}" + (f" {_string(inst.name)}" if inst.name else "")
    out = [head, f"  ad {_hex(inst.ad)}", f"  sr {_hex(inst.sr)}"]
    if (inst.hr, inst.hr_ad, inst.hr_sr) != (DEFAULT_HR, 0, 0):
        out.append(f"  hr {inst.hr} {_hex(inst.hr_ad)} {_hex(inst.hr_sr)}")
    for step in inst.wave:
        note = note_name(step.note) if step.absolute else f"{step.note:+d}"
        out.append(f"  wave {_wave(step.wave)} {note}")
    if inst.wave_loop is not None:
        out.append(f"  wave loop {inst.wave_loop}")
    for table in ("pulse", "filter"):
        digits = 3
        for step in getattr(inst, table):
            if step.kind == "set":
                out.append(f"  {table} set {_hex(step.value, digits)}")
            else:
                out.append(f"  {table} add {step.value} {step.frames}")
        loop = getattr(inst, f"{table}_loop")
        if loop is not None:
            out.append(f"  {table} loop {loop}")
    if inst.fmode != MODE_BITS["lp"]:
        out.append(f"  fmode {bits_to_names(inst.fmode, MODE_BITS)}")
    if inst.fres:
        out.append(f"  fres {inst.fres}")
    if inst.hr_wave is not None:
        out.append(f"  hrwave {_wave(inst.hr_wave)}")
    return out


def dump_orderlist(voice: int, order: Orderlist) -> list[str]:
    words = []
    for i, e in enumerate(order.entries):
        word = ("@" if order.loop == i else "") + str(e.pattern)
        word += f"{e.transpose:+d}" if e.transpose else ""
        word += f"*{e.repeat}" if e.repeat != 1 else ""
        words.append(word)
    return [
        f"  v{voice + 1} " + " ".join(words[i : i + ORDER_PER_LINE])
        for i in range(0, len(words), ORDER_PER_LINE)
    ]


def dump_subtune(number: int, sub: Subtune) -> list[str]:
    out = [f"subtune {number}", "  tempo " + " ".join(str(s) for s in sub.tempo)]
    if sub.length:
        out.append(f"  length {sub.length}")
    for voice in sorted(sub.orders):
        if sub.orders[voice].entries:
            out += dump_orderlist(voice, sub.orders[voice])
    return out


def dump(song: Song) -> str:
    """The canonical pattern text of ``song``."""
    out = [MAGIC]
    for word in ("title", "author", "released"):
        if getattr(song, word):
            out.append(f"{word} {_string(getattr(song, word))}")
    out.append(f"clock {_CLOCK_WORD.get(song.clock_hz, song.clock_hz if song.clock_hz != PAL_HZ else 'pal')}")
    out.append("model " + " ".join(str(m) for m in song.models))
    if song.chips != 1:
        out.append(f"chips {song.chips}")
    if song.vol != 15:
        out.append(f"vol {song.vol}")
    if song.frame_cycles:
        out.append(f"frame {song.frame_cycles}")
    for note in sorted(song.pitch):
        out.append(f"pitch {note_name(note)} {_hex(song.pitch[note], 4)}")
    for number in sorted(song.instruments):
        out += ["", *dump_instrument(number, song.instruments[number])]
    for number in sorted(song.patterns):
        out += ["", f"pattern {number}", *("  " + dump_row(r) for r in song.patterns[number].rows)]
    for i, sub in enumerate(song.subtunes, 1):
        out += ["", *dump_subtune(i, sub)]
    for i, sub in enumerate(song.subtunes, 1):
        if sub.raw:
            out += ["", f"raw {i}", *("  " + line for line in dump_raw(sub.raw, song.clock_hz, song.chips))]
    return "\n".join(out) + "\n"
