"""The REPL's command table: what each command takes, does, and an example of it.

One table (:data:`COMMANDS`) is read by the dispatcher, the validator (arguments are checked
before a line is accepted), the completer and ``help``, in the manner of the register table.
A line whose first word is a command name, and not a write such as ``cut=$400``, is a
command; anything else is sidlang.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.markup import escape
from rich.table import Table

import sidlang
from sidlang import transforms as T
from sidlang.cli.continue_ import MAX_NEW_FRAMES
from sidlang.errors import UsageError, needs_model_extra
from sidlang.tune import MAX_FRAMES, Tune

from . import listen, patternview, views
from .args import Arg, ArgError, parse_args, parse_pitch, split_words
from .session import Session


@dataclass
class Context:
    """What a command works on: the session, where to print, and whether to stop."""

    session: Session
    console: Console
    stop: bool = False
    quit_armed: bool = False  #: "quit" was refused once for unsaved changes

    @property
    def tune(self) -> Tune:
        return self.session.tune


@dataclass(frozen=True)
class Command:
    """One command: arguments, a one-line summary, examples (the first is shown by help)."""

    name: str
    args: tuple[Arg, ...]
    summary: str
    examples: tuple[str, ...]
    run: Callable[[Context, dict], None]
    flags: tuple[str, ...] = ()
    detail: str = ""

    @property
    def usage(self) -> str:
        parts = [self.name] + [f"[{a.name}]" if a.optional else a.name for a in self.args]
        return " ".join(parts + [f"[{f}]" for f in self.flags])

    def parse(self, words: list[str]) -> dict:
        args, rest = self.args, None
        if args and args[-1].kind == "text":  # the rest of the line, whole: a pattern row
            args, rest = args[:-1], args[-1]
            words, tail = words[: len(args)], words[len(args) :]
        out = parse_args(self.name, args, self.flags, self.usage, words, _CHOICES)
        if rest is not None:
            if not tail and not rest.optional:
                raise ArgError(f"{self.name} needs {rest.name}", len(words) + 1, f"usage: {self.usage}")
            out[rest.name] = _row_text(" ".join(tail), len(words) + 1) if tail else rest.default
        return out


#: The most writes a tune may have after an edit that copies frames (``loop``): 16 M writes
#: are under 200 MB as an array, and the undo history holds a few tunes.
MAX_EDIT_WRITES = 1 << 24


# -- helpers ---------------------------------------------------------------------------------


def span(ctx: Context, rng: tuple[int, int | None] | None, last: int | None = None) -> tuple[int, int]:
    """A parsed inclusive range made half-open against the tune; ``last`` frames if none given."""
    n = len(ctx.tune.frames)
    if not n:
        raise UsageError("the tune has no frames yet: type one, e.g. v1 freq=C-4 wave=pulse,gate")
    if rng is None:
        return (max(0, n - last), n) if last else (0, n)
    start, stop = rng
    if start >= n:
        raise UsageError(f"frame {start} is past the end (the tune has frames 0–{n - 1})")
    return start, n if stop is None else min(stop, n)


def do(ctx: Context, new: Tune, label: str) -> None:
    """Make a transform's result current as one undoable step, and say what it did."""
    if ctx.session.change(new, label) is None:
        ctx.console.print(f"{label}: nothing changed", style="dim", markup=False)
        return
    clipped = new.meta.get("clipped")
    note = f" — {clipped} frequencies clipped at $ffff" if clipped else ""
    ctx.console.print(
        f"[green]✓[/] {escape(label)} ({len(new.frames)} frames, {len(new.writes)} writes){note}"
    )


def _voices(voices: list[int] | None) -> str:
    return " ".join(f"v{v + 1}" for v in voices) if voices else "all voices"


def _frames(a: int, b: int) -> str:
    return f"frame {a}" if b - a == 1 else f"frames {a}–{b - 1}"


def _command_name(word: str) -> str:
    if word not in BY_NAME:
        raise ValueError(f"no command {word!r}")
    return BY_NAME[word].name


def _row_text(text: str, first: int) -> str:
    """A pattern row's syntax checked at the prompt (the cursor goes to the bad word)."""
    try:
        patternview.parse_row(text)
    except patternview.PatternError as e:
        word = first + text[: e.column - 1].count(" ")
        raise ArgError(e.message, word, e.hint) from None
    return text


