"""TL102: a `while` loop whose condition is tensor data (a data-dependent iteration count)."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.conditions import WHILE, ConditionRule
from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid
from tracelint.targets import fail, ok


class TensorWhile(ConditionRule):
    """Flags `while` tests that read tensor data: the number of iterations depends on values."""

    code = "TL102"
    name = "tensor-while"
    summary = "A `while` loop inside forward whose condition reads tensor data."
    short_message = "the while-loop condition reads tensor data"
    message = ("the while-loop condition reads tensor data: trace unrolls the loop as many times as it "
               "ran on the example (silently wrong on others); export and compile(fullgraph) cannot "
               "capture a data-dependent loop")
    help = ("use a fixed number of iterations with a `torch.where` update, `torch.while_loop` "
            "(torch.compile/export), or move the loop out of forward")
    targets = {
        "trace": fail("TracerWarning, then silently wrong: unrolled to the example's iteration count"),
        "script": ok("TorchScript compiles the loop"),
        "export": fail("GuardOnDataDependentSymNode (strict: graph break GB0170)"),
        "compile": fail("graph break GB0170: data-dependent branching"),
    }
    contexts = (WHILE,)
    valid = (
        """
import torch
from torch import nn

class Halve(nn.Module):
    def __init__(self, steps: int = 3):
        super().__init__()
        self.steps = steps

    def forward(self, x):
        i = 0
        while i < self.steps:
            x = torch.where(x.abs() > 1, x / 2, x)
            i += 1
        return x
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Halve(nn.Module):
    def forward(self, x):
        while x.abs().max() > 1:
            x = x / 2
        return x
""", ((6, 15),)),
    )

    def match(self, leaf: cst.BaseExpression, where: str):
        if self.ctx.kind(leaf) != Kind.TENSOR:
            return None
        return self.targets, {}
