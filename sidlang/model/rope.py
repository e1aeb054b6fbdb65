"""Rotary positions: the cos and sin tables of :class:`sidlang.model.network.SidModel`.

Shared by the PyTorch forward (:mod:`sidlang.model.network`) and the decode step outside it
(:mod:`sidlang.model.fastdecode`), which must rotate by exactly the same angles; neither
imports the other for them.
"""

from __future__ import annotations

import torch

_ROPE: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}


def rope_table(d: int, n: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """cos and signed sin (N, D) for positions 0…N-1, grown by doubling and kept between calls."""
    key = (d, str(device))
    if key not in _ROPE or len(_ROPE[key][0]) < n:
        size = max(n, 2 * len(_ROPE[key][0]) if key in _ROPE else 1024)
        # Built as ordinary tensors even during generation, so training may use them later.
        with torch.inference_mode(False), torch.no_grad():
            _ROPE[key] = _angles(d, size, device)
    return _ROPE[key]


def _angles(d: int, size: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    freq = 10000.0 ** (-torch.arange(0, d, 2, device=device, dtype=torch.float32) / d)  # (D/2,)
    ang = torch.arange(size, device=device, dtype=torch.float32)[:, None] * freq[None, :]  # (N, D/2)
    cos, sin = ang.cos(), ang.sin()
    # Each angle twice, once per channel of its pair; sin negated for the pair's first channel.
    return cos.repeat_interleave(2, dim=-1), torch.stack((-sin, sin), dim=-1).flatten(-2)  # (N, D)


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate pairs of channels of ``x`` (…, D) by the angles of :func:`rope_table` rows (broadcast to x).

    ``(x1, x2)`` becomes ``(x1 cos - x2 sin, x2 cos + x1 sin)``: ``x`` times cos plus ``x`` with
    each pair swapped times the signed sin, four element-wise ops and no gather.
    """
    swapped = x.unflatten(-1, (-1, 2)).flip(-1).flatten(-2)  # (x2, x1) per pair
    return x * cos + swapped * sin
