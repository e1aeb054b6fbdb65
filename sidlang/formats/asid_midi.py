"""ASID over MIDI with timing: a standard MIDI file, and a live port paced by a monotonic clock.

Both send only the frames that change something (plus frame 0, which sets every register),
each at its frame's time, so the time between messages carries the tempo that a ``.syx``
stream has to spell out with empty updates.

* ``.mid``: type 0, one track, one tick per frame: ``ticks_per_beat`` is :data:`TICKS_PER_BEAT`
  and the tempo is that many frames in µs, so frame ``n`` is tick ``n`` exactly and the
  rounding of the tempo to whole µs costs under 0.01 µs per frame.
* live: every message of frame ``n`` is sent at ``t0 + LEAD + n * frame_seconds`` on
  ``time.monotonic()``. Deadlines are absolute, computed from ``t0`` and not from the previous
  send, so a late wake-up never shifts the frames after it and nothing drifts over a long
  tune. Over DIN MIDI (3125 bytes/s) an update of every register takes about 12 ms, so about
  75 frames per second is the ceiling; USB MIDI has no such limit.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator

from sidlang.errors import FormatError, SidlangError, first_line
from sidlang.registers import FIELDS
from sidlang.tune import Tune

from . import asid

TICKS_PER_BEAT = 100  #: one tick per frame; a beat is this many frames
MAX_TEMPO = 0xFFFFFF  #: µs per beat in a MIDI set_tempo event
LEAD = 0.05  #: seconds between opening the stream and frame 0, so setup messages land first


def _mido():
    try:
        import mido
    except ImportError:  # pragma: no cover - mido is a dependency
        raise SidlangError("ASID over MIDI needs the 'mido' package (pip install mido)") from None
    return mido


def frame_seconds(tune: Tune) -> float:
    return tune.header.frame_cycles / tune.header.clock_hz


def timed_messages(tune: Tune, classic: bool = False) -> list[tuple[int, bytes]]:
    """``(frame, message)`` for a timed output: updates only where a frame changes something."""
    return list(asid.encode_stream(tune, every_frame=False, classic=classic))


# -- standard MIDI file --------------------------------------------------------------------


def midi_file(tune: Tune, classic: bool = False):
    """A ``mido.MidiFile`` with one SysEx event per message at its frame's tick."""
    mido = _mido()
    frame_us = frame_seconds(tune) * 1_000_000
    ticks_per_beat = TICKS_PER_BEAT
    while ticks_per_beat > 1 and round(frame_us * ticks_per_beat) > MAX_TEMPO:
        ticks_per_beat //= 2  # only for frames slower than ~6 Hz
    tempo = round(frame_us * ticks_per_beat)
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=min(tempo, MAX_TEMPO), time=0))
    if tune.header.title:
        track.append(mido.MetaMessage("track_name", name=tune.header.title, time=0))
    tick = 0
    for frame, message in timed_messages(tune, classic):
        track.append(mido.Message("sysex", data=message[1:-1], time=frame - tick))
        tick = frame
    track.append(mido.MetaMessage("end_of_track", time=0))
    out = mido.MidiFile(type=0, ticks_per_beat=ticks_per_beat)
    out.tracks.append(track)
    return out


def write_mid(tune: Tune, classic: bool = False) -> bytes:
    """The bytes of :func:`midi_file`."""
    buf = io.BytesIO()
    midi_file(tune, classic).save(file=buf)
    return buf.getvalue()


def read_mid(data: bytes, file: str | None = None) -> Tune:
    """A Tune from the ASID SysEx events of a MIDI file, frames from their times.

    The frame length comes from the ``31`` speed message; each update lands in the frame
    nearest its time, so files made by other tools with any tempo map are read as well.
    """
    mido = _mido()
    try:
        midi = mido.MidiFile(file=io.BytesIO(data))
    except (OSError, EOFError, ValueError, KeyError, IndexError) as e:
        raise FormatError(f"not a readable MIDI file: {e}", file=file) from None
    events = []
    now = 0.0
    for msg in midi:  # iterating a MidiFile gives times in seconds, tempo map applied
        now += msg.time
        if msg.type == "sysex":
            events.append((now, bytes((asid.SYSEX_START, *msg.data, asid.SYSEX_END))))
    info = asid.Decoded()
    frames: list[dict[int, asid.Update]] = []
    numbers: list[int] = []
    pending: list[tuple[float, int, asid.Update]] = []
    for _, message in events:
        if message[1] == asid.ASID_ID and message[2] in (
            asid.SPEED,
            asid.CHIP_TYPE,
            asid.ORDER,
            asid.DISPLAY,
        ):
            asid.decode_setup(message[2], message[3:-1], info)
    for at, message in events:
        command = message[2] if len(message) > 3 and message[1] == asid.ASID_ID else None
        if command == asid.UPDATE or (command is not None and asid.MULTI_FIRST <= command <= asid.MULTI_LAST):
            chip = 0 if command == asid.UPDATE else command - asid.MULTI_FIRST + 1
            try:
                pending.append((at, chip, asid.decode_update(message[3:-1])))
            except ValueError as e:
                raise FormatError(f"ASID update at {at:.3f} s: {e}", file=file) from None
    seconds = info.frame_cycles / info.clock_hz
    stops = [at for at, m in events if len(m) == 4 and m[1] == asid.ASID_ID and m[2] == asid.STOP]
    for at, chip, update in pending:
        n = round(at / seconds)
        if not numbers or n != numbers[-1] or chip in frames[-1]:
            numbers.append(max(n, numbers[-1] + 1) if numbers else n)
            frames.append({})
        frames[-1][chip] = update
    return asid.build_tune(frames, info, numbers, round(stops[-1] / seconds) if stops else None)


