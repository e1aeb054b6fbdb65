"""Openly licensed real C64 tunes, gathered into one folder with their sources and licences.

``sidlang corpus gather OUT`` writes::

    OUT/sid-wizard/NAME.sid      SID-Wizard 1.9's example exports, copied as they are (WTFPL)
    OUT/cheesecutter/NAME.sid    CheeseCutter's example songs, exported by ``ct2util sid`` (GPL-2+)
    OUT/goattracker/NAME.sidl    GoatTracker 2's example songs played by pygoattracker (GPL-2+)
    OUT/sources.json             every tune: origin, author, licence, frames, held out or not
    OUT/SOURCES.md               the same for people
    OUT/held-out.txt             HELD_OUT, one stem a line (for ``corpus build --hold-out @FILE``)

Every output is written whole (temporary file, then rename) and an existing one is kept, so a
second run only does what the first left undone; ``sources.json`` remembers what was measured.

The three readers (:func:`read_sng`, :func:`read_ct`, and ``.sid`` through :func:`sidlang.io.load`)
are also what ``corpus build`` uses for ``.sng`` and ``.ct`` files in a source folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import numpy as np

from sidlang.errors import FormatError, SidlangError, UsageError, first_line
from sidlang.io import load, save, write_atomic
from sidlang.tune import Header, Tune, make_writes

#: Real tunes kept out of training, by song: the benchmarks test on these, so they must be
#: tunes the model has never been trained on. Held out by song (not by composer or by source)
#: so that each tracker's sound is still learned from its other songs. Stems of the files
#: ``gather`` writes (which are the stems of the originals).
HELD_OUT = (
    # SID-Wizard
    "congabeat",
    "glacialblues",
    "kicksamule",
    "oakyardmemo",
    "versenyvagym",
    "cloudlessr",
    # CheeseCutter
    "scarzix-visualbrothers",
    "abaddon-swingcat",
    "wisdom-Adrift",
    "tempest-soyoudied",
    # GoatTracker
    "consultant",
    "dojo",
)

#: GoatTracker's example songs that test a feature rather than make music: set aside.
NOT_MUSIC = ("2xtest", "funktest", "tempo2test", "wavecmdtest")

GOAT_WRITE_GAP = 9  #: cycles between the register writes of one frame in a played .sng
DEFAULT_SECONDS = 180.0

_SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "testdata"  # beside the checkout


@dataclass(frozen=True)
class Source:
    """One origin of real tunes: where they come from and under which licence."""

    name: str  #: the sub-folder of OUT
    title: str
    default_dir: Path
    origin: str
    licence: str
    licence_text: str  #: where the licence is stated, and what it covers


SOURCES = (
    Source(
        "sid-wizard",
        "SID-Wizard 1.9 example exports",
        _SHARED / "sid-wizard" / "sid-exports",
        "SID-Wizard 1.9 (repository anarkiwi/sid-wizard, commit a6174849, native/examples/): "
        "PSID/RSID files SID-Wizard exported with its own 6502 player; copied unchanged",
        "WTFPL",
        'SID-Wizard declares itself WTF-licensed in native/README.txt ("do what you want with it"); '
        "the example songs ship in the same folder under that statement.",
    ),
    Source(
        "cheesecutter",
        "CheeseCutter 2 example songs",
        Path("/usr/share/doc/cheesecutter/examples"),
        "Debian package cheesecutter, /usr/share/doc/cheesecutter/examples/*.ct, exported to PSID "
        "with 'ct2util sid' (the .sid holds CheeseCutter's player, under the same licence)",
        "GPL-2.0-or-later",
        "/usr/share/doc/cheesecutter/copyright: 'Files: *' (which covers the examples), "
        "Copyright 2009-2021 Timo Taipalus, License GPL-2+ (GNU General Public License, "
        "version 2 or any later version).",
    ),
    Source(
        "goattracker",
        "GoatTracker 2 example songs",
        Path("/usr/share/doc/goattracker/examples"),
        "Debian package goattracker, /usr/share/doc/goattracker/examples/*.sng, played to per-frame "
        "SID register writes by pygoattracker (a Python transcription of GoatTracker's playroutine) "
        "and saved as sidlang text",
        "GPL-2.0-or-later",
        "/usr/share/doc/goattracker/copyright: 'Files: *' (which covers the examples), "
        "Copyright 1998-2021 Lasse Öörni, 2007-2009 Antti S. Lankila, Téli Sándor, "
        "License GPL-2-or-later.",
    ),
)

#: Authors the files do not name, or name in several spellings (from the title, or the file name).
AUTHORS = {
    "euphoria": "Toggle",
    "glacialblues": "Toggle",
    "kicksamule": "Toggle",
    "oakyardmemo": "Toggle",
    "kerekesintro": "Chabee",
    "rain8580": "Adam/Onslaught",
    "vn-waiting": "Vincenzo",
    "childhood-2SID": "Gaetano Chiummo",
    "newwave-3SID": "Gaetano Chiummo",
    "ramos-3SID": "Gaetano Chiummo",
    "techno-3SID": "Gaetano Chiummo",
    "drvector-ftrcrck": "Dr. Vector",
}
_TITLE_PREFIX = re.compile(r"^(TOGGLE\s{2,}|CHABEE - |VINCENZO - )")


def held_out(stem: str, patterns: tuple[str, ...] | list[str] = HELD_OUT) -> bool:
    """Whether a file stem matches a hold-out name: exactly or as a glob, ignoring case."""
    s = stem.casefold()
    return any(fnmatchcase(s, p.casefold()) for p in patterns)


def _display(name: str) -> str:
    """A name as its author spells it, but SID-Wizard's all-capitals headers in title case."""
    name = " ".join(name.split())
    if not name.isupper():
        return name
    return " ".join(w.lower() if w in ("AND", "OF") else w[:1] + w[1:].lower() for w in name.split())


