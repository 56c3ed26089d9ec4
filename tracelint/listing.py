"""Folder listings, taken once per run and shared.

The lint walk (which files to report), the project walk (which files the project holds) and the
`__init__.py` chains (module names) read the same few hundred folders of a project; each is listed
once, with `os.scandir` (file kinds from the directory entry: no `stat` per regular file). A
long-lived process (language server, daemon) keeps the listings between runs and re-lists a folder
only when its mtime changed (an entry added, removed or renamed changes it), or when it was
modified too close to when it was listed for its mtime to be trusted.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Callable, Iterator

RACY_NS = 2_000_000_000   # a folder modified this close to when it was listed is listed again


@dataclass(frozen=True)
class Listing:
    """What one folder holds, as `os.walk` sees it (names sorted)."""

    mtime_ns: int
    listed_ns: int
    dirs: tuple[str, ...]          # subfolders, symlinks to folders included (never descended)
    linked: frozenset[str]         # those of `dirs` that are symlinks
    py: tuple[str, ...]            # every other entry whose name ends in .py
    odd: frozenset[str]            # those of `py` that are not regular files (FIFO, dangling link, ...)

    def has_init(self) -> bool:
        return "__init__.py" in self.py and "__init__.py" not in self.odd


_LISTINGS: dict[str, Listing] = {}
_CHECKED: set[str] = set()        # folders known to be current in this run


def new_run() -> None:
    """A new run of a long-lived process: every listing is checked against its folder's mtime on
    first use (the listings themselves are kept)."""
    _CHECKED.clear()


def listing(folder: str) -> Listing:
    """The listing of `folder`; OSError when it cannot be listed."""
    folder = os.path.abspath(folder)
    if folder in _CHECKED:
        return _LISTINGS[folder]
    st = os.stat(folder)
    old = _LISTINGS.get(folder)
    if old is not None and old.mtime_ns == st.st_mtime_ns and old.mtime_ns < old.listed_ns - RACY_NS:
        _CHECKED.add(folder)
        return old
    now = time.time_ns()
    dirs: list[str] = []
    linked: set[str] = set()
    py: list[str] = []
    odd: set[str] = set()
    with os.scandir(folder) as it:
        for entry in it:
            name = entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            if is_dir:
                dirs.append(name)
                if entry.is_symlink():
                    linked.add(name)
            elif name.endswith(".py"):
                py.append(name)
                try:
                    regular = entry.is_file()
                except OSError:
                    regular = False
                if not regular:
                    odd.add(name)
    found = Listing(st.st_mtime_ns, now, tuple(sorted(dirs)), frozenset(linked), tuple(sorted(py)), frozenset(odd))
    _LISTINGS[folder] = found
    _CHECKED.add(folder)
    return found


def walk(root: str, skip: Callable[[str], bool], onerror: Callable[[OSError], None] | None = None
         ) -> Iterator[tuple[str, Listing]]:
    """(folder, listing) top-down under `root` like `os.walk` (symlinked folders listed, not
    descended); subfolders whose path `skip` accepts are left out. Paths are joined as `pathlib`
    does (under root ".", a subfolder is "sub", not "./sub")."""
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            found = listing(folder)
        except OSError as e:
            if onerror is not None:
                onerror(e)
            continue
        yield folder, found
        subs = [join(folder, d) for d in found.dirs if d not in found.linked]
        stack.extend(reversed([s for s in subs if not skip(s)]))


def is_package(folder: str) -> bool:
    """The folder (absolute) holds an `__init__.py` (a regular file): from its listing when this run
    has one (no system call), else asked of the file system (folders above a project are not listed)."""
    if folder in _CHECKED:
        return _LISTINGS[folder].has_init()
    return os.path.isfile(os.path.join(folder, "__init__.py"))


def join(folder: str, name: str) -> str:
    return name if folder == "." else os.path.join(folder, name)
