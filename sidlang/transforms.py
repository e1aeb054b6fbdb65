"""Transforms: pure functions from a Tune to a new Tune, the same verbs the REPL offers.

Every function leaves its input alone and returns a new :class:`~sidlang.tune.Tune`. Frame
numbers are 0-based and ranges half-open (``start`` included, ``stop`` not), as in Python.
Each docstring says what changes and what is kept; in short:

* **Exact** (only the named thing changes, every other write and cycle stays): voice swap and
  rotation, mute/solo, slice, cut, paste, repeat, stretch, model.
* **Pitch** (:func:`transpose`, :func:`set_clock`) rewrites the frequency registers and keeps
  every write in place; where a frame wrote only one byte of a frequency and the new value
  needs the other byte changed too, a write of that byte is added at the same cycle. Values
  above ``$ffff`` are clipped; ``tune.meta["clipped"]`` counts them. Transposing up and then
  down by the same amount gives the register states back exactly; down then up may not (a
  lower register value has less resolution).
* **Approximate** (:func:`squeeze`, :func:`reverse`, :func:`simplify`) say what they give up.

Register state does not travel with frames: a cut or a paste joins writes, and a register
set before the join keeps its value after it, the way a tracker's pattern edit works.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from sidlang.errors import UsageError
from sidlang.pitch import HIGHEST_MIDI, LOWEST_MIDI, default_frame_cycles, note_to_reg
from sidlang.registers import N_WRITABLE, VOICE_STRIDE, VOICES, WAVE_BITS
from sidlang.tune import MODELS, WRITE_DTYPE, Tune

_CTRL = 4  #: the control register inside a voice block
_ROUTE_REG = 23  #: resonance / filter routing
_GATE = WAVE_BITS["gate"]

__all__ = [
    "transpose",
    "scale_pitch",
    "set_clock",
    "set_model",
    "permute_voices",
    "swap_voices",
    "rotate_voices",
    "mute",
    "solo",
    "melody_voice",
    "simplify",
    "slice_frames",
    "cut",
    "paste",
    "repeat",
    "stretch",
    "squeeze",
    "reverse",
]


# -- helpers ---------------------------------------------------------------------------------


def _range(tune: Tune, start: int, stop: int | None) -> tuple[int, int]:
    n = len(tune.frames)
    stop = n if stop is None else stop
    if not 0 <= start <= stop <= n:
        raise UsageError(f"frame range {start}–{stop} is outside the tune (frames 0–{n})")
    return start, stop


def _voices(voices: Iterable[int] | None) -> list[int]:
    out = list(range(VOICES)) if voices is None else sorted(set(voices))
    if any(not 0 <= v < VOICES for v in out):
        raise UsageError(f"voices are 0–{VOICES - 1} (v1–v3), got {out}")
    return out


def _chips(tune: Tune, chips: Iterable[int] | None) -> list[int]:
    out = list(range(tune.header.chips)) if chips is None else sorted(set(chips))
    if any(not 0 <= c < tune.header.chips for c in out):
        raise UsageError(f"the tune has {tune.header.chips} SID(s), got chips {out}")
    return out


def _frame_of(tune: Tune, times: np.ndarray) -> np.ndarray:
    return (times - tune.header.start_cycle) // tune.header.frame_cycles


def _events(tune: Tune, keep) -> tuple[np.ndarray, np.ndarray]:
    """``keep(frames, offsets) -> (mask, new_frames)`` applied to the IRQ and NMI times."""
    h = tune.header
    out = []
    for times in (tune.irq, tune.nmi):
        f, o = np.divmod(times - h.start_cycle, h.frame_cycles)
        mask, nf = keep(f, o)
        out.append(np.sort(h.start_cycle + nf[mask] * h.frame_cycles + o[mask]))
    return out[0], out[1]


def _build(
    tune: Tune, writes: np.ndarray, irq: np.ndarray, nmi: np.ndarray, length: int, header=None
) -> Tune:
    """A Tune of the given parts; ``@frames`` is set only where ``length`` outlasts the writes."""
    h = header or tune.header
    last = -1
    for times in (writes["cycle"], irq, nmi):
        if len(times):
            last = max(last, int((times[-1] - h.start_cycle) // h.frame_cycles))
    return Tune(h.replace(frames=length if length > last + 1 else 0), writes, irq, nmi, tune.meta)


def _moved(tune: Tune, frame_map) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(writes, irq, nmi)`` moved by ``frame_map(frames) -> (mask, new frames)``, offsets kept.

    ``frame_map`` must keep frames in order, so the result stays in time order.
    """
    h = tune.header
    w = tune.writes
    mask, nf = frame_map(tune.frames.index)
    out = w[mask].copy()
    out["cycle"] = h.start_cycle + nf[mask] * h.frame_cycles + tune.frames.offset[mask]
    irq, nmi = _events(tune, lambda f, o: frame_map(f))
    return out, irq, nmi