# -- readers -----------------------------------------------------------------------------------


def _pygoattracker():
    try:
        import pygoattracker
    except ImportError:
        raise SidlangError(
            ".sng songs need the 'pygoattracker' package (pip install pygoattracker)"
        ) from None
    return pygoattracker


def read_sng(
    path: str | Path,
    seconds: float = DEFAULT_SECONDS,
    *,
    subtune: int = 0,
    model: int = 6581,
    adparam: int | None = None,
) -> Tune:
    """A GoatTracker 2 ``.sng`` played by pygoattracker for ``seconds`` (or until it stops).

    Each frame holds the registers the playroutine changed that tick, ``GOAT_WRITE_GAP``
    cycles apart (pygoattracker reports a frame's register file, not the order of its writes);
    frame 0 writes all 25. ``adparam`` is the hard-restart ADSR the song was made with (the
    editor's ``-A`` option; default ``0F00``), ``model`` the SID it was meant for (``-E``).
    """
    gt = _pygoattracker()
    path = str(path)
    try:
        song = gt.read_sng(path)
        opts = {} if adparam is None else {"adparam": adparam}
        player = gt.Player(song, subtune=subtune, **opts)
    except (gt.GoatTrackerError, ValueError, IndexError, KeyError, EOFError) as e:
        raise FormatError(f"not a playable GoatTracker song: {first_line(e)}", file=path) from None
    header = Header(
        title=song.name.strip(),
        author=song.author.strip(),
        released=song.copyright.strip(),
        models=(model,),
        gap=GOAT_WRITE_GAP,
        subtune=subtune + 1,
        songs=len(getattr(song, "subtunes", ())) or 0,
    )
    fc = header.frame_cycles
    max_frames = max(1, int(round(seconds * header.frame_hz)))
    cycles, regs, vals = [], [], []
    n = 0
    while n < max_frames:
        writes = player.play_frame()
        if not player.playing and not writes:
            break
        base = n * fc
        for k, (reg, val) in enumerate(writes):
            cycles.append(base + k * GOAT_WRITE_GAP)
            regs.append(reg)
            vals.append(val)
        n += 1
    w = make_writes(
        np.array(cycles, np.int64),
        np.zeros(len(cycles), np.uint8),
        np.array(regs, np.uint8),
        np.array(vals, np.uint8),
    )
    return Tune(header.replace(frames=n), w, meta={"source": "pygoattracker"})


def ct2util() -> str | None:
    """The path of CheeseCutter's ``ct2util``, or None where it is not installed."""
    return shutil.which("ct2util")