def _exists(path: str, force: bool, own: str | None = None) -> None:
    from pathlib import Path

    if Path(path).exists() and not force and path != own:
        raise UsageError(f"{path} already exists; add --force to replace it")


# -- files -----------------------------------------------------------------------------------

#: Formats that keep a tune whole: saving to them makes the session clean and names its file.
KEEPING = ("sidl", "vice", "vice6", "reglog")


def cmd_load(ctx: Context, a: dict) -> None:
    tune = sidlang.load(a["FILE"])
    ctx.session.change(tune, f"load {a['FILE']}", path=a["FILE"], clean=True)
    ctx.console.print(
        f"[green]✓[/] loaded {escape(a['FILE'])}: {len(tune.frames)} frames, {len(tune.writes)} writes"
    )


def cmd_save(ctx: Context, a: dict) -> None:
    from sidlang.formats import for_path

    path = a["FILE"] or ctx.session.path
    if path is None:
        raise UsageError("the tune has no file yet: save song.sidl")
    force = a["force"] or path == ctx.session.path  # the session's own file is saved over
    _exists(path, force)
    fmt = for_path(path)
    sidlang.save(ctx.tune, path, force=force)  # without force a file that appeared meanwhile stays
    if fmt.name in KEEPING:
        ctx.session.saved(path)
        ctx.console.print(f"[green]✓[/] saved {escape(path)} ({len(ctx.tune.frames)} frames)")
    else:
        ctx.console.print(
            f"[green]✓[/] exported {escape(path)} as {fmt.name}; the session's file stays "
            f"{escape(ctx.session.path or '(none)')}"
        )


def cmd_new(ctx: Context, a: dict) -> None:
    ctx.session.change(Tune(), "new tune", path=None, clean=True)
    ctx.console.print("new empty tune (undo brings the old one back)")


# -- seeing ----------------------------------------------------------------------------------


def cmd_show(ctx: Context, a: dict) -> None:
    start, stop = span(ctx, a["RANGE"], last=16)
    more = stop - start - views.MAX_ROWS
    if more > 0:
        stop = start + views.MAX_ROWS
    ctx.console.print(views.show_table(ctx.tune, start, stop))
    if more > 0:
        ctx.console.print(f"… {more} more frames: show {stop}-{stop + views.MAX_ROWS - 1}", style="dim")


def cmd_roll(ctx: Context, a: dict) -> None:
    start, stop = span(ctx, a["RANGE"])
    height = min(36, max(12, ctx.console.height - 6))
    ctx.console.print(views.roll(ctx.tune, start, stop, width=max(20, ctx.console.width - 8), height=height))


def cmd_info(ctx: Context, a: dict) -> None:
    from sidlang.cli.info import describe

    for line in describe(ctx.tune, ctx.session.path or "", sid_fit=a["sid"]):
        key, _, value = line.partition("  ")
        ctx.console.print(f"[bold]{key}[/]  {escape(value.strip())}")
    if not a["sid"]:
        ctx.console.print("'info sid' also measures the tune as a .sid", style="dim")


def cmd_state(ctx: Context, a: dict) -> None:
    n = len(ctx.tune.frames)
    if not 0 <= a["N"] < n:
        raise UsageError(
            f"frame {a['N']} is not in the tune (frames 0–{n - 1})" if n else "the tune has no frames"
        )
    chip = a["SID"] or 0
    if chip >= ctx.tune.header.chips:
        raise UsageError(f"the tune has {ctx.tune.header.chips} SID(s)")
    ctx.console.print(views.state_table(ctx.tune, a["N"], chip))


def cmd_patterns(ctx: Context, a: dict) -> None:
    song = patternview.song_of(ctx.tune, ctx.session.path)
    ctx.console.print(patternview.patterns_view(song, patternview.subtune(ctx.tune), a["P"]))