# -- pitch -----------------------------------------------------------------------------------


def transpose(
    tune: Tune,
    semitones: int = 0,
    *,
    cents: int = 0,
    voices: Iterable[int] | None = None,
    chips: Iterable[int] | None = None,
    snap: bool = True,
) -> Tune:
    """Shift the pitch of ``voices`` (0–2, default all) by semitones and cents.

    The frequency registers are scaled by ``2 ** (cents_total / 1200)`` and rounded; see the
    module docstring for added writes and clipping. With ``snap`` a value that is exactly a
    note's register value (``C-4``, no cents) becomes exactly the transposed note's value
    (``A-4`` up 12 is ``A-5``, not one unit off it), so typed tunes keep their note names;
    a value that rounding lands on a note's value may then not come back exactly from the
    opposite shift (``snap=False`` always does, going up first). Filter cutoff, pulse width
    and timing are kept. Ring modulation and sync follow the new frequencies, as on the chip.
    """
    total = round(semitones * 100 + cents)
    table = None
    if snap:
        clock = tune.header.clock_hz
        shift, rest = divmod(total + 50, 100)
        table = {
            note_to_reg(m, 0, clock): note_to_reg(m + shift, rest - 50, clock)
            for m in range(LOWEST_MIDI, HIGHEST_MIDI + 1)
        }
    return scale_pitch(tune, 2.0 ** (total / 1200), voices=voices, chips=chips, exact=table)