def export_ct(path: str | Path, out: str | Path) -> None:
    """``ct2util sid IN -o OUT``: a CheeseCutter ``.ct`` song exported to PSID, written whole."""
    tool = ct2util()
    if tool is None:
        raise SidlangError("CheeseCutter's ct2util is not installed (apt-get install cheesecutter)")
    out = Path(out)
    tmp = out.parent / f".{out.stem}.{os.getpid()}.tmp.sid"
    try:
        done = subprocess.run(
            [tool, "sid", "-q", str(path), "-o", str(tmp)], capture_output=True, text=True, timeout=60
        )
        if done.returncode or not tmp.exists():
            why = (done.stderr or done.stdout).strip().splitlines()
            raise FormatError(
                f"ct2util could not export it: {why[-1] if why else f'exit {done.returncode}'}",
                file=str(path),
            )
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)


def read_ct(path: str | Path, seconds: float = DEFAULT_SECONDS) -> Tune:
    """A CheeseCutter ``.ct`` song: exported by ``ct2util``, then played in the 6502 emulation."""
    with tempfile.TemporaryDirectory(prefix="sidlang-ct-") as tmp:
        sid = Path(tmp) / (Path(path).stem + ".sid")
        export_ct(path, sid)
        return load(sid, seconds=seconds)


# -- measuring ---------------------------------------------------------------------------------


def gate_ons(tune: Tune) -> list[int]:
    """Notes started per voice (gate bit rising in a control register), chip by chip."""
    out = []
    w = tune.writes
    for chip in range(tune.header.chips):
        for voice in range(3):
            vals = w["val"][(w["chip"] == chip) & (w["reg"] == 4 + 7 * voice)]
            gate = (vals & 1).astype(np.int8)
            out.append(int(np.count_nonzero(np.diff(np.r_[0, gate]) == 1)))
    return out


def measure(tune: Tune) -> dict:
    """What ``sources.json`` records of a played tune."""
    return {
        "frames": len(tune.frames),
        "seconds": round(tune.seconds, 1),
        "frame_hz": round(tune.header.frame_hz, 2),
        "chips": tune.header.chips,
        "writes": int(len(tune.writes)),
        "gate_ons": gate_ons(tune),
    }


# -- gathering ---------------------------------------------------------------------------------


def _goatcompo(folder: Path) -> dict[str, dict]:
    """Authors and editor options from GoatTracker's ``goatcompo.txt``, by song stem."""
    path = folder / "goatcompo.txt"
    if not path.exists():
        return {}
    found = {}
    for line in path.read_text(encoding="latin-1").splitlines():
        m = re.match(r"\s*(.+?):\s*(.+?)\s*\((\w+)\.sng\)\s*(.*)$", line)
        if not m:
            continue
        author, title, stem, opts = m.groups()
        info = {"author": author.strip(), "title": title.strip(" *"), "options": opts.strip()}
        for opt in opts.split():
            if opt[:2].lower() == "/e":
                info["model"] = 8580 if opt[2:] == "1" else 6581
            elif opt[:2].lower() == "/a":
                info["adparam"] = int(opt[2:], 16)
        if title.rstrip().endswith("*"):  # "* = based on an original song by beek"
            info["author"] = f"{info['author']} (after beek)"
            info["composer"] = author.strip()
        found[stem] = info
    return found


def _package_version(name: str) -> str:
    try:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", name], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


@dataclass
class _Job:
    """One tune to gather: ``make`` writes ``out`` and returns the Tune it plays."""

    source: Source
    origin: Path
    out: Path
    make: Callable[[], Tune]
    info: dict


