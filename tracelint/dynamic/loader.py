"""Import an example source (a file, or `package.module[:function]`) and call its examples function.

Files inside a package are imported by their dotted name (relative imports keep working); loose
files under a private module name with their folder on sys.path (sibling imports keep working).
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from tracelint.dynamic.example import Example, as_examples, example_names

EXAMPLES_FUNCTION = "tracelint_examples"


@dataclass
class Loaded:
    examples: list[Example]
    names: list[str]
    source: str | None                # the file the examples function is defined in
    line: int                         # its `def` line


def _package_name(path: Path) -> tuple[Path, str] | None:
    """(sys.path root, dotted name) when the file sits in a package."""
    parts = [path.stem]
    d = path.parent
    if not (d / "__init__.py").is_file():
        return None
    while (d / "__init__.py").is_file():
        parts.insert(0, d.name)
        d = d.parent
    if not all(p.isidentifier() for p in parts):
        return None
    return d, ".".join(parts)


def import_file(path: str) -> ModuleType:
    p = Path(path).resolve()
    pkg = _package_name(p)
    if pkg is not None:
        root, dotted = pkg
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        return importlib.import_module(dotted)
    folder = str(p.parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = "_tracelint_examples_" + re.sub(r"\W", "_", p.stem)
    spec = importlib.util.spec_from_file_location(name, p)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module   # TorchScript and dataclasses look classes up through sys.modules
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


class SetupError(Exception):
    """The source cannot be used at all (not importable, no examples function): a usage error."""


def load(target: dict[str, Any]) -> Loaded:
    """Import the target and call its examples function.

    Nothing is recorded here: building the examples is not what the model executes (only the
    forward runs count, see runner). A target that cannot be imported or has no examples function
    raises SetupError.
    """
    try:
        if target["kind"] == "file":
            module = import_file(target["path"])
            func_name = EXAMPLES_FUNCTION
        else:
            if os.getcwd() not in sys.path and "" not in sys.path:
                sys.path.insert(0, os.getcwd())
            module = importlib.import_module(target["module"])
            func_name = target.get("function") or EXAMPLES_FUNCTION
    except ImportError as e:
        what = target.get("path") or target.get("module")
        raise SetupError(f"cannot import {what}: {type(e).__name__}: {e}") from e
    func = getattr(module, func_name, None)
    if func is None or not callable(func):
        where = target.get("path") or module.__name__
        raise SetupError(f"{where} defines no callable {func_name}(): define one returning tracelint.Example "
                         f"objects (see `tracelint confirm --help`)")
    code = getattr(func, "__code__", None)
    examples = as_examples(func())
    source = code.co_filename if code is not None else getattr(module, "__file__", None)
    return Loaded(examples, example_names(examples), source, code.co_firstlineno if code else 1)
