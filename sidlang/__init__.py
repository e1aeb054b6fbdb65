"""sidlang: a text register language and toolkit for Commodore 64 SID music.

The Python API mirrors the command line::

    import sidlang
    tune = sidlang.load("song.vice")          # any format, from the file ending
    text = sidlang.dumps(tune)                # canonical sidlang text
    assert sidlang.parse(text) == tune        # lossless
    sidlang.save(tune, "song.vice6")
"""

from sidlang.errors import FormatError, SidlangError, SidlangSyntaxError, TuneError, UsageError
from sidlang.io import load, save
from sidlang.text import dumps, parse
from sidlang.tune import WRITE_DTYPE, Header, Tune, make_writes

__version__ = "0.1.0"

__all__ = [
    "FormatError", "Header", "SidlangError", "SidlangSyntaxError", "Tune", "TuneError",
    "UsageError", "WRITE_DTYPE", "dumps", "load", "make_writes", "parse", "save",
]
