"""The sidlang text language itself as a format (``.sidl``)."""

from __future__ import annotations

from sidlang.errors import FormatError
from sidlang.text import dumps, parse
from sidlang.tune import Tune

from . import Format


def read_sidl(data: bytes, file: str | None = None) -> Tune:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"not UTF-8 text (byte {e.start})", file=file) from None
    return parse(text, file)


def write_sidl(tune: Tune) -> bytes:
    return dumps(tune).encode("utf-8")


FORMATS = [Format("sidl", "sidlang text", (".sidl",), read_sidl, write_sidl)]