def cmd_explain(ctx: Context, a: dict) -> None:
    n = len(ctx.tune.frames)
    start = a["N"] or 0
    if not n:
        raise UsageError("the tune has no frames")
    if not 0 <= start < n:
        raise UsageError(f"frame {start} is not in the tune (frames 0–{n - 1})")
    with ctx.console.status("inferring patterns …"):
        song, whole, later = patternview.explain(ctx.tune, start)
    share = f"{whole[0] / whole[1]:.0%}" if whole[1] else "all"
    part = f"; from frame {start} on: {later[0] / later[1]:.0%} of {later[1]}" if start and later[1] else ""
    ctx.console.print(
        f"{len(song.patterns)} patterns, {len(song.instruments)} instruments: they make {share} of the "
        f"{whole[1]} register changes{part}; raw writes play the rest",
        markup=False,
    )
    ctx.console.print(patternview.patterns_view(song, 1, None))


def _replay(ctx: Context, song, label: str) -> None:
    with ctx.console.status("playing the song …"):
        new = patternview.replayed(ctx.tune, song)
    if new == ctx.tune:  # undo records frames: a song edit that plays the same is not kept
        ctx.console.print(
            f"{label}: the frames are the same (no orderlist plays it here), so nothing was kept",
            style="dim",
            markup=False,
        )
        return
    do(ctx, new, label)


def cmd_row(ctx: Context, a: dict) -> None:
    song = patternview.song_of(ctx.tune, ctx.session.path)
    try:
        row = patternview.parse_row(a["TEXT"], song)
    except patternview.PatternError as e:
        raise UsageError(f"row {a['P']} {a['R']}: {e.message}" + (f" — {e.hint}" if e.hint else "")) from None
    _replay(ctx, patternview.with_row(song, a["P"], a["R"], row), f"row {a['P']} {a['R']} {a['TEXT']}")


def cmd_ptranspose(ctx: Context, a: dict) -> None:
    song = patternview.song_of(ctx.tune, ctx.session.path)
    _replay(ctx, patternview.transposed(song, a["P"], a["N"]), f"ptranspose pattern {a['P']} {a['N']:+d}")


# -- transforms ------------------------------------------------------------------------------


def cmd_transpose(ctx: Context, a: dict) -> None:
    semis, cents = a["N|Nc"]
    amount = f"{semis:+d} semitones" if semis else f"{cents:+d} cents"
    do(
        ctx,
        T.transpose(ctx.tune, semis, cents=cents, voices=a["VOICES"]),
        f"transpose {amount}, {_voices(a['VOICES'])}",
    )


def cmd_swap(ctx: Context, a: dict) -> None:
    do(ctx, T.swap_voices(ctx.tune, a["VOICE"], a["OTHER"]), f"swap v{a['VOICE'] + 1} and v{a['OTHER'] + 1}")


def cmd_cut(ctx: Context, a: dict) -> None:
    start, stop = span(ctx, a["RANGE"])
    ctx.session.set_clipboard(T.slice_frames(ctx.tune, start, stop))
    do(ctx, T.cut(ctx.tune, start, stop), f"cut {_frames(start, stop)} (on the clipboard)")


def cmd_copy(ctx: Context, a: dict) -> None:
    start, stop = span(ctx, a["RANGE"])
    ctx.session.set_clipboard(T.slice_frames(ctx.tune, start, stop))
    ctx.console.print(f"copied {_frames(start, stop)} to the clipboard")


def cmd_paste(ctx: Context, a: dict) -> None:
    clip = ctx.session.clipboard
    if clip is None:
        raise UsageError("the clipboard is empty: copy or cut a range first")
    at = len(ctx.tune.frames) if a["AT"] is None else a["AT"]
    how = "over" if a["replace"] else "at"
    do(
        ctx,
        T.paste(ctx.tune, clip, at, replace=a["replace"]),
        f"paste {len(clip.frames)} frames {how} frame {at}",
    )


def ranged(fn, verb: str, last: int | None = None) -> Callable[[Context, dict], None]:
    def run(ctx: Context, a: dict) -> None:
        start, stop = span(ctx, a["RANGE"], last)
        do(ctx, fn(ctx.tune, start, stop), f"{verb} {_frames(start, stop)}")

    return run


