"""The function or class around a source line (`Model.forward`, `Model.__init__`, `Model`)."""
from __future__ import annotations

import ast
import linecache
from functools import lru_cache


@lru_cache(maxsize=256)
def _scopes(path: str) -> tuple[tuple[int, int, str, bool], ...]:
    """(first line incl. decorators, last line, qualified name, is_class) for every def and class."""
    try:
        tree = ast.parse("".join(linecache.getlines(path)))
    except (SyntaxError, ValueError):
        return ()
    out: list[tuple[int, int, str, bool]] = []

    def walk(node, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}.{child.name}" if prefix else child.name
                start = min([child.lineno] + [d.lineno for d in child.decorator_list])
                out.append((start, child.end_lineno or child.lineno, name, isinstance(child, ast.ClassDef)))
                walk(child, name)
            else:
                walk(child, prefix)

    walk(tree, "")
    return tuple(out)


def scope_of(path: str, line: int) -> str:
    """The innermost function or class around `line`, "" at module level."""
    best = ""
    for start, end, name, _ in _scopes(path):
        if start <= line <= end:
            best = name
    return best


def in_class_body(path: str, line: int) -> bool:
    """True when the innermost scope of `line` is a class (an attribute, not a method body)."""
    best = None
    for start, end, name, is_class in _scopes(path):
        if start <= line <= end:
            best = is_class
    return bool(best)


def top_class(path: str, line: int) -> str:
    """The outermost class around `line`, "" when none."""
    for start, end, name, is_class in _scopes(path):
        if is_class and "." not in name and start <= line <= end:
            return name
    return ""


def class_lines(path: str, name: str) -> range:
    for start, end, qual, is_class in _scopes(path):
        if is_class and qual == name:
            return range(start, end + 1)
    return range(0)


def function_at(path: str, line: int) -> range:
    """Lines of the innermost function (decorators and def line included) around `line`."""
    best = range(0)
    for start, end, name, is_class in _scopes(path):
        if not is_class and start <= line <= end:
            best = range(start, end + 1)
    return best
