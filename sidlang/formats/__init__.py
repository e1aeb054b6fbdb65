"""Outside formats, one module each; this registry maps names and file endings to them.

A format module defines ``FORMATS``: a list of :class:`Format`, each with a ``read(data, file)``
that turns bytes into a :class:`~sidlang.tune.Tune` and/or a ``write(tune, **options)`` that
turns a Tune into bytes. Modules are imported on first use, so ``sidlang convert`` does not pay
for formats it does not touch.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath

from sidlang.errors import UsageError
from sidlang.tune import Tune

#: Modules of this package that define formats, in the order ``--help`` lists them.
MODULES = (
    "sidl",
    "vice",
    "reglog",
    "render",
    "wavread",
    "asid",
    "sid",
    "midi",
    "score",
    "sidp",
    "sng",
    "swm",
)
#: ``wavread`` takes the ``wav`` format over from ``render``, adding the reader (transcription).
#: The module of each format, and the format of each file ending, so that finding one imports
#: that module alone (``.sid`` brings the 6502 emulation, ``.mid`` mido, scores music21). A
#: test holds these to what the modules' ``FORMATS`` say.
MODULE_OF = {
    "sidl": "sidl",
    "vice": "vice",
    "vice6": "vice",
    "reglog": "reglog",
    "wav": "wavread",
    "syx": "asid",
    "sid": "sid",
    "mid": "midi",
    "abc": "score",
    "krn": "score",
    "musicxml": "score",
    "sidp": "sidp",
    "sng": "sng",
    "swm": "swm",
}
FORMAT_OF = {
    ".sidl": "sidl",
    ".vice": "vice",
    ".dump": "vice",
    ".vice6": "vice6",
    ".reglog": "reglog",
    ".wav": "wav",
    ".syx": "syx",
    ".sid": "sid",
    ".mid": "mid",
    ".midi": "mid",
    ".abc": "abc",
    ".krn": "krn",
    ".musicxml": "musicxml",
    ".xml": "musicxml",
    ".sidp": "sidp",
    ".sng": "sng",
    ".swm": "swm",
    ".sws": "swm",
    ".swt": "swm",
}


@dataclass(frozen=True)
class Format:
    name: str
    description: str
    extensions: tuple[str, ...] = ()
    read: Callable[[bytes, str | None], Tune] | None = None
    write: Callable[..., bytes] | None = None
    binary: bool = False  #: not text: never printed to a terminal
    options: dict[str, str] = field(default_factory=dict)
    #: ``write_to(tune, binary_file, **options)`` for formats that stream (WAV): memory stays
    #: flat however long the tune. Such a format also has ``write``, for bytes in memory.
    write_to: Callable[..., None] | None = None


_registry: dict[str, Format] | None = None


def registry() -> dict[str, Format]:
    """Every known format by name."""
    global _registry
    if _registry is None:
        reg: dict[str, Format] = {}
        for mod in MODULES:
            for fmt in importlib.import_module(f"{__name__}.{mod}").FORMATS:
                reg[fmt.name] = fmt
        _registry = reg
    return _registry


def by_name(name: str) -> Format:
    if _registry is None and name in MODULE_OF:
        for fmt in importlib.import_module(f"{__name__}.{MODULE_OF[name]}").FORMATS:
            if fmt.name == name:
                return fmt
    reg = registry()
    if name not in reg:
        raise UsageError(f"unknown format {name!r}; known: {', '.join(sorted(reg))}")
    return reg[name]


def for_path(path: str, given: str | None = None) -> Format:
    """The format named by ``given``, else by the file ending of ``path``."""
    if given:
        return by_name(given)
    suffix = PurePath(path).suffix.lower()
    if suffix in FORMAT_OF:
        return by_name(FORMAT_OF[suffix])
    for fmt in registry().values():
        if suffix in fmt.extensions:
            return fmt
    raise UsageError(
        f"cannot tell the format of {path!r} from its ending; name it with --from/--to "
        f"({', '.join(sorted(registry()))})"
    )