def _jobs(out: Path, dirs: dict[str, Path], seconds: float, log) -> tuple[list[_Job], list[dict]]:
    jobs, aside = [], []
    by_name = {s.name: s for s in SOURCES}

    def copy_sid(src: Path, dst: Path) -> Callable[[], Tune]:
        def make() -> Tune:
            tune = load(src, seconds=seconds)  # play it first: a broken export is not copied
            write_atomic(dst, src.read_bytes(), force=False)
            return tune

        return make

    def export(src: Path, dst: Path) -> Callable[[], Tune]:
        def make() -> Tune:
            export_ct(src, dst)
            return load(dst, seconds=seconds)

        return make

    def play(src: Path, dst: Path, opts: dict) -> Callable[[], Tune]:
        def make() -> Tune:
            tune = read_sng(src, seconds, **opts)
            save(tune, dst, force=False)
            return tune

        return make

    for name, folder in dirs.items():
        source = by_name[name]
        if not folder.is_dir():
            log(f"skipped {name}: {folder} not found")
            continue
        dst = out / name
        if name == "sid-wizard":
            for p in sorted(folder.glob("*.sid")):
                author = AUTHORS.get(p.stem, "")
                jobs.append(_Job(source, p, dst / p.name, copy_sid(p, dst / p.name), {"author": author}))
        elif name == "cheesecutter":
            files = sorted(folder.glob("*.ct"))
            if files and ct2util() is None:
                log(
                    f"skipped cheesecutter: ct2util not found, {len(files)} songs not exported "
                    "(apt-get install cheesecutter)"
                )
                continue
            for p in files:
                o = dst / (p.stem + ".sid")
                jobs.append(_Job(source, p, o, export(p, o), {"author": AUTHORS.get(p.stem, "")}))
        elif name == "goattracker":
            try:
                _pygoattracker()
            except SidlangError as e:
                log(f"skipped goattracker: {e}")
                continue
            compo = _goatcompo(folder)
            for p in sorted(folder.glob("*.sng")):
                if p.stem in NOT_MUSIC:
                    aside.append({"origin": str(p), "why": "a test of one tracker feature, not music"})
                    continue
                info = dict(compo.get(p.stem, {}))
                opts = {k: info[k] for k in ("model", "adparam") if k in info}
                o = dst / (p.stem + ".sidl")
                jobs.append(_Job(source, p, o, play(p, o, opts), info))
            for p in sorted(folder.glob("*.ins")):
                aside.append({"origin": str(p), "why": "an instrument (sound effect), not a song"})
    return jobs, aside


