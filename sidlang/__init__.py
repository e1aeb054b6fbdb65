"""sidlang: a text register language and toolkit for Commodore 64 SID music.

The Python API mirrors the command line::

    import sidlang
    tune = sidlang.load("song.vice")          # any format, from the file ending
    text = sidlang.dumps(tune)                # canonical sidlang text
    assert sidlang.parse(text) == tune        # lossless
    sidlang.save(tune, "song.vice6")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from sidlang.errors import FormatError, SidlangError, SidlangSyntaxError, TuneError, UsageError

__version__ = "0.1.0"

__all__ = [
    "FormatError",
    "Header",
    "SidlangError",
    "SidlangSyntaxError",
    "Tune",
    "TuneError",
    "UsageError",
    "WRITE_DTYPE",
    "dumps",
    "load",
    "make_writes",
    "parse",
    "save",
]

# The rest is imported on first use (PEP 562), so that ``sidlang --version`` and a command's
# argument errors do not wait for NumPy and the text language.
_LAZY = {
    "load": "sidlang.io",
    "save": "sidlang.io",
    "dumps": "sidlang.text",
    "parse": "sidlang.text",
    "WRITE_DTYPE": "sidlang.tune",
    "Header": "sidlang.tune",
    "Tune": "sidlang.tune",
    "make_writes": "sidlang.tune",
}

if TYPE_CHECKING:
    from sidlang.io import load, save
    from sidlang.text import dumps, parse
    from sidlang.tune import WRITE_DTYPE, Header, Tune, make_writes


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:  # a submodule (sidlang.text, sidlang.tune, …) as an attribute, as before
        try:
            return importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module 'sidlang' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