def scale_pitch(
    tune: Tune,
    ratio: float,
    *,
    voices: Iterable[int] | None = None,
    chips: Iterable[int] | None = None,
    exact: dict[int, int] | None = None,
) -> Tune:
    """Multiply the frequency register values of ``voices`` by ``ratio`` (the pitch domain).

    Frequency writes are taken in *units*: a low and a high byte written one after the other in
    a frame form one unit (the player's "set frequency"), any other frequency write is a unit
    alone. The value after the unit is scaled, and the unit's bytes carry the scaled value; a
    lone byte whose partner must change as well gets the partner written at the same cycle.
    ``exact`` maps register values to the values they become instead of the scaled ones.
    """
    if not ratio > 0:
        raise UsageError(f"pitch ratio must be positive, got {ratio}")
    w = tune.writes
    vals = w["val"].copy()
    index = tune.frames.index
    positions: list[np.ndarray] = []
    kinds: list[np.ndarray] = []
    rows: list[np.ndarray] = []
    clipped = 0
    for chip in _chips(tune, chips):
        for voice in _voices(voices):
            lo_reg = voice * VOICE_STRIDE
            sel = np.flatnonzero((w["chip"] == chip) & ((w["reg"] == lo_reg) | (w["reg"] == lo_reg + 1)))
            if not len(sel):
                continue
            n = len(sel)
            is_lo = w["reg"][sel] == lo_reg
            k = np.arange(n)
            v = w["val"][sel].astype(np.int64)
            last_lo = np.maximum.accumulate(np.where(is_lo, k, -1))
            last_hi = np.maximum.accumulate(np.where(is_lo, -1, k))
            value = np.where(last_hi >= 0, v[np.maximum(last_hi, 0)], 0) << 8 | np.where(
                last_lo >= 0, v[np.maximum(last_lo, 0)], 0
            )
            frame = index[sel]
            # Greedy pairing, left to right: write k pairs with k+1 when they are the two
            # different bytes in one frame; in a run of such candidates every other one starts.
            cand = (is_lo[:-1] != is_lo[1:]) & (frame[:-1] == frame[1:])
            run_start = cand & ~np.r_[False, cand[:-1]]
            first = np.maximum.accumulate(np.where(run_start, k[:-1], 0))
            pair_start = cand & ((k[:-1] - first) % 2 == 0)
            unit_start = ~np.r_[False, pair_start]
            uid = np.cumsum(unit_start) - 1
            unit_end = np.r_[unit_start[1:], True]
            settled = value[unit_end]
            target = np.rint(settled * ratio).astype(np.int64)
            if exact:
                keys = np.array(sorted(exact), np.int64)
                to = np.array([exact[k] for k in keys.tolist()], np.int64)
                pos = np.minimum(np.searchsorted(keys, settled), len(keys) - 1)
                hit = keys[pos] == settled
                target[hit] = to[pos[hit]]
            clipped += int(np.count_nonzero(target > 0xFFFF))
            target = np.minimum(target, 0xFFFF)
            each = target[uid]
            vals[sel] = np.where(is_lo, each & 0xFF, each >> 8)
            # A unit of one write: does the byte it does not write still hold the right value?
            lone = unit_start & unit_end
            before = np.r_[0, target[:-1]][uid]  # what the chip holds before the unit
            need_hi = lone & is_lo & ((each >> 8) != (before >> 8))
            need_lo = lone & ~is_lo & ((each & 0xFF) != (before & 0xFF))
            for need, reg, byte, after in (
                (need_hi, lo_reg + 1, each >> 8, 1),
                (need_lo, lo_reg, each & 0xFF, 0),
            ):
                at = np.flatnonzero(need)
                if len(at):
                    extra = np.zeros(len(at), WRITE_DTYPE)
                    extra["cycle"] = w["cycle"][sel[at]]
                    extra["chip"], extra["reg"], extra["val"] = chip, reg, byte[at]
                    positions.append(sel[at] + after)
                    kinds.append(np.full(len(at), 1 - after))  # "after" inserts go first
                    rows.append(extra)
    out = w.copy()
    out["val"] = vals
    if positions:
        pos = np.concatenate(positions)
        extra = np.concatenate(rows)
        # At one position, a byte added after the write before it goes ahead of a byte added
        # before the write at it: that keeps time order.
        order = np.lexsort((np.concatenate(kinds), pos))
        out = np.insert(out, pos[order], extra[order])
    meta = dict(tune.meta)
    meta["clipped"] = clipped
    return Tune(tune.header, out, tune.irq, tune.nmi, meta)


