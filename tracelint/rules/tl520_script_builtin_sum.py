"""TL520: Python's builtin `sum()` over tensors: TorchScript's `sum` only adds ints and floats."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import is_builtin_call, script_only
from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule


class ScriptBuiltinSum(Rule):
    """Flags `sum(<generator/list of tensors>)`, e.g. `sum(layer(x) for layer in self.layers)`."""

    code = "TL520"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-builtin-sum"
    summary = "`sum(layer(x) for layer in self.layers)` inside forward: TorchScript's builtin sum takes no tensors."
    short_message = "builtin `sum()` over tensors"
    message = "script: builtin `sum()` over tensors does not compile in TorchScript (\"arguments not valid\"); stack and reduce with torch instead"
    help = "collect the tensors in a list and reduce with torch: `torch.stack([layer(x) for layer in self.layers]).sum(0)`"
    targets = script_only("compile error: builtin sum() takes List[int]/List[float]")
    valid = (
        """
import torch
from torch import nn

class Ensemble(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
    def forward(self, x):
        width = sum([x.size(0), x.size(1)])
        return torch.stack([layer(x) for layer in self.layers]).sum(0) / width
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Ensemble(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])
    def forward(self, x):
        return sum(layer(x) for layer in self.layers)
""", ((9, 16),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if not is_builtin_call(self.ctx, node, "sum") or not node.args:
            return
        arg = node.args[0].value
        if isinstance(arg, (cst.GeneratorExp, cst.ListComp)):
            if self._tensor_element(arg.elt, arg.for_in):
                self.report(node)
        elif self.ctx.kind(arg) == Kind.TENSORS:
            self.report(node)

    def _tensor_element(self, elt: cst.BaseExpression, comp: cst.CompFor) -> bool:
        if isinstance(elt, cst.Call) and isinstance(elt.func, cst.Name) and isinstance(comp.target, cst.Name) \
                and elt.func.value == comp.target.value:
            return self.ctx.kind(comp.iter) == Kind.MODULE   # layer(x) for layer in self.layers
        if isinstance(elt, cst.Name) and isinstance(comp.target, cst.Name) and elt.value == comp.target.value:
            return self.ctx.kind(comp.iter) in (Kind.TENSORS, Kind.TENSOR)
        return self.ctx.kind(elt) == Kind.TENSOR
