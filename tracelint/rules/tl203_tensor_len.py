"""TL203: `len(t)` on a tensor reads its first dimension as a Python int."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok


class TensorLen(Rule):
    """Flags `len()` of a tensor: unlike `x.shape[0]`, it is a plain Python int under trace."""

    code = "TL203"
    name = "tensor-len"
    summary = "`len(tensor)` inside forward: the first dimension becomes a Python constant."
    short_message = "`len()` of a tensor is a Python int"
    message = ("`len()` of a tensor is a Python int: trace bakes the example's length (silently wrong on "
               "other lengths); export specialises a dynamic dimension to a constant")
    help = "use `x.shape[0]` or `x.size(0)`, which trace records and export keeps symbolic"
    targets = {
        "trace": fail("TracerWarning, then silently wrong: the length is baked in"),
        "script": ok("TorchScript reads the length at run time"),
        "export": fail("constraint violated: the dynamic dimension is specialised"),
        "compile": ok("recompiles or stays symbolic"),
    }
    valid = (
        """
import torch
from torch import nn

class Mean(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x.sum(0) / x.shape[0] * len(self.layers)
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Mean(nn.Module):
    def forward(self, x):
        return x.sum(0) / len(x)
""", ((6, 27),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Name) and func.value == "len" and len(node.args) == 1):
            return
        if self.ctx.is_builtin("len") and self.ctx.kind(node.args[0].value) == Kind.TENSOR:
            self.report(node)