def set_clock(tune: Tune, clock_hz: int, *, keep_tempo: bool = True) -> Tune:
    """The tune for a machine with another CPU clock (PAL 985248, NTSC 1022727 Hz), pitch kept.

    Frequencies are scaled by ``old / new`` clock. With ``keep_tempo`` the frame length is
    scaled with the clock so the tune lasts as long as before; without it the frame becomes
    the new clock's video frame (a PAL tune on NTSC then plays about 19% faster, as a real
    PAL player routine would). Offsets inside a frame are scaled in proportion. Envelope
    rates follow the clock on the real chip and are not corrected.
    """
    h = tune.header
    if clock_hz <= 0:
        raise UsageError(f"clock must be positive, got {clock_hz}")
    L = h.frame_cycles
    L2 = round(L * clock_hz / h.clock_hz) if keep_tempo else default_frame_cycles(clock_hz)
    S2 = round(h.start_cycle * clock_hz / h.clock_hz)

    def retime(times: np.ndarray) -> np.ndarray:
        f, o = np.divmod(times - h.start_cycle, L)
        return S2 + f * L2 + o * L2 // L

    header = h.replace(clock_hz=clock_hz, frame_cycles=L2, start_cycle=S2, gap=round(h.gap * L2 / L))
    w = tune.writes.copy()
    w["cycle"] = retime(w["cycle"])
    moved = Tune(header, w, retime(tune.irq), retime(tune.nmi), tune.meta)
    return scale_pitch(moved, h.clock_hz / clock_hz)


def set_model(tune: Tune, model: int, chips: Iterable[int] | None = None) -> Tune:
    """The same writes for another chip model (6581 or 8580) on ``chips`` (default all).

    Pitch does not depend on the model; the filter and combined waveforms sound different.
    """
    if model not in MODELS:
        raise UsageError(f"chip model must be 6581 or 8580, got {model}")
    which = set(_chips(tune, chips))
    models = tuple(model if i in which else m for i, m in enumerate(tune.header.models))
    return tune.replace(header=tune.header.replace(models=models))


# -- voices ----------------------------------------------------------------------------------


def permute_voices(tune: Tune, order: Sequence[int], chips: Iterable[int] | None = None) -> Tune:
    """Move voice ``v``'s writes to voice ``order[v]`` (a permutation of 0, 1, 2).

    Each voice's seven registers move together and the filter routing bits of ``$17`` move
    with them; cycles and write order are kept, so applying the inverse permutation gives the
    tune back exactly. Kept as they are: the ``3off`` bit (it always silences voice 3) and
    sync/ring modulation, which take their source from the voice before (v3 -> v1 -> v2 -> v3),
    so a rotation keeps them and a swap changes which voice modulates which.
    """
    order = list(order)
    if sorted(order) != list(range(VOICES)):
        raise UsageError(f"a voice order is a permutation of 0, 1, 2, got {order}")
    which = np.isin(tune.writes["chip"], _chips(tune, chips))
    w = tune.writes.copy()
    reg = w["reg"].astype(np.int64)
    voiced = which & (reg < VOICES * VOICE_STRIDE)
    voice, rel = np.divmod(reg, VOICE_STRIDE)
    reg = np.where(voiced, np.asarray(order)[np.minimum(voice, VOICES - 1)] * VOICE_STRIDE + rel, reg)
    w["reg"] = reg
    route = which & (w["reg"] == _ROUTE_REG)
    val = w["val"][route].astype(np.int64)
    moved = val & ~0x7
    for v in range(VOICES):
        moved |= ((val >> v) & 1) << order[v]
    w["val"][route] = moved
    return tune.replace(writes=w)


def swap_voices(tune: Tune, a: int, b: int, chips: Iterable[int] | None = None) -> Tune:
    """Exchange voices ``a`` and ``b`` (0–2); see :func:`permute_voices`."""
    order = list(range(VOICES))
    _voices((a, b))
    order[a], order[b] = b, a
    return permute_voices(tune, order, chips)


def rotate_voices(tune: Tune, steps: int = 1, chips: Iterable[int] | None = None) -> Tune:
    """Voice ``v`` moves to voice ``(v + steps) % 3``; see :func:`permute_voices`."""
    return permute_voices(tune, [(v + steps) % VOICES for v in range(VOICES)], chips)