def gather(
    out: str | Path,
    *,
    dirs: dict[str, Path] | None = None,
    seconds: float = DEFAULT_SECONDS,
    progress: bool = True,
    log=print,
) -> dict:
    """Gather the real tunes into ``out`` (or finish an earlier gather); returns the record.

    ``dirs`` maps source names (``sid-wizard``, ``cheesecutter``, ``goattracker``) to the folders
    to read, default each source's usual place; a missing folder or tool skips that source with
    one line. A tune that fails is reported and left out; the others carry on.
    """
    from sidlang.corpus.build import ProgressBar

    if not 0 < seconds <= 3600:
        raise UsageError(f"--seconds must be more than 0 and at most 3600, got {seconds:g}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SidlangError("is a file, not a folder", file=str(out))
    dirs = {s.name: s.default_dir for s in SOURCES} | (dirs or {})
    out.mkdir(parents=True, exist_ok=True)
    record_path = out / "sources.json"
    old = {}
    if record_path.exists():
        try:
            old = {t["file"]: t for t in json.loads(record_path.read_text())["tunes"]}
        except (ValueError, KeyError, TypeError):
            old = {}
    jobs, aside = _jobs(out, dirs, seconds, log)
    for name in {j.source.name for j in jobs}:
        (out / name).mkdir(exist_ok=True)
    tunes, failed = [], []
    bar = ProgressBar(len(jobs), "gathering") if progress else None
    try:
        for job in jobs:
            rel = job.out.relative_to(out).as_posix()
            if bar:
                bar.describe(rel)
            entry = old.get(rel)
            try:
                if not job.out.exists():
                    tunes.append(_entry(job, rel, job.make(), seconds))
                elif entry and entry.get("played_seconds") == seconds:
                    tunes.append(entry)  # kept, and so is what was measured of it
                else:  # kept, measured again
                    tune = load(job.out, seconds=seconds) if job.out.suffix == ".sid" else load(job.out)
                    tunes.append(_entry(job, rel, tune, seconds))
            except Exception as e:  # one bad song must not stop the others (SidlangError or a library's own)
                why = e.message if isinstance(e, SidlangError) else first_line(e)
                failed.append({"origin": str(job.origin), "why": why})
                log(f"failed {job.origin.name}: {why}")
            if bar:
                bar.advance()
    finally:
        if bar:
            bar.close()
    record = {
        "made_by": "sidlang corpus gather",
        "played_seconds": seconds,
        "sources": {
            s.name: {
                "title": s.title,
                "origin": s.origin,
                "licence": s.licence,
                "licence_statement": s.licence_text,
                "folder": str(dirs[s.name]),
                **({"package_version": v} if (v := _package_version(s.name)) else {}),
            }
            for s in SOURCES
            if any(t["source"] == s.name for t in tunes)
        },
        "held_out": list(HELD_OUT),
        "tunes": tunes,
        "set_aside": aside,
        "failed": failed,
    }
    write_atomic(record_path, (json.dumps(record, indent=1, ensure_ascii=False) + "\n").encode(), force=True)
    write_atomic(out / "SOURCES.md", sources_md(record).encode(), force=True)
    write_atomic(out / "held-out.txt", "".join(s + "\n" for s in HELD_OUT).encode(), force=True)
    return record


def _entry(job: _Job, rel: str, tune: Tune, seconds: float) -> dict:
    h = tune.header
    stem = job.origin.stem
    title = job.info.get("title") or " ".join(_TITLE_PREFIX.sub("", h.title).split()) or stem
    author = job.info.get("author") or _display(h.author)
    return {
        "file": rel,
        "source": job.source.name,
        "origin": str(job.origin),
        "title": title,
        "author": author,
        "composer": job.info.get("composer", author),
        "released": h.released.strip(),
        "licence": job.source.licence,
        "held_out": held_out(stem),
        "model": h.models[0],
        **({"editor_options": job.info["options"]} if job.info.get("options") else {}),
        "played_seconds": seconds,
        **measure(tune),
    }


def sources_md(record: dict) -> str:
    """``SOURCES.md``: every tune with its origin, author and licence, and what was left out."""
    lines = [
        "# Sources of these tunes",
        "",
        "Written by `sidlang corpus gather`; the same facts, machine-readable, are in `sources.json`.",
        f"Lengths are what {record['played_seconds']:g} seconds of play gives (or the song's end).",
        "Tunes marked *held out* go to the test split whole (`sidlang corpus build` reads this from "
        "`sources.json`; `held-out.txt` lists them for `--hold-out @held-out.txt`), so benchmarks test on "
        "tunes never trained on.",
        "",
    ]
    for name, s in record["sources"].items():
        mine = [t for t in record["tunes"] if t["source"] == name]
        version = f" (package version {s['package_version']})" if s.get("package_version") else ""
        lines += [
            f"## {name}/ — {s['title']}",
            "",
            f"* Origin: {s['origin']}{version}.",
            f"* Licence: **{s['licence']}**. {s['licence_statement']}",
            f"* Tunes: {len(mine)}.",
            "",
            "| file | title | author | released | frames | notes per voice | held out |",
            "| --- | --- | --- | --- | ---: | --- | --- |",
        ]
        for t in mine:
            lines.append(
                f"| {Path(t['file']).name} | {_md(t['title'])} | {_md(t['author']) or 'unknown'} | "
                f"{_md(t['released'])} | {t['frames']} | {' '.join(map(str, t['gate_ons']))} | "
                f"{'held out' if t['held_out'] else ''} |"
            )
        lines.append("")
    if record["set_aside"]:
        lines += ["## Set aside", ""]
        lines += [f"* `{a['origin']}`: {a['why']}" for a in record["set_aside"]]
        lines.append("")
    if record["failed"]:
        lines += ["## Failed", ""]
        lines += [f"* `{a['origin']}`: {a['why']}" for a in record["failed"]]
        lines.append("")
    return "\n".join(lines)


def _md(text: str) -> str:
    return str(text).replace("|", "\\|")


def load_sources(folder: str | Path) -> dict[str, dict]:
    """The ``sources.json`` entries of a gathered folder by file path relative to it ({} if none)."""
    path = Path(folder) / "sources.json"
    if not path.exists():
        return {}
    try:
        return {t["file"]: t for t in json.loads(path.read_text())["tunes"]}
    except (ValueError, KeyError, TypeError):
        raise SidlangError("sources.json is not a gather record", file=str(path)) from None


__all__ = [
    "HELD_OUT",
    "NOT_MUSIC",
    "SOURCES",
    "export_ct",
    "gate_ons",
    "gather",
    "held_out",
    "load_sources",
    "read_ct",
    "read_sng",
    "sources_md",
]
