"""The interactive REPL (prompt_toolkit): see issue 6; installed as ``sidlang.repl``."""
