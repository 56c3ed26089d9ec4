"""A content-hash cache of per-file results, outside the user's tree (`~/.cache/tracelint`).

A file's findings depend on its bytes, the selected rules and what the project index says about
it (entry points, module classes, argument kinds from other files), and on tracelint itself; the
key hashes all of that, so a hit is always the result a fresh run would give.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

ENV_DIR = "TRACELINT_CACHE_DIR"
ENV_OFF = "TRACELINT_NO_CACHE"


def default_dir() -> Path | None:
    """The cache folder, or None when caching is switched off by the environment."""
    if os.environ.get(ENV_OFF):
        return None
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "tracelint"


@lru_cache(maxsize=1)
def tool_fingerprint() -> str:
    """Changes whenever tracelint's own code changes (version bumps and local edits alike)."""
    from tracelint import __version__
    h = hashlib.sha256(__version__.encode())
    root = Path(__file__).resolve().parent
    for p in sorted(root.rglob("*.py")):
        st = p.stat()
        h.update(f"{p.relative_to(root)}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()


def key(*parts: Any) -> str:
    h = hashlib.sha256(tool_fingerprint().encode())
    h.update(pickle.dumps(parts, protocol=4))
    return h.hexdigest()


class Cache:
    def __init__(self, folder: Path):
        self.folder = folder

    def _path(self, k: str) -> Path:
        return self.folder / k[:2] / k

    def get(self, k: str) -> Any | None:
        try:
            with open(self._path(k), "rb") as f:
                return pickle.load(f)
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError):
            return None

    def put(self, k: str, value: Any) -> None:
        """Atomic write; a cache that cannot be written is silently skipped."""
        path = self._path(k)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent)
            with os.fdopen(fd, "wb") as f:
                pickle.dump(value, f, protocol=4)
            os.replace(tmp, path)
        except OSError:
            pass
