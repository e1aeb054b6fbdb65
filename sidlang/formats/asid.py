"""ASID: SID register frames as MIDI SysEx for real hardware, and the ``syx`` format.

The protocol (``protocol.md`` of ``thomasj/asid-protocol``): every message is
``F0 2D CMD payload F7``. ``4C`` start, ``4D`` stop, ``4F`` display text, ``4E`` one frame's
register update for SID 1 and ``50``–``5F`` the same for SID 2–17. An update carries 4 mask
bytes, 4 MSB bytes and one 7-bit data byte per set mask bit, in ascending ASID index; mask byte
``k`` bit ``b`` is ASID index ``7k + b``, and the MSB bytes hold bit 7 of those values in the
same layout. Extensions: ``30`` write order and cycle waits, ``31`` speed, ``32`` chip type.

ASID indices 0–21 are the registers other than the control registers, in register order; 22–24
are the control registers, sent last so that a note starts with its frequency and envelope in
place; 25–27 are a *second* write to the control registers in the same frame, which is what
keeps a gate-off/gate-on retrigger inside one frame. The map is derived from
:mod:`sidlang.registers`, not typed in.

What an update carries is *changes*: the encoder sends a register when its value at the end of
the frame differs from what the receiver holds (every register in the first frame, since the
receiver's state is unknown). A control register's writes in a frame are reduced to their
transitions; one transition is sent at 22–24, two as 22–24 then 25–27. ASID has no room for a
third, so three or more changes in a frame keep the final value and the latest earlier value
that is still a change (see :func:`update_matrix`).

A ``.syx`` stream carries no times, so the encoder writes one update per SID for every frame,
empty ones included, and the ``31`` speed message gives the frame length; the decoder counts
frames back from that. Timed outputs (``.mid``, a live port) skip frames that change nothing:
see :mod:`sidlang.formats.asid_midi`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from sidlang.errors import FormatError, UsageError
from sidlang.pitch import NTSC_FRAME, NTSC_HZ, PAL_FRAME, PAL_HZ
from sidlang.registers import N_WRITABLE, REGISTERS, sid_addresses
from sidlang.tune import Header, Tune, make_writes

from . import Format

SYSEX_START, SYSEX_END, ASID_ID = 0xF0, 0xF7, 0x2D
START, STOP, UPDATE, DISPLAY = 0x4C, 0x4D, 0x4E, 0x4F
ORDER, SPEED, CHIP_TYPE = 0x30, 0x31, 0x32
MULTI_FIRST, MULTI_LAST = 0x50, 0x5F  #: SID 2 .. SID 17 updates
MAX_CHIPS = 1 + MULTI_LAST - MULTI_FIRST + 1
DISPLAY_CHARS = 32  #: a SidStation shows 2 x 16 characters

#: The control registers ($04, $0B, $12), by the register table's name for them.
CONTROL: tuple[int, ...] = tuple(r.offset for r in REGISTERS[:N_WRITABLE] if r.name == "wave")
#: ASID index -> SID register: the other writable registers in order, then the control
#: registers, then the control registers again (second writes).
ASID_TO_REG: tuple[int, ...] = (
    tuple(r.offset for r in REGISTERS[:N_WRITABLE] if r.name != "wave") + CONTROL + CONTROL
)
N_INDEX = len(ASID_TO_REG)  #: 28
FIRST_CONTROL = N_INDEX - 2 * len(CONTROL)  #: 22
SECOND_CONTROL = N_INDEX - len(CONTROL)  #: 25
#: SID register -> ASID index of its (first) write.
REG_TO_ASID: dict[int, int] = {reg: i for i, reg in enumerate(ASID_TO_REG[:SECOND_CONTROL])}

Update = dict[int, int]  #: ASID index -> value (0–255) of one message


# -- messages ------------------------------------------------------------------------------


def sysex(command: int, payload: bytes | list[int] = b"") -> bytes:
    """One ASID message, ``F0 2D command payload F7``."""
    body = bytes(payload)
    if any(b > 0x7F for b in body):
        raise ValueError("MIDI data bytes are 7-bit")
    return bytes((SYSEX_START, ASID_ID, command)) + body + bytes((SYSEX_END,))


def update_command(chip: int) -> int:
    """``4E`` for SID 1, ``50``… for SID 2…"""
    if not 0 <= chip < MAX_CHIPS:
        raise UsageError(f"ASID addresses SID 1–{MAX_CHIPS}, got SID {chip + 1}")
    return UPDATE if chip == 0 else MULTI_FIRST + chip - 1


def encode_update(chip: int, update: Update) -> bytes:
    """A register update message: mask bytes, MSB bytes, then data in ascending ASID index."""
    mask, msb = [0] * 4, [0] * 4
    data = []
    for index in sorted(update):
        value = update[index]
        k, b = divmod(index, 7)
        mask[k] |= 1 << b
        if value & 0x80:
            msb[k] |= 1 << b
        data.append(value & 0x7F)
    return sysex(update_command(chip), mask + msb + data)


def decode_update(payload: bytes) -> Update:
    """The inverse of :func:`encode_update`'s payload."""
    if len(payload) < 8:
        raise ValueError(f"a register update needs 8 mask/MSB bytes, got {len(payload)}")
    mask, msb, data = payload[:4], payload[4:8], payload[8:]
    indices = [7 * k + b for k in range(4) for b in range(7) if mask[k] >> b & 1]
    if len(data) != len(indices):
        raise ValueError(f"mask names {len(indices)} registers but {len(data)} data bytes follow")
    return {i: d | (0x80 if msb[i // 7] >> (i % 7) & 1 else 0) for i, d in zip(indices, data)}


def display(text: str) -> bytes:
    """A display message; characters outside printable ASCII become ``?``."""
    clean = "".join(c if " " <= c <= "~" else "?" for c in text[:DISPLAY_CHARS])
    return sysex(DISPLAY, clean.encode("ascii"))


def speed(clock_hz: int, frame_cycles: int) -> bytes:
    """``31``: PAL/NTSC bit, speed multiplier and the frame length in µs (0 if over 16 bits)."""
    ntsc = clock_hz == NTSC_HZ
    base = NTSC_FRAME if ntsc else PAL_FRAME
    multiplier = min(16, max(1, round(base / frame_cycles)))
    delta = round(frame_cycles * 1_000_000 / clock_hz)
    delta = delta if delta <= 0xFFFF else 0
    data0 = int(ntsc) | (multiplier - 1) << 1
    return sysex(SPEED, [data0, delta & 0x7F, delta >> 7 & 0x7F, delta >> 14 & 0x03])


def chip_type(chip: int, model: int) -> bytes:
    """``32``: chip index and model (bit 0 set for 8580)."""
    return sysex(CHIP_TYPE, [chip, int(model == 8580)])


def write_order(order: list[int], waits: list[int]) -> bytes:
    """``30``: for each ASID index its position in the write order and the cycles to wait after it."""
    position = {index: pos for pos, index in enumerate(order)}
    payload = []
    for index in range(N_INDEX):
        wait = min(255, max(0, waits[position[index]]))
        payload += [position[index] & 0x3F | (wait & 0x80) >> 1, wait & 0x7F]
    return sysex(ORDER, payload)


# -- frames -> updates ---------------------------------------------------------------------


def update_matrix(tune: Tune, chip: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Every frame's update for one SID at once: ``(sent, value)``, two ``(frames, 28)`` arrays
    by ASID index, ``sent`` (bool) saying which indices the frame's update carries.

    The rules are those of the module docstring, over arrays: a register is sent where its
    value after the frame differs from the frame before's (all of them in frame 0); a control
    register's writes count where they differ from the write before (the held value at a
    frame's start), and a frame with two or more such changes sends two: the final value, and before it the latest
    earlier value that differs from both the held and the final value (a gate-off before a
    gate-on survives; a test-bit pulse before them is what gets dropped); where there is no
    such value (off-on-off), only the final one.
    """
    fr = tune.frames
    n = len(fr)
    sent = np.zeros((n, N_INDEX), dtype=bool)
    value = np.zeros((n, N_INDEX), dtype=np.uint8)
    if n == 0:
        return sent, value
    st = fr.state(chip)  # (n, 25): what the receiver holds after each frame
    plain = np.array(ASID_TO_REG[:FIRST_CONTROL])
    value[:, :FIRST_CONTROL] = st[:, plain]
    sent[0, :FIRST_CONTROL] = True
    sent[1:, :FIRST_CONTROL] = st[1:, plain] != st[:-1, plain]
    w = tune.writes
    for c, reg in enumerate(CONTROL):
        sel = np.flatnonzero((w["chip"] == chip) & (w["reg"] == reg))
        frame = fr.index[sel]
        vals = w["val"][sel].astype(np.int64)
        if len(sel) == 0 or frame[0] > 0:  # frame 0 without a write: the reset value, sent
            sent[0, FIRST_CONTROL + c] = True
        if len(sel) == 0:
            continue
        before_write = np.concatenate(([-1], vals[:-1]))  # -1: unknown (frame 0's start)
        before_write[0] = -1 if frame[0] == 0 else 0
        step = vals != before_write
        sf, sv = frame[step], vals[step]
        if len(sf) == 0:
            continue
        held = np.where(sf > 0, st[np.maximum(sf - 1, 0), reg].astype(np.int64), -1)
        last = np.r_[sf[1:] != sf[:-1], True]  # the last change of its frame
        group = np.cumsum(np.r_[True, last[:-1]]) - 1
        final = sv[last][group]
        # The second and later changes: send the latest earlier one that is still a change.
        cand = np.flatnonzero(~last & (sv != held) & (sv != final))
        latest = cand[np.r_[group[cand][1:] != group[cand][:-1], True]] if len(cand) else cand
        gf = sf[last]
        value[gf, FIRST_CONTROL + c] = sv[last]
        sent[gf, FIRST_CONTROL + c] = True
        two = sf[latest]
        value[two, SECOND_CONTROL + c] = value[two, FIRST_CONTROL + c]
        sent[two, SECOND_CONTROL + c] = True
        value[two, FIRST_CONTROL + c] = sv[latest]
    return sent, value


def frame_updates(tune: Tune, chip: int = 0) -> list[Update]:
    """One :data:`Update` per frame for one SID: what changed, retriggers as second writes."""
    sent, value = update_matrix(tune, chip)
    out: list[Update] = []
    for row, vals in zip(sent.tolist(), value.tolist()):
        out.append({i: v for i, (s, v) in enumerate(zip(row, vals)) if s})
    return out


def pack_updates(sent: np.ndarray, value: np.ndarray, commands: np.ndarray) -> bytes:
    """Register update messages for the rows of ``sent``/``value`` (see :func:`update_matrix`),
    row ``i`` with command ``commands[i]``: what :func:`encode_update` makes, for all at once."""
    rows = len(sent)
    if rows == 0:
        return b""
    count = sent.sum(axis=1)
    length = 12 + count  # F0 2D cmd, 4 mask, 4 MSB, data, F7
    start = np.concatenate(([0], np.cumsum(length)[:-1]))
    buf = np.zeros(int(length.sum()), dtype=np.uint8)
    bit = (1 << (np.arange(N_INDEX) % 7)).astype(np.int64)
    k = np.arange(N_INDEX) // 7
    mask = np.zeros((rows, 4), dtype=np.int64)
    msb = np.zeros((rows, 4), dtype=np.int64)
    for j in range(4):
        mask[:, j] = (sent[:, k == j] * bit[k == j]).sum(axis=1)
        msb[:, j] = ((sent & (value >= 0x80))[:, k == j] * bit[k == j]).sum(axis=1)
    head = np.column_stack((np.full(rows, SYSEX_START), np.full(rows, ASID_ID), commands, mask, msb))
    buf[start[:, None] + np.arange(11)] = head
    r, i = np.nonzero(sent)  # row-major: ascending ASID index within a message
    rank = np.cumsum(sent, axis=1)[r, i] - 1
    buf[start[r] + 11 + rank] = value[r, i] & 0x7F
    buf[start + 11 + count] = SYSEX_END
    return buf.tobytes()


# -- stream encode / decode ------------------------------------------------------------------


def order_recipe(tune: Tune) -> tuple[list[int], list[int]]:
    """Write order and cycle waits for ``30``, from where SID 1's registers sit in their frames.

    Registers go in the order of their median in-frame offset (the player's usual order); each
    control register's second write follows its first, timed by the median offset of later
    writes to it in a frame; registers never written go last. The wait after a register is the
    median gap to the next one (0 where either is never written).
    """
    fr = tune.frames
    w = tune.writes
    sel = np.flatnonzero((w["chip"] == 0) & (w["reg"] < N_WRITABLE))
    regs, offsets, frame_of = w["reg"][sel], fr.offset[sel], fr.index[sel]
    median: dict[int, float] = {}
    for reg, index in REG_TO_ASID.items():
        mine = regs == reg
        at, where = offsets[mine], frame_of[mine]
        first = np.r_[True, where[1:] != where[:-1]] if len(where) else np.zeros(0, bool)
        if first.any():
            median[index] = float(np.median(at[first]))
        if index >= FIRST_CONTROL and (~first).any():
            median[index + len(CONTROL)] = float(np.median(at[~first]))
    written = sorted((i for i in median if i < SECOND_CONTROL), key=lambda i: (median[i], i))
    order: list[int] = []
    for index in written + [i for i in range(SECOND_CONTROL) if i not in median]:
        order.append(index)
        if index >= FIRST_CONTROL:
            order.append(index + len(CONTROL))
    times = [median.get(i) for i in order]
    waits = [
        max(0, round(b - a)) if a is not None and b is not None else 0
        for a, b in zip(times, times[1:] + [None])
    ]
    return order, waits


def encode_stream(
    tune: Tune, *, every_frame: bool = True, classic: bool = False, updates: bool = True
) -> Iterator[tuple[int, bytes]]:
    """``(frame, message)`` pairs: setup at frame 0, the updates, ``stop`` after the last frame.

    ``every_frame`` sends empty updates too (a ``.syx`` stream counts frames by them);
    ``classic`` leaves out the ``30``/``31``/``32`` extensions for receivers that predate them;
    ``updates=False`` leaves out the updates (:func:`encode` packs them itself).
    """
    h = tune.header
    if classic and h.chips > 1:
        raise UsageError(f"classic ASID drives one SID; this tune has {h.chips} (leave out --classic)")
    for chip in range(h.chips):
        update_command(chip)  # refuse more SIDs than ASID has commands for, before any output
    yield 0, sysex(START)
    text = " - ".join(t.strip() for t in (h.title, h.author) if t.strip())
    if text:
        yield 0, display(text)
    if not classic:
        yield 0, speed(h.clock_hz, h.frame_cycles)
        for chip, model in enumerate(h.models):
            yield 0, chip_type(chip, model)
        yield 0, write_order(*order_recipe(tune))
    per_chip = [frame_updates(tune, chip) for chip in range(h.chips)] if updates else []
    for n in range(len(tune.frames) if updates else 0):
        for chip, updates in enumerate(per_chip):
            if updates[n] or every_frame:
                yield n, encode_update(chip, updates[n])
    yield len(tune.frames), sysex(STOP)


def encode(tune: Tune, *, classic: bool = False) -> bytes:
    """A raw SysEx stream (``.syx``) of the whole tune: :func:`encode_stream`'s messages, the
    updates packed for all frames at once."""
    chips = tune.header.chips
    setup = [message for _, message in encode_stream(tune, classic=classic, updates=False)]
    stop = setup.pop()
    per_chip = [update_matrix(tune, chip) for chip in range(chips)]
    n = len(tune.frames)
    sent = np.stack([m[0] for m in per_chip], axis=1).reshape(n * chips, N_INDEX)
    value = np.stack([m[1] for m in per_chip], axis=1).reshape(n * chips, N_INDEX)
    commands = np.tile([update_command(c) for c in range(chips)], n)
    return b"".join(setup) + pack_updates(sent, value, commands) + stop


def split_sysex(data: bytes) -> list[tuple[int, bytes]]:
    """``(byte offset, message)`` for every SysEx message in a raw stream, each ``F0 … F7``."""
    out = []
    pos = 0
    while pos < len(data):
        if data[pos] != SYSEX_START:
            raise FormatError(f"byte {pos}: expected SysEx start F0, got {data[pos]:02X}")
        end = data.find(bytes((SYSEX_END,)), pos + 1)
        if end < 0:
            raise FormatError(f"byte {pos}: SysEx message without its end byte F7")
        body = data[pos + 1 : end]
        bad = next((i for i, b in enumerate(body) if b > 0x7F), None)
        if bad is not None:
            raise FormatError(
                f"byte {pos + 1 + bad}: {body[bad]:02X} inside a SysEx message (data bytes are 7-bit)"
            )
        out.append((pos, data[pos : end + 1]))
        pos = end + 1
    return out


@dataclass
class Decoded:
    """What a stream said besides its updates; the decoder fills it as messages arrive."""

    clock_hz: int = PAL_HZ
    frame_cycles: int = PAL_FRAME
    models: dict[int, int] | None = None
    title: str = ""
    order: list[int] | None = None  #: ASID indices in write order
    waits: list[int] | None = None  #: cycles after each, by position in ``order``
    skipped: int = 0  #: SysEx messages of other makers, or ASID commands not known here


def decode_setup(command: int, payload: bytes, info: Decoded) -> None:
    """Apply a non-update message to ``info``."""
    if command == DISPLAY:
        info.title = payload.decode("ascii").strip()
    elif command == SPEED:
        if len(payload) != 4:
            raise ValueError(f"speed message needs 4 data bytes, got {len(payload)}")
        ntsc = payload[0] & 1
        info.clock_hz = NTSC_HZ if ntsc else PAL_HZ
        delta = payload[1] | payload[2] << 7 | (payload[3] & 3) << 14
        multiplier = (payload[0] >> 1 & 0x0F) + 1
        base = NTSC_FRAME if ntsc else PAL_FRAME
        info.frame_cycles = round(delta * info.clock_hz / 1_000_000) if delta else base // multiplier
    elif command == CHIP_TYPE:
        if len(payload) != 2:
            raise ValueError(f"chip type message needs 2 data bytes, got {len(payload)}")
        info.models = {**(info.models or {}), payload[0]: 8580 if payload[1] & 1 else 6581}
    elif command == ORDER:
        if len(payload) != 2 * N_INDEX:
            raise ValueError(f"write order message needs {2 * N_INDEX} data bytes, got {len(payload)}")
        position = [payload[2 * i] & 0x3F for i in range(N_INDEX)]
        wait = [payload[2 * i + 1] | (payload[2 * i] & 0x40) << 1 for i in range(N_INDEX)]
        if sorted(position) != list(range(N_INDEX)):
            raise ValueError("write order does not name each position 0–27 once")
        info.order = sorted(range(N_INDEX), key=position.__getitem__)
        info.waits = [wait[i] for i in info.order]
    elif command not in (START, STOP):
        info.skipped += 1


def update_writes(update: Update, info: Decoded) -> list[tuple[int, int, int]]:
    """``(cycle offset in frame, register, value)`` for one update, in the order to write them.

    Without a ``30`` recipe: ascending ASID index, all at the frame's start. With one: its order,
    each write waiting its cycles after the one before (absent registers take no time).
    """
    if info.order is None or info.waits is None:
        return [(0, ASID_TO_REG[i], update[i]) for i in sorted(update)]
    out, at = [], 0
    for index, wait in zip(info.order, info.waits):
        if index in update:
            out.append((at, ASID_TO_REG[index], update[index]))
            at += wait
    return out


def decode(data: bytes, file: str | None = None) -> Tune:
    """A Tune from a raw SysEx stream: one frame per round of updates (SID 1, SID 2, …)."""
    info = Decoded()
    frames: list[dict[int, Update]] = []
    for offset, message in split_sysex(data):
        if len(message) < 4 or message[1] != ASID_ID:
            info.skipped += 1
            continue
        command, payload = message[2], message[3:-1]
        try:
            if command == UPDATE or MULTI_FIRST <= command <= MULTI_LAST:
                chip = 0 if command == UPDATE else command - MULTI_FIRST + 1
                if not frames or chip <= max(frames[-1]):
                    frames.append({})
                frames[-1][chip] = decode_update(payload)
            else:
                decode_setup(command, payload, info)
        except (ValueError, UnicodeDecodeError) as e:
            raise FormatError(f"byte {offset}: ASID command {command:02X}: {e}", file=file) from None
    return build_tune(frames, info)


def build_tune(
    frames: list[dict[int, Update]],
    info: Decoded,
    frame_numbers: list[int] | None = None,
    length: int | None = None,
) -> Tune:
    """A Tune from decoded updates, frame ``i`` at ``frame_numbers[i]`` (default ``i``).

    ``length`` in frames, when the source says (a timed stop); else up to the last update.
    """
    numbers = frame_numbers if frame_numbers is not None else list(range(len(frames)))
    chips = max([max(f) for f in frames if f] + list((info.models or {0: 0}).keys())) + 1
    rows = []
    for n, frame in zip(numbers, frames):
        for chip in sorted(frame):
            for at, reg, val in update_writes(frame[chip], info):
                # A recipe's waits can outlast a short (multispeed) frame; stay inside it.
                rows.append((n * info.frame_cycles + min(at, info.frame_cycles - 1), chip, reg, val))
    rows.sort(key=lambda r: r[0])  # stable: same-cycle writes keep chip and protocol order
    models = tuple((info.models or {}).get(c, 6581) for c in range(chips))
    header = Header(
        title=info.title,
        clock_hz=info.clock_hz,
        frame_cycles=info.frame_cycles,
        models=models,
        sids=sid_addresses(chips),
        frames=max(length or 0, (numbers[-1] + 1) if numbers else 0),
    )
    writes = make_writes(*zip(*rows)) if rows else None
    return Tune(header, writes, meta={"frame_source": "header", "skipped_messages": info.skipped})


def write_syx(tune: Tune, *, classic: bool = False) -> bytes:
    """The ``syx`` format's writer."""
    return encode(tune, classic=classic)


FORMATS = [
    Format(
        "syx",
        "ASID MIDI SysEx stream for real SID hardware (one update per SID per frame)",
        (".syx",),
        read=decode,
        write=write_syx,
        binary=True,
        options={"classic": "False"},
    )
]
