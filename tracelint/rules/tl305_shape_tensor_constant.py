"""TL305: `torch.tensor([...])` built from shape values: the tensor is a trace constant."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_FACTORIES = {"torch.tensor", "torch.as_tensor", "torch.Tensor", "torch.LongTensor", "torch.FloatTensor"}


def _sequence(node: cst.BaseExpression) -> bool:
    """A list/tuple/torch.Size value (not a single size, which trace records dynamically)."""
    if isinstance(node, (cst.List, cst.Tuple)):
        return True
    if isinstance(node, cst.Attribute):
        return node.attr.value == "shape"
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
        return node.func.attr.value == "size" and not node.args
    if isinstance(node, cst.Subscript):
        return any(isinstance(e.slice, cst.Slice) for e in node.slice) and _sequence(node.value)
    return False


class ShapeTensorConstant(Rule):
    """Flags tensors created from lists of sizes inside forward."""

    code = "TL305"
    name = "shape-tensor-constant"
    summary = "`torch.tensor([...])` of shape values inside forward is recorded as a constant by trace."
    short_message = "`{fn}(...)` of shape values is recorded as a constant"
    message = ("`{fn}(...)` of shape values: trace records the resulting tensor as a constant, so the "
               "example's sizes are baked in (silently wrong for other shapes)")
    help = ("build it with tensor ops from the sizes (`torch.stack([torch.tensor(h), torch.tensor(w)])` "
            "keeps each size dynamic), or avoid the tensor: `x.flatten(1) / (h * w)`")
    targets = {
        "trace": fail("TracerWarning, then silently wrong: the sizes are a constant tensor"),
        "script": ok("TorchScript builds it at run time"),
        "export": ok("built from symbolic sizes"),
        "compile": ok("built from symbolic sizes"),
    }
    valid = (
        """
import torch
from torch import nn

class Norm(nn.Module):
    def forward(self, x):
        n = torch.tensor(x.shape[0], dtype=torch.float32)
        half = torch.tensor([0.5, 0.5])
        return x.sum(0) / n * half.sum()
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Norm(nn.Module):
    def forward(self, x):
        hw = torch.tensor([x.shape[1], x.shape[2]], dtype=torch.float32)
        return x.flatten(1) / hw.prod()
""", ((6, 14),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if not node.args or node.args[0].keyword is not None:
            return
        func = node.func
        full = self.ctx.qualified(func) or ""
        is_factory = full in _FACTORIES or (
            isinstance(func, cst.Attribute) and func.attr.value == "new_tensor"
            and self.ctx.kind(func.value) == Kind.TENSOR)
        if not is_factory:
            return
        data = node.args[0].value
        if _sequence(data) and self.ctx.kind(data) == Kind.SHAPE:
            fn = full or "new_tensor"
            self.report(node, fn=fn)
