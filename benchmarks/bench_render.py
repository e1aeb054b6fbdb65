"""Speed of ``sidlang render`` against bare pyresidfp, and timing of the live ASID pacer.

Render: the same writes are fed to reSIDfp three ways, in the same run, alternating, best of
``--repeat``:

* **bare** — the floor: a plain loop over Python lists that clocks the low-level ``SID`` by the
  cycles between writes, writes, and collects the samples in a list. No NumPy, no WAV.
* **render** — ``render()`` + ``wav_bytes()``: what the ``wav`` format does.
* **cli** — ``sidlang render IN OUT.wav --force`` in-process, parsing the tune from sidlang text
  and writing the file.

Printed as speed ratios bare / ours (1.0 = as fast as the bare loop; the goal is ≥ 0.9), and as
times real time.

Pacer: a tune that changes every frame at 50 Hz is streamed with ``play_live`` to a fake port
that timestamps each message on ``time.monotonic()``; lateness is the receive time minus the
frame's deadline (first message + lead + n frames). Printed: worst, 99th percentile and mean
in ms, and the drift (lateness of the last frames minus that of the first).

    python benchmarks/bench_render.py [IN] [--seconds 30] [--pace-seconds 30] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from pyresidfp._pyresidfp import SID, ChipModel, SamplingMethod

import sidlang
from sidlang.cli import main
from sidlang.formats import asid_midi
from sidlang.formats.render import RenderOptions, render, wav_bytes
from sidlang.pitch import PAL_FRAME, PAL_HZ
from sidlang.tune import Header, Tune, make_writes

RATE = 44100


def player_like(seconds: float, seed: int = 1) -> Tune:
    """A synthetic tune shaped like a player routine's output: per frame, a burst of about 15
    writes 12–30 cycles apart (frequencies, pulse widths, control, filter cutoff), a new note
    every 6 frames per voice with a gate-off/gate-on retrigger inside the frame."""
    rng = np.random.default_rng(seed)
    frames = int(seconds * PAL_HZ / PAL_FRAME)
    cycles, regs, vals = [], [], []
    for n in range(frames):
        at = n * PAL_FRAME + int(rng.integers(0, 40))
        burst = [(24, 0x1F), (23, 0xF1), (22, int(rng.integers(0, 256)))]
        for v in range(3):
            base = 7 * v
            burst += [
                (base, int(rng.integers(0, 256))),
                (base + 1, int(rng.integers(4, 80))),
                (base + 2, int(rng.integers(0, 256))),
                (base + 3, int(rng.integers(0, 16))),
            ]
            if (n + 2 * v) % 6 == 0:
                wave = (0x10, 0x20, 0x40)[v]
                burst += [(base + 5, 0x09), (base + 6, 0xA8), (base + 4, wave), (base + 4, wave | 1)]
        for reg, val in burst:
            cycles.append(at)
            regs.append(reg)
            vals.append(val)
            at += int(rng.integers(12, 31))
    header = Header(title="player-like", frames=frames)
    return Tune(header, make_writes(cycles, [0] * len(cycles), regs, vals))


def bare(tune: Tune) -> list[int]:
    """The floor: pyresidfp fed straight from Python lists."""
    h = tune.header
    sid = SID(ChipModel.MOS6581, SamplingMethod.RESAMPLE, float(h.clock_hz), float(RATE))
    w = tune.writes
    out: list[int] = []
    now = h.start_cycle
    for cycle, reg, val in zip(w["cycle"].tolist(), w["reg"].tolist(), w["val"].tolist()):
        if cycle > now:
            out.extend(sid.clock(cycle - now))
            now = cycle
        sid.write(reg, val)
    out.extend(sid.clock(tune.end_cycle - now))
    return out


def timed(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_render(tune: Tune, repeat: int) -> None:
    seconds = tune.seconds
    folder = Path(tempfile.mkdtemp(prefix="bench-render-"))
    src, dst = folder / "in.sidl", folder / "out.wav"
    src.write_text(sidlang.dumps(tune))
    runs = {
        "bare": lambda: bare(tune),
        "render": lambda: wav_bytes(render(tune, RenderOptions(rate=RATE)), RATE),
        "cli": lambda: main(["render", str(src), str(dst), "--force"]),
    }
    wall = {name: float("inf") for name in runs}
    cpu = dict(wall)
    for _ in range(repeat):  # alternate, so that machine load hits every variant alike
        for name, fn in runs.items():
            w, c = timed(fn)
            wall[name], cpu[name] = min(wall[name], w), min(cpu[name], c)
    writes = len(tune.writes)
    print(
        f"render: {seconds:.1f} s of audio, {writes} writes, {writes / len(tune.frames):.1f} per frame, "
        f"best of {repeat}"
    )
    for name in runs:
        print(
            f"  {name:<7} wall {wall[name]:7.3f} s ({seconds / wall[name]:5.1f}x real time, "
            f"speed vs bare {wall['bare'] / wall[name]:5.3f})   "
            f"cpu {cpu[name]:7.3f} s (speed vs bare {cpu['bare'] / cpu[name]:5.3f})"
        )


class StampingPort:
    """A stand-in MIDI port that notes when each message arrives."""

    name = "stamping"

    def __init__(self) -> None:
        self.times: list[float] = []
        self.commands: list[int] = []

    def send(self, message) -> None:
        self.times.append(time.monotonic())
        self.commands.append(message.data[1])


def bench_pacer(seconds: float) -> None:
    frames = int(seconds * PAL_HZ / PAL_FRAME)
    # Voice 1's frequency changes every frame, so every frame sends an update.
    n = np.arange(frames)
    cycles = n * PAL_FRAME
    tune = Tune(Header(frames=frames), make_writes(cycles, np.zeros(frames), np.zeros(frames), n % 256))
    port = StampingPort()
    worst_own = asid_midi.play_live(tune, port)
    step = PAL_FRAME / PAL_HZ
    updates = np.array([t for t, c in zip(port.times, port.commands) if c == 0x4E])[:frames]
    deadlines = port.times[0] + asid_midi.LEAD + np.arange(len(updates)) * step
    late = (updates - deadlines) * 1000
    k = max(1, len(late) // 10)
    print(f"pacer: {len(updates)} frames at {1 / step:.2f} Hz over {seconds:.0f} s, fake port timestamps")
    print(
        f"  lateness ms: worst {late.max():.3f}  p99 {np.percentile(late, 99):.3f}  mean {late.mean():.3f}  "
        f"(pacer's own worst {worst_own * 1000:.3f})"
    )
    print(f"  drift: last tenth minus first tenth {late[-k:].mean() - late[:k].mean():+.3f} ms")


def main_() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "input", nargs="?", help="a tune in any format (default: a synthetic player-like tune)"
    )
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the synthetic tune (30)")
    parser.add_argument(
        "--pace-seconds", type=float, default=None, help="pacer run length (default --seconds)"
    )
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tune = sidlang.load(args.input) if args.input else player_like(args.seconds)
    bench_render(tune, args.repeat)
    bench_pacer(args.pace_seconds if args.pace_seconds is not None else args.seconds)


if __name__ == "__main__":
    main_()