# -- live ports ----------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence what ALSA's C library prints on fd 2 when no MIDI system exists.

    rtmidi raises a proper error as well, which becomes our one-line message.
    """
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
            yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


def output_names() -> list[str]:
    """MIDI output ports through mido's rtmidi backend; a one-line error if there is no MIDI system."""
    mido = _mido()
    try:
        with _quiet_stderr():
            return list(mido.get_output_names())
    except ImportError:
        raise SidlangError("no MIDI backend: install python-rtmidi (pip install python-rtmidi)") from None
    except (OSError, RuntimeError) as e:
        raise SidlangError(
            f"no MIDI system on this machine ({first_line(e, None)}); write a file with --out instead"
        ) from None


def open_port(name: str):
    """An open mido output port named ``name`` (an exact name, or a unique part of one)."""
    mido = _mido()
    names = output_names()
    match = [n for n in names if n == name] or [n for n in names if name.lower() in n.lower()]
    if len(match) != 1:
        known = ", ".join(repr(n) for n in names) or "none"
        what = "matches several" if match else "is not"
        raise SidlangError(f"MIDI port {name!r} {what} among the outputs ({known}); see --list-ports")
    try:
        with _quiet_stderr():
            return mido.open_output(match[0])
    except (OSError, RuntimeError) as e:
        raise SidlangError(f"cannot open MIDI port {match[0]!r}: {first_line(e, None)}") from None


def pace(
    schedule: Iterable[tuple[float, bytes]],
    send: Callable[[bytes], None],
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> float:
    """Send each message at ``t0 + at`` (``t0`` = first clock reading); returns the worst lateness in s.

    ``schedule`` is in time order. Deadlines are absolute, so a late message never delays the
    next one's deadline; a message already late is sent at once.
    """
    t0 = clock()
    worst = 0.0
    for at, message in schedule:
        deadline = t0 + at
        left = deadline - clock()
        while left > 0:  # sleep can wake early on some systems; go round until due
            sleep(left)
            left = deadline - clock()
        send(message)
        worst = max(worst, -left)
    return worst


def silence(chips: int) -> list[bytes]:
    """Updates that close every gate and set volume 0, then ``stop``: a polite end to a live stream."""
    regs = {asid.REG_TO_ASID[c]: 0 for c in asid.CONTROL}
    regs[asid.REG_TO_ASID[FIELDS["vol"].regs[0]]] = 0  # volume 0: released notes go quiet at once
    return [asid.encode_update(chip, regs) for chip in range(chips)] + [asid.sysex(asid.STOP)]


def play_live(tune: Tune, port, *, classic: bool = False, clock=time.monotonic, sleep=time.sleep) -> float:
    """Stream a tune to an open mido port in real time; returns the worst lateness in seconds.

    Setup messages go at once, frame ``n`` at ``LEAD + n * frame_seconds``, and the receiver is
    silenced when the tune ends; if it is cut short (Ctrl-C, an error), silenced at once.
    """
    mido = _mido()
    step = frame_seconds(tune)
    schedule = []
    for frame, message in timed_messages(tune, classic):
        if message[2] in _UPDATES:
            schedule.append((LEAD + frame * step, message))
        elif message[2] != asid.STOP:  # the stop goes with the silence below
            schedule.append((0.0, message))
    end = LEAD + len(tune.frames) * step
    schedule += [(end, m) for m in silence(tune.header.chips)]

    def send(message: bytes) -> None:
        port.send(mido.Message("sysex", data=message[1:-1]))

    try:
        return pace(schedule, send, clock=clock, sleep=sleep)
    except BaseException:
        for message in silence(tune.header.chips):
            send(message)
        raise


_UPDATES = frozenset([asid.UPDATE, *range(asid.MULTI_FIRST, asid.MULTI_LAST + 1)])