def mute(tune: Tune, voices: Iterable[int], chips: Iterable[int] | None = None) -> Tune:
    """Silence ``voices``: the gate bit is cleared in every write to their control register.

    The envelope then never opens, so the voice makes no sound, while its oscillator keeps
    running and still drives sync and ring modulation of its neighbour. Everything else is
    kept; the gate bits are gone, so undo (in the REPL) is the way back.
    """
    w = tune.writes.copy()
    regs = [v * VOICE_STRIDE + _CTRL for v in _voices(voices)]
    sel = np.isin(w["chip"], _chips(tune, chips)) & np.isin(w["reg"], regs)
    w["val"][sel] &= np.uint8(0xFF ^ _GATE)
    return tune.replace(writes=w)


def solo(tune: Tune, voices: Iterable[int], chips: Iterable[int] | None = None) -> Tune:
    """Mute every voice but ``voices``; see :func:`mute`."""
    keep = set(_voices(voices))
    return mute(tune, [v for v in range(VOICES) if v not in keep], chips)


def melody_voice(tune: Tune, chip: int = 0) -> int:
    """The voice (0–2) that most often sounds the highest pitch: the *skyline* melody.

    A voice sounds in a frame when its gate is on and it has a waveform other than noise alone
    (drums) and no test bit. Ties go to the lower voice; a silent tune gives 0.
    """
    _chips(tune, [chip])
    if not len(tune.frames):
        return 0
    state = tune.frames.state(chip).astype(np.int64)  # (frames, 25)
    pitch = np.full((len(state), VOICES), -1, np.int64)
    for v in range(VOICES):
        base = v * VOICE_STRIDE
        ctrl = state[:, base + _CTRL]
        sounding = (
            (ctrl & _GATE).astype(bool) & ((ctrl & 0x70) != 0) & ~(ctrl & WAVE_BITS["test"]).astype(bool)
        )
        pitch[:, v] = np.where(sounding, state[:, base] | state[:, base + 1] << 8, -1)
    top = np.argmax(pitch, axis=1)
    heard = pitch.max(axis=1) >= 0
    counts = np.bincount(top[heard], minlength=VOICES)
    return int(np.argmax(counts))


def simplify(tune: Tune, voice: int | None = None, chip: int = 0) -> Tune:
    """Keep one voice alone: the melody (:func:`melody_voice`) unless ``voice`` is named.

    The writes of the other voices and of other chips are dropped; the chip's filter and volume
    writes stay, so the voice sounds as it did. What is lost: sync and ring modulation from a
    dropped voice (its oscillator no longer runs), and everything the other voices played.
    """
    voice = melody_voice(tune, chip) if voice is None else _voices([voice])[0]
    w = tune.writes
    reg = w["reg"]
    mine = (reg >= voice * VOICE_STRIDE) & (reg < (voice + 1) * VOICE_STRIDE)
    glob = reg >= VOICES * VOICE_STRIDE
    return _build(tune, w[(w["chip"] == chip) & (mine | glob)], tune.irq, tune.nmi, len(tune.frames))


# -- frames ----------------------------------------------------------------------------------


def slice_frames(tune: Tune, start: int, stop: int | None = None) -> Tune:
    """Frames ``start`` to ``stop`` (not included) as a tune of their own, from frame 0.

    Writes and events keep their offsets in their frame; nothing before ``start`` comes along,
    so registers set earlier start from 0 in the slice.
    """
    start, stop = _range(tune, start, stop)
    w, irq, nmi = _moved(tune, lambda f: ((f >= start) & (f < stop), f - start))
    return _build(tune, w, irq, nmi, stop - start)


def cut(tune: Tune, start: int, stop: int | None = None) -> Tune:
    """The tune without frames ``start`` to ``stop``; later frames move up, offsets kept."""
    start, stop = _range(tune, start, stop)
    gap = stop - start
    w, irq, nmi = _moved(tune, lambda f: ((f < start) | (f >= stop), np.where(f >= stop, f - gap, f)))
    return _build(tune, w, irq, nmi, len(tune.frames) - gap)


