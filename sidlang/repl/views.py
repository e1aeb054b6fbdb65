"""What the REPL shows: a tracker-like table of frames, a piano roll, register state, info.

The table prints the tune's own canonical text (:func:`sidlang.dumps` of the frames asked
for), split into one column per voice and one for the filter and volume, so what is on the
screen is what the file says, offsets and all. Everything here reads the frames view and
touches only the frames it shows, so it costs the same on a long tune as on a short one.
"""

from __future__ import annotations

import math

import numpy as np
from rich.table import Table
from rich.text import Text

from sidlang.pitch import NOTE_NAMES, reg_to_midi, reg_to_note_table
from sidlang.registers import ALIASES, FIELDS, REGISTERS, SID_BASE, SID_STRIDE, VOICES, WAVE_BITS
from sidlang.text import dumps
from sidlang.tune import Tune

from .lexer import COLOURS, tokens

MAX_ROWS = 400  #: ``show`` prints at most this many frames at once
VOICE_COLOURS = ("red", "green", "blue")
_RICH = {k: v.replace("ansibright", "bright_").replace("ansi", "") for k, v in COLOURS.items()}


def styled(line: str) -> Text:
    """A sidlang line as rich text, coloured like the input line."""
    text = Text()
    for kind, piece in tokens(line):
        text.append(piece, style=_RICH.get(kind, "") or None)
    return text


def frames_text(tune: Tune, start: int, stop: int) -> dict[int, str]:
    """Canonical sidlang lines of frames ``start`` to ``stop`` (not included), by frame."""
    fr = tune.frames
    h = tune.header
    a, b = int(fr.bounds[start]), int(fr.bounds[stop])
    lo, hi = fr.start(start), fr.start(stop)
    part = Tune(
        h.replace(frames=0),
        tune.writes[a:b],
        tune.irq[(tune.irq >= lo) & (tune.irq < hi)],
        tune.nmi[(tune.nmi >= lo) & (tune.nmi < hi)],
    )
    out = {}
    for line in dumps(part).split("\n"):
        head, _, rest = line.partition(" ")
        if head.isdigit():
            out[int(head)] = rest
    return out


def _column(tok: str, chip: int, voice: int) -> tuple[int, int]:
    """The (chip, voice or -1) a write token of a printed line belongs to."""
    name = tok.split("=")[0].rstrip("+-")
    if name.startswith("$"):
        r = REGISTERS[int(name[1:], 16) % SID_STRIDE]
        return (chip, r.voice if r.voice is not None else -1)
    f = FIELDS.get(ALIASES.get(name, name))
    return (chip, voice) if f is not None and f.voiced else (chip, -1)


