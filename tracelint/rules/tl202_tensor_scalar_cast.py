"""TL202: `int(t)` / `float(t)` / `bool(t)` / `complex(t)` turn tensor data into a Python scalar."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_NUMBER = {
    "trace": fail("TracerWarning, then silently wrong: the value is baked in as a constant"),
    "script": ok("TorchScript converts at run time"),
    "export": fail("GuardOnDataDependentSymNode (non-strict export)"),
    "compile": ok("fullgraph captures it as an unbacked symbol (graph break GB0124 without fullgraph)"),
}
_EFFECTS = {
    "int": _NUMBER,
    "float": _NUMBER,
    "bool": {**_NUMBER, "compile": fail("UserError: could not guard on a data-dependent expression")},
    "complex": {
        "trace": fail("TracerWarning, then silently wrong: the value is baked in"),
        "script": fail("compile error: 'complex' object has no attribute 'real'"),
        "export": fail("GuardOnDataDependentSymNode (strict: graph break GB0059)"),
        "compile": fail("graph break GB0059: builtin complex() on a tensor"),
    },
}


class TensorScalarCast(Rule):
    """Flags the Python scalar builtins applied to tensor data (or to a `.item()` result)."""

    code = "TL202"
    name = "tensor-scalar-cast"
    summary = "`int()` / `float()` / `bool()` / `complex()` of tensor data inside forward."
    short_message = "`{fn}(...)` turns tensor data into a Python {fn}"
    message = "`{fn}(...)` turns tensor data into a Python {fn}: {consequence}"
    help = ("keep the value a tensor (`x[:, :n]` -> a mask with `torch.arange(...) < n`; "
            "`x / x.std()` broadcasts), or move the conversion out of forward")
    targets = _NUMBER
    valid = (
        """
import torch
from torch import nn

class Crop(nn.Module):
    def __init__(self, width: int = 4):
        super().__init__()
        self.width = int(width)

    def forward(self, x, lengths):
        keep = torch.arange(x.shape[1]) < lengths.max()
        return x * keep, float(self.width)
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Crop(nn.Module):
    def forward(self, x, lengths):
        n = int(lengths.max())
        return x[:, :n] * float(x.std())
""", ((6, 13), (7, 27))),
        Invalid("""
import torch
from torch import nn

class Range(nn.Module):
    def forward(self, n):
        return torch.arange(int(n.max().item())) * 2
""", ((6, 29),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Name) or func.value not in _EFFECTS or len(node.args) != 1:
            return
        if not self.ctx.is_builtin(func.value) or node.args[0].star:
            return
        arg = node.args[0].value
        if self.ctx.kind(arg) != Kind.TENSOR and not self._item_call(arg):
            return
        effects = _EFFECTS[func.value]
        consequence = "; ".join(f"{t}: {e.text}" for t, e in effects.items() if e.applies)
        self.report(node, fn=func.value, consequence=consequence, effects=effects)

    def _item_call(self, arg: cst.BaseExpression) -> bool:
        """`int(t.item())`: the cast makes the data-dependent number a size/index (export fails)."""
        return (isinstance(arg, cst.Call) and isinstance(arg.func, cst.Attribute) and not arg.args
                and arg.func.attr.value == "item" and self.ctx.kind(arg.func.value) == Kind.TENSOR)
