"""TL407: forward returns a plain tensor attribute: trace requires outputs to depend on the inputs."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import at_boundary, effects, returned_elements, self_attr
from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail

_REGISTERED = {"torch.nn.Parameter", "torch.nn.parameter.Parameter", "torch.Tensor"}


class UnrelatedTensorOutput(Rule):
    """Flags `return ..., self.table` where `self.table` is a plain tensor attribute (not a parameter or buffer)."""

    code = "TL407"
    advice_in_message = True  # the message already ends with what to write instead
    name = "unrelated-tensor-output"
    summary = "forward returns a plain tensor attribute: torch.jit.trace rejects outputs with no data dependence on inputs."
    short_message = "`self.{attr}` is returned but does not depend on the inputs"
    message = "trace: `self.{attr}` is a plain tensor attribute returned as-is, and torch.jit.trace rejects an output that does not depend on the inputs (\"did not have observable data dependence\"); register it as a buffer or return it outside forward"
    help = "register the tensor with `self.register_buffer(\"table\", ...)`, or expose it as an attribute instead of an output"
    targets = effects(trace=fail("error: output has no observable data dependence on the inputs"))
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("table", torch.arange(3.0))
        self.scale = torch.tensor(2.0)
    def forward(self, x):
        return x * self.scale, self.table
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.table = torch.arange(3.0)
    def forward(self, x):
        return x * 2, self.table
""", ((9, 23),)),
    )

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is None or not at_boundary(self.ctx, ("forward", "trace")):
            return
        for e in returned_elements(node.value):
            attr = self_attr(e)
            fact = self.ctx.attr_fact(attr) if attr else None
            if fact is not None and fact.kind == Kind.TENSOR and fact.ctor not in _REGISTERED:
                self.report(e, attr=attr)
