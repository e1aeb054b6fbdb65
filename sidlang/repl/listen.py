"""Hearing the tune from the REPL: ``render`` to WAV, ``play`` on the audio device, ``asid``
to SID hardware or a file, each showing the frame it is at.

They reuse the command line's pieces (:mod:`sidlang.formats.render`, the ``play`` command's
device check, :mod:`sidlang.formats.asid_midi`), so the REPL plays exactly what
``sidlang render``/``play``/``asid`` would. Ctrl-C stops playing and returns to the prompt.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn

from sidlang.errors import SidlangError
from sidlang.io import Outputs, check_output, write_atomic
from sidlang.tune import Tune

ASID_FILES = {".syx": "syx", ".mid": "mid", ".midi": "mid"}


def _progress(console: Console, tune: Tune, verb: str) -> tuple[Progress, object]:
    """A progress bar counting frames, and the render callback that drives it."""
    bar = Progress(
        TextColumn(f"{verb} frame {{task.completed:>6.0f}} of {{task.total:.0f}}"),
        BarColumn(),
        console=console,
        transient=True,
    )
    task = bar.add_task(verb, total=max(len(tune.frames), 1))
    L = tune.header.frame_cycles

    def step(done: int, total: int) -> None:
        bar.update(task, completed=min(done // L, len(tune.frames)))

    return bar, step


def render_wav(console: Console, tune: Tune, path: str, force: bool) -> None:
    """Render ``tune`` to a WAV file, whole or not at all, streamed to disk block by block (memory
    stays flat with the length); an existing file is replaced only with ``force``."""
    from sidlang.formats.render import RenderOptions, check_wav_size, stream_wav

    options = RenderOptions()
    check_wav_size(tune, options)
    with Outputs(force=force) as out:
        out.reserve(path)  # refused before the render, not after it
        bar, step = _progress(console, tune, "rendering")
        with bar:
            samples = stream_wav(tune, out.open(path), options, step)
    console.print(
        f"[green]✓[/] wrote {escape(str(path))}: {samples / options.rate:.1f} s at {options.rate} Hz"
    )


def play(console: Console, tune: Tune, first_frame: int = 0) -> None:
    """Render, then play on the audio device with the current frame shown; Ctrl-C stops.

    Without an audio device the audio goes to a WAV file in the temporary folder instead, and
    the message says where.
    """
    from sidlang.cli.play import output_device
    from sidlang.formats.render import RenderOptions, render, wav_bytes

    options = RenderOptions()
    bar, step = _progress(console, tune, "rendering")
    with bar:
        audio = render(tune, options, step)
    try:
        sd = output_device()
    except SidlangError as e:
        path = Path(tempfile.gettempdir()) / "sidlang-repl-play.wav"
        write_atomic(path, wav_bytes(audio, options.rate), force=True)
        raise SidlangError(f"cannot play: {e.message}; wrote the audio to {path} instead") from None
    seconds = len(audio) / options.rate
    fps = tune.header.frame_hz
    sd.play(np.ascontiguousarray(audio), options.rate)
    t0 = time.monotonic()
    try:
        with Live(console=console, transient=True, refresh_per_second=20) as live:
            while (elapsed := time.monotonic() - t0) < seconds:
                live.update(
                    f"▶ frame {first_frame + int(elapsed * fps):>6}   {elapsed:6.1f} s of {seconds:.1f} s"
                    "   (Ctrl-C stops)"
                )
                time.sleep(0.05)
    except KeyboardInterrupt:
        console.print("stopped")
    finally:
        sd.stop()


def _ports(fn):
    """``fn()``, with the command line's advice in a MIDI error replaced by the REPL's."""
    try:
        return fn()
    except SidlangError as e:
        reason = e.message.split("; ")[0]
        raise SidlangError(f"{reason}; 'asid FILE.syx' or 'asid FILE.mid' writes a file instead") from None


def asid(console: Console, tune: Tune, target: str | None, force: bool) -> None:
    """ASID to a MIDI port (a name or unique part of one), a ``.syx`` or ``.mid`` file, or,
    without a target, the list of MIDI output ports."""
    from sidlang.formats import asid as asid_format
    from sidlang.formats import asid_midi

    if target is None:
        names = _ports(asid_midi.output_names)
        console.print("\n".join(names) if names else "no MIDI output ports")
        return
    kind = ASID_FILES.get(Path(target).suffix.lower())
    if kind:
        check_output(target, force=force)  # before the encoding
        data = asid_format.encode(tune) if kind == "syx" else asid_midi.write_mid(tune)
        write_atomic(target, data, force=force)  # a file that appeared meanwhile is not replaced
        console.print(f"[green]✓[/] wrote {escape(target)} ({len(data)} bytes, {len(tune.frames)} frames)")
        return
    port = _ports(lambda: asid_midi.open_port(target))
    fps = tune.header.frame_hz
    t0 = time.monotonic()
    try:
        with Live(console=console, transient=True, refresh_per_second=20) as live:

            def sleep(seconds: float) -> None:
                # The pacer sleeps between frames: the moment to show where it is.
                live.update(
                    f"▶ ASID to {port.name}: frame {int((time.monotonic() - t0) * fps):>6} "
                    f"of {len(tune.frames)}   (Ctrl-C stops)"
                )
                time.sleep(min(seconds, 0.05))

            worst = asid_midi.play_live(tune, port, sleep=sleep)
        console.print(
            f"sent {len(tune.frames)} frames to {port.name!r}; worst lateness {worst * 1000:.2f} ms",
            markup=False,
        )
    except KeyboardInterrupt:
        console.print("stopped (gates closed, volume 0)")
    finally:
        port.close()