def cmd_loop(ctx: Context, a: dict) -> None:
    start, stop = span(ctx, a["RANGE"])
    extra = (a["TIMES"] - 1) * (stop - start)
    if len(ctx.tune.frames) + extra > MAX_FRAMES:
        raise UsageError(
            f"loop {_frames(start, stop)} × {a['TIMES']} would make {len(ctx.tune.frames) + extra} "
            f"frames; a tune has at most {MAX_FRAMES}"
        )
    fr = ctx.tune.frames
    added = (a["TIMES"] - 1) * int(fr.bounds[stop] - fr.bounds[start])
    if len(ctx.tune.writes) + added > MAX_EDIT_WRITES:
        raise UsageError(
            f"loop {_frames(start, stop)} × {a['TIMES']} would make {len(ctx.tune.writes) + added} "
            f"writes; an edit may make at most {MAX_EDIT_WRITES}"
        )
    do(ctx, T.repeat(ctx.tune, start, stop, a["TIMES"]), f"loop {_frames(start, stop)} × {a['TIMES']}")


def cmd_simplify(ctx: Context, a: dict) -> None:
    voice = T.melody_voice(ctx.tune) if a["VOICE"] is None else a["VOICE"]
    do(ctx, T.simplify(ctx.tune, voice), f"simplify: v{voice + 1} alone")


def cmd_clock(ctx: Context, a: dict) -> None:
    keep = not a["video"]
    do(
        ctx,
        T.set_clock(ctx.tune, a["CLOCK"], keep_tempo=keep),
        f"clock {a['CLOCK']} Hz, pitch kept, {'tempo kept' if keep else 'video frame'}",
    )


def cmd_continue(ctx: Context, a: dict) -> None:
    o, n = a["SETTINGS"], a["N"]
    frames = len(ctx.tune.frames)
    start = o.get("from", frames)
    if start > frames:
        raise UsageError(f"from= must be a frame from 0 to {frames}, got {start}")
    if not 1 <= n <= MAX_NEW_FRAMES or start + n > MAX_FRAMES:
        raise UsageError(
            f"continue writes 1–{min(MAX_NEW_FRAMES, MAX_FRAMES - start)} frames from frame {start}, got {n}"
        )
    with needs_model_extra("continue"):
        from sidlang.model.network import bundled, continue_tune

        with ctx.console.status(f"the model is writing {n} frames …"):
            tune = continue_tune(
                ctx.tune,
                n,
                start=start,
                temperature=o.get("temp", 1.0),
                top_k=o.get("top_k", 0),
                top_p=o.get("top_p", 0.0),
                seed=o.get("seed"),
                keep_voices=o.get("keep", ()),
                model=bundled(),
                cache=o.get("cache"),
            )
    kept = f", keeping {_voices([v - 1 for v in o['keep']])}" if o.get("keep") else ""
    dropped = f" ({_frames(start, frames)} replaced)" if start < frames else ""
    do(ctx, tune, f"continue {n} frames from frame {start}{kept}{dropped}")
    ctx.console.print(f"'explain {start}' shows it as tracker patterns", style="dim", markup=False)


# -- history, listening, help ----------------------------------------------------------------


def cmd_undo(ctx: Context, a: dict) -> None:
    p = ctx.session.undo()
    ctx.console.print(
        f"undid: {p.label}" if p else "nothing to undo", style=None if p else "dim", markup=False
    )


def cmd_redo(ctx: Context, a: dict) -> None:
    p = ctx.session.redo()
    ctx.console.print(
        f"redid: {p.label}" if p else "nothing to redo", style=None if p else "dim", markup=False
    )


def cmd_history(ctx: Context, a: dict) -> None:
    s = ctx.session
    if not s.undo_stack and not s.redo_stack:
        ctx.console.print("no changes yet", style="dim")
    for p in s.undo_stack[-20:]:
        ctx.console.print(f"  {p.label}", markup=False)
    for p in reversed(s.redo_stack[-5:]):
        ctx.console.print(f"  {p.label}  (undone; redo brings it back)", style="dim", markup=False)


def cmd_play(ctx: Context, a: dict) -> None:
    start, stop = span(ctx, a["RANGE"])
    tune = T.slice_frames(ctx.tune, start, stop) if (start, stop) != (0, len(ctx.tune.frames)) else ctx.tune
    listen.play(ctx.console, tune, start)


