"""The small public API the CLI (and the dynamic checker, and users) call."""
from __future__ import annotations

from pathlib import Path

from tracelint import engine
from tracelint.config import Config, load
from tracelint.diagnostics import Report
from tracelint.discovery import discover


def lint_paths(paths: list[str] | tuple[str, ...] = (".",), config: Config | None = None, *,
               project: bool = True) -> Report:
    """Lint files and folders, each in the context of its project (see `tracelint.project`);
    unreadable paths become report.errors, never exceptions. `project=False`: the files given are
    all there is."""
    paths = list(paths) or ["."]
    if config is None:
        config = load(start=paths[0])
    files, errors = discover(paths, config.exclude + config.extend_exclude)
    report = engine.run(files, config, project=project)
    report.errors[:0] = errors
    return report


def lint_source(source: str | bytes, filename: str = "<stdin>", config: Config | None = None, *,
                project: bool = True) -> Report:
    """Lint one buffer (an editor's unsaved file) as if it were `filename`, in the context of that
    file's project (the buffer stands for the file on disk). Without `config`, the configuration is
    the one found from the file's folder. `project=False` (or the name `<stdin>`): the buffer alone."""
    data = source.encode("utf-8") if isinstance(source, str) else source
    if config is None:
        config = load(start=str(Path(filename).parent)) if project and filename != "<stdin>" else Config()
    return engine.run([], config, stdin=(filename, data), project=project and filename != "<stdin>")
