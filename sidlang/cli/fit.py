"""``sidlang fit SOUND.wav OUT.sidl``: SID settings fitted to a recorded sound (analysis by synthesis).

Without ``--tune`` the sound is one note or hit (up to 20 s) and the result one voice's patch,
written as a short sidlang tune that plays it, with the settings in a comment line. With
``--tune`` the sound is music and the result a transcription into up to three voices (what
``sidlang convert song.wav song.sidl`` does, with the options spelt out). docs/fit.md explains
both, and what the loss figures mean.
"""

from __future__ import annotations

import argparse
import sys
import time

from sidlang.errors import FormatError, UsageError
from sidlang.io import check_not_input, check_output, read_bytes, save

EXAMPLES = """\
examples:
  sidlang fit note.wav patch.sidl                 # one voice's settings for one note or hit
  sidlang fit note.wav patch.sidl --chip 8580 --budget 20
  sidlang fit note.wav patch.sidp                 # the patch as a tracker instrument (docs/patterns.md)
  sidlang fit song.wav song.sidl --tune           # transcribe music into three voices
  sidlang fit song.wav song.sidl --tune --voices 2 --seconds 30 --no-drums
  sidlang fit song.wav song.sidl --tune --no-refine   # the analysis alone (faster)

Every candidate patch is rendered by reSIDfp and scored by its sound: log power in semitone
bands and the loudness envelope (a loss of 0.3 is about 3 dB of average error). Settings that
sound alike score alike; the fitter reports the loss of the best and how many renders it took.
"""


def add_parser(sub) -> None:
    p = sub.add_parser(
        "fit",
        help="fit SID settings to a recorded sound: a patch, or a whole tune (--tune)",
        description="Find the SID settings whose reSIDfp render sounds most like a recording: one "
        "voice's patch for a note (default), or a transcription into voices (--tune).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("input", metavar="SOUND.wav", help="the recording (WAV: PCM 8-32 bit or float, any rate)")
    p.add_argument(
        "output",
        metavar="OUT.sidl",
        help="sidlang text to write (any writable tune format; a patch also as .sidp: a tracker instrument)",
    )
    p.add_argument("--chip", type=int, choices=(6581, 8580), default=6581, help="chip model (default 6581)")
    p.add_argument(
        "--voices",
        type=int,
        default=None,
        metavar="N",
        help="voices: 1 for a patch (the only choice), 1-3 with --tune (default 3)",
    )
    p.add_argument("--tune", action="store_true", help="transcribe music instead of fitting one patch")
    p.add_argument("--seconds", type=float, metavar="S", help="with --tune: transcribe the first S seconds")
    p.add_argument("--no-drums", dest="drums", action="store_false", help="with --tune: no noise drums")
    p.add_argument(
        "--no-refine",
        dest="refine",
        action="store_false",
        help="with --tune: the analysis alone, without the frame-by-frame refinement against the render",
    )
    p.add_argument(
        "--budget", type=float, default=9.0, metavar="S", help="patch: seconds of search (default 9)"
    )
    p.add_argument("--renders", type=int, default=400, metavar="N", help="patch: most renders (default 400)")
    p.add_argument("-f", "--force", action="store_true", help="replace OUT if it exists")
    p.set_defaults(run=run)


def _progress(what: str):
    if not sys.stderr.isatty():
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    bar = Progress(
        f"[bold]{what}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True, console=None
    )
    task = bar.add_task(what, total=1)
    bar.start()

    def show(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)
        if done >= total:
            bar.stop()

    show.stop = bar.stop  # type: ignore[attr-defined]
    return show


def run(args: argparse.Namespace) -> int:
    from sidlang.formats.wavread import read_audio

    if args.budget <= 0 or args.budget > 600 or not args.budget == args.budget:
        raise UsageError(f"--budget must be over 0 and at most 600 seconds, got {args.budget}")
    if args.renders < 1:
        raise UsageError(f"--renders must be at least 1, got {args.renders}")
    if not args.tune:
        if args.voices not in (None, 1):
            raise UsageError("a patch is one voice (--voices 1); transcribe music into more with --tune")
        if args.seconds is not None or not args.drums or not args.refine:
            raise UsageError("--seconds, --no-drums and --no-refine are for --tune")
    check_not_input(args.input, args.output)
    check_output(args.output, force=args.force)
    audio = read_audio(read_bytes(args.input), args.input)
    if args.tune:
        return _transcribe(args, audio)
    from sidlang.fit.patch import patch_text
    from sidlang.fit.search import fit_patch
    from sidlang.formats import for_path

    progress = _progress("fitting")
    try:
        result = fit_patch(
            audio.samples,
            audio.rate,
            model=args.chip,
            budget=args.renders,
            seconds=args.budget,
            progress=progress,
        )
    except FormatError as e:  # the sound itself (silent, too short): name the file it came from
        e.file = e.file or args.input
        raise
    finally:
        if progress is not None:
            progress.stop()
    notes = [
        f"fitted to {args.input}: loss {result.loss:.3f} after {result.renders} renders in "
        f"{result.seconds:.1f} s",
        f"{result.lead_frames} frames of leading silence left out",
    ]
    fmt = for_path(args.output)
    if fmt.name == "sidl":
        from sidlang.io import write_atomic

        write_atomic(
            args.output,
            patch_text(result.patch, result.frames, model=args.chip, notes=notes).encode(),
            force=args.force,
        )
    elif fmt.name == "sidp":  # the patch as a tracker instrument, playing its note once
        from sidlang.fit.patchsong import patch_song
        from sidlang.io import write_atomic
        from sidlang.patterns.dump import dump

        song = patch_song(result.patch, result.frames, model=args.chip)
        write_atomic(args.output, dump(song).encode(), force=args.force)
    else:
        from sidlang.fit.synth import frames_to_tune

        save(
            frames_to_tune(result.patch.frames(result.frames), model=args.chip), args.output, force=args.force
        )
    print(f"patch: {result.patch.describe()}", file=sys.stderr)
    print(
        f"loss {result.loss:.3f} (about {10 * result.loss:.1f} dB average error) after {result.renders} "
        f"renders in {result.seconds:.1f} s",
        file=sys.stderr,
    )
    return 0


def _transcribe(args: argparse.Namespace, audio) -> int:
    from sidlang.fit.transcribe import TranscribeOptions, transcribe

    opts = TranscribeOptions.from_options(
        {
            "voices": args.voices,
            "seconds": args.seconds,
            "chip": args.chip,
            "drums": args.drums,
            "refine": args.refine,
        }
    )
    progress = _progress("transcribing")
    t0 = time.perf_counter()
    try:
        tune = transcribe(
            audio.samples,
            audio.rate,
            opts,
            file=args.input,
            progress=progress,
            meta={"truncated": audio.truncated},
        )
    finally:
        if progress is not None:
            progress.stop()
    save(tune, args.output, force=args.force)
    print(
        f"{tune.meta.get('notes', 0)} notes, {tune.meta.get('drums', 0)} drum hits in "
        f"{tune.header.frames} frames ({time.perf_counter() - t0:.1f} s)"
        + (f"; {tune.meta['refined']}" if "refined" in tune.meta else ""),
        file=sys.stderr,
    )
    return 0
