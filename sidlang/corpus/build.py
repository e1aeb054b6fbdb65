"""The training corpus: sources -> arranged or loaded Tunes -> token shards on disk.

Sources are the music21 corpus through the arranger (``music21`` in ``--source``), in several
styles so the data sounds like chip music, and any folder of ``.sid``, VICE dumps, register
logs, MIDI or sidlang files, GoatTracker ``.sng`` (played by pygoattracker) and CheeseCutter
``.ct`` (exported by ``ct2util``) -- a user's HVSC copy, or a folder ``corpus gather`` wrote.
Every source item is one *piece* with a *composer* (the music21 corpus folder, the author a
gathered folder's ``sources.json`` names, or else the folder a file lies in); the split is
decided per piece and per composer: a tenth of the composers (by a stable hash) are held out
whole for the test split, the other composers' pieces go 90/5/5 to train/validation/test, so no
piece and no held-out composer leaks into training. Pieces named by ``hold_out`` (file stems,
exact or glob) and the tunes a ``sources.json`` marks ``held_out`` go to test whole, whatever
their hash: the real tunes benchmarks test on are never trained on.

Layout of ``OUT``::

    manifest.json                 tokenizer config, styles, options
    shard-I-of-N/part-00000.npz   tokens (uint16, concatenated), offsets, per-sequence metadata
    shard-I-of-N/done.txt         source items already written (resume skips them)

``--shard i/n`` takes every n-th item, so n processes (or machines) build one corpus between
them; an interrupted build restarts where its last part was written (an interrupt writes what is
finished first). Augmentation: transpositions are stored, for training pieces only
(``transpositions`` extra copies, each shifted by -5..+6 semitones); voice rotation is not stored
(it is a token permutation, :func:`sidlang.model.tokenizer.rotation_map`, applied while training).
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sidlang.corpus.realtunes import ct2util, load_sources
from sidlang.corpus.realtunes import held_out as matches
from sidlang.errors import SidlangError
from sidlang.model.tokenizer import Tokenizer
from sidlang.transforms import transpose
from sidlang.tune import Tune

TUNE_SUFFIXES = (".sid", ".vice", ".dump", ".vice6", ".reglog", ".sidl")
MIDI_SUFFIXES = (".mid", ".midi")
TRACKER_SUFFIXES = {".sng": "sng", ".ct": "ct"}  #: GoatTracker 2 songs, CheeseCutter songs
AUGMENTATION = {
    "transpose": "training pieces get 'transpositions' extra copies, each shifted by a random -5..+6 "
    "semitones (stored in the shards, column 'transpose')",
    "voice_rotation": "not stored: applied while training as a token permutation "
    "(sidlang.model.tokenizer.rotation_map)",
}
META_FIELDS = ("piece", "composer", "split", "style", "transpose")


@dataclass(frozen=True)
class Item:
    """One source piece: ``key`` names it for resuming, ``kind`` says how to read it."""

    key: str
    kind: str  # "music21" | "midi" | "tune" | "sng" | "ct"
    path: str
    composer: str
    held_out: bool = False  #: to the test split whole (a gathered folder's sources.json says so)

    @property
    def stem(self) -> str:
        return Path(self.path).stem


def _hash(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def split_for(composer: str, piece: str, held_out: bool = False) -> str:
    """Held-out pieces and composers go to test whole; the rest split by piece, 90/5/5."""
    if held_out or _hash("composer:" + composer) % 10 == 0:
        return "test"
    h = _hash("piece:" + piece) % 100
    return "val" if h < 5 else "test" if h < 10 else "train"


def music21_items(max_per_composer: int = 0) -> list[Item]:
    """Every score file of music21's core corpus (collections give their first piece)."""
    import music21

    paths = sorted(str(p) for p in music21.corpus.getCorePaths())
    root = Path(music21.corpus.__file__).parent
    items, per = [], {}
    for p in paths:
        rel = Path(p).relative_to(root)
        if rel.suffix == ".rntxt":  # roman-numeral analyses: chords without a texture
            continue
        composer = rel.parts[0]
        per[composer] = per.get(composer, 0) + 1
        if max_per_composer and per[composer] > max_per_composer:
            continue
        items.append(Item(f"music21:{rel.as_posix()}", "music21", p, composer))
    return items


