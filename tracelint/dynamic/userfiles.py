"""Which source files are the user's: localisation and coverage only look at those frames.

Library frames (the stdlib, torch, NumPy, tracelint itself) are never blamed: a hazard is always
in the code that calls them. Computed without importing torch (find_spec only).
"""
from __future__ import annotations

import importlib.util
import os
import sysconfig
from functools import lru_cache

from tracelint.paths import display_path  # noqa: F401 - re-exported for the dynamic modules

# Packages whose frames are library code, not the model's.
LIBRARY_PACKAGES = ("torch", "torchgen", "functorch", "numpy", "sympy", "mpmath", "triton", "optree",
                    "typing_extensions", "filelock", "jinja2", "networkx", "fsspec", "pytest",
                    "_pytest", "pluggy", "libcst", "click", "tracelint", "coverage", "_distutils_hack")


@lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    roots: set[str] = set()
    for key in ("stdlib", "platstdlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(os.path.realpath(path) + os.sep)
    for name in LIBRARY_PACKAGES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is None:
            continue
        for loc in spec.submodule_search_locations or ():
            roots.add(os.path.realpath(loc) + os.sep)
        if spec.origin and not spec.submodule_search_locations and spec.origin not in ("built-in", "frozen"):
            roots.add(os.path.realpath(spec.origin))
    return tuple(sorted(roots))


@lru_cache(maxsize=4096)
def is_user_file(filename: str) -> bool:
    """True for a real .py file outside the stdlib and the known libraries."""
    if not filename or filename.startswith("<") or not filename.endswith(".py"):
        return False
    real = os.path.realpath(filename)
    if any(real.startswith(root) or real == root for root in _library_roots()):
        return False
    return os.path.isfile(real)


def norm(path: str) -> str:
    """The key paths are compared by: absolute, symlinks resolved."""
    return os.path.realpath(os.path.abspath(path))


