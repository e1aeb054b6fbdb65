"""Training the model on a corpus built by ``sidlang corpus build``: CPU, CUDA, torchrun.

One loop for every setting: random windows of ``block_size + 1`` tokens from the training
split (voice rotation applied as a token permutation per window), AdamW with warm-up and a
cosine schedule, gradient clipping, validation loss and next-token accuracy on a fixed set of
windows every ``eval_every`` steps. On CUDA the forward pass runs in bfloat16 autocast (mixed
precision); under ``torchrun`` every process trains on its own windows and
DistributedDataParallel averages the gradients, and only rank 0 evaluates and writes.

The checkpoint ``OUT/ckpt.safetensors`` is a weights file :func:`sidlang.model.network.load_model`
reads, with the optimizer state beside the weights (keys ``optim.*``) and the step in its
metadata, so ``--resume`` continues exactly and no pickle is ever loaded.
"""

from __future__ import annotations

import json
import math
import os
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from sidlang.errors import SidlangError
from sidlang.model.network import ModelConfig, SidModel, save_model
from sidlang.model.tokenizer import PAD, Tokenizer, rotation_map

PRESETS = {
    "tiny": ModelConfig.tiny(),
    "small": ModelConfig(),
}


@dataclass
class TrainConfig:
    corpus: str
    out: str
    model: ModelConfig = field(default_factory=ModelConfig)
    batch_size: int = 16
    steps: int = 2000
    lr: float = 2e-3
    min_lr: float = 1e-4
    warmup: int = 100
    weight_decay: float = 0.1
    grad_clip: float = 1.0
    eval_every: int = 100
    eval_windows: int = 64
    max_minutes: float = 0.0  #: stop (and save) after this long; 0 = no limit
    seed: int = 0
    threads: int = 0  #: torch CPU threads; 0 leaves torch's default
    resume: bool = False
    init: str = ""  #: start from these weights (fine-tuning; see :func:`init_from`)


