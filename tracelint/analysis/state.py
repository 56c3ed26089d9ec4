"""Facts about module state used by the state-mutation and module-tree rules (TL6xx/TL7xx).

Kept apart from context.py so that these small queries (is this attribute a registered buffer,
are we inside `if self.training:`) have one definition shared by several rules.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

if TYPE_CHECKING:  # pragma: no cover
    from tracelint.analysis.context import AttrFact, FileContext


def self_attr(node: cst.CSTNode) -> str | None:
    """`self.x` -> "x", else None."""
    if (isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)
            and node.value.value == "self"):
        return node.attr.value
    return None


def is_registered_buffer(fact: "AttrFact | None") -> bool:
    """register_buffer/register_parameter (recorded by class_state as an Expr statement)."""
    return fact is not None and isinstance(fact.node, cst.Expr)


def is_training_test(test: cst.CSTNode) -> bool:
    """`self.training` (possibly `self.training and ...`)."""
    if self_attr(test) == "training":
        return True
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return is_training_test(test.left) or is_training_test(test.right)
    return False


def in_training_branch(ctx: "FileContext") -> bool:
    """Inside the body of `if self.training:`: runs only when captured in train mode (call-site dependent)."""
    stmts = ctx.stmts
    for i, s in enumerate(stmts[:-1]):
        if isinstance(s, cst.If) and is_training_test(s.test):
            inner = stmts[i + 1]
            body = s.body.body if isinstance(s.body, cst.IndentedBlock) else ()
            if any(inner is b for b in body):
                return True
    return False


def module_ctor(ctx: "FileContext", call: cst.CSTNode) -> str | None:
    """The resolved class name when `call` constructs an nn.Module (torch.nn class or project Module)."""
    if not isinstance(call, cst.Call):
        return None
    name = ctx.qualified(call.func) or ""
    last = name.rsplit(".", 1)[-1]
    if name.startswith("torch.nn.") and not name.startswith(("torch.nn.functional.", "torch.nn.init.",
                                                                "torch.nn.utils.")) and last[:1].isupper():
        return name
    if name in ctx.project_module_classes or last in ctx.module_class_names:
        return name
    return None


def jit_compiled(ctx: "FileContext", call: cst.CSTNode) -> str | None:
    """`torch.jit.script(...)` / `torch.jit.trace(...)` / `torch.jit.load(...)`: a ScriptModule."""
    if not isinstance(call, cst.Call):
        return None
    name = ctx.qualified(call.func) or ""
    if name in ("torch.jit.script", "torch.jit.trace", "torch.jit.load", "torch.jit.freeze",
                "torch.jit.trace_module"):
        return name
    return None
