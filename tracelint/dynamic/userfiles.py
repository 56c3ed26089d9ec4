"""Which source files are the model's code: localisation, coverage and linting only look at those.

Everything is the model's code except the standard library, torch itself (with the packages torch
runs on), NumPy and the tools around the run (pytest, tracelint): installed model libraries
(timm, transformers, torchvision, your own pip-installed package) count, so their lines are
linted, executed, localised and blamed like yours. `exclude_modules()` adds packages to leave out
(`--exclude-module`). Computed without importing torch (find_spec only).
"""
from __future__ import annotations

import importlib.util
import os
import sys
import sysconfig
from functools import lru_cache

from tracelint.paths import display_path  # noqa: F401 - re-exported for the dynamic modules

# torch, and what torch itself is written with or runs on: a frame there is never the model's.
TORCH_PACKAGES = ("torch", "torchgen", "functorch", "triton", "sympy", "mpmath", "networkx", "jinja2",
                  "markupsafe", "filelock", "fsspec", "typing_extensions", "optree", "opt_einsum",
                  "setuptools", "pkg_resources", "_distutils_hack")
# the array library torch interoperates with, and the tools the checker runs under
TOOL_PACKAGES = ("numpy", "tracelint", "libcst", "click", "pytest", "_pytest", "pluggy", "coverage")

_INSTALLED_DIRS = ("site-packages", "dist-packages")
_EXCLUDED: tuple[str, ...] = ()


def exclude_modules(names: tuple[str, ...] | list[str]) -> None:
    """Treat these packages (dotted names) as library code too, in this process."""
    global _EXCLUDED
    names = tuple(n for n in names if n)
    if names != _EXCLUDED:
        _EXCLUDED = names
        _library_roots.cache_clear()
        is_user_file.cache_clear()


def excluded_modules() -> tuple[str, ...]:
    return _EXCLUDED


def _stdlib_roots() -> set[str]:
    """The interpreter's own library folders, also from inside a venv (whose sysconfig paths
    point into the venv, site-packages included)."""
    roots = {os.path.dirname(os.__file__)}
    base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix, "installed_base": sys.base_prefix,
            "installed_platbase": sys.base_exec_prefix}
    for key in ("stdlib", "platstdlib"):
        try:
            path = sysconfig.get_path(key, vars=base)
        except (KeyError, ValueError):
            path = None
        if path:
            roots.add(path)
    return {os.path.realpath(r) + os.sep for r in roots if r}


def _package_roots(name: str) -> set[str]:
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError, AttributeError):
        return set()
    if spec is None:
        return set()
    roots = {os.path.realpath(loc) + os.sep for loc in (spec.submodule_search_locations or ())}
    if spec.origin and not spec.submodule_search_locations and spec.origin not in ("built-in", "frozen"):
        roots.add(os.path.realpath(spec.origin))
    return roots


@lru_cache(maxsize=1)
def _library_roots() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(stdlib roots, package roots)."""
    packages: set[str] = set()
    for name in TORCH_PACKAGES + TOOL_PACKAGES + _EXCLUDED:
        packages |= _package_roots(name)
    return tuple(sorted(_stdlib_roots())), tuple(sorted(packages))


def _in_stdlib(real: str, roots: tuple[str, ...]) -> bool:
    for root in roots:
        if real.startswith(root):
            first = real[len(root):].split(os.sep, 1)[0]
            return first not in _INSTALLED_DIRS   # <stdlib>/site-packages is installed code
    return False


@lru_cache(maxsize=8192)
def is_user_file(filename: str) -> bool:
    """True for a real .py file of the model's code (the user's or an installed model library)."""
    if not filename or filename.startswith("<") or not filename.endswith(".py"):
        return False
    real = os.path.realpath(filename)
    stdlib, packages = _library_roots()
    if _in_stdlib(real, stdlib):
        return False
    if any(real.startswith(root) or real == root for root in packages):
        return False
    return os.path.isfile(real)


def is_installed(path: str) -> bool:
    """True for a file of an installed package (under site-packages / dist-packages)."""
    parts = os.path.realpath(path).split(os.sep)
    return any(p in _INSTALLED_DIRS for p in parts)


def norm(path: str) -> str:
    """The key paths are compared by: absolute, symlinks resolved."""
    return os.path.realpath(os.path.abspath(path))