def split_line(rest: str, chips: int) -> tuple[dict[tuple[int, int], list[str]], list[str]]:
    """A printed frame line (after its number) as tokens per (chip, voice) and its events."""
    cells: dict[tuple[int, int], list[str]] = {}
    events: list[str] = []
    chip, voice = 0, -1
    for tok in rest.split():
        if tok == "|":
            continue
        if tok.split("@")[0] in ("irq", "nmi", "noirq"):
            events.append(tok)
            continue
        if "=" not in tok:  # a context word: s2.v1, s2, v3
            if tok.startswith("s"):
                chip = int(tok[1]) - 1
                voice = int(tok[-1]) - 1 if ".v" in tok else voice
            else:
                voice = int(tok[1]) - 1
            continue
        if tok.startswith("$") and int(tok[1:].split("=")[0].rstrip("+-"), 16) >= SID_STRIDE:
            # A raw address names its own chip; the printer uses it for read-only slots only.
            chip = min(chips - 1, (int(tok[1:].split("=")[0], 16) - SID_BASE) // SID_STRIDE)
        cells.setdefault(_column(tok, chip, voice), []).append(tok)
    return cells, events


def show_table(tune: Tune, start: int, stop: int, title: str = "") -> Table:
    """Frames ``start`` to ``stop`` as a tracker-like table: one row a frame, one column a voice."""
    chips = tune.header.chips
    cols = [(c, v) for c in range(chips) for v in (*range(VOICES), -1)]
    table = Table(
        title=title or None, show_edge=False, pad_edge=False, header_style="bold", box=None, padding=(0, 1)
    )
    table.add_column("frame", justify="right", style=_RICH["frame"], no_wrap=True)
    for c, v in cols:
        prefix = f"s{c + 1}." if chips > 1 else ""
        name = f"{prefix}v{v + 1}" if v >= 0 else f"{prefix}filter" if chips > 1 else "filter·vol"
        table.add_column(name, style=VOICE_COLOURS[v] if v >= 0 else None, overflow="fold")
    lines = frames_text(tune, start, stop)
    for f in range(start, stop):
        rest = lines.get(f)
        if rest is None:
            table.add_row(Text(str(f), style="dim"), *[Text("·", style="dim") for _ in cols])
            continue
        cells, events = split_line(rest, chips)
        label = Text(str(f))
        if events:
            label.append(" " + " ".join(events), style=_RICH["event"])
        table.add_row(label, *[styled(" ".join(cells.get(k, []))) for k in cols])
    return table


def roll(tune: Tune, start: int, stop: int, width: int = 72, height: int = 24, chip: int = 0) -> Text:
    """A compact piano roll of frames ``start`` to ``stop``: time across, pitch up.

    Each column is one frame, or several when the range is wider than ``width`` (then the
    first frame of each stands for them). A voice is drawn where its gate is on and it has a
    waveform; where voices meet, the higher-numbered one is drawn.
    """
    out = Text()
    n = stop - start
    if n <= 0:
        return Text("no frames", style="dim")
    step = max(1, math.ceil(n / width))
    frames = np.arange(start, stop, step)
    state = tune.frames.state(chip)[frames].astype(np.int64).T  # (register, frame)
    pitch = np.full((len(frames), VOICES), -1, np.int64)
    waves = sum(WAVE_BITS[w] for w in ("tri", "saw", "pulse", "noise"))
    for v in range(VOICES):
        ctrl = FIELDS["wave"].read(state, v)
        on = (ctrl & WAVE_BITS["gate"] > 0) & (ctrl & waves > 0) & (ctrl & WAVE_BITS["test"] == 0)
        freq = FIELDS["freq"].read(state, v)
        midi = np.array([round(reg_to_midi(int(f), tune.header.clock_hz)) if f else -1 for f in freq])
        pitch[:, v] = np.where(on & (freq > 0), midi, -1)
    heard = pitch[pitch >= 0]
    if not len(heard):
        return Text(f"frames {start}–{stop - 1}: no voice sounds", style="dim")
    lo, hi = int(heard.min()), int(heard.max())
    per_row = max(1, math.ceil((hi - lo + 1) / height))
    rows = (hi - lo) // per_row + 1
    grid = [[(" ", None)] * len(frames) for _ in range(rows)]
    for v in range(VOICES):
        for x in np.flatnonzero(pitch[:, v] >= 0).tolist():
            y = (int(pitch[x, v]) - lo) // per_row
            grid[y][x] = ("█", VOICE_COLOURS[v])
    for y in range(rows - 1, -1, -1):
        band = range(lo + y * per_row, lo + (y + 1) * per_row)  # the notes this row stands for
        top = band[-1]
        has_c = any(m % 12 == 0 for m in band)
        named = next((m for m in band if m % 12 == 0), top)  # the C of the row if it has one
        label = f"{NOTE_NAMES[named % 12]}{named // 12 - 1}" if has_c or y in (0, rows - 1) else ""
        out.append(f"{label:>4} ", style="dim")
        blank = ("·" if has_c else " ", "dim")
        cells = [cell if cell[1] else blank for cell in grid[y]]
        # One span per run of equal cells: rich renders a few long spans much faster.
        run_start = 0
        for x in range(1, len(cells) + 1):
            if x == len(cells) or cells[x] != cells[run_start]:
                ch, colour = cells[run_start]
                out.append(ch * (x - run_start), style=colour)
                run_start = x
        out.append("\n")
    per = f"{step} frames a column" if step > 1 else "a frame a column"
    out.append(f"     frames {start}–{stop - 1}, {per}   ", style="dim")
    for v in range(VOICES):
        out.append(f"v{v + 1} ", style=VOICE_COLOURS[v])
    return out


def _freq_text(value: int, clock: int) -> str:
    name = reg_to_note_table(clock).get(value)
    if name is None and value:
        midi = reg_to_midi(value, clock)
        near = round(midi)
        cents = round((midi - near) * 100)
        name = f"≈{NOTE_NAMES[near % 12]}{near // 12 - 1}{cents:+d}c" if 0 <= near < 128 else ""
    return f"${value:04x} {name or ''}".rstrip()


def state_table(tune: Tune, frame: int, chip: int = 0) -> Table:
    """The register state after ``frame``, field by field, voices side by side."""
    s = [int(x) for x in tune.frames.state(chip)[frame]]
    clock = tune.header.clock_hz
    table = Table(
        title=f"state after frame {frame}" + (f", SID {chip + 1}" if tune.header.chips > 1 else ""),
        box=None,
        header_style="bold",
        padding=(0, 2),
    )
    table.add_column("field", style=_RICH["field"])
    for v in range(VOICES):
        table.add_column(f"v{v + 1}", style=VOICE_COLOURS[v])

    def shown(name: str, v: int | None = None) -> str:
        f = FIELDS[name]
        return f.text(f.read(s, v))

    def parts(names: tuple[str, ...], v: int | None = None) -> str:
        return " ".join(f"{n}={shown(n, v)}" for n in names)

    # A row per field, with the bit fields of a whole register beside it (ad: a, d).
    rows = {
        "freq": lambda v: _freq_text(FIELDS["freq"].read(s, v), clock),
        "pw": lambda v: shown("pw", v),
        "wave": lambda v: shown("wave", v),
        "ad": lambda v: f"{shown('ad', v)}  {parts(('a', 'd'), v)}",
        "sr": lambda v: f"{shown('sr', v)}  {parts(('s', 'r'), v)}",
    }
    for name, cell in rows.items():
        table.add_row(name, *[cell(v) for v in range(VOICES)])
    table.caption = f"filter: {parts(('cut', 'res', 'route'))}  {parts(('mode', 'vol'))}"
    table.caption_justify = "left"
    return table
