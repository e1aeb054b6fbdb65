"""``sidlang train CORPUS OUT``: train a model on a built corpus (CPU, CUDA, torchrun)."""

from __future__ import annotations

import argparse
from dataclasses import replace

from sidlang.errors import needs_model_extra


def add_parser(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train a model on a corpus",
        description="Train the model on a corpus made by 'sidlang corpus build'. Uses CUDA with "
        "mixed precision where present, else the CPU; run under torchrun for several GPUs. "
        "OUT/ckpt.safetensors is written at every evaluation and is itself a weights file "
        "('sidlang continue --weights', 'sidlang eval --weights'); --resume continues it.",
        epilog="examples:\n  sidlang train data/corpus runs/tiny --preset tiny --steps 200\n"
        "  torchrun --nproc-per-node 4 -m sidlang.cli train data/corpus runs/big --steps 20000",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("corpus", metavar="CORPUS", help="corpus folder")
    p.add_argument("out", metavar="OUT", help="run folder for the checkpoint and log.jsonl")
    p.add_argument("--preset", choices=("tiny", "small"), default="small", help="model size (default small)")
    p.add_argument("--block-size", type=int, metavar="T", help="context length in tokens")
    p.add_argument("--layers", type=int, metavar="N")
    p.add_argument("--heads", type=int, metavar="N")
    p.add_argument("--embd", type=int, metavar="C", help="model width")
    p.add_argument(
        "--local-window",
        type=int,
        metavar="W",
        help="layers but the last --global-layers attend "
        "to the W tokens before each token only (cheaper long contexts)",
    )
    p.add_argument(
        "--global-layers", type=int, metavar="N", help="layers that see the whole context (default 1)"
    )
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--eval-windows", type=int, default=64, metavar="N", help="validation windows (fixed)")
    p.add_argument("--max-minutes", type=float, default=0.0, help="stop and save after this long")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resume", action="store_true", help="continue OUT/ckpt.safetensors")
    p.add_argument(
        "--init",
        metavar="WEIGHTS",
        help="fine-tune: start from these weights (their layers, "
        "heads and width; the context is --block-size or theirs); an older token form's "
        "weights are grown to this vocabulary",
    )
    p.add_argument("--export", metavar="PATH", help="afterwards, write the weights alone to PATH")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    with needs_model_extra("training"):
        from sidlang.model.train import PRESETS, TrainConfig, export, train
    from pathlib import Path

    from sidlang.errors import SidlangError

    if not any(Path(args.corpus).glob("shard-*/part-*.npz")):  # before OUT is made
        raise SidlangError("no corpus parts found (run 'sidlang corpus build' first)", file=args.corpus)
    model = PRESETS[args.preset]
    if args.init:
        model = _sizes_of(args.init, model)
    sizes = {
        "block_size": args.block_size,
        "n_layer": args.layers,
        "n_head": args.heads,
        "n_embd": args.embd,
        "local_window": args.local_window,
        "n_global": args.global_layers,
    }
    model = replace(model, **{k: v for k, v in sizes.items() if v})
    cfg = TrainConfig(
        corpus=args.corpus,
        out=args.out,
        model=model,
        batch_size=args.batch_size,
        steps=args.steps,
        lr=args.lr,
        warmup=args.warmup,
        eval_every=args.eval_every,
        eval_windows=args.eval_windows,
        max_minutes=args.max_minutes,
        threads=args.threads,
        seed=args.seed,
        resume=args.resume,
        init=args.init or "",
    )
    train(cfg)
    if args.export:
        export(f"{args.out}/ckpt.safetensors", args.export)
    return 0


def _sizes_of(path: str, model):
    """The preset with the layers, heads, width and context of the weights file ``path``."""
    import json

    from sidlang.cli.weights import weights_metadata
    from sidlang.errors import SidlangError

    try:
        cfg = json.loads(weights_metadata(path)["model_config"])
    except (ValueError, TypeError):
        raise SidlangError(
            "not a sidlang weights file (its model settings are not JSON)", file=path
        ) from None
    if not isinstance(cfg, dict):
        raise SidlangError("not a sidlang weights file (its model settings are not a table)", file=path)
    keys = ("n_layer", "n_head", "n_embd", "block_size")
    return replace(model, **{k: cfg[k] for k in keys if k in cfg})
