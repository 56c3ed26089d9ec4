"""TL204: Python iteration over a tensor (`for row in x`, `zip(x, ...)`, `a, b = x`)."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_ITERATING_BUILTINS = {"zip", "enumerate", "list", "tuple", "reversed", "sorted", "map", "iter"}


class TensorIteration(Rule):
    """Flags loops, unpacking and iterating builtins applied to a tensor."""

    code = "TL204"
    name = "tensor-iteration"
    summary = "Iterating over a tensor in Python inside forward unrolls to the example's length."
    short_message = "{what} iterates over a tensor in Python"
    message = ("{what} iterates over a tensor in Python: trace unrolls it to the example's length "
               "(wrong or failing on other lengths); export specialises the dynamic dimension")
    help = ("use a vectorised op over the dimension (`x.sum(0)`, `x.cumsum(0)`, broadcasting), "
            "or `x.unbind(0)` only when that dimension is fixed")
    targets = {
        "trace": fail("TracerWarning, then unrolled: wrong or a run-time error on other lengths"),
        "script": ok("TorchScript iterates at run time"),
        "export": fail("constraint violated: the dynamic dimension is specialised"),
        "compile": ok("unrolls with a guard and recompiles"),
    }
    valid = (
        """
import torch
from torch import nn

class Accumulate(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(3, 3) for _ in range(2)])

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        b, t = x.shape[:2]
        return x.sum(0) + b * t
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Accumulate(nn.Module):
    def forward(self, x):
        out = torch.zeros_like(x[0])
        for row in x:
            out = out + row
        return out
""", ((7, 20),)),
        Invalid("""
import torch
from torch import nn

class Pairs(nn.Module):
    def forward(self, x, y):
        a, b = y
        return [u * v for u, v in zip(x, a + b)]
""", ((6, 16), (7, 39))),
    )

    def _tensor(self, node: cst.BaseExpression) -> bool:
        return self.ctx.kind(node) == Kind.TENSOR

    def visit_For(self, node: cst.For) -> None:
        if self._tensor(node.iter):
            self.report(node.iter, what="`for ... in` a tensor")

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if self._tensor(node.iter):
            self.report(node.iter, what="a comprehension over a tensor")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Name) and func.value in _ITERATING_BUILTINS
                and self.ctx.is_builtin(func.value)):
            return
        args = node.args[1:] if func.value == "map" else node.args
        for arg in args:
            if arg.keyword is None and self._tensor(arg.value):
                self.report(arg.value, what=f"`{func.value}()`")
                return

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self._tensor(node.value):
            return
        for t in node.targets:
            if isinstance(t.target, (cst.Tuple, cst.List)):
                self.report(node.value, self.message.rstrip() + "; TorchScript rejects it (a Tensor is not a tuple)",
                            what="unpacking", effects={
                    **self.targets, "script": fail("compile error: Tensor cannot be used as a tuple")})
                return
