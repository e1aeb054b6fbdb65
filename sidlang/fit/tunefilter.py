"""The transcription's filter, chosen by ear: a few settings of the chip's filter rendered and
scored against the recording (analysis by synthesis at the level of the whole tune).

A transcription plays each note with the waveform whose first harmonics match, but real tunes
often run voices through the SID's low-pass filter, which takes the upper harmonics away from
all of them; the per-note timbre cannot see that (it looks at harmonics 2–6). So the finished
transcription is rendered with the filter off and with the low-pass at a few cutoffs, every voice
routed through it, then with one voice at a time left out of it, and the setting whose render has
the least loss (:meth:`sidlang.fit.features.Target.loss`: log power in semitone bands and the
loudness envelope, after the best gain) against the first :data:`SECONDS` of the recording wins.
"""

from __future__ import annotations

import numpy as np

from sidlang.registers import FIELDS, MODE_BITS, ROUTE_BITS
from sidlang.tune import Tune, make_writes

from .features import RATE, Target

#: Seconds of the recording the candidates are judged on (each candidate is rendered this long).
SECONDS = 8.0
#: Low-pass cutoffs tried (11-bit register values), beside the filter off.
CUTOFFS = (0x200, 0x300, 0x400, 0x600)
#: A filter must lower the loss by this share to be taken over the filter off (8 s misjudge a
#: tune now and then; the dry transcription is the safer guess).
MARGIN = 0.03


def with_filter(tune: Tune, cut: int, route: int, mode: str = "lp", res: int = 0) -> Tune:
    """``tune`` with the filter set at its first frame: ``cut``, ``res``, the voices in ``route``
    (bits as in ``ROUTE_BITS``) through ``mode``; the tune's own writes of the volume register
    keep their volume and take the mode."""
    cut_f, res_f, route_f, mode_f, vol_f = (FIELDS[n] for n in ("cut", "res", "route", "mode", "vol"))
    mode_reg = mode_f.regs[0]
    res_byte = route_f.encode(route, res_f.encode(res)[0])[0]
    mode_byte = mode_f.encode(MODE_BITS[mode], vol_f.encode(15)[0])[0]
    regs = [*cut_f.regs, res_f.regs[0], mode_reg]
    vals = [*cut_f.encode(cut), res_byte, mode_byte]
    w = tune.writes.copy()
    at = w["reg"] == mode_reg
    w["val"][at] = [mode_f.encode(MODE_BITS[mode], int(v))[0] for v in w["val"][at]]
    add = make_writes(
        np.full(len(regs), tune.header.start_cycle),
        np.zeros(len(regs), np.int64),
        np.array(regs),
        np.array(vals),
    )
    allw = np.concatenate([add, w])
    allw = allw[np.argsort(allw["cycle"], kind="stable")]
    return Tune(tune.header, allw, irq=tune.irq, nmi=tune.nmi, meta=dict(tune.meta))


def choose_filter(
    tune: Tune, x: np.ndarray, voices: int, model: int
) -> tuple[Tune, str, tuple[int, int] | None]:
    """The best of the filter settings for ``tune`` against ``x`` (mono at RATE): the tune, a
    word on what was chosen, and the setting (cutoff, route bits; None: the filter off), which
    :func:`with_filter` applies again to a rewritten transcription."""
    from sidlang.formats.render import RenderOptions, render

    n = int(SECONDS * RATE)
    target = Target.of(x[:n])

    def loss(t: Tune) -> float:
        y = render(t, RenderOptions(rate=RATE, chip=model, seconds=SECONDS)).astype(np.float64)
        y = y.mean(axis=1) if y.ndim == 2 else y
        return target.loss(y / 32768)

    every = sum(ROUTE_BITS[f"v{v + 1}"] for v in range(voices))
    best, best_loss, said = tune, loss(tune) * (1 - MARGIN), "filter off"
    best_cut, setting = None, None
    for cut in CUTOFFS:
        cand = with_filter(tune, cut, every)
        c = loss(cand)
        if c < best_loss:
            best, best_loss, best_cut, said = cand, c, cut, f"low-pass ${cut:03x}, every voice"
            setting = (cut, every)
    if best_cut is not None:
        for v in range(voices):
            route = every & ~ROUTE_BITS[f"v{v + 1}"]
            cand = with_filter(tune, best_cut, route)
            c = loss(cand)
            if c < best_loss:
                best, best_loss, said = cand, c, f"low-pass ${best_cut:03x}, all but v{v + 1}"
                setting = (best_cut, route)
    return best, said, setting
