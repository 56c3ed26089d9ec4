"""Dotted names of LibCST expressions, resolved through the file's own import-alias table.

A small table built from the imports (in the index pass) replaces LibCST's Scope and
QualifiedName providers, which cost several times the parse on real code.
"""
from __future__ import annotations

import libcst as cst


def dotted_name(node: cst.CSTNode) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def resolve_name(name: str | None, aliases: dict[str, str], local_module: str = "",
                 local_names=frozenset()) -> str | None:
    """`nn.Linear` -> `torch.nn.Linear` with `from torch import nn`; local defs get the module prefix."""
    if not name:
        return None
    head, _, rest = name.partition(".")
    if head in aliases:
        return aliases[head] + ("." + rest if rest else "")
    if head in local_names and local_module:
        return f"{local_module}.{name}"
    return name


def string_value(node: cst.CSTNode) -> str | None:
    """The value of a plain string literal, else None."""
    if isinstance(node, cst.SimpleString):
        try:
            return node.evaluated_value if isinstance(node.evaluated_value, str) else None
        except Exception:  # pragma: no cover - malformed literal
            return None
    return None


def annotation_text(ann: cst.Annotation | None) -> str:
    if ann is None:
        return ""
    return cst.Module([]).code_for_node(ann.annotation)
