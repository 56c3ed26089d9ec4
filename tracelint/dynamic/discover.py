"""Which sources to confirm: files that define tracelint_examples(), or `package.module[:function]`.

Files are recognised by parsing (never importing) them, so a folder can be scanned safely.
"""
from __future__ import annotations

import ast
import os
import re
from pathlib import Path
from typing import Any

from tracelint.config import DEFAULT_EXCLUDE
from tracelint.discovery import discover
from tracelint.dynamic.loader import EXAMPLES_FUNCTION
from tracelint.dynamic.userfiles import display_path

Source = tuple[dict[str, Any], str]   # (worker target, display name)

_DOTTED = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*(:[A-Za-z_]\w*)?$")


def defines_examples(path: str) -> bool:
    """True when the file defines or imports a module-level tracelint_examples."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    if EXAMPLES_FUNCTION not in text:
        return False
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == EXAMPLES_FUNCTION:
            return True
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == EXAMPLES_FUNCTION
                                                for t in node.targets):
            return True
        if isinstance(node, ast.ImportFrom) and any((a.asname or a.name) == EXAMPLES_FUNCTION for a in node.names):
            return True
    return False


def _file_source(path: str) -> Source:
    return {"kind": "file", "path": os.path.abspath(path)}, display_path(path)


def example_files(paths: list[str], exclude: tuple[str, ...] = DEFAULT_EXCLUDE) -> tuple[list[Source], list[str]]:
    """Every file under `paths` defining tracelint_examples(), in a stable order."""
    files, errors = discover(list(paths), exclude)
    return [_file_source(f) for f in files if defines_examples(f)], errors


def resolve(targets: list[str], exclude: tuple[str, ...] = DEFAULT_EXCLUDE) -> tuple[list[Source], list[str]]:
    """CLI targets: a file defining tracelint_examples(), a folder (its example files), or an
    importable `package.module[:function]`; anything else is a usage error in `errors`."""
    sources: list[Source] = []
    errors: list[str] = []
    for raw in targets:
        if os.path.isfile(raw):
            if defines_examples(raw):
                sources.append(_file_source(raw))
            else:
                errors.append(f"{raw} defines no {EXAMPLES_FUNCTION}(): add one that yields "
                              f"tracelint.Example(model, inputs) (see `tracelint confirm --help`)")
        elif os.path.isdir(raw):
            found, errs = example_files([raw], exclude)
            errors.extend(errs)
            if not found:
                errors.append(f"{raw}: no file defines {EXAMPLES_FUNCTION}()")
            sources.extend(found)
        elif _DOTTED.match(raw) and not raw.endswith(".py"):
            module, _, function = raw.partition(":")
            sources.append(({"kind": "module", "module": module, "function": function or EXAMPLES_FUNCTION}, raw))
        else:
            errors.append(f"{raw}: no such file, folder or module:function (a .py file, a folder, or "
                          f"package.module[:function])")
    seen: set[str] = set()
    unique = []
    for s in sources:
        key = repr(sorted(s[0].items()))
        if key not in seen:
            seen.add(key)
            unique.append(s)
    return unique, errors
