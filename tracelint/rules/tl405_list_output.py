"""TL405: forward returns a list: torch.jit.trace warns that the container structure is frozen."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import ReturnTracker, at_boundary, effects
from tracelint.rule import Invalid, Rule
from tracelint.targets import warn


class ListOutput(Rule):
    """Flags a top-level forward that returns a list (literal, comprehension, or a local bound to one)."""

    code = "TL405"
    advice_in_message = True  # the message already ends with what to write instead
    name = "list-output"
    summary = "forward returns a list: torch.jit.trace warns and freezes the list's length."
    short_message = "forward returns a list"
    message = "trace: forward returns a list; torch.jit.trace warns (\"Encountering a list at the output of the tracer\") and freezes its length; return a fixed-size tuple or a stacked tensor, or trace with strict=False"
    help = "stack same-shaped tensors (`torch.stack(outs)`), return a fixed-size tuple (`return a, b`), or trace with `strict=False`; note `tuple(outs)` does not compile in TorchScript"
    targets = effects(trace=warn("TracerWarning: list output, the length is frozen"))
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        outs = [x * 2, x + 1]
        return torch.stack(outs), (outs[0], outs[1])
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        return [x * 2, x + 1]
""", ((6, 16),)),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.tracker = ReturnTracker(ctx)

    def visit_Assign(self, node: cst.Assign) -> None:
        self.tracker.assign(node)

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None and at_boundary(self.ctx, ("forward", "trace")) \
                and self.tracker.kind_of(node.value) == "list":
            self.report(node.value)