def folder_items(folder: Path) -> list[Item]:
    """Tunes, tracker songs and MIDI files under ``folder``.

    The composer is the author a ``sources.json`` (written by ``corpus gather``) beside or above
    the file names, else the file's parent folder (a musician's folder in HVSC); the tunes that
    ``sources.json`` marks held out are held out.
    """
    paths = sorted(folder.rglob("*"))
    known = {}
    for rec in (p for p in paths if p.name == "sources.json"):
        known |= {(rec.parent / f).resolve(): t for f, t in load_sources(rec.parent).items()}
    items = []
    for p in paths:
        suffix = p.suffix.lower()
        kind = (
            "midi"
            if suffix in MIDI_SUFFIXES
            else "tune"
            if suffix in TUNE_SUFFIXES
            else TRACKER_SUFFIXES.get(suffix)
        )
        if kind is None or not p.is_file():
            continue
        entry = known.get(p.resolve(), {})
        composer = entry.get("composer") or p.parent.name
        items.append(
            Item(
                f"{folder.name}/{p.relative_to(folder).as_posix()}",
                kind,
                str(p),
                composer,
                bool(entry.get("held_out")),
            )
        )
    return items


def parse_hold_out(text: str | list[str] | None) -> list[str]:
    """Hold-out names from ``A,B`` (or a list of such), ``@FILE`` reading one name a line."""
    if not text:
        return []
    names = []
    for part in [text] if isinstance(text, str) else text:
        for name in part.split(","):
            name = name.strip()
            if name.startswith("@"):
                try:
                    lines = Path(name[1:]).read_text().splitlines()
                except OSError as e:
                    raise SidlangError(
                        f"cannot read the hold-out list: {e.strerror}", file=name[1:]
                    ) from None
                names += [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]
            elif name:
                names.append(name)
    return names


def tunes_for(item: Item, styles: list[str], max_frames: int, seconds: float) -> Iterator[tuple[str, Tune]]:
    """``(style, tune)`` for an item: one per style for scores and MIDI, the tune itself else."""
    if item.kind == "tune":
        from sidlang.io import load

        opts = {"seconds": seconds} if item.path.lower().endswith(".sid") else {}
        yield "", _crop(load(item.path, **opts), max_frames)
        return
    if item.kind in TRACKER_SUFFIXES.values():
        from sidlang.corpus.realtunes import read_ct, read_sng

        yield "", _crop((read_sng if item.kind == "sng" else read_ct)(item.path, seconds), max_frames)
        return
    from sidlang.corpus.arranger import arrange
    from sidlang.corpus.sources import first_score, to_midi

    if item.kind == "music21":
        import music21

        source = first_score(music21.converter.parse(item.path), item.key)
    else:
        source = item.path
    pm, title = to_midi(source)
    for style in styles:
        yield style, _crop(arrange(pm, style=style, title=title), max_frames)


def _crop(tune: Tune, max_frames: int) -> Tune:
    if not max_frames or len(tune.frames) <= max_frames:
        return tune
    h = tune.header
    end = h.start_cycle + max_frames * h.frame_cycles
    return Tune(h.replace(frames=0), tune.writes[tune.writes["cycle"] < end])


class ShardWriter:
    """Collects token sequences and writes them as numbered parts; records finished items."""

    def __init__(self, folder: Path, part_size: int) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.done_file = folder / "done.txt"
        self.done = set(self.done_file.read_text().split("\n")) if self.done_file.exists() else set()
        self.part = len(list(folder.glob("part-*.npz")))
        self.part_size = part_size
        self.seqs: list[np.ndarray] = []
        self.meta: list[tuple] = []
        self.keys: list[str] = []

    def add(self, tokens: list[int], meta: tuple) -> None:
        self.seqs.append(np.asarray(tokens, np.uint16))
        self.meta.append(meta)

    def finish_item(self, key: str) -> None:
        self.keys.append(key)
        if len(self.keys) >= self.part_size:
            self.flush()

    def flush(self) -> None:
        if not self.keys:
            return
        if self.seqs:
            lengths = np.array([len(s) for s in self.seqs], np.int64)
            cols = {f: np.array([m[i] for m in self.meta]) for i, f in enumerate(META_FIELDS)}
            tmp = self.folder / f".part-{self.part:05d}.tmp.npz"
            np.savez(tmp, tokens=np.concatenate(self.seqs), offsets=np.r_[0, np.cumsum(lengths)], **cols)
            tmp.replace(self.folder / f"part-{self.part:05d}.npz")
            self.part += 1
        with self.done_file.open("a") as fh:  # only after the part is safely on disk
            fh.write("".join(k + "\n" for k in self.keys))
        self.done.update(self.keys)
        self.seqs, self.meta, self.keys = [], [], []


