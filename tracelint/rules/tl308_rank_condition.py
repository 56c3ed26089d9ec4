"""TL308 (opt-in): an `if`/`while`/ternary decided by the rank (`x.dim()`, `x.ndim`, `len(x.shape)`)."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.conditions import COMPIF, IF, IFEXP, WHILE, ConditionRule
from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid
from tracelint.rules.tl301_shape_condition import _reads_rank
from tracelint.targets import fail, ok


class RankCondition(ConditionRule):
    """Flags rank dispatch; off by default because most deployments fix the rank."""

    code = "TL308"
    name = "rank-condition"
    summary = "A Python `if`/`while`/ternary on the rank (`x.dim() == 3`) inside forward (opt-in)."
    short_message = "the {where} condition reads the rank in Python"
    message = ("the {where} condition reads the rank in Python: trace bakes the branch for the example's "
               "rank (silently wrong for inputs of another rank); export installs a guard and fails on them")
    help = ("capture one model per input rank, or normalise the rank before forward "
            "(`x = x.unsqueeze(1)` at the call site)")
    targets = {
        "trace": fail("silently wrong for inputs of another rank: the branch is baked in"),
        "script": ok("TorchScript reads the rank at run time"),
        "export": fail("guard failed on inputs of another rank"),
        "compile": ok("guards on the rank and recompiles"),
    }
    contexts = (IF, WHILE, IFEXP, COMPIF)
    default_enabled = False
    confidence = "medium"
    valid = (
        """
import torch
from torch import nn

class Pool(nn.Module):
    def __init__(self, flatten: bool = True):
        super().__init__()
        self.flatten = flatten

    def forward(self, x):
        if self.flatten:
            x = x.flatten(1)
        return x
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Pool(nn.Module):
    def forward(self, x):
        if x.dim() == 4:
            x = x.mean((2, 3))
        return x
""", ((6, 12),)),
    )

    def match(self, leaf: cst.BaseExpression, where: str):
        k = self.ctx.kind(leaf)
        if k == Kind.RANK or (k == Kind.SHAPE and _reads_rank(leaf)):
            return None, {}
        return None
