"""TL103: a Python `assert` on tensor data (a data-dependent runtime check)."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.conditions import ASSERT, ConditionRule
from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid
from tracelint.targets import fail, ok, warn


class TensorAssert(ConditionRule):
    """Flags `assert` statements whose test reads tensor data."""

    code = "TL103"
    name = "tensor-assert"
    summary = "A Python `assert` inside forward that checks tensor data."
    short_message = "the assert reads tensor data"
    message = ("the assert reads tensor data: trace warns and drops the check from the graph; "
               "non-strict export cannot guard on a data-dependent value")
    help = "use `torch._check(...)` (kept by export and compile) or validate the input outside forward"
    targets = {
        "trace": warn("TracerWarning; the check is dropped from the trace (bad inputs pass silently)"),
        "script": ok("TorchScript keeps the assert"),
        "export": fail("GuardOnDataDependentSymNode (strict export keeps it as a runtime assert)"),
        "compile": ok("kept as a runtime assert (_assert_async)"),
    }
    contexts = (ASSERT,)
    valid = (
        """
import torch
from torch import nn

class Sqrt(nn.Module):
    def forward(self, x):
        assert x.dim() == 2, "expected a matrix"
        torch._check(x.shape[-1] > 0)
        return x.clamp_min(0).sqrt()
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Sqrt(nn.Module):
    def forward(self, x):
        assert (x >= 0).all(), "negative input"
        return x.sqrt()
""", ((6, 16),)),
    )

    def match(self, leaf: cst.BaseExpression, where: str):
        if self.ctx.kind(leaf) != Kind.TENSOR:
            return None
        return self.targets, {}