def build(
    out: Path,
    sources: list[str],
    *,
    styles: list[str] | None = None,
    shard: tuple[int, int] = (0, 1),
    max_per_composer: int = 0,
    max_frames: int = 6000,
    transpositions: int = 1,
    seconds: float = 120.0,
    part_size: int = 20,
    styles_per_piece: int = 0,
    hold_out: list[str] | None = None,
    progress: bool = True,
    log=print,
) -> dict:
    """Build (or resume) shard ``shard`` of the corpus in ``out``; returns counts.

    ``hold_out``: file stems (exact or glob, any case) whose pieces go to the test split whole.
    """
    from sidlang.corpus.arranger import styles as all_styles

    tok = Tokenizer()
    styles = styles or all_styles()
    hold_out = list(hold_out or [])
    items: list[Item] = []
    for s in sources:
        if s == "music21":
            items += music21_items(max_per_composer)
        elif Path(s).is_dir():
            items += folder_items(Path(s))
        else:
            raise SidlangError(f"a source is 'music21' or a folder, got {s!r}")
    items = [
        Item(it.key, it.kind, it.path, it.composer, True)
        if not it.held_out and matches(it.stem, hold_out)
        else it
        for it in items
    ]
    # A stable shuffle: any prefix of a build (an interrupted one, too) mixes composers.
    items.sort(key=lambda it: (_hash(it.key), it.key))
    i, n = shard
    mine = items[i::n]
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.json"
    check_tokenizer(out)  # resuming a corpus of another token form would mix two
    held = sorted(it.key for it in items if it.held_out)
    if manifest.exists():
        _check_hold_out(manifest, hold_out)
    else:
        manifest.write_text(
            json.dumps(
                {
                    "tokenizer": json.loads(tok.config.to_json()),
                    "styles": styles,
                    "sources": sources,
                    "max_frames": max_frames,
                    "seconds": seconds,
                    "transpositions": transpositions,
                    "augmentation": AUGMENTATION,
                    "hold_out": hold_out,
                    "held_out_pieces": held,
                },
                indent=1,
            )
        )
    writer = ShardWriter(out / f"shard-{i}-of-{n}", part_size)
    todo = [it for it in mine if it.key not in writer.done]
    counts = {
        "items": len(mine),
        "skipped_done": len(mine) - len(todo),
        "failed": 0,
        "sequences": 0,
        "tokens": 0,
        "held_out": sum(it.held_out for it in mine),
    }
    if any(it.kind == "ct" for it in todo) and ct2util() is None:
        ct = [it for it in todo if it.kind == "ct"]
        log(
            f"skipped {len(ct)} CheeseCutter .ct song(s): ct2util is not installed (apt-get install cheesecutter)"
        )
        todo = [it for it in todo if it.kind != "ct"]  # not marked done: a later run with ct2util takes them
        counts["skipped_no_tool"] = len(ct)
    rng = np.random.default_rng(i)
    bar = ProgressBar(len(todo), f"shard {i}/{n}") if progress else None
    try:
        for item in todo:
            if bar:
                bar.describe(item.key)
            _build_item(
                item,
                tok,
                writer,
                counts,
                rng,
                styles,
                styles_per_piece,
                max_frames,
                seconds,
                transpositions,
                log,
            )
            writer.finish_item(item.key)
            if bar:
                bar.advance()
    finally:  # an interrupt keeps what is finished: the resume starts after it
        writer.flush()
        if bar:
            bar.close()
    return counts


