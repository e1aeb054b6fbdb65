"""Audio to SID registers: transcriptions of SID renders, and single notes fitted back.

**Transcription round trip** (the easy case that tells how good the fitter is, since an exact
answer exists): each tune (default: the SID-Wizard exports in ``../shared/testdata``) is played
by the 6502 emulation for ``--seconds``, rendered by reSIDfp, transcribed back into three voices
(``sidlang.fit.transcribe``), and the transcription rendered again with the tune's chip model.
The figure is the band correlation of the two renders (``sidlang.c64.compare``: log power in
semitone bands, 110 Hz-14 kHz) at lag 0, beside the **baseline** measured in the same run: the
same pitch tracking with every note a fixed pulse patch at full level (``timbre=False``). The
transcription is scored twice, as the draft (analysis alone) and after the frame-by-frame
refinement against the render (``sidlang.fit.refine``, what ``transcribe`` does by default), on
the renderer's 16-bit scale and on the +-1 scale. Goal: median at least 0.9. Speed: seconds of
transcription (refinement included) per second of audio (goal: 30 s of audio in under 60 s, a
ratio under 2).

**Single notes**: patches of each kind (pulse, saw, triangle with vibrato, filtered pulse with
sweeps, noise) are rendered and fitted back (``sidlang.fit.search.fit_patch``); the figure is
the band correlation of the fitted patch's render with the target's, beside the baseline of the
fitter's first guess from analysis alone (pitch and envelope, before any search). Goal: at
least 0.95; time per fit under 10 s.

``--audio`` adds real non-SID audio where the tools exist on this machine (``espeak-ng`` speech,
``fluidsynth`` with a General MIDI soundfont for a MIDI file): transcribed, rendered, and scored
against the recording the same way.

    python benchmarks/bench_fit.py [TUNE.sid ...] [--seconds 20] [--notes-only] [--tunes-only] [--audio]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import sidlang
from sidlang.c64.compare import score_at
from sidlang.fit.features import to_rate
from sidlang.fit.patch import Patch
from sidlang.fit.refine import refine
from sidlang.fit.search import fit_patch, guess
from sidlang.fit.synth import render_frames
from sidlang.fit.transcribe import TranscribeOptions, transcribe
from sidlang.formats.render import RenderOptions, render
from sidlang.formats.wavread import read_audio
from sidlang.pitch import PAL_HZ, note_to_reg

EXPORTS = Path(__file__).resolve().parents[1] / ".." / "shared" / "testdata" / "sid-wizard" / "sid-exports"
RATE = 44100

NOTES = {
    "pulse pluck": Patch(
        wave="pulse", pw=0x400, a=0, d=9, s=0, r=0, gate=40, freq=note_to_reg(60, 0, PAL_HZ)
    ),
    "saw lead": Patch(wave="saw", a=1, d=8, s=6, r=5, gate=30, freq=note_to_reg(65, 0, PAL_HZ)),
    "filtered pulse": Patch(
        wave="pulse",
        pw=0x300,
        pw_sweep=20,
        a=0,
        d=6,
        s=10,
        r=8,
        gate=40,
        freq=note_to_reg(50, 0, PAL_HZ),
        mode="lp",
        cut=0x300,
        res=8,
        cut_sweep=6,
    ),
    "triangle vibrato": Patch(
        wave="tri", a=2, d=4, s=12, r=6, gate=35, freq=note_to_reg(72, 0, PAL_HZ), vib_depth=60, vib_period=8
    ),
    "noise hit": Patch(wave="noise", a=0, d=7, s=0, r=0, gate=5, freq=0x3000),
}


def mono(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return (x.mean(axis=1) if x.ndim == 2 else x) / 32768


def score16(ours: np.ndarray, ref: np.ndarray, rate: int = RATE) -> float:
    """Band correlation at lag 0 of two +-1 signals on the renderer's 16-bit scale, as bench_sid
    and the reference tests score (band power's 1e-3 floor hides quiet bands on a +-1 scale)."""
    return score_at(ours * 32768, ref * 32768, rate)


def scores(t, x: np.ndarray, chip: int) -> tuple[float, float]:
    """(16-bit, +-1) band correlation of tune ``t``'s render with the recording ``x``."""
    y = mono(render(t, RenderOptions(rate=RATE, chip=chip)))
    return score16(y, x), score_at(y, x, RATE)


def bench_tunes(paths: list[Path], seconds: float) -> None:
    print(
        f"transcription round trip, {seconds:.0f} s each: band correlation at lag 0 before and after the "
        "frame-by-frame refinement (baseline: pitch tracking alone, fixed pulse patch)"
    )
    print(
        f"{'tune':20s} {'draft':>6s} {'refined':>8s} {'baseline':>9s} {'ratio':>6s} {'s/s':>6s} {'notes':>6s} "
        f"{'draft+-1':>9s} {'refined+-1':>11s} {'renders':>8s}"
    )
    cols: dict[str, list[float]] = {k: [] for k in ("draft", "refined", "base", "speed", "d1", "r1")}
    for path in paths:
        # a .sid is played for `seconds`; a register log (a GoatTracker song's .sidl) is cut there
        played = path.suffix.lower() in (".sid", ".sng", ".swm")
        tune = sidlang.load(path, seconds=seconds) if played else sidlang.load(path)
        chip = tune.header.models[0]
        x = mono(render(tune, RenderOptions(rate=RATE, seconds=seconds)))

        t0 = time.perf_counter()
        d, draft = transcribe(
            x, RATE, TranscribeOptions(chip=chip, refine=False), draft_out=lambda d, t: (d, t)
        )
        said = refine(d)  # what transcribe does next with refine=True (its default)
        took = time.perf_counter() - t0
        refined = d.tune()
        base = transcribe(x, RATE, TranscribeOptions(chip=chip, timbre=False))
        (d16, d1), (r16, r1), (b16, _) = (
            scores(draft, x, chip),
            scores(refined, x, chip),
            scores(base, x, chip),
        )
        for k, v in zip(cols, (d16, r16, b16, took / seconds, d1, r1)):
            cols[k].append(v)
        print(
            f"{path.stem[:20]:20s} {d16:6.3f} {r16:8.3f} {b16:9.3f} {r16 / b16:6.2f} {took / seconds:6.3f} "
            f"{draft.meta.get('notes', 0):6d} {d1:9.3f} {r1:11.3f} {said['renders']:8d}",
            flush=True,
        )
    if paths:
        m = {k: statistics.median(v) for k, v in cols.items()}
        print(
            f"{'median':20s} {m['draft']:6.3f} {m['refined']:8.3f} {m['base']:9.3f} {m['refined'] / m['base']:6.2f} "
            f"{m['speed']:6.3f}        {m['d1']:9.3f} {m['r1']:11.3f}   goal: median >= 0.9; s/s < 2"
        )
        print(
            f"{'range':20s} {min(cols['refined']):.3f}-{max(cols['refined']):.3f} (refined, 16-bit); "
            f"{min(cols['r1']):.3f}-{max(cols['r1']):.3f} (refined, +-1); s/s up to {max(cols['speed']):.3f}"
        )


def bench_notes() -> None:
    print("\nsingle notes fitted back: band correlation of the fitted render (baseline: the first guess)")
    print(
        f"{'note':18s} {'sidlang':>8s} {'baseline':>9s} {'loss':>6s} {'renders':>8s} {'seconds':>8s} {'+-1 scale':>10s}"
    )
    scores = []
    for name, patch in NOTES.items():
        n = 60
        x = render_frames(patch.frames(n), rate=RATE)
        result = fit_patch(x, RATE)
        y = render_frames(result.patch.frames(n), rate=RATE)
        first = guess(to_rate(x, RATE))  # the analysis alone: pitch and envelope, no search
        g = render_frames(first.frames(n), rate=RATE)
        s, b = score16(y, x), score16(g, x)
        scores.append(s)
        print(
            f"{name:18s} {s:8.3f} {b:9.3f} {result.loss:6.3f} {result.renders:8d} {result.seconds:8.1f} "
            f"{score_at(y, x, RATE):10.3f}",
            flush=True,
        )
    print(f"{'median':18s} {statistics.median(scores):8.3f}   goal: >= 0.95, under 10 s each")


def bench_audio(seconds: float) -> None:
    print("\nreal non-SID audio, transcribed and rendered: band correlation against the recording")
    with tempfile.TemporaryDirectory() as tmp:
        cases = []
        if shutil.which("espeak-ng"):
            wav = Path(tmp) / "speech.wav"
            subprocess.run(
                ["espeak-ng", "-w", str(wav), "Commodore sixty four sound interface device"], check=True
            )
            cases.append(("espeak-ng speech", wav))
        else:
            print("  espeak-ng not installed: speech skipped (apt-get install espeak-ng)")
        font = (
            next(iter(Path("/usr/share/sounds/sf2").glob("*.sf2")), None)
            if Path("/usr/share/sounds/sf2").is_dir()
            else None
        )
        if shutil.which("fluidsynth") and font:
            mid = Path(tmp) / "scale.mid"
            import mido

            song = mido.MidiFile()
            track = mido.MidiTrack()
            song.tracks.append(track)
            for note in [60, 62, 64, 65, 67, 69, 71, 72]:
                track.append(mido.Message("note_on", note=note, velocity=100, time=0))
                track.append(mido.Message("note_off", note=note, velocity=0, time=240))
            song.save(mid)
            wav = Path(tmp) / "scale.wav"
            subprocess.run(
                ["fluidsynth", "-ni", "-F", str(wav), "-r", str(RATE), str(font), str(mid)],
                check=True,
                capture_output=True,
            )
            cases.append(("fluidsynth GM scale", wav))
        else:
            print(
                "  fluidsynth or a GM soundfont not installed: MIDI skipped (apt-get install fluidsynth fluid-soundfont-gm)"
            )
        for name, wav in cases:
            audio = read_audio(wav.read_bytes())
            got = transcribe(audio.samples, audio.rate, TranscribeOptions(seconds=seconds))
            y = mono(render(got, RenderOptions(rate=audio.rate)))
            ref = audio.samples[: len(y)]
            print(
                f"  {name:22s} {score16(y, ref, audio.rate):.3f} "
                f"(+-1 scale {score_at(y, ref, audio.rate):.3f}; {got.meta.get('notes', 0)} notes)"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tunes", nargs="*", type=Path)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--notes-only", action="store_true")
    ap.add_argument("--tunes-only", action="store_true")
    ap.add_argument("--audio", action="store_true")
    args = ap.parse_args()
    if not args.notes_only:
        # a bare name is an export's: congabeat for ../shared/testdata/sid-wizard/sid-exports/congabeat.sid
        paths = [t if t.exists() else EXPORTS / f"{t}.sid" for t in args.tunes] or sorted(
            EXPORTS.glob("*.sid")
        )
        bench_tunes(paths, args.seconds)
    if not args.tunes_only:
        bench_notes()
    if args.audio:
        bench_audio(args.seconds)


if __name__ == "__main__":
    main()
