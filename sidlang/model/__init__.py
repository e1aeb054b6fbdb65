"""The bundled model: a token form of a tune, a small transformer over it, its training and scores.

The public face is small; everything here is loaded on first use, so ``import sidlang`` and
``import sidlang.model`` stay free of PyTorch until a model is needed:

* :func:`continue_tune`: a tune continued by a model (the bundled one unless told otherwise).
* :func:`bundled`, :func:`load_model`, :func:`save_model`: weights files (safetensors with config).
* :class:`Tokenizer`: tunes to tokens and back (``tokenizer.py``, the model's form of a tune).
* :func:`train`, :class:`TrainConfig`: training and fine-tuning (``train.py``).
* :func:`evaluate`: perplexity beside baselines on held-out tunes (``evaluate.py``).

The modules: ``tokenizer`` (token form), ``network`` (the transformer, sampling, generation),
``fastdecode`` and ``decodekernel`` (the generation step outside PyTorch), ``train``,
``evaluate``, ``stylemeasure`` (how close a continuation keeps to its prompt's style).
"""

from __future__ import annotations

from importlib import import_module

_EXPORTS = {
    "continue_tune": "network",
    "bundled": "network",
    "load_model": "network",
    "save_model": "network",
    "ModelConfig": "network",
    "SidModel": "network",
    "Sampling": "network",
    "BUNDLED": "network",
    "Tokenizer": "tokenizer",
    "TokenizerConfig": "tokenizer",
    "train": "train",
    "TrainConfig": "train",
    "evaluate": "evaluate",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
