"""tracelint's caches: plain JSON files outside the user's tree (`~/.cache/tracelint/v2`).

Safe whoever wrote the folder: entries are data, never code (no pickle), and every read is
validated; a damaged, oversized, truncated or wrongly shaped entry, a FIFO, a device or a symlink
is a miss, never a crash, a hang or code run. Keys are SHA-256 digests of canonical JSON (sorted
keys): equal inputs give equal bytes, and they hold the tracelint, LibCST and Python versions.
The folder is capped in size; the oldest entries are pruned.

Sections (sub-folders): `results` (a file's findings, see `tracelint.engine`), `index` (a file's
ast index, keyed by path and validated by size, mtime and content hash), `projects` (a project's
derived facts), `runs` (a whole run's report, for a warm run with nothing changed).
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from pathlib import Path
from typing import Any

from tracelint.buildinfo import ENV_DIR, ENV_OFF, default_dir, environment, libcst_version  # noqa: F401
from tracelint.serde import canonical

ENV_MAX_MB = "TRACELINT_CACHE_MAX_MB"
LAYOUT = "v2"                        # bump when the entry format changes; older layouts are never read
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
MAX_ENTRY_BYTES = 64 * 1024 * 1024   # a bigger file is not one of ours
PRUNE_EVERY_S = 3600.0               # a size scan at most once an hour (when a run wrote entries)
PRUNE_TO = 0.8                       # prune down to this fraction of the cap
_STAMP = "last-prune"


def max_bytes() -> int:
    """The size cap: $TRACELINT_CACHE_MAX_MB megabytes, else 512 MB."""
    try:
        return max(1, int(os.environ[ENV_MAX_MB])) * 1024 * 1024
    except (KeyError, ValueError):
        return DEFAULT_MAX_BYTES


def key(kind: str, payload: Any) -> str:
    """The digest of canonical JSON bytes of (kind, environment, payload). Payload: plain data."""
    text = canonical({"kind": kind, "env": environment(), "payload": payload})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_regular(path: str | os.PathLike, limit: int) -> bytes | None:
    """The bytes of a regular file no bigger than `limit`; None for anything else (a FIFO or device is
    never opened for blocking reads, a symlink is not followed, a missing file is just None)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        chunks = []
        left = st.st_size + 1  # one byte more: a file that grew is caught below
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        return data if len(data) <= limit else None
    except OSError:
        return None
    finally:
        os.close(fd)


class Store:
    """A folder of JSON entries `<section>/<k[:2]>/<k>.json`, each `{"key": k, "value": ...}`.

    `get` returns the value only when the entry parses, names the same key and `check(value)` accepts
    its shape; anything else is a miss. `put` writes atomically (temp file + rename), folders 0700.
    """

    def __init__(self, folder: str | os.PathLike, section: str):
        self.root = Path(folder)
        self.folder = self.root / LAYOUT / section
        self.wrote = 0

    def path(self, k: str) -> Path:
        return self.folder / k[:2] / f"{k}.json"

    def get(self, k: str) -> Any | None:
        if not _is_key(k):
            return None
        raw = read_regular(self.path(k), MAX_ENTRY_BYTES)
        if raw is None:
            return None
        try:
            entry = json.loads(raw)
        except (ValueError, RecursionError, UnicodeDecodeError):
            return None
        if type(entry) is not dict or entry.keys() != {"key", "value"} or entry["key"] != k:
            return None
        return entry["value"]

    def put(self, k: str, value: Any) -> bool:
        """Write `value` (plain data); a folder that cannot be written is silently skipped."""
        if not _is_key(k):
            return False
        try:
            text = canonical({"key": k, "value": value})
        except (TypeError, ValueError):
            return False
        path = self.path(k)
        try:
            _makedirs(path.parent, self.root)
            import tempfile   # only a run that writes pays for it (start-up)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(text.encode("utf-8"))
                os.replace(tmp, path)
            except BaseException:
                _unlink(tmp)
                raise
        except OSError:
            return False
        self.wrote += 1
        return True

    def remove(self, k: str) -> None:
        if _is_key(k):
            _unlink(self.path(k))


def _is_key(k: Any) -> bool:
    return isinstance(k, str) and len(k) == 64 and all(c in "0123456789abcdef" for c in k)


def _makedirs(path: Path, root: Path) -> None:
    if path.is_dir():
        return
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def _unlink(path: str | os.PathLike) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def prune(folder: str | os.PathLike, cap: int | None = None, force: bool = False) -> int:
    """Delete the least recently written entries until the cache is under PRUNE_TO of its cap.

    Runs at most once an hour unless forced (a stamp file records the last scan). Only regular
    `*.json` files and stale temp files of our own layout are ever deleted. Returns bytes freed.
    """
    cap = max_bytes() if cap is None else cap
    base = Path(folder) / LAYOUT
    stamp = base / _STAMP
    now = time.time()
    if not force:
        try:
            if now - os.stat(stamp).st_mtime < PRUNE_EVERY_S:
                return 0
        except OSError:
            pass
    entries: list[tuple[float, int, str]] = []
    total = 0
    freed = 0
    for dirpath, dirnames, filenames in os.walk(base):
        for name in filenames:
            p = os.path.join(dirpath, name)
            try:
                st = os.lstat(p)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            if name.startswith(".tmp-"):
                if now - st.st_mtime > 3600:  # a writer died mid-write
                    _unlink(p)
                    freed += st.st_size
                continue
            if name.endswith(".json"):
                entries.append((st.st_mtime, st.st_size, p))
                total += st.st_size
    if total > cap:
        entries.sort()
        goal = cap * PRUNE_TO
        for _mtime, size, p in entries:
            if total <= goal:
                break
            _unlink(p)
            total -= size
            freed += size
    try:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
        Path(stamp).touch()
    except OSError:
        pass
    return freed


def usage(folder: str | os.PathLike) -> tuple[int, int]:
    """(entries, bytes) of the current layout."""
    n = total = 0
    for dirpath, _, names in os.walk(Path(folder) / LAYOUT):
        for name in names:
            if name.endswith(".json"):
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_size
                    n += 1
                except OSError:
                    pass
    return n, total


def clear(folder: str | os.PathLike) -> None:
    """Remove every entry of the current layout (`tracelint cache clear`)."""
    import shutil
    shutil.rmtree(Path(folder) / LAYOUT, ignore_errors=True)
