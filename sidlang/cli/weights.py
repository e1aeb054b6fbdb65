"""A ``--weights`` file checked and loaded with one-line errors (``continue``, ``eval``, ``train --init``).

The safetensors header is read first, by hand, so a garbage or damaged file is refused in one
line before torch or safetensors see it (their own errors are tracebacks of Rust exceptions).
"""

from __future__ import annotations

import json
import os

from sidlang.errors import SidlangError

MAX_WEIGHTS_HEADER = 100 << 20  #: a safetensors header past this is not one


def weights_metadata(path: str) -> dict:
    """The ``__metadata__`` of a safetensors file of sidlang weights, read from its header alone
    (the tensors are not loaded); a one-line SidlangError for anything else."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
            size = int.from_bytes(head, "little") if len(head) == 8 else -1
            total = os.fstat(fh.fileno()).st_size
            if not 2 <= size <= min(total - 8, MAX_WEIGHTS_HEADER):
                raise SidlangError(
                    "not a sidlang weights file (not safetensors: bad header length)", file=path
                )
            meta = json.loads(fh.read(size)).get("__metadata__") or {}
    except FileNotFoundError:
        raise SidlangError("no such weights file", file=path) from None
    except IsADirectoryError:
        raise SidlangError("is a folder, not a weights file", file=path) from None
    except (ValueError, AttributeError):
        raise SidlangError(
            "not a sidlang weights file (its safetensors header is not JSON)", file=path
        ) from None
    except OSError as e:
        raise SidlangError(f"cannot read: {e.strerror}", file=path) from None
    if not isinstance(meta, dict) or "model_config" not in meta or "tokenizer_config" not in meta:
        raise SidlangError(
            "not a sidlang weights file (safetensors without sidlang's model and tokenizer settings)",
            file=path,
        )
    return meta


def check_weights(path: str) -> None:
    """A one-line error for a weights file that is not a safetensors file of sidlang weights."""
    weights_metadata(path)


def load_weights(path: str | None):
    """The model of ``path`` (None: the bundled weights), checked first; damaged tensors or
    settings that do not fit the network are one line too."""
    from sidlang.model.network import load_model

    if path:
        check_weights(path)
    try:
        return load_model(path)
    except SidlangError:
        raise
    except Exception as e:  # safetensors' own errors (a damaged tensor part) and torch's shape checks
        first = str(e).splitlines()[0][:120] if str(e) else ""
        raise SidlangError(
            f"not usable weights ({type(e).__name__}: {first})", file=path or "bundled weights"
        ) from None
