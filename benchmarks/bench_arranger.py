"""How well the arranger keeps the music, over pieces of music21's bundled corpus.

For each piece (Bach chorales, single-tune ABC folk songs from Ryan's Mammoth Collection, and
the other composers' scores, interleaved so ``--limit`` takes a mix):

* **melody kept**: share of the notes of the score's melody part (the part named Soprano, else
  the first part; its skyline, quantized to frames) that the arranged tune plays on its melody
  voice at the same pitch within one frame. Goal: at least 95%.
* **pitch-class similarity**: cosine of the duration-weighted pitch-class histograms of the
  score (every note) and of the tune (every gated, pitched frame of every voice).
* **speed**: pieces per second for ``arrange(score)`` (music21's MIDI translation included,
  parsing the score file not), and for the arranger's own part (quantize, plan, play).

Baseline, measured in the same run with the same player: **first three parts**, each part's
top line on its own voice and everything else dropped (what a plain MIDI-to-3-voice converter
does). Printed as means and as the arranger's gain over it.

    python benchmarks/bench_arranger.py [--limit 300] [--style classic] [--verbose]
"""

from __future__ import annotations

import argparse
import itertools
import time
import warnings
from pathlib import Path

import music21
import numpy as np

from sidlang.corpus import arranger
from sidlang.corpus.measure import (
    cosine,
    melody_kept,
    pitch_class_histogram,
    reference_melody,
    tune_pitch_classes,
)
from sidlang.corpus.player import play
from sidlang.corpus.sources import first_score, score_to_midi
from sidlang.corpus.styles import load_style
from sidlang.tune import Header


def pieces(limit: int, max_bytes: int = 40_000) -> list[Path]:
    """Corpus files, three collections interleaved: chorales, folk tunes, everything else."""
    root = Path(music21.__file__).parent / "corpus"
    chorales = sorted(p for p in (root / "bach").glob("bwv*") if p.suffix in (".mxl", ".xml"))
    folk = sorted((root / "ryansMammoth").glob("*.abc"))
    # music21's MIDI translation takes minutes for a whole string quartet; the size cap keeps
    # the mix to songs, madrigals and movements of a few pages
    other = sorted(
        p
        for p in root.rglob("*")
        if p.suffix in (".mxl", ".xml", ".krn", ".musicxml")
        and "bach" not in p.parts
        and p.stat().st_size <= max_bytes
    )
    mixed = [p for trio in itertools.zip_longest(chorales, folk, other) for p in trio if p is not None]
    return mixed[:limit]


def collection(path: Path) -> str:
    parts = path.parts
    return parts[parts.index("corpus") + 1]


def measure(path: Path, style_name: str) -> dict:
    style = load_style(style_name)
    score = first_score(music21.converter.parse(path), str(path))
    header = Header(gap=8)
    t0 = time.perf_counter()
    pm = score_to_midi(score)
    t1 = time.perf_counter()
    parts, hits, names = arranger.quantize(pm, header.frame_hz)
    plan = arranger.plan(parts, hits, style, names=names)
    tune = play(plan.voices, style, header)
    t2 = time.perf_counter()
    naive = arranger.plan(parts[:3], hits, style, voices="keep", names=names[:3])
    base = play(naive.voices, style, header)
    ref = reference_melody(score, header.frame_hz)
    source = pitch_class_histogram(q for p in parts for q in p)
    return {
        "collection": collection(path),
        "kept": melody_kept(ref, tune, plan.roles.get("melody", style.melody.voice), style.melody.transpose),
        "kept_base": melody_kept(
            ref, base, naive.roles.get("melody", style.melody.voice), style.melody.transpose
        ),
        "pcs": cosine(source, tune_pitch_classes(tune)),
        "pcs_base": cosine(source, tune_pitch_classes(base)),
        "parts": len(parts),
        "seconds_all": t2 - t0,
        "seconds_own": t2 - t1,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--limit", type=int, default=300, help="number of pieces (default 300)")
    ap.add_argument("--style", default="classic")
    ap.add_argument("--max-kb", type=int, default=40, help="skip other scores larger than this (default 40)")
    ap.add_argument("--verbose", action="store_true", help="one line per piece")
    args = ap.parse_args()
    warnings.simplefilter("ignore")  # music21 and pretty_midi warn about many corpus files
    rows, failed = [], []
    for path in pieces(args.limit, args.max_kb * 1000):
        try:
            row = measure(path, args.style)
        except Exception as e:  # a benchmark reports failures instead of stopping
            failed.append((path.name, f"{type(e).__name__}: {e}"[:120]))
            continue
        rows.append(row)
        if args.verbose:
            print(
                f"{path.name:40s} parts={row['parts']:2d} kept={row['kept']:.3f} "
                f"pcs={row['pcs']:.3f} ({row['seconds_all']:.2f} s)"
            )
    if not rows:
        raise SystemExit("no piece could be measured")

    def mean(key, sel=rows):
        return float(np.mean([r[key] for r in sel]))

    print(f"pieces: {len(rows)} measured, {len(failed)} failed; style {args.style}")
    print(
        f"{'collection':16s} {'n':>4s} {'melody kept':>12s} {'(baseline)':>11s} {'pc cosine':>10s} {'(baseline)':>11s}"
    )
    groups = sorted({r["collection"] for r in rows})
    for g in [*groups, "all"]:
        sel = rows if g == "all" else [r for r in rows if r["collection"] == g]
        print(
            f"{g:16s} {len(sel):4d} {mean('kept', sel):12.3f} {mean('kept_base', sel):11.3f} "
            f"{mean('pcs', sel):10.3f} {mean('pcs_base', sel):11.3f}"
        )
    good = sum(r["kept"] >= 0.95 for r in rows) / len(rows)
    print(f"melody kept: mean {mean('kept'):.3f} (goal >= 0.95), pieces at >= 95%: {good:.1%}")
    print(
        f"pitch-class similarity: mean {mean('pcs'):.3f}, first-three-parts baseline {mean('pcs_base'):.3f} "
        f"(ratio {mean('pcs') / mean('pcs_base'):.3f})"
    )
    total_all = sum(r["seconds_all"] for r in rows)
    total_own = sum(r["seconds_own"] for r in rows)
    print(
        f"speed: {len(rows) / total_all:.2f} pieces/s with music21's MIDI translation, "
        f"{len(rows) / total_own:.2f} pieces/s for the arranger itself"
    )
    for name, why in failed[:10]:
        print(f"failed: {name}: {why}")


if __name__ == "__main__":
    main()
