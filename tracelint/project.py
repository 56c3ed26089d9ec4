"""The project a file belongs to, and linting a file (or an editor's buffer) in its context."""
from __future__ import annotations

from pathlib import Path

from tracelint.config import load
from tracelint.diagnostics import Report


class Workspace:
    """Long-lived state for the LSP server: lints buffers in their project."""

    def lint_buffer(self, path: str, text: str | bytes) -> Report:
        from tracelint import engine
        data = text.encode("utf-8") if isinstance(text, str) else text
        config = load(start=str(Path(path).parent))
        return engine.run([], config, stdin=(path, data))

    def saved(self, path: str | None) -> None:
        """The file on disk changed: what the project knows about it must be re-read."""

    def closed(self, path: str | None) -> None:
        """The buffer is gone: the file on disk stands for it again."""
