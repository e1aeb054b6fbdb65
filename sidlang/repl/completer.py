"""Tab completion: commands, field names, note names, bit names, voices and file paths.

What is offered depends on where the cursor is: the first word of a line gets commands,
context words, fields and directives; a command's argument gets what its kind takes (files,
voices, models, command names for ``help``); after ``field=`` come the values the register
table allows (notes for ``freq``, bit names for ``wave``, ``route`` and ``mode``).
"""

from __future__ import annotations

from collections.abc import Iterable

from prompt_toolkit.completion import CompleteEvent, Completer, Completion, PathCompleter
from prompt_toolkit.document import Document

from sidlang.pitch import NOTE_NAMES, midi_to_hz, parse_note
from sidlang.registers import ALIASES, FIELDS, REGISTERS
from sidlang.text.lexicon import DIRECTIVES, EVENTS, field_words

from . import commands
from .args import OPTIONS

CONTEXTS = ("v1", "v2", "v3")
#: Note names, middle octaves first: typing ``freq=A`` most often means A-4 or A-3.
NOTES = tuple(
    f"{name}{octave}" for octave in sorted(range(8), key=lambda o: (abs(o - 4), o)) for name in NOTE_NAMES
)
_KIND_WORDS = {
    "voice": CONTEXTS,
    "voices": CONTEXTS,
    "model": ("6581", "8580"),
    "clock": ("pal", "ntsc"),
    "chip": ("s1", "s2", "s3"),
    "range": ("all",),
    "options": tuple(f"{name}=" for name in OPTIONS),
}


def _field_doc(name: str) -> str:
    f = FIELDS.get(ALIASES.get(name, name))
    return f.doc if f else ""


class SidlangCompleter(Completer):
    """Completes the REPL's input; file paths through prompt_toolkit's :class:`PathCompleter`."""

    def __init__(self) -> None:
        self.paths = PathCompleter(expanduser=True)

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        line = document.current_line_before_cursor
        word = line.split()[-1] if line and not line[-1].isspace() else ""
        if not word and not complete_event.completion_requested:
            return  # no menu at every space while typing; Tab still lists everything
        words_before = line.split()[:-1] if word else line.split()
        first_line = document.cursor_position_row == 0
        if first_line and words_before and words_before[0] in commands.BY_NAME:
            yield from self._arguments(commands.BY_NAME[words_before[0]], words_before[1:], word)
            return
        if word.startswith("@") and not words_before:
            yield from self._offer(word, [f"@{d}" for d in DIRECTIVES], lambda d: DIRECTIVES[d[1:]])
            return
        if "=" in word:
            yield from self._values(word)
            return
        if not words_before and first_line:
            yield from self._offer(
                word, [c.name for c in commands.COMMANDS], lambda n: commands.BY_NAME[n].summary
            )
        yield from self._offer(word, CONTEXTS, lambda c: f"voice {c[1]}")
        yield from self._offer(word, [f + "=" for f in field_words()], lambda f: _field_doc(f[:-1]))
        if words_before:
            yield from self._offer(word, EVENTS + ("|",), lambda e: "")
        else:
            yield from self._offer(word, ("wait",), lambda e: "skip frames: wait 8")

    def _offer(self, word: str, choices: Iterable[str], meta) -> Iterable[Completion]:
        for c in choices:
            if c.startswith(word) and c != word:
                yield Completion(c, start_position=-len(word), display_meta=meta(c))

    def _values(self, word: str) -> Iterable[Completion]:
        name, _, value = word.partition("=")
        name = name.rstrip("+-")
        if name.startswith("$"):
            return
        f = FIELDS.get(ALIASES.get(name, name))
        if f is None:
            return
        if f.flags:
            head, _, last = value.rpartition(",")
            used = set(head.split(",")) if head else set()
            for bit in f.flags:
                if bit.startswith(last) and bit not in used:
                    yield Completion(bit, start_position=-len(last), display_meta=f"{f.name} bit")
        elif f.notes:
            low = value.lower()
            for n in NOTES:
                if n.lower().startswith(low):
                    midi, _ = parse_note(n)
                    yield Completion(n, start_position=-len(value), display_meta=f"{midi_to_hz(midi):.1f} Hz")
        elif f.kind == "byte" and not value:
            reg = REGISTERS[f.regs[0]]
            yield Completion("$", display_meta=reg.doc)

    def _arguments(self, cmd: commands.Command, done: list[str], word: str) -> Iterable[Completion]:
        positional = [w for w in done if w not in cmd.flags]
        index = len(positional)
        arg = None
        if cmd.args:
            last = cmd.args[-1]
            arg = (
                cmd.args[index]
                if index < len(cmd.args)
                else (last if last.kind in ("voices", "options") else None)
            )
        if arg is not None and arg.kind == "file":
            sub = Document(word, len(word))
            yield from self.paths.get_completions(sub, CompleteEvent(completion_requested=True))
        elif arg is not None and arg.kind == "command":
            yield from self._offer(
                word, [c.name for c in commands.COMMANDS], lambda n: commands.BY_NAME[n].summary
            )
        elif arg is not None:
            yield from self._offer(word, _KIND_WORDS.get(arg.kind, ()), lambda w: arg.name)
        yield from self._offer(word, [f for f in cmd.flags if f not in done], lambda f: "option")
