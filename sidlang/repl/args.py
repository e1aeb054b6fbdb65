"""Command arguments: the kinds a command can take, and checking a line against them.

Frame ranges are *inclusive* here, the way a tracker shows them: ``4-7`` is frames 4, 5, 6
and 7; ``4`` is frame 4 alone, ``4-`` from 4 to the end, ``-7`` from the start to 7, ``all``
everything. Internally (and in :mod:`sidlang.transforms`) ranges are half-open.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sidlang.pitch import CLOCK_NAMES

_WORDS = re.compile(r'"[^"]*"?|\S+')
MAX_SEMITONES = 96  #: transpose at most this far each way (8 octaves; the SID spans about that)
MAX_CLOCK = 100_000_000  #: the most ``@clock`` takes


class ArgError(Exception):
    """A bad argument: ``word`` is its index among the line's words (0 is the command)."""

    def __init__(self, message: str, word: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.message, self.word, self.hint = message, word, hint


@dataclass(frozen=True)
class Arg:
    """One argument of a command: its name in the usage line and its kind (:data:`PARSERS`)."""

    name: str
    kind: str
    optional: bool = False
    default: object = None


def _int(word: str, lo: int | None = None, what: str = "a number") -> int:
    if len(word) > 18:  # past every range here, and past what int() reads quickly
        raise ValueError(f"{what} expected, got {word[:24]}… ({len(word)} characters)")
    try:
        value = int(word)
    except ValueError:
        raise ValueError(f"{what} expected, got {word!r}") from None
    if lo is not None and value < lo:
        raise ValueError(f"{what} of {lo} or more expected, got {value}")
    return value


def parse_range(word: str) -> tuple[int, int | None]:
    """``4-7`` -> (4, 8); ``4`` -> (4, 5); ``4-`` -> (4, None); ``-7`` -> (0, 8); ``all``."""
    if word == "all":
        return 0, None
    m = re.fullmatch(r"(\d*)(-?)(\d*)", word)
    if not m or not (m.group(1) or m.group(3)):
        raise ValueError(f"a frame range like 4-7, 4, 4- or -7 expected, got {word!r}")
    a, dash, b = m.groups()
    start = int(a) if a else 0
    if not dash:
        return start, start + 1
    stop = int(b) + 1 if b else None
    if stop is not None and stop <= start:
        raise ValueError(f"the range {word} ends before it starts")
    return start, stop


def parse_pitch(word: str) -> tuple[int, int]:
    """``12`` or ``-3`` semitones, ``50c`` cents -> (semitones, cents)."""
    m = re.fullmatch(r"([+-]?\d+)(c?)", word)
    if not m:
        raise ValueError(f"semitones (12, -3) or cents (50c) expected, got {word!r}")
    n = int(m.group(1)) if len(m.group(1)) < 12 else MAX_SEMITONES * 100 + 1
    most = MAX_SEMITONES * 100 if m.group(2) else MAX_SEMITONES
    if abs(n) > most:
        raise ValueError(
            f"at most {most} {'cents' if m.group(2) else 'semitones'} each way "
            f"(the SID spans about 8 octaves), got {word}"
        )
    return (0, n) if m.group(2) else (n, 0)


def parse_voice(word: str) -> int:
    """``v1`` (or ``1``) -> 0."""
    m = re.fullmatch(r"v?([123])", word)
    if not m:
        raise ValueError(f"a voice v1, v2 or v3 expected, got {word!r}")
    return int(m.group(1)) - 1


def _clock(word: str) -> int:
    if word in CLOCK_NAMES:
        return CLOCK_NAMES[word]
    value = _int(word, 1, "pal, ntsc or a clock in Hz")
    if value > MAX_CLOCK:
        raise ValueError(f"a clock of at most {MAX_CLOCK} Hz expected (what @clock takes), got {word}")
    return value


def _model(word: str) -> int:
    if word not in ("6581", "8580"):
        raise ValueError(f"6581 or 8580 expected, got {word!r}")
    return int(word)


def _unit(word: str) -> float:
    try:
        value = float(word)
    except ValueError:
        raise ValueError(f"a number from 0 to 1 expected, got {word!r}") from None
    if not 0 <= value <= 1:
        raise ValueError(f"a number from 0 to 1 expected, got {word!r}")
    return value


def _temperature(word: str) -> float:
    try:
        value = float(word)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 10:
        raise ValueError(f"a temperature from 0 to 10 expected, got {word!r}")
    return value


#: ``name=value`` settings an ``options`` argument takes (the model's sampling controls).
OPTIONS: dict[str, Callable[[str], object]] = {
    "seed": lambda w: _int(w, 0, "a seed"),
    "temp": _temperature,
    "top_k": lambda w: _int(w, 0, "a top-k"),
    "top_p": _unit,
    "cache": _unit,
    "from": lambda w: _int(w, 0, "a frame number"),
    "keep": lambda w: tuple(sorted({parse_voice(v) + 1 for v in w.split(",")})),
}


def parse_option(word: str) -> tuple[str, object]:
    """``seed=3`` -> ("seed", 3); the names are those of :data:`OPTIONS`."""
    name, eq, value = word.partition("=")
    if not eq or name not in OPTIONS:
        raise ValueError(f"a setting like {', '.join(n + '=…' for n in OPTIONS)} expected, got {word!r}")
    return name, OPTIONS[name](value)


#: Argument kind -> parser (raises ValueError with a message for the user).
PARSERS: dict[str, Callable[[str], object]] = {
    "file": str,
    "target": str,
    "word": str,
    "range": parse_range,
    "frame": lambda w: _int(w, 0, "a frame number"),
    "count": lambda w: _int(w, 1, "a count"),
    "steps": _int,
    "pitch": parse_pitch,
    "voice": parse_voice,
    "voices": parse_voice,
    "clock": _clock,
    "model": _model,
    "chip": lambda w: _int(w.lstrip("s"), 1, "a SID number (s1, s2 …)") - 1,
}


def split_words(text: str) -> list[tuple[int, str]]:
    """``(column, word)`` pairs of a command line; double quotes keep spaces in a word."""
    return [(m.start(), m.group().strip('"')) for m in _WORDS.finditer(text)]


def parse_args(
    name: str,
    args: tuple[Arg, ...],
    flags: tuple[str, ...],
    usage: str,
    words: list[str],
    choices: dict[str, Callable[[str], object]] | None = None,
) -> dict:
    """Check the words after a command's name against its arguments; raises :class:`ArgError`.

    Flags (``--force``, ``replace``) may stand anywhere; a ``voices`` argument takes every
    remaining word. ``choices`` adds kinds that only the caller knows (command names).
    """
    parsers = dict(PARSERS, **(choices or {}))
    out: dict = {f.lstrip("-"): False for f in flags}
    rest: list[tuple[int, str]] = []
    for i, w in enumerate(words, 1):
        if w in flags:
            out[w.lstrip("-")] = True
        elif w.startswith("--"):
            raise ArgError(f"{name} has no option {w}", i, f"usage: {usage}")
        else:
            rest.append((i, w))
    k = 0
    for arg in args:
        if arg.kind == "options":  # every remaining word is a name=value setting
            settings = {}
            for i, w in rest[k:]:
                try:
                    key, value = parse_option(w)
                except ValueError as e:
                    raise ArgError(str(e), i, f"usage: {usage}") from None
                settings[key] = value
            k = len(rest)
            out[arg.name] = settings
            continue
        if arg.kind == "voices":
            vals = []
            for i, w in rest[k:]:
                try:
                    vals.append(parse_voice(w))
                except ValueError as e:
                    raise ArgError(str(e), i, f"usage: {usage}") from None
            k = len(rest)
            if not vals and not arg.optional:
                raise ArgError(f"{name} needs {arg.name}", len(words) + 1, f"usage: {usage}")
            out[arg.name] = vals or arg.default
            continue
        if k >= len(rest):
            if not arg.optional:
                raise ArgError(f"{name} needs {arg.name}", len(words) + 1, f"usage: {usage}")
            out[arg.name] = arg.default
            continue
        i, w = rest[k]
        try:
            out[arg.name] = parsers[arg.kind](w)
        except ValueError as e:
            raise ArgError(str(e), i, f"usage: {usage}") from None
        k += 1
    if k < len(rest):
        raise ArgError(f"too many arguments for {name}", rest[k][0], f"usage: {usage}")
    return out
