"""What a cache key or a daemon must agree on (tracelint's sources, LibCST, Python) and where the
cache lives. Standard library only: the `--daemon` client imports this and nothing heavier."""
from __future__ import annotations

import hashlib
import os
import re
import sys
from functools import lru_cache
from pathlib import Path

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
def environment() -> dict[str, str]:
    """What every cached value depends on besides its inputs: tracelint (version and its own source
    files, so a local edit invalidates too), LibCST and Python."""
    from tracelint import __version__
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.endswith(".py"):
                st = os.stat(os.path.join(dirpath, name))
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                h.update(f"{rel}:{st.st_size}:{st.st_mtime_ns}\0".encode())
    return {"tracelint": __version__, "tracelint_files": h.hexdigest(), "libcst": libcst_version(),
            "python": f"{sys.implementation.cache_tag} {sys.version}"}


def libcst_version() -> str:
    """LibCST's version without importing it (the import costs a fifth of a second)."""
    import importlib.util
    spec = importlib.util.find_spec("libcst")
    if spec is None or not spec.origin:
        return "absent"
    folder = os.path.dirname(spec.origin)
    try:
        text = Path(folder, "_version.py").read_text(encoding="utf-8")
        m = re.search(r"""__version__\s*(?::\s*str\s*)?=\s*(?:version\s*=\s*)?['"]([^'"]+)['"]""", text)
        if m:
            return m.group(1)
        return "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    except OSError:
        from importlib.metadata import PackageNotFoundError, version
        try:
            return version("libcst")
        except PackageNotFoundError:
            return "unknown:" + folder
