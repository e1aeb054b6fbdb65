"""Modules that once imported each other (one of them inside a function, to dodge the cycle)
now share a small module instead; neither side of a pair may import the other back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sidlang

ROOT = Path(sidlang.__file__).parent

#: (module, a module it must not import, where what they share lives now)
PAIRS = [
    ("sidlang.text.fastparse", "sidlang.text.parse", "sidlang.text.tokens"),
    ("sidlang.text.scan", "sidlang.text.parse", "sidlang.text.tokens"),
    ("sidlang.model.fastdecode", "sidlang.model.network", "sidlang.model.rope"),
    ("sidlang.formats.sidwrite", "sidlang.formats.sid", "sidlang.formats.psidheader"),
    ("sidlang.formats.psidheader", "sidlang.formats.sid", None),
    ("sidlang.formats.psidheader", "sidlang.formats.sidwrite", None),
    ("sidlang.model.rope", "sidlang.model.network", None),
    ("sidlang.text.tokens", "sidlang.text.parse", None),
]


def imports(module: str) -> set[str]:
    """Every module ``module`` imports, at the top or inside a function (relative ones resolved)."""
    path = ROOT.joinpath(*module.split(".")[1:]).with_suffix(".py")
    package = module.rsplit(".", 1)[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            out.add(base)
            out.update(f"{base}.{a.name}" for a in node.names)  # ``from pkg import mod``
    return out


@pytest.mark.parametrize(("module", "other", "shared"), PAIRS)
def test_no_import_back(module, other, shared):
    got = imports(module)
    assert other not in got, f"{module} imports {other}"
    if shared is not None:
        assert shared in got, f"{module} no longer takes what it shares from {shared}"
