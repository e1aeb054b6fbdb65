"""The bundled model against its goals, with baselines measured in the same run.

* perplexity on held-out pieces (the corpus' test split) at most 0.7x the best n-gram baseline
  (orders 2-6, fitted on the training split);
* 100% of sampled continuations valid (decoded, printed as sidlang, parsed back identical);
* 500 frames continued after a dense real tune (``--prompt``, default the SID-Wizard export
  ``congabeat``, 25 writes a frame) in at most 2 s on two CPU cores;
* the context: how many frames of each real tune (``--context`` files) the model sees when it
  writes the next frame (goal: at least 400, eight seconds), beside the same count in the token
  form that keeps every write (version 2's, the baseline);
* and, with a corpus, pitch drift: how much of what the voices sound in 300 continued frames
  lies more than an octave outside the range of the 200-frame prompt, beside the same figure
  for the pieces' own next 300 frames (the baseline: real music leaves its range too).

Run: ``python benchmarks/bench_model.py --corpus CORPUS`` (a folder from ``sidlang corpus build``;
without it only the speed and validity goals are measured, on synthetic prompts);
``--speed-only --runs N`` times continuation alone. Speed is the fast decoder against the
model's PyTorch forward on the same seeds, alternating, so both see the same machine load.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time

import numpy as np
import torch

from sidlang.model import network as model_mod
from sidlang.model.evaluate import evaluate
from sidlang.model.fastdecode import FastDecoder
from sidlang.model.network import continue_tune, load_model
from sidlang.registers import VOICE_STRIDE
from sidlang.testing import player_log
from sidlang.text import dumps, parse
from sidlang.transforms import slice_frames

SHARED = (
    __import__("pathlib").Path(__file__).resolve().parents[1] / ".." / "shared" / "testdata" / "sid-wizard"
)
DENSE = SHARED / "sid-exports" / "congabeat.sid"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", help="corpus folder for held-out perplexity and baselines")
    ap.add_argument("--weights", help="weights file (default: bundled)")
    ap.add_argument("--samples", type=int, default=100, help="continuations checked for validity")
    ap.add_argument("--sample-frames", type=int, default=16, help="frames per validity sample")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--runs", type=int, default=3, help="timed 500-frame continuations per decoder (seeds 0…)"
    )
    ap.add_argument(
        "--prompt",
        help="tune to continue for the speed figure (default: congabeat.sid, its first 1000 frames)",
    )
    ap.add_argument(
        "--context",
        nargs="*",
        metavar="FILE",
        help="real tunes whose visible context is measured (default: the SID-Wizard exports)",
    )
    ap.add_argument(
        "--speed-only",
        action="store_true",
        help="skip perplexity, baselines and validity (the slow parts); time continuation only",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    bundle = load_model(args.weights)
    prompt = None
    if args.corpus and not args.speed_only:
        r = evaluate(bundle, args.corpus, samples=0, max_tokens=100_000)
        print(f"held-out tokens {r['tokens']}: model ppl {r['model_ppl']:.3f}, accuracy {r['accuracy']:.3f}")
        print(
            f"  unigram ppl {r['unigram_ppl']:.3f}, repeat-last-bar ppl {r['repeat_ppl']:.3f} "
            f"(bar {r['repeat_bar_frames']} frames), best n-gram ppl {r['ngram_ppl']:.3f} "
            f"(order {r['ngram_order']})"
        )
        print(
            f"  ratio model/n-gram {r['ratio_to_ngram']:.3f}  (goal <= 0.7: "
            f"{'met' if r['ratio_to_ngram'] <= 0.7 else 'NOT met'})"
        )
    if args.prompt or DENSE.exists():
        from sidlang.io import load

        path = args.prompt or str(DENSE)
        tune = load(path, seconds=25) if path.endswith(".sid") else load(path)
        prompt = slice_frames(tune, 0, min(1000, len(tune.frames)))
        print(
            f"prompt: {path}, {len(prompt.frames)} frames, {len(prompt.writes) / len(prompt.frames):.1f} writes a frame"
        )
    prompt = prompt or player_log(200, seed=1)  # without real tunes: a dense synthetic player log
    if not args.speed_only:
        context(bundle, args.context)
        validity(bundle, prompt, args.samples, args.sample_frames)
        if args.corpus:
            drift(bundle, args.corpus)
    speed(bundle, prompt, args.runs)
    return 0


def context(bundle, files: list[str] | None) -> None:
    """Frames of each tune inside the model's context (its last ``block_size`` tokens before the
    middle of the tune), in this token form and in one that keeps every write."""
    from sidlang.io import load
    from sidlang.model.tokenizer import AGAIN, FRAME

    files = files or sorted(str(p) for p in (SHARED / "sid-exports").glob("*.sid"))
    if not files:
        print("context: no tunes to measure")
        return
    net, tok = bundle[0], bundle[1]
    T = net.cfg.block_size
    rows = []
    for f in files:
        tune = load(f, seconds=30) if f.endswith(".sid") else load(f)
        toks = np.array(tok.encode(tune, eos=False))
        mid = len(toks) // 2
        window = toks[max(0, mid - T) : mid]
        seen = int(np.isin(window, (FRAME, AGAIN)).sum())
        every = len(tune.writes) / len(tune.frames)  # one token a write at least, as version 2 had
        rows.append((f.rsplit("/", 1)[-1], len(toks) / len(tune.frames), seen, int(T / (every + 1)), every))
    seen = [r[2] for r in rows]
    for name, per, frames, base, writes in rows:
        print(
            f"  {name:24} {writes:5.1f} writes/frame  {per:5.2f} tokens/frame  {frames:5d} frames in context "
            f"(every write kept: {base})"
        )
    print(
        f"context: median {statistics.median(seen):.0f} frames of a real tune in the model's {T} tokens, "
        f"least {min(seen)} (goal >= 400: {'met' if statistics.median(seen) >= 400 else 'NOT met'} at the median, "
        f"{sum(x >= 400 for x in seen)}/{len(seen)} tunes)"
    )


def sounding_pitches(tune, voices: int = 3) -> np.ndarray:
    """(voices, frames) MIDI pitch of each voice after each frame; NaN where it is silent."""
    state = tune.frames.state(0).astype(np.int64)
    out = np.full((voices, len(state)), np.nan)
    for v in range(voices):
        b = v * VOICE_STRIDE
        freq = state[:, b] | state[:, b + 1] << 8
        on = (state[:, b + 4] & 1 == 1) & (state[:, b + 4] & 0xF0 > 0) & (freq > 0)
        hz = np.maximum(freq, 1) * tune.header.clock_hz / 2**24
        out[v] = np.where(on, 69 + 12 * np.log2(hz / 440.0), np.nan)
    return out


def outside(pitches: np.ndarray, cut: int) -> tuple[float, float]:
    """Share of sounding voice-frames after ``cut`` more than 12 semitones outside the range
    before it, and the furthest out (semitones)."""
    before, after = pitches[:, :cut], pitches[:, cut:]
    after = after[~np.isnan(after)]
    if not after.size or np.isnan(before).all():
        return 0.0, 0.0
    lo, hi = np.nanmin(before), np.nanmax(before)
    far = np.maximum(0, np.maximum(lo - after, after - hi))
    return float((far > 12).mean()), float(far.max())


def drift(bundle, corpus: str, pieces: int = 8, prompt: int = 200, frames: int = 300) -> None:
    from sidlang.corpus.build import load_split

    seqs, metas = load_split(corpus, "test")
    tok = bundle[1]
    model_share, real_share, far_out, n = [], [], 0, 0
    for seq, meta in zip(seqs, metas):
        if n == pieces:
            break
        tune = tok.decode(seq)
        if meta["transpose"] or len(tune.frames) < prompt + frames:
            continue
        n += 1
        real = outside(sounding_pitches(tune)[:, : prompt + frames], prompt)[0]
        for seed in (0, 1):
            out = continue_tune(tune, frames, start=prompt, temperature=0.9, seed=seed, model=bundle)
            share, furthest = outside(sounding_pitches(out), prompt)
            model_share.append(share)
            real_share.append(real)
            far_out += furthest > 24
    if not model_share:
        print("pitch drift: no test piece is long enough")
        return
    m, r = float(np.mean(model_share)), float(np.mean(real_share))
    print(
        f"pitch drift: {100 * m:.1f}% of sounding voice-frames more than an octave outside the prompt's "
        f"range ({len(model_share)} continuations of {frames} frames after {prompt}, temperature 0.9); "
        f"the pieces' own next {frames} frames: {100 * r:.1f}%; continuations going over two octaves "
        f"out: {far_out}/{len(model_share)}"
    )


def validity(bundle, prompt, samples: int, frames: int) -> None:
    valid = 0
    t0 = time.perf_counter()
    for i in range(samples):
        start = 1 + (37 * i) % max(1, len(prompt.frames) - 1)
        out = continue_tune(prompt, frames, start=start, seed=i, model=bundle)
        valid += parse(dumps(out)) == out and len(out.frames) == start + frames
    print(
        f"validity: {valid}/{samples} continuations of {frames} frames valid "
        f"({time.perf_counter() - t0:.1f} s) (goal 100%: {'met' if valid == samples else 'NOT met'})"
    )


def speed(bundle, prompt, runs: int) -> None:
    """500 frames continued per seed by the fast decoder (sidlang.model.fastdecode) and, alternating with it on the same
    seeds, by the model's PyTorch forward (the baseline); the tokens must be the same."""
    tok = bundle[1]
    times: dict[bool, list[float]] = {True: [], False: []}
    tokens, same = [], 0
    # What a process's first continuation adds: the weights rearranged, the compiled step
    # loaded from numba's cache (compiled there on the first run after an install).
    t0 = time.perf_counter()
    dec = FastDecoder(bundle[0])
    build = time.perf_counter() - t0
    dec.step(dec.new_cache(), 0)
    load = time.perf_counter() - t0 - build
    for seed in range(runs):
        outs = {}
        for fast in (True, False):
            with decoder(fast):
                t0 = time.perf_counter()
                outs[fast] = continue_tune(prompt, 500, seed=seed, model=bundle)
                times[fast].append(time.perf_counter() - t0)
        tokens.append(len(tok.encode(outs[True])) - len(tok.encode(prompt)))
        same += outs[True] == outs[False]
    for fast, name in ((False, "PyTorch forward (baseline)"), (True, "fast decoder")):
        t = times[fast]
        best = min(t)
        print(
            f"continue 500 frames, {name}: best {best:.2f} s, median {statistics.median(t):.2f} s of {runs}, "
            f"{tokens[t.index(best)]} tokens, {best / max(tokens[t.index(best)], 1) * 1000:.2f} ms/token"
        )
    best = min(times[True])
    print(
        f"  speed-up {min(times[False]) / best:.2f}x (best), {statistics.median(times[False]) / statistics.median(times[True]):.2f}x "
        f"(median); same tunes for {same}/{runs} seeds; once per process: decoder "
        f"build {build * 1000:.0f} ms, first step {load:.2f} s "
        f"({'the compiled step loaded' if dec.jit else 'NumPy step: no numba'})"
    )
    print(f"  goal <= 2 s: {'met' if best <= 2 else 'NOT met'}, ratio {best / 2:.2f}x")


@contextlib.contextmanager
def decoder(fast: bool):
    """Make ``continue_tune`` generate with the fast decoder or the PyTorch forward."""
    real = model_mod.generate
    model_mod.generate = lambda *a, **k: real(*a, **{**k, "fast": fast})
    try:
        yield
    finally:
        model_mod.generate = real


if __name__ == "__main__":
    sys.exit(main())
