"""TL301: an `if`/`while`/ternary decided by a shape, rank or size read in Python."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.conditions import BOOLOP, COMPIF, IF, IFEXP, WHILE, ConditionRule
from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid
from tracelint.targets import fail, ok, warn
from tracelint.analysis.nodes import children

_RANK_METHODS = {"dim", "ndimension"}


def _reads_rank(node: cst.CSTNode) -> bool:
    """True when the test reads only the rank (`x.dim()`, `x.ndim`, `len(x.shape)`)."""
    found = False
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, cst.Attribute) and n.attr.value == "ndim":
            found = True
            continue
        if isinstance(n, cst.Call):
            f = n.func
            if isinstance(f, cst.Attribute) and f.attr.value in _RANK_METHODS:
                found = True
                continue
            if isinstance(f, cst.Name) and f.value == "len" and n.args and isinstance(
                    n.args[0].value, cst.Attribute) and n.args[0].value.attr.value == "shape":
                found = True
                continue
        if isinstance(n, (cst.Attribute, cst.Call)) and _is_size_read(n):
            return False
        stack.extend(children(n))
    return found


def _is_size_read(n: cst.CSTNode) -> bool:
    if isinstance(n, cst.Attribute):
        return n.attr.value == "shape"
    f = n.func if isinstance(n, cst.Call) else None
    return isinstance(f, cst.Attribute) and f.attr.value in ("size", "numel", "nelement")


class ShapeCondition(ConditionRule):
    """Flags conditions built from `.shape`/`.size()`/`.dim()`/`.numel()` values."""

    code = "TL301"
    name = "shape-condition"
    summary = "A Python `if`/`while`/ternary on a shape, size or rank inside forward."
    short_message = "the {where} condition reads a shape in Python"
    message = ("the {where} condition reads a shape in Python: trace bakes the branch taken for the "
               "example's sizes (silently wrong for others); export specialises or guards the dynamic "
               "dimension and fails on other sizes")
    help = ("make the code shape-agnostic (broadcasting, `x.flatten(1)`, `torch.where`), check sizes "
            "outside forward, or keep the decision in a Python flag set at construction")
    targets = {
        "trace": fail("silently wrong: the branch for the example's shape is baked in"),
        "script": ok("TorchScript reads the shape at run time"),
        "export": fail("guard failed / constraint violated on other sizes (dynamic dims)"),
        "compile": ok("guards on the shape and recompiles"),
    }
    contexts = (IF, WHILE, IFEXP, COMPIF, BOOLOP)  # `flag = n > 1 and mask is None`: bool() of the comparison
    # `if <shape test>: raise ...` validates the input: trace drops it like an assert (TL302).
    validation_message = ("the if condition reads a shape in Python to validate the input: trace drops the "
                          "check from the graph, so the traced model accepts wrong shapes")
    validation_help = "use `torch._check(x.shape[1] == 3)` (kept by export/compile) or validate the input outside forward"
    validation_targets = {
        "trace": warn("the check is dropped from the graph (the traced model accepts wrong shapes)"),
        "script": ok("TorchScript keeps the check"),
        "export": ok("the check becomes a shape guard"),
        "compile": ok("the check becomes a shape guard"),
    }
    short_variants = {validation_message: "the if condition validates a shape in Python"}
    valid = (
        """
import torch
from torch import nn

class Head(nn.Module):
    def __init__(self, pool: bool = True):
        super().__init__()
        self.pool = pool

    def forward(self, x):
        b = x.size(0)
        if x.dim() == 3 and self.pool:
            x = x.mean(-1)
        return x.view(b, -1)
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Head(nn.Module):
    def forward(self, x):
        if x.shape[0] == 0:
            return x
        if x.size(-1) != x.size(-2):
            x = x[..., : x.size(-2)]
        return x - x.max(0, keepdim=True).values
""", ((6, 12), (8, 12))),
        # one finding per test, at the first size read; a bare `raise` body is a dropped check (trace warns)
        Invalid("""
import torch
from torch import nn

class Patch(nn.Module):
    def forward(self, x):
        if x.shape[-2] % 16 != 0 or x.shape[-1] % 16 != 0:
            raise ValueError("size must be a multiple of 16")
        return x.unflatten(-1, (-1, 16))
""", ((6, 12),)),
    )

    def match(self, leaf: cst.BaseExpression, where: str):
        # Rank-only tests (`x.dim() == 3`) are left alone: the rank is fixed at deployment in practice,
        # and flagging every rank dispatch would drown the size-dependent branches.
        if self.ctx.kind(leaf) != Kind.SHAPE or _reads_rank(leaf):
            return None
        if self.validation:
            return self.validation_targets, {}, self.validation_message, self.validation_help
        return None, {}
