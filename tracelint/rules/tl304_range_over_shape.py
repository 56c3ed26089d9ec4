"""TL304: `for i in range(<shape>)`: a Python loop whose trip count is a tensor dimension."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok


class RangeOverShape(Rule):
    """Flags `range()` over shape values in loops and comprehensions."""

    code = "TL304"
    name = "range-over-shape"
    summary = "A Python loop over `range(x.size(i))` inside forward is unrolled by trace."
    short_message = "Python loop over `range()` of a shape"
    message = ("`range()` over a shape: trace unrolls the loop to the example's size with no warning "
               "(silently wrong for other sizes); export specialises the dynamic dimension")
    help = ("vectorise over the dimension (`x * torch.arange(1, n + 1)[:, None]`, `cumsum`, batched "
            "matmul), or loop over a constant (`range(self.num_layers)`)")
    targets = {
        "trace": fail("silently wrong, no warning: the loop is unrolled to the example's size"),
        "script": ok("TorchScript keeps a real loop"),
        "export": fail("constraint violated: the dynamic dimension is specialised"),
        "compile": ok("unrolls with a guard and recompiles"),
    }
    valid = (
        """
import torch
from torch import nn

class Stack(nn.Module):
    def __init__(self, depth: int = 3):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(depth)])
        self.depth = depth

    def forward(self, x):
        for i in range(self.depth):
            x = self.layers[i](x)
        for j in range(len(self.layers)):
            x = x + j
        return x
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Weighted(nn.Module):
    def forward(self, x):
        acc = torch.zeros_like(x[0])
        for i in range(x.size(0)):
            acc = acc + x[i] * (i + 1)
        return acc, [x[:, j] for j in range(x.shape[1])]
""", ((7, 18), (9, 39))),
    )

    def _check(self, iterable: cst.BaseExpression) -> None:
        if not (isinstance(iterable, cst.Call) and isinstance(iterable.func, cst.Name)
                and iterable.func.value == "range" and self.ctx.is_builtin("range")):
            return
        if any(self.ctx.kind(a.value) == Kind.SHAPE for a in iterable.args):
            self.report(iterable)

    def visit_For(self, node: cst.For) -> None:
        self._check(node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._check(node.iter)
