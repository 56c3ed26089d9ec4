"""Which files to lint: recurse into folders for *.py, skip excluded names; explicit files always count."""
from __future__ import annotations

import errno
import fnmatch
import os
import stat
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator


def _excluded(path: Path | str, patterns: tuple[str, ...]) -> bool:
    """The name, the whole path, or a trailing part of the path matches a pattern (fnmatch rules)."""
    if not patterns:
        return False
    by_name, by_path = _matchers(tuple(patterns))
    if isinstance(path, Path):
        return bool(by_name(os.path.normcase(path.name)) or by_path(os.path.normcase(path.as_posix())))
    # a string (the walks: thousands of names, no Path objects)
    posix = path if os.sep == "/" else path.replace(os.sep, "/")
    return bool(by_name(os.path.normcase(posix.rpartition("/")[2])) or by_path(os.path.normcase(posix)))


@lru_cache(maxsize=32)
def _matchers(patterns: tuple[str, ...]):
    """One compiled regex per kind of match: a project walk tests thousands of names."""
    if not patterns:
        return (lambda _: None), (lambda _: None)
    pats = [os.path.normcase(p) for p in patterns]
    by_name = re.compile("|".join(fnmatch.translate(p) for p in pats))
    by_path = re.compile("|".join([*(fnmatch.translate(p) for p in pats), *(fnmatch.translate(f"*/{p}") for p in pats)]))
    return by_name.match, by_path.match


def discover(paths: list[str], exclude: tuple[str, ...], skipped: list[str] | None = None
             ) -> tuple[list[str], list[str]]:
    """(files to lint in a deterministic order, error messages for paths that cannot be read).
    `*.py` entries of a folder that are no regular file (a FIFO, a device, a socket, a dangling or
    looping symlink) are not linted: a message for each goes to `skipped` (a warning: the run does
    not fail), or to the errors when no `skipped` list is given."""
    from tracelint import listing
    listing.new_run()   # folders listed by an earlier call of this process are checked again
    files: list[str] = []
    errors: list[str] = []
    seen: set[str] = set()

    def add(p: str) -> None:
        key = os.path.normcase(os.path.abspath(p))
        if key not in seen:
            seen.add(key)
            files.append(p)

    for raw in paths:
        p = Path(raw)
        try:
            mode = os.stat(raw).st_mode
        except OSError as e:   # missing, a dangling symlink, a symlink loop, no permission
            errors.append(f"{raw}: {_why(raw, e)}")
            continue
        if stat.S_ISREG(mode):
            add(raw)
        elif stat.S_ISDIR(mode):
            for f in _walk(p, exclude, errors, errors if skipped is None else skipped):
                add(f)
        else:   # a FIFO would block the run, a device never end: never read
            from tracelint.source import file_kind
            errors.append(f"{raw}: {file_kind(mode)}, not a regular file or folder: skipped")
    return files, errors


def _why(raw: str, e: OSError) -> str:
    if e.errno == errno.ENOENT:
        return "dangling symlink (its target does not exist)" if os.path.islink(raw) else "no such file or directory"
    if e.errno == errno.ELOOP:
        return "symlink loop"
    return e.strerror or str(e)


def _walk(root: Path, exclude: tuple[str, ...], errors: list[str], skipped: list[str]) -> Iterator[str]:
    from tracelint.listing import join, walk

    def onerror(e: OSError) -> None:
        errors.append(f"{e.filename}: {e.strerror}")

    for folder, found in walk(str(root), lambda d: _excluded(d, exclude), onerror):
        for name in found.py:
            f = join(folder, name)
            if _excluded(f, exclude):
                continue
            if name not in found.odd:
                yield f
                continue
            try:
                mode = os.stat(f).st_mode
            except OSError as e:
                if e.errno in (errno.ENOENT, errno.ELOOP):
                    skipped.append(f"{f}: {_why(f, e)}: skipped")
                    continue
                yield f   # e.g. no permission: reading it reports the error
                continue
            if stat.S_ISREG(mode):
                yield f
            else:
                from tracelint.source import file_kind
                skipped.append(f"{f}: {file_kind(mode)}, not a regular file: skipped")
