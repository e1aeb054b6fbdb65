"""Small PSID/RSID files assembled inline, shared by the emulation and .sid format tests."""

from sidlang.c64.asm import assemble
from sidlang.formats.sid import SidFile, build

#: A PSID whose init sets CIA 1's timer latch (``latch`` filled in by ``str.format``).
CIA_PLAYER = """
init:   lda #<{latch}
        sta $dc04
        lda #>{latch}
        sta $dc05
        rts
play:   inc $d401
        rts
"""


def psid(src: str, *, load: int = 0x1000, magic: str = "PSID", play: str | None = "play", **fields) -> bytes:
    """A .sid whose code is ``src`` assembled at ``load``; init is the first byte."""
    code, names = assemble(src, load)
    s = SidFile(
        magic=magic,
        version=fields.pop("version", 2),
        load=load,
        init=load,
        play=names[play] if play else 0,
        data=code,
        name="Test",
        author="Me",
        released="2026 Ünïcödé €",
        **fields,
    )
    return build(s)


def rsid(src: str) -> bytes:
    """An RSID (no play address) whose code is ``src`` at $1000."""
    return psid(src, magic="RSID", play=None)
