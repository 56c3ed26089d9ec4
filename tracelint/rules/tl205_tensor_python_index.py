"""TL205: a tensor used as the index of a Python list/tuple (`self.scales[idx]`)."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok


class TensorPythonIndex(Rule):
    """Flags Python sequences indexed or sliced by tensor data (`Tensor.__index__`)."""

    code = "TL205"
    name = "tensor-python-index"
    summary = "A tensor used to index a Python list/tuple inside forward."
    short_message = "a tensor indexes a Python {container}"
    message = ("indexing a Python {container} with a tensor calls `Tensor.__index__`: trace bakes the "
               "example's index with no warning at all (silently wrong on others); export cannot guard on it")
    help = ("store the values as a tensor (a buffer: `self.register_buffer('scales', torch.tensor([...]))`) "
            "and index the tensor: `self.scales[idx]`")
    targets = {
        "trace": fail("silently wrong, no warning: the index is baked in"),
        "script": ok("TorchScript indexes at run time"),
        "export": fail("GuardOnDataDependentSymNode (strict: data-dependent guard)"),
        "compile": ok("fullgraph captures the index (graph break GB0124 without fullgraph)"),
    }
    valid = (
        """
import torch
from torch import nn

class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("scales", torch.tensor([1.0, 2.0, 3.0]))
        self.names = ["low", "mid", "high"]

    def forward(self, x, idx):
        return x * self.scales[idx], self.names[0]
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.scales = [1.0, 2.0, 3.0]

    def forward(self, x, idx):
        return x * self.scales[idx]
""", ((10, 20),)),
    )

    def visit_Subscript(self, node: cst.Subscript) -> None:
        base = node.value
        if self.ctx.kind(base) != Kind.PYTHON:
            return
        parts: list[cst.BaseExpression] = []
        for el in node.slice:
            s = el.slice
            if isinstance(s, cst.Index):
                parts.append(s.value)
            elif isinstance(s, cst.Slice):
                parts.extend(p for p in (s.lower, s.upper, s.step) if p is not None)
        if any(self.ctx.kind(p) == Kind.TENSOR for p in parts):
            self.report(node, container=self._container(base))

    def _container(self, base: cst.BaseExpression) -> str:
        if (isinstance(base, cst.Attribute) and isinstance(base.value, cst.Name)
                and base.value.value == "self"):
            fact = self.ctx.attr_fact(base.attr.value)
            if fact is not None and fact.node is not None:
                node = fact.node
                if isinstance(node, cst.Tuple):
                    return "tuple"
                if isinstance(node, cst.Dict):
                    return "dict"
        return "list/tuple"