def _lr(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    frac = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.min_lr + 0.5 * (cfg.lr - cfg.min_lr) * (1 + math.cos(math.pi * frac))


class Windows:
    """Random ``(B, T+1)`` windows of one split, concatenated piece after piece."""

    def __init__(self, seqs: list[np.ndarray], block: int, vocab: int, rotate: bool) -> None:
        if not seqs:
            raise SidlangError("the corpus split holds no sequences")
        self.data = np.concatenate(seqs).astype(np.int64)
        if len(self.data) <= block + 1:
            pad = np.full(block + 2 - len(self.data), PAD, np.int64)
            self.data = np.concatenate([self.data, pad])
        self.block = block
        self.maps = [rotation_map(k) for k in range(3)] if rotate else [np.arange(vocab)]

    def batch(self, n: int, rng: np.random.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        starts = rng.integers(0, len(self.data) - self.block - 1, size=n)
        rows = np.stack([self.data[s : s + self.block + 1] for s in starts])  # (B, T+1)
        rows = np.stack([self.maps[rng.integers(len(self.maps))][r] for r in rows])
        x, y = torch.from_numpy(rows[:, :-1]), torch.from_numpy(rows[:, 1:].copy())
        y[y == PAD] = -1  # padding is not predicted
        return x, y


@torch.no_grad()
def evaluate(model: SidModel, x: torch.Tensor, y: torch.Tensor, device: str, batch: int = 16) -> dict:
    """Mean loss (nats/token) and next-token accuracy over fixed windows."""
    model.eval()
    total, correct, count = 0.0, 0, 0
    for i in range(0, len(x), batch):
        xb, yb = x[i : i + batch].to(device), y[i : i + batch].to(device)
        logits, loss = model(xb, yb)
        n = int((yb >= 0).sum())
        total += float(loss) * n
        correct += int(((logits.argmax(-1) == yb) & (yb >= 0)).sum())
        count += n
    model.train()
    return {"val_loss": total / max(count, 1), "val_acc": correct / max(count, 1)}


def _ckpt_state(model: SidModel, opt: torch.optim.Optimizer) -> dict[str, torch.Tensor]:
    state = {}
    for i, s in opt.state_dict()["state"].items():
        for k, v in s.items():
            state[f"optim.{i}.{k}"] = v.detach().cpu().reshape(-1) if k == "step" else v.detach().cpu()
    return state


def train(cfg: TrainConfig, log=print) -> dict:
    """Train (or resume) and return the last metrics; writes ``OUT/ckpt.safetensors`` and ``log.jsonl``."""
    from sidlang.corpus.build import load_split

    ddp = "RANK" in os.environ
    if ddp:
        torch.distributed.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    else:
        rank, world = 0, 1
    device = f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu"
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed + rank)
    rng = np.random.default_rng(cfg.seed + rank)
    tok = Tokenizer()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    n_parts = len(_parts(cfg.corpus))
    train_seqs, _ = load_split(cfg.corpus, "train")
    val_seqs, _ = load_split(cfg.corpus, "val")
    mc = cfg.model
    windows = Windows(train_seqs, mc.block_size, tok.vocab_size, rotate=True)
    val = Windows(val_seqs or train_seqs[:1], mc.block_size, tok.vocab_size, rotate=False)
    vx, vy = val.batch(cfg.eval_windows, np.random.default_rng(1234))  # the same windows every time

    model = SidModel(mc).to(device)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
        betas=(0.9, 0.95),
    )
    step = 0
    ckpt = out / "ckpt.safetensors"
    if cfg.resume and ckpt.exists():
        step = _resume(ckpt, model, opt)
        log(f"resumed from {ckpt} at step {step}")
    elif cfg.init:
        log(f"starting from {cfg.init}: " + init_from(model, cfg.init))
    net = torch.nn.parallel.DistributedDataParallel(model) if ddp else model
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.startswith("cuda") else nullcontext()
    info = {
        "params": model.n_params(),
        "train_tokens": int(len(windows.data)),
        "val_tokens": int(len(val.data)),
        "world": world,
        "device": device,
    }
    if rank == 0:
        log(json.dumps(info))
    t0 = time.time()
    metrics: dict = {}
    logf = (out / "log.jsonl").open("a") if rank == 0 else None
    model.train()
    if rank == 0 and step >= cfg.steps and not ckpt.exists():  # nothing to train: the start, measured
        metrics = {"step": step, "minutes": 0.0, **evaluate(model, vx, vy, device)}
        log(json.dumps(metrics))
        _save(ckpt, model, opt, tok, step, cfg, {**info, **metrics})
    while step < cfg.steps:
        for g in opt.param_groups:
            g["lr"] = _lr(cfg, step)
        x, y = windows.batch(cfg.batch_size, rng)
        with amp:
            _, loss = net(x.to(device), y.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        step += 1
        out_of_time = cfg.max_minutes and (time.time() - t0) / 60 >= cfg.max_minutes
        if step % cfg.eval_every == 0 and len(_parts(cfg.corpus)) != n_parts:
            # The corpus grew (a build still running beside training): train on all of it.
            n_parts = len(_parts(cfg.corpus))
            windows = Windows(load_split(cfg.corpus, "train")[0], mc.block_size, tok.vocab_size, rotate=True)
            info["train_tokens"] = int(len(windows.data))
        if rank == 0 and (step % cfg.eval_every == 0 or step == cfg.steps or out_of_time):
            metrics = {
                "step": step,
                "loss": loss.item(),
                "lr": _lr(cfg, step),
                "minutes": round((time.time() - t0) / 60, 2),
                **evaluate(model, vx, vy, device),
            }
            log(json.dumps(metrics))
            logf.write(json.dumps(metrics) + "\n")
            logf.flush()
            _save(ckpt, model, opt, tok, step, cfg, {**info, **metrics})
        if out_of_time:
            break
    if logf:
        logf.close()
    if ddp:
        torch.distributed.destroy_process_group()
    return metrics


def init_from(model: SidModel, path: str | Path) -> str:
    """Load pre-trained weights into ``model`` for fine-tuning; returns what was done, in words.

    The weights may come from an older token form whose vocabulary is a prefix of this one
    (version 2 had no COPY tokens; every other token id is unchanged): their rows are copied
    and each new COPY token starts as the marker of the group it opens. The context length
    is the new model's; rotary positions need no table, so a longer one starts from the same
    weights.
    """
    from safetensors.torch import load_file

    from sidlang.model.tokenizer import COPY_BACK, GROUPS

    state = {k: v for k, v in load_file(str(path)).items() if not k.startswith("optim.")}
    own = model.state_dict()
    old = state["wte.weight"]
    new = own["wte.weight"].clone()
    if old.shape[1] != new.shape[1] or old.shape[0] > new.shape[0]:
        raise SidlangError(
            f"weights of width {old.shape[1]} and {old.shape[0]} tokens do not fit a model of "
            f"width {new.shape[1]} and {new.shape[0]} tokens",
            file=str(path),
        )
    new[: len(old)] = old
    v = Tokenizer().vocab
    if len(old) <= v.copy0:
        for t in range(max(len(old), v.copy0), v.size):
            chip_group = (t - v.copy0) // len(COPY_BACK)
            new[t] = old[v.marker(*divmod(chip_group, len(GROUPS)))] + 0.02 * torch.randn(new.shape[1])
    state["wte.weight"] = new
    state["head.weight"] = new
    missing = set(own) - set(state)
    if missing:
        raise SidlangError(f"weights lack {sorted(missing)[:3]}: another architecture", file=str(path))
    model.load_state_dict({k: state[k] for k in own})
    return f"{len(old)} of {len(new)} token rows pre-trained, context {model.cfg.block_size} tokens"


def _parts(corpus: str) -> list[Path]:
    return sorted(Path(corpus).glob("shard-*/part-*.npz"))


def _save(path: Path, model: SidModel, opt, tok: Tokenizer, step: int, cfg: TrainConfig, info: dict) -> None:
    from safetensors.torch import load_file, save_file

    save_model(
        model, path, tok, {**info, "train_config": {k: v for k, v in asdict(cfg).items() if k != "model"}}
    )
    # Add the optimizer state beside the weights, keeping the metadata save_model wrote.
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata()
    state = {**load_file(str(path)), **_ckpt_state(model, opt)}
    meta["step"] = str(step)
    tmp = path.with_suffix(".tmp")
    save_file(state, str(tmp), metadata=meta)
    tmp.replace(path)


def _resume(path: Path, model: SidModel, opt) -> int:
    from safetensors import safe_open
    from safetensors.torch import load_file

    state = load_file(str(path))
    with safe_open(str(path), framework="pt") as f:
        step = int(f.metadata().get("step", 0))
    weights = {k: v for k, v in state.items() if not k.startswith("optim.")}
    weights["head.weight"] = weights["wte.weight"]
    model.load_state_dict(weights)
    sd = opt.state_dict()
    ids = list(range(sum(len(g["params"]) for g in sd["param_groups"])))
    sd["state"] = {}
    for i in ids:
        keys = {k.split(".", 2)[2]: v for k, v in state.items() if k.startswith(f"optim.{i}.")}
        if keys:
            keys["step"] = keys["step"].reshape(())
            sd["state"][i] = keys
    opt.load_state_dict(sd)
    return step


def export(ckpt: str | Path, dest: str | Path) -> None:
    """The weights alone (no optimizer state), e.g. for bundling inside the package."""
    from sidlang.model.network import load_model

    model, tok, info = load_model(ckpt)
    save_model(model, dest, tok, info)


__all__ = ["PRESETS", "TrainConfig", "evaluate", "export", "train"]
