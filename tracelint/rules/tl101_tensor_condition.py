"""TL101: an `if`/`elif`/ternary/`and`/`or`/`not`/comprehension-`if` decided by tensor data."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.conditions import BOOLOP, COMPIF, IF, IFEXP, ConditionRule
from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid
from tracelint.targets import fail, ok, warn


class TensorCondition(ConditionRule):
    """Flags conditions whose truth value comes from tensor data (calls `Tensor.__bool__`)."""

    code = "TL101"
    name = "tensor-condition"
    summary = "A Python `if`/ternary/`and`/`or`/`not` decided by tensor data inside forward."
    short_message = "the {where} condition reads tensor data in Python"
    message = ("the {where} condition reads tensor data in Python: trace bakes the branch taken on the "
               "example input (silently wrong on others); export and compile(fullgraph) cannot capture "
               "a data-dependent branch")
    help = ("compute both sides and select with `torch.where(cond, a, b)`, use `torch.cond`, "
            "or move the decision out of forward")
    targets = {
        "trace": fail("TracerWarning, then silently wrong: the branch taken on the example is baked in"),
        "script": ok("TorchScript compiles the branch"),
        "export": fail("GuardOnDataDependentSymNode (strict: graph break GB0170)"),
        "compile": fail("graph break GB0170: data-dependent branching"),
    }
    contexts = (IF, IFEXP, COMPIF, BOOLOP)
    # `if <data test>: raise ...` validates the input: trace drops it like an assert (TL103).
    validation_message = ("the if condition reads tensor data to validate the input: trace warns and drops "
                          "the check from the graph; export cannot guard on a data-dependent value")
    validation_help = "use `torch._check(...)` (kept by export and compile) or validate the input outside forward"
    validation_targets = {
        "trace": warn("TracerWarning; the check is dropped from the trace (bad inputs pass silently)"),
        "script": ok("TorchScript keeps the check"),
        "export": fail("GuardOnDataDependentSymNode (strict export keeps it as a runtime assert)"),
        "compile": ok("kept as a runtime check"),
    }
    short_variants = {validation_message: "the if condition validates tensor data in Python"}
    valid = (
        """
from typing import Optional
import torch
from torch import nn

class Gate(nn.Module):
    def forward(self, x, mask: Optional[torch.Tensor] = None):
        if mask is not None and self.training:
            x = x * mask
        if x.dim() == 3 or isinstance(x, torch.Tensor):
            x = x + 0
        return torch.where(x.sum(-1, keepdim=True) > 0, x, -x)
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Gate(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x + 1
        return x - 1
""", ((6, 12),)),
        Invalid("""
import torch
from torch import nn

class Clip(nn.Module):
    def forward(self, x, scale):
        y = x if (x > 0).all() else -x
        if not torch.isfinite(y).all() or self.training:
            y = torch.nan_to_num(y)
        return y * scale
""", ((6, 18), (7, 16))),
        # a bare `raise` body is a dropped check (trace warns, export fails), not a baked branch
        Invalid("""
import torch
from torch import nn

class Sqrt(nn.Module):
    def forward(self, x):
        if (x < 0).any() or not torch.isfinite(x).all():
            raise ValueError("negative or non-finite input")
        return x.sqrt()
""", ((6, 12),)),
    )

    def match(self, leaf: cst.BaseExpression, where: str):
        if self.ctx.kind(leaf) != Kind.TENSOR:
            return None
        if self.validation:
            return self.validation_targets, {}, self.validation_message, self.validation_help
        return self.targets, {}