def cmd_help(ctx: Context, a: dict) -> None:
    if a["COMMAND"] is None:
        table = Table(box=None, show_header=False, padding=(0, 2))
        table.add_column(style="bold yellow", no_wrap=True)
        table.add_column()
        table.add_column(style="dim")
        for c in COMMANDS:
            table.add_row(c.usage, c.summary, c.examples[0])
        ctx.console.print(table)
        ctx.console.print(
            "Any other line is sidlang: [bold]v1 freq=C-4 wave=pulse,gate[/] appends a frame, "
            '[bold]12 v1 freq=E-4[/] replaces frame 12, [bold]@title "Song"[/] sets the header. '
            "Ranges are inclusive (4-7). Tab completes; Esc Enter starts a new line; "
            "'help COMMAND' explains one.",
            highlight=False,
        )
        return
    c = BY_NAME[a["COMMAND"]]
    ctx.console.print(f"[bold yellow]{escape(c.usage)}[/]\n  {c.summary}", highlight=False)
    if c.detail:
        ctx.console.print(f"  {c.detail}", highlight=False)
    ctx.console.print("examples:", style="bold")
    for ex in c.examples:
        ctx.console.print(f"  {ex}", highlight=False, markup=False)


def cmd_quit(ctx: Context, a: dict) -> None:
    if ctx.session.dirty and not ctx.quit_armed:
        ctx.quit_armed = True
        ctx.console.print(
            "[yellow]unsaved changes[/]: 'save FILE' keeps them; 'quit' again leaves without saving"
        )
        return
    ctx.stop = True