def paste(tune: Tune, clip: Tune, at: int | None = None, *, replace: bool = False) -> Tune:
    """``clip``'s frames put in at frame ``at`` (default: the end), offsets kept.

    By default later frames move down to make room (insert); with ``replace`` the clip's
    frames take the place of as many frames of the tune. The clip must have the tune's frame
    length and no more SIDs than the tune.
    """
    h = tune.header
    n, m = len(tune.frames), len(clip.frames)
    at = n if at is None else at
    if not 0 <= at <= n:
        raise UsageError(f"paste position {at} is outside the tune (frames 0–{n})")
    if clip.header.frame_cycles != h.frame_cycles:
        raise UsageError(
            f"the clip's frames are {clip.header.frame_cycles} cycles, the tune's {h.frame_cycles}"
        )
    if clip.header.chips > h.chips:
        raise UsageError(f"the clip uses {clip.header.chips} SIDs, the tune has {h.chips}")
    if replace:
        head = _moved(tune, lambda f: (f < at, f))
        tail = _moved(tune, lambda f: (f >= at + m, f))
        length = max(n, at + m)
    else:
        head = _moved(tune, lambda f: (f < at, f))
        tail = _moved(tune, lambda f: (f >= at, f + m))
        length = n + m
    body = _moved(clip, lambda f: (np.ones(len(f), bool), f + at))
    body = [np.asarray(part) for part in body]
    body[0]["cycle"] += h.start_cycle - clip.header.start_cycle
    body[1] = body[1] + (h.start_cycle - clip.header.start_cycle)
    body[2] = body[2] + (h.start_cycle - clip.header.start_cycle)
    parts = list(zip(head, body, tail))
    return _build(tune, *(np.concatenate(p) for p in parts), length)


def repeat(tune: Tune, start: int, stop: int | None = None, times: int = 2) -> Tune:
    """Frames ``start`` to ``stop`` played ``times`` times in all (a loop); later frames move down.

    The copies are exact; the frames after the range keep their writes and offsets.
    """
    start, stop = _range(tune, start, stop)
    if times < 1:
        raise UsageError(f"times must be 1 or more, got {times}")
    m = stop - start
    extra = (times - 1) * m
    L = tune.header.frame_cycles
    head = _moved(tune, lambda f: (f < stop, f))
    block = _moved(tune, lambda f: ((f >= start) & (f < stop), f + m))
    tail = _moved(tune, lambda f: (f >= stop, f + extra))
    parts = []
    for i, (h, b, t) in enumerate(zip(head, block, tail)):
        copies = []
        for k in range(times - 1):
            c = b.copy()
            if i == 0:
                c["cycle"] += k * m * L
            else:
                c += k * m * L
            copies.append(c)
        parts.append(np.concatenate([h, *copies, t]))
    return _build(tune, *parts, len(tune.frames) + extra)


def stretch(tune: Tune, factor: int) -> Tune:
    """Slow down by whole frames: frame ``n`` becomes frame ``n * factor``, offsets kept.

    Every write stays exact; ``factor - 1`` empty frames follow each frame. :func:`squeeze`
    with the same factor undoes it exactly.
    """
    if factor < 1:
        raise UsageError(f"stretch factor must be 1 or more, got {factor}")
    w, irq, nmi = _moved(tune, lambda f: (np.ones(len(f), bool), f * factor))
    return _build(tune, w, irq, nmi, len(tune.frames) * factor)


