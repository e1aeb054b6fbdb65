"""The interactive REPL (prompt_toolkit + rich): ``sidlang repl``; see docs/repl.md."""
