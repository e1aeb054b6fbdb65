"""Header directives (``@clock pal``, ``@title "…"``): their values and the Header they make.

The list of directives and what each holds is :data:`sidlang.text.lexicon.DIRECTIVES`; the
printer's side is :func:`sidlang.text.dump.dumps_header`.
"""

from __future__ import annotations

import json

from sidlang.errors import TuneError
from sidlang.pitch import CLOCK_NAMES, default_frame_cycles
from sidlang.registers import SID_BASE, SID_STRIDE
from sidlang.text.lexicon import DIRECTIVES, ValueError_, parse_int, strip_comment
from sidlang.tune import MAX_FRAMES, Header

#: The highest base address @sids takes: the last 32-register window of the I/O area.
_LAST_SID = 0xE000 - SID_STRIDE


def directive_value(name: str, rest: str) -> object:
    """The value of ``@name rest``; raises ``ValueError_`` with a hint when it is not valid."""
    if name in ("title", "author", "released"):
        value, _, tail = _split_string(rest)
        _no_trailing(tail)
        return value
    words = strip_comment(rest).split()
    if not words:
        raise ValueError_("needs a value", DIRECTIVES[name])
    if name == "clock":
        _one(words)
        if words[0] in CLOCK_NAMES:
            return CLOCK_NAMES[words[0]]
        return _int_in(words[0], 1, 100_000_000, "a clock in Hz, pal or ntsc")
    if name == "timing":
        _one(words)
        if words[0] not in ("irq", "grid"):
            raise ValueError_(f"expected irq or grid, got {words[0]!r}")
        return words[0]
    if name == "model":
        return tuple(_int_in(w, 6581, 8580, "6581 or 8580", allowed=(6581, 8580)) for w in words)
    if name == "sids":
        return tuple(
            _int_in(w, SID_BASE, _LAST_SID, f"an address ${SID_BASE:04x}–${_LAST_SID:04x}") for w in words
        )
    _one(words)
    if name == "start" and words[0].startswith("-"):
        return -_int_in(words[0][1:], 1, 1 << 50, DIRECTIVES[name])
    limits = {
        "frame": (1, 1 << 31),
        "start": (0, 1 << 50),
        "gap": (0, 100_000),
        "subtune": (0, 256),
        "songs": (0, 256),
        "startsong": (0, 256),
        "speed": (0, 0xFFFFFFFF),
        "frames": (0, MAX_FRAMES),
        "irqdiff": (0, 1 << 50),
        "nmidiff": (0, 1 << 50),
    }
    lo, hi = limits[name]
    return _int_in(words[0], lo, hi, DIRECTIVES[name])


def build_header(d: dict[str, object]) -> Header:
    """A Header from parsed directives, defaults for the rest; ``ValueError_`` if inconsistent."""
    clock = d.get("clock", CLOCK_NAMES["pal"])
    sids = d.get("sids", (SID_BASE,))
    models = d.get("model", (6581,) * len(sids))
    if len(models) not in (1, len(sids)):
        raise ValueError_(f"@model names {len(models)} chips but @sids names {len(sids)}")
    try:
        return Header(
            title=d.get("title", ""),
            author=d.get("author", ""),
            released=d.get("released", ""),
            clock_hz=clock,
            frame_cycles=d.get("frame", default_frame_cycles(clock)),
            start_cycle=d.get("start", 0),
            gap=d.get("gap", 0),
            models=tuple(models),
            sids=tuple(sids),
            subtune=d.get("subtune", 0),
            songs=d.get("songs", 0),
            start_song=d.get("startsong", 0),
            speed=d.get("speed", 0),
            timing=d.get("timing", "grid"),
            frames=d.get("frames", 0),
            irq_diff=d.get("irqdiff"),
            nmi_diff=d.get("nmidiff"),
        )
    except TuneError as e:
        raise ValueError_(str(e)) from None


def _split_string(rest: str) -> tuple[str, str, str]:
    """A JSON-style double-quoted string at the start of ``rest`` -> (value, "", tail)."""
    if not rest.startswith('"'):
        raise ValueError_("expected a quoted string", 'e.g. @title "Starfish"')
    try:
        value, end = json.JSONDecoder().raw_decode(rest)
    except json.JSONDecodeError:
        raise ValueError_("unterminated or malformed string", 'quote with "…", escape " as \\"') from None
    if not isinstance(value, str):
        raise ValueError_("expected a quoted string")
    return value, "", rest[end:]


def _no_trailing(tail: str) -> None:
    tail = tail.strip()
    if tail and not tail.startswith("#"):
        raise ValueError_(f"unexpected text after the value: {tail!r}")


def _one(words: list[str]) -> None:
    if len(words) != 1:
        raise ValueError_(f"takes one value, got {len(words)}")


def _int_in(word: str, lo: int, hi: int, what: str, allowed=None) -> int:
    v = parse_int(word)
    if v is None or not lo <= v <= hi or (allowed and v not in allowed):
        raise ValueError_(f"bad value {word!r}", f"expected {what}")
    return v
