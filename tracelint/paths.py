"""How paths are shown in every report: relative to the current folder, `/`-separated."""
from __future__ import annotations

import os
from pathlib import Path


def display_path(path: str) -> str:
    """Relative to the current directory when below it, with forward slashes; absolute otherwise."""
    if os.sep == "/" and "/." not in path and "//" not in path and not path.startswith(".") and path[-1:] != "/":
        # the common cases without relpath (a tree has thousands of files): a clean relative path is
        # shown as given; an absolute one below the current folder, relative to it
        if not path.startswith("/"):
            return path
        cwd = os.getcwd()
        if path.startswith(cwd.rstrip("/") + "/"):
            return path[len(cwd.rstrip("/")) + 1:]
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        rel = path
    if rel.startswith(".."):
        rel = os.path.abspath(path)
    return Path(rel).as_posix()


COLOR_MODES = ("auto", "always", "never")


def use_color(stream, mode: str = "auto") -> bool:
    """`--color`: always / never, or auto: on a TTY only, NO_COLOR turns it off, FORCE_COLOR on."""
    if mode != "auto":
        return mode == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()
