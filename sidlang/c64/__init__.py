"""Just enough Commodore 64 to play a .sid file: a 6510 core and the chips around it.

``C64`` (:mod:`sidlang.c64.machine`) is the machine; :mod:`sidlang.c64.cpu` the compiled
instruction loop; :mod:`sidlang.c64.bus` banking, VIC-II, CIAs and SID capture;
:mod:`sidlang.c64.asm` a small assembler used by the replay routine and the tests.
"""

from sidlang.c64.machine import C64, MachineError

__all__ = ["C64", "MachineError"]