R = Arg("RANGE", "range", True)
P = Arg("P", "pattern")
COMMANDS: tuple[Command, ...] = (
    Command(
        "load",
        (Arg("FILE", "file"),),
        "read a tune in any format (undo brings the old one back)",
        ("load song.sidl", "load dump.vice", 'load "my song.sid"'),
        cmd_load,
    ),
    Command(
        "save",
        (Arg("FILE", "file", True),),
        "write the tune, whole or not at all; the format from the ending",
        ("save song.sidl", "save", "save song.vice --force"),
        cmd_save,
        ("--force",),
        "Without FILE it saves to the session's file. Another existing file is replaced only "
        "with --force. Saving as .wav, .sid, .syx or .mid exports and keeps the session's file.",
    ),
    Command("new", (), "start an empty tune", ("new",), cmd_new),
    Command(
        "show",
        (R,),
        "frames as a tracker table, one column a voice (default: the last 16)",
        ("show", "show 0-31", "show 100"),
        cmd_show,
    ),
    Command(
        "roll", (R,), "a piano roll of the frames (default: the whole tune)", ("roll", "roll 0-199"), cmd_roll
    ),
    Command("info", (), "header, length, writes and voices", ("info", "info sid"), cmd_info, ("sid",)),
    Command(
        "state",
        (Arg("N", "frame"), Arg("SID", "chip", True)),
        "every register after frame N, by field",
        ("state 0", "state 120 s2"),
        cmd_state,
    ),
    Command(
        "patterns",
        (Arg("P", "pattern", True),),
        "a .sidp/.sng song as a tracker: orderlists, rows of pattern P (or each voice's first)",
        ("patterns", "patterns 3"),
        cmd_patterns,
        detail="For a tune read from a .sidp or .sng. Without P the first pattern of each voice's "
        "orderlist stands side by side: row number, then per voice note, instrument and effect.",
    ),
    Command(
        "explain",
        (Arg("N", "frame", True),),
        "infer tracker patterns from the frames and show them; 'patterns', 'row' and 'ptranspose' then work",
        ("explain", "explain 1000"),
        cmd_explain,
        detail="Notes, instruments, tables and orderlists found in the register writes (docs/patterns.md, "
        "'Frames to patterns'); what they miss stays as raw writes, so the song plays the frames "
        "exactly. With N (say, where 'continue' began) it also says how much from frame N on the "
        "patterns explain. 'save song.sidp' writes them.",
    ),
    Command(
        "row",
        (P, Arg("R", "row"), Arg("TEXT", "text")),
        "replace row R of pattern P with a row of pattern text, then re-play the song",
        ("row 0 4 E-5 01 vib:2,24", "row 0 1 ---", "row 1 7 === --"),
        cmd_row,
        detail="The row is NOTE [INSTR] [EFFECT] as in a .sidp (docs/patterns.md); row R one past "
        "the last adds a row. The song is played again into the frames (undo takes it back); "
        "frame edits made since the song was read are replaced by what it plays.",
    ),
    Command(
        "ptranspose",
        (P, Arg("N", "semitones")),
        "move every note of pattern P by N semitones, then re-play the song",
        ("ptranspose 0 12", "ptranspose 3 -5"),
        cmd_ptranspose,
        detail="Every note must stay within C-0–B-7; other voices playing the pattern change too.",
    ),
    Command(
        "transpose",
        (Arg("N|Nc", "pitch"), Arg("VOICES", "voices", True)),
        "shift pitch by semitones or cents (50c), all voices or those named",
        ("transpose 12", "transpose -3 v2", "transpose 25c v1 v3"),
        cmd_transpose,
        detail="Notes stay notes (A-4 up 12 is A-5); other values are scaled and rounded.",
    ),
    Command(
        "swap",
        (Arg("VOICE", "voice"), Arg("OTHER", "voice")),
        "exchange two voices (their filter routing goes with them)",
        ("swap v1 v3",),
        cmd_swap,
    ),
    Command(
        "rotate",
        (Arg("N", "steps", True, 1),),
        "move every voice up by N: v1 to v2, v2 to v3, v3 to v1",
        ("rotate", "rotate -1"),
        lambda c, a: do(c, T.rotate_voices(c.tune, a["N"]), f"rotate voices by {a['N']}"),
    ),
    Command(
        "mute",
        (Arg("VOICES", "voices"),),
        "silence voices (their gate bits are cleared; undo unmutes)",
        ("mute v2", "mute v2 v3"),
        lambda c, a: do(c, T.mute(c.tune, a["VOICES"]), f"mute {_voices(a['VOICES'])}"),
    ),
    Command(
        "solo",
        (Arg("VOICES", "voices"),),
        "silence every voice but these",
        ("solo v1",),
        lambda c, a: do(c, T.solo(c.tune, a["VOICES"]), f"solo {_voices(a['VOICES'])}"),
    ),
    Command(
        "slice",
        (Arg("RANGE", "range"),),
        "keep only these frames; they start at frame 0",
        ("slice 0-63",),
        ranged(T.slice_frames, "keep only"),
    ),
    Command(
        "cut",
        (Arg("RANGE", "range"),),
        "remove frames (later ones move up) onto the clipboard",
        ("cut 16-31",),
        cmd_cut,
    ),
    Command("copy", (Arg("RANGE", "range"),), "copy frames to the clipboard", ("copy 0-15",), cmd_copy),
    Command(
        "paste",
        (Arg("AT", "frame", True),),
        "put the clipboard in at frame AT (default: the end)",
        ("paste", "paste 32", "paste 32 replace"),
        cmd_paste,
        ("replace",),
        "Later frames move down to make room; with 'replace' the clipboard takes the place of "
        "as many frames instead.",
    ),
    Command(
        "loop",
        (Arg("RANGE", "range"), Arg("TIMES", "count", True, 2)),
        "play a range TIMES times in all (later frames move down)",
        ("loop 0-15 4",),
        cmd_loop,
    ),
    Command(
        "stretch",
        (Arg("N", "count"),),
        "slower: every frame becomes N frames (exact)",
        ("stretch 2",),
        lambda c, a: do(c, T.stretch(c.tune, a["N"]), f"stretch × {a['N']}"),
    ),
    Command(
        "squeeze",
        (Arg("N", "count"),),
        "faster: every N frames become one (undoes stretch N)",
        ("squeeze 2",),
        lambda c, a: do(c, T.squeeze(c.tune, a["N"]), f"squeeze × {a['N']}"),
    ),
    Command(
        "reverse",
        (R,),
        "frames backwards, by register state (default: all)",
        ("reverse", "reverse 0-63"),
        ranged(T.reverse, "reverse"),
    ),
    Command(
        "model",
        (Arg("MODEL", "model"),),
        "chip model of every SID: 6581 or 8580",
        ("model 8580",),
        lambda c, a: do(c, T.set_model(c.tune, a["MODEL"]), f"model {a['MODEL']}"),
    ),
    Command(
        "clock",
        (Arg("CLOCK", "clock"),),
        "another machine's clock (pal, ntsc or Hz), pitch kept",
        ("clock ntsc", "clock ntsc video"),
        cmd_clock,
        ("video",),
        "The tempo is kept (frames scale with the clock); 'video' takes the new clock's own video "
        "frame instead, as a real player routine would run on that machine.",
    ),
    Command(
        "simplify",
        (Arg("VOICE", "voice", True),),
        "keep the melody voice alone (or the one named)",
        ("simplify", "simplify v2"),
        cmd_simplify,
        detail="The melody is the voice that most often sounds the highest note.",
    ),
    Command(
        "continue",
        (Arg("N", "count"), Arg("SETTINGS", "options", True)),
        "the bundled model writes N more frames (undo takes them back)",
        ("continue 200", "continue 500 seed=1 temp=0.8", "continue 400 from=64 keep=v1"),
        cmd_continue,
        detail="Settings: seed=S (same seed, same frames), temp=T (0 = always the likeliest), top_k=K, "
        "top_p=P, cache=W (0-1, how much the tune's own material and its pattern a bar or two back are "
        "followed; 0.9 by default, 0 is the network alone), from=F (continue after frame F-1, replacing what follows), keep=v1,v3 (copy those "
        "voices from the tune and have the model write the others around them).",
    ),
    Command("undo", (), "take the last change back (as far back as the session goes)", ("undo",), cmd_undo),
    Command("redo", (), "do the last undone change again", ("redo",), cmd_redo),
    Command("history", (), "the changes undo would take back, oldest first", ("history",), cmd_history),
    Command(
        "render",
        (Arg("FILE", "file"),),
        "render to a WAV file through reSIDfp",
        ("render song.wav", "render song.wav --force"),
        lambda c, a: listen.render_wav(c.console, c.tune, a["FILE"], a["force"]),
        ("--force",),
    ),
    Command(
        "play",
        (R,),
        "play on the audio device, showing the frame (Ctrl-C stops)",
        ("play", "play 64-127"),
        cmd_play,
    ),
    Command(
        "asid",
        (Arg("TARGET", "target", True),),
        "ASID to a MIDI port, a .syx or .mid file; alone: list ports",
        ("asid", "asid SidStation", "asid song.syx"),
        lambda c, a: listen.asid(c.console, c.tune, a["TARGET"], a["force"]),
        ("--force",),
    ),
    Command(
        "help",
        (Arg("COMMAND", "command", True),),
        "this list, or one command with examples",
        ("help", "help transpose"),
        cmd_help,
    ),
    Command("quit", (), "leave (asks first when there are unsaved changes); Ctrl-D too", ("quit",), cmd_quit),
)
BY_NAME: dict[str, Command] = {c.name: c for c in COMMANDS}


