"""The sidlang text language: :func:`parse` (text -> Tune) and :func:`dumps` (Tune -> text)."""

from sidlang.text.dump import dumps
from sidlang.text.parse import parse

__all__ = ["dumps", "parse"]