def _build_item(
    item: Item,
    tok: Tokenizer,
    writer: ShardWriter,
    counts: dict,
    rng,
    styles: list[str],
    styles_per_piece: int,
    max_frames: int,
    seconds: float,
    transpositions: int,
    log,
) -> None:
    split = split_for(item.composer, item.key, item.held_out)
    added = []
    try:
        chosen = styles
        if styles_per_piece and styles_per_piece < len(styles):  # a stable rotation of styles
            first = _hash(item.key) % len(styles)
            chosen = [styles[(first + k) % len(styles)] for k in range(styles_per_piece)]
        for style, tune in tunes_for(item, chosen, max_frames, seconds):
            shifts = [0] + (
                [int(rng.choice([-5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6])) for _ in range(transpositions)]
                if split == "train"
                else []
            )
            for semis in shifts:
                added.append(
                    (tok.encode(transpose(tune, semis)), (item.key, item.composer, split, style, semis))
                )
    except Exception as e:  # a bad source file must not stop a long build (SidlangError or the library's own)
        counts["failed"] += 1
        why = str(e)
        if getattr(e, "file", None) and why.startswith(f"{e.file}:"):  # the key names the file already
            why = why[len(e.file) + 1 :].lstrip(": ")
        log(f"skipped {item.key}: {(why.splitlines() or [type(e).__name__])[0][:160]}")
        return
    for tokens, meta in added:  # all of a piece or none of it
        writer.add(tokens, meta)
        counts["sequences"] += 1
        counts["tokens"] += len(tokens)


def _check_hold_out(manifest: Path, hold_out: list[str]) -> None:
    """Resuming with another hold-out list would put a piece in two splits: refuse it."""
    try:
        before = json.loads(manifest.read_text()).get("hold_out", [])
    except (ValueError, AttributeError):
        raise SidlangError("manifest.json is not a corpus manifest", file=str(manifest)) from None
    if sorted(before) != sorted(hold_out):
        raise SidlangError(
            f"this corpus was built with --hold-out {','.join(before) or '(none)'}; resume it "
            f"with the same list (got {','.join(hold_out) or 'none'}) or build into a new folder",
            file=str(manifest),
        )


class ProgressBar:
    """A rich progress bar on stderr, naming the item at work (nothing shown when rich is missing)."""

    def __init__(self, total: int, label: str) -> None:
        try:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
        except ImportError:
            self.p = None
            return
        self.p = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[item]}", style="dim"),
            console=Console(stderr=True),
            transient=False,
        )
        self.task = self.p.add_task(label, total=total, item="")
        self.p.start()

    def describe(self, item: str) -> None:
        if self.p:
            self.p.update(self.task, item=item[-60:])

    def advance(self) -> None:
        if self.p:
            self.p.advance(self.task)

    def close(self) -> None:
        if self.p:
            self.p.update(self.task, item="")
            self.p.stop()


def check_tokenizer(folder: str | Path) -> None:
    """Refuse a corpus whose manifest names another tokenizer version than this sidlang's."""
    from sidlang.model.tokenizer import TOKENIZER_VERSION

    path = Path(folder) / "manifest.json"
    if not path.exists():
        return
    try:
        version = json.loads(path.read_text())["tokenizer"]["version"]
    except (ValueError, KeyError, TypeError):
        raise SidlangError("manifest.json is not a corpus manifest", file=str(path)) from None
    if version != TOKENIZER_VERSION:
        raise SidlangError(
            f"this corpus was built with tokenizer version {version}, this sidlang uses "
            f"{TOKENIZER_VERSION}: build it again into a new folder",
            file=str(path),
        )


def load_split(folder: str | Path, split: str) -> tuple[list[np.ndarray], list[dict]]:
    """Token sequences of one split from every shard and part in ``folder``, with their metadata."""
    check_tokenizer(folder)
    seqs, metas = [], []
    parts = sorted(Path(folder).glob("shard-*/part-*.npz"))
    if not parts:
        raise SidlangError("no corpus parts found (run 'sidlang corpus build' first)", file=str(folder))
    for p in parts:
        with np.load(p) as z:
            tokens, offsets = z["tokens"], z["offsets"]
            cols = {f: z[f] for f in META_FIELDS}
        for k in np.flatnonzero(cols["split"] == split):
            seqs.append(tokens[offsets[k] : offsets[k + 1]])
            metas.append({f: cols[f][k].item() for f in META_FIELDS})
    return seqs, metas


__all__ = [
    "AUGMENTATION",
    "Item",
    "ProgressBar",
    "build",
    "check_tokenizer",
    "folder_items",
    "load_split",
    "music21_items",
    "parse_hold_out",
    "split_for",
]
