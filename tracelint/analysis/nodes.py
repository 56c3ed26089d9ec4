"""Fast iteration over semantic sub-nodes (LibCST's `.children` and `.visit()` rebuild every node)."""
from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Iterator

import libcst as cst

# Fields that only hold whitespace, punctuation and operators: never walked.
_SKIP = ("whitespace", "lpar", "rpar", "leading_lines", "lines_after_decorators", "comma",
         "semicolon", "header", "footer", "dot", "equal", "colon", "operator", "asynchronous",
         "trailing_whitespace", "lbracket", "rbracket", "lbrace", "rbrace", "indent", "newline",
         "first_line", "empty_lines", "star", "prefix", "quote", "default_indent")
_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(cls: type) -> tuple[str, ...]:
    """Names of the fields of a node type that can hold semantic child nodes (cached)."""
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls)
                      if not any(f.name.startswith(s) or f.name.endswith("_" + s) for s in _SKIP))
        _FIELDS[cls] = names
    return names


@lru_cache(maxsize=None)
def subclass_of(t: type, cls: type) -> bool:
    """`issubclass`, remembered per pair: `isinstance` against LibCST's abstract (ABC) node classes
    goes through `ABCMeta.__instancecheck__`, slow when the answer is no (the walks ask it per node)."""
    return issubclass(t, cls)


def _is_node(value: object) -> bool:
    return subclass_of(type(value), cst.CSTNode)


def children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    """Direct semantic children, in field order."""
    for name in child_fields(type(node)):
        value = getattr(node, name)
        if _is_node(value):
            yield value
        elif type(value) in (tuple, list):
            for item in value:
                if _is_node(item):
                    yield item


def iter_nodes(node: cst.CSTNode, *, into_functions: bool = True) -> Iterator[cst.CSTNode]:
    """`node` and all its semantic descendants, pre-order; optionally not into nested defs/lambdas."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if not into_functions and n is not node and isinstance(n, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
            continue
        stack.extend(reversed(list(children(n))))


def run_visitor(node: cst.CSTNode, visitor: cst.CSTVisitor) -> None:
    """Drive a CSTVisitor's `visit_<Type>`/`leave_<Type>` methods with the fast field walk
    (whitespace and punctuation nodes are not visited)."""
    name = type(node).__name__
    visit = getattr(visitor, "visit_" + name, None)
    if visit is None or visit(node) is not False:
        for child in children(node):
            run_visitor(child, visitor)
    leave = getattr(visitor, "leave_" + name, None)
    if leave is not None:
        leave(node)