def squeeze(tune: Tune, factor: int) -> Tune:
    """Speed up by whole frames: frames ``n*factor`` … ``n*factor + factor-1`` become frame ``n``.

    Their writes keep their order, one after the other; a write keeps its offset unless that
    would put it before the write ahead of it, then it takes that write's offset. Interrupt
    times come from the first frame of each group that has any. Lossy where the merged frames
    had writes of their own; exact after :func:`stretch` by the same factor.
    """
    if factor < 1:
        raise UsageError(f"squeeze factor must be 1 or more, got {factor}")
    h = tune.header
    fr = tune.frames
    group = fr.index // factor
    local = np.maximum.accumulate(group * h.frame_cycles + fr.offset) - group * h.frame_cycles
    w = tune.writes.copy()
    w["cycle"] = h.start_cycle + group * h.frame_cycles + local

    def firsts(f: np.ndarray, o: np.ndarray):
        g = f // factor
        first = np.full(int(g.max()) + 1 if len(g) else 0, np.iinfo(np.int64).max)
        np.minimum.at(first, g, f)
        return f == first[g], g

    irq, nmi = _events(tune, firsts)
    return _build(tune, w, irq, nmi, -(-len(fr) // factor))


def reverse(tune: Tune, start: int = 0, stop: int | None = None) -> Tune:
    """Frames ``start`` to ``stop`` in reverse order, by register *state*.

    Reversed frame ``start + j`` gets the register state of frame ``stop - 1 - j``: it writes
    the registers that differ from the frame before it, other registers before the control
    registers, ``@gap`` cycles apart. Notes therefore start where they ended and end where they
    started; envelopes still run forwards. Lost inside the range: writes that changed nothing
    by the end of their frame (a retrigger within one frame), exact offsets, and writes to the
    read-only registers. If frames follow the range, the first of them begins by writing
    the registers the reversal left different, so the rest of the tune sounds as before.
    """
    start, stop = _range(tune, start, stop)
    if stop - start < 2:
        return tune
    h = tune.header
    L, G = h.frame_cycles, h.gap
    fr = tune.frames
    n = len(fr)
    order = [r for r in range(N_WRITABLE) if r % VOICE_STRIDE != _CTRL or r >= VOICES * VOICE_STRIDE]
    order += [v * VOICE_STRIDE + _CTRL for v in range(VOICES)]
    rows = []  # (frame, rank, chip, reg, val)
    for chip in range(h.chips):
        state = fr.state(chip)
        before = state[start - 1] if start else np.zeros(N_WRITABLE, np.uint8)
        seq = np.concatenate([before[None], state[start:stop][::-1]])
        if stop < n:
            seq = np.concatenate([seq, state[stop - 1][None]])
        changed = seq[1:] != seq[:-1]  # (frames, 25)
        for rank, reg in enumerate(order):
            frames = np.flatnonzero(changed[:, reg])
            rows.append(
                np.stack(
                    [
                        frames + start,
                        np.full_like(frames, chip * 32 + rank),
                        np.full_like(frames, chip),
                        np.full_like(frames, reg),
                        seq[frames + 1, reg].astype(np.int64),
                    ],
                    axis=1,
                )
            )
    rows_a = np.concatenate(rows) if rows else np.zeros((0, 5), np.int64)
    rows_a = rows_a[np.lexsort((rows_a[:, 1], rows_a[:, 0]))]
    frames = rows_a[:, 0]
    first_in_frame = np.searchsorted(frames, frames, side="left")
    # Writes of the frame after the range go at offset 0, ahead of that frame's own writes.
    offset = np.where(frames < stop, np.minimum((np.arange(len(frames)) - first_in_frame) * G, L - 1), 0)
    new = np.zeros(len(rows_a), WRITE_DTYPE)
    new["cycle"] = h.start_cycle + frames * L + offset
    new["chip"], new["reg"], new["val"] = rows_a[:, 2], rows_a[:, 3], rows_a[:, 4]
    w = tune.writes
    index = fr.index
    parts = [w[index < start], new[frames < stop], new[frames == stop], w[index >= stop]]
    mirror = np.where(
        (np.arange(n) >= start) & (np.arange(n) < stop), start + stop - 1 - np.arange(n), np.arange(n)
    )
    irq, nmi = _events(tune, lambda f, o: (np.ones(len(f), bool), mirror[np.minimum(f, n - 1)]))
    return _build(tune, np.concatenate(parts), irq, nmi, n)
