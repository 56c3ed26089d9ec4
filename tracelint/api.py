"""The small public API the CLI (and the dynamic checker, and users) call."""
from __future__ import annotations

from tracelint import engine
from tracelint.config import Config, load
from tracelint.diagnostics import Report
from tracelint.discovery import discover


def lint_paths(paths: list[str] | tuple[str, ...] = (".",), config: Config | None = None) -> Report:
    """Lint files and folders; unreadable paths become report.errors, never exceptions."""
    paths = list(paths) or ["."]
    if config is None:
        config = load(start=paths[0])
    files, errors = discover(paths, config.exclude + config.extend_exclude)
    report = engine.run(files, config)
    report.errors[:0] = errors
    return report


def lint_source(source: str | bytes, filename: str = "<stdin>", config: Config | None = None) -> Report:
    """Lint one buffer (an editor's unsaved file) as if it were `filename`."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    return engine.run([], config or Config(), stdin=(filename, data))
