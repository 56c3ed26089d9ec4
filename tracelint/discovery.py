"""Which files to lint: recurse into folders for *.py, skip excluded names; explicit files always count."""
from __future__ import annotations

import fnmatch
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator


def _excluded(path: Path, patterns: tuple[str, ...]) -> bool:
    """The name, the whole path, or a trailing part of the path matches a pattern (fnmatch rules)."""
    by_name, by_path = _matchers(tuple(patterns))
    return bool(by_name(os.path.normcase(path.name)) or by_path(os.path.normcase(path.as_posix())))


@lru_cache(maxsize=32)
def _matchers(patterns: tuple[str, ...]):
    """One compiled regex per kind of match: a project walk tests thousands of names."""
    if not patterns:
        return (lambda _: None), (lambda _: None)
    pats = [os.path.normcase(p) for p in patterns]
    by_name = re.compile("|".join(fnmatch.translate(p) for p in pats))
    by_path = re.compile("|".join([*(fnmatch.translate(p) for p in pats), *(fnmatch.translate(f"*/{p}") for p in pats)]))
    return by_name.match, by_path.match


def discover(paths: list[str], exclude: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(files to lint in a deterministic order, error messages for paths that cannot be read)."""
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
        if p.is_file():
            add(raw)
        elif p.is_dir():
            for f in _walk(p, exclude, errors):
                add(str(f))
        elif not p.exists():
            errors.append(f"{raw}: no such file or directory")
        else:
            errors.append(f"{raw}: not a regular file or directory")
    return files, errors


def _walk(root: Path, exclude: tuple[str, ...], errors: list[str]) -> Iterator[Path]:
    def onerror(e: OSError) -> None:
        errors.append(f"{e.filename}: {e.strerror}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=onerror):
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if not _excluded(d / n, exclude))
        for name in sorted(filenames):
            if name.endswith(".py") and not _excluded(d / name, exclude):
                yield d / name