def _semitones(word: str) -> int:
    n, cents = parse_pitch(word)
    if cents:
        raise ValueError(f"whole semitones (12, -3) expected, got {word!r}")
    return n


#: Argument kinds only the REPL's commands take (the rest are :data:`~sidlang.repl.args.PARSERS`).
_CHOICES = {
    "command": _command_name,
    "pattern": patternview.pattern_number,
    "row": patternview.row_number,
    "semitones": _semitones,
}
BY_NAME["exit"] = BY_NAME["quit"]


def split_command(text: str) -> tuple[Command, list[tuple[int, str]]] | None:
    """``(command, [(column, word), …])`` when ``text`` is a command line, None for sidlang."""
    body = text.strip()
    if not body or "\n" in body:
        return None
    words = split_words(text)
    cmd = BY_NAME.get(words[0][1])
    return (cmd, words) if cmd is not None else None


def unknown_word(text: str) -> str | None:
    """A first word that is neither sidlang nor a command (a mistyped command, most likely)."""
    head = text.strip().split()[0] if text.strip() else ""
    if re.fullmatch(r"[a-z][a-z_]+", head) and head not in {"wait", "irq", "nmi", "noirq"}:
        return head
    return None


def check(text: str) -> tuple[Command, dict] | None:
    """The command and its checked arguments, None for sidlang; raises :class:`ArgError`."""
    found = split_command(text)
    if found is None:
        return None
    cmd, words = found
    return cmd, cmd.parse([w for _, w in words[1:]])


__all__ = ["COMMANDS", "BY_NAME", "Command", "Context", "ArgError", "check", "split_command", "unknown_word"]
