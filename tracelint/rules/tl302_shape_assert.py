"""TL302: a Python `assert` on a shape, size or rank (input validation)."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.conditions import ASSERT, ConditionRule
from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid
from tracelint.targets import ok, warn


class ShapeAssert(ConditionRule):
    """Flags `assert` on shape values: trace warns and drops the check."""

    code = "TL302"
    name = "shape-assert"
    summary = "A Python `assert` on a shape inside forward is dropped by trace."
    short_message = "the assert reads a shape in Python"
    message = ("the assert reads a shape in Python: trace emits a TracerWarning and drops the check "
               "from the graph, so the traced model accepts wrong shapes")
    help = "use `torch._check(x.shape[-1] == 3)` (kept by export/compile) or validate outside forward"
    targets = {
        "trace": warn("TracerWarning; the check is not part of the trace"),
        "script": ok("TorchScript keeps the assert"),
        "export": ok("the assert becomes a shape guard"),
        "compile": ok("the assert becomes a shape guard"),
    }
    contexts = (ASSERT,)
    valid = (
        """
import torch
from torch import nn

class Rgb(nn.Module):
    def __init__(self, channels: int = 3):
        super().__init__()
        assert channels > 0
        self.channels = channels

    def forward(self, x):
        assert self.channels == 3, "RGB only"
        return x * 2
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Rgb(nn.Module):
    def forward(self, x):
        assert x.shape[-1] == 3, "bad width"
        return x * 2
""", ((6, 16),)),
    )

    def match(self, leaf: cst.BaseExpression, where: str):
        if self.ctx.kind(leaf) != Kind.SHAPE:
            return None
        return None, {}
