"""TL404: forward returns a dict: torch.jit.trace (strict, the default) refuses dict outputs."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import ReturnTracker, at_boundary, effects
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail


class DictOutput(Rule):
    """Flags a top-level forward that returns a dict (literal, comprehension, or a local bound to one)."""

    code = "TL404"
    advice_in_message = True  # the message already ends with what to write instead
    name = "dict-output"
    summary = "forward returns a dict: torch.jit.trace with the default strict=True raises."
    short_message = "forward returns a dict"
    message = "trace: forward returns a dict, which torch.jit.trace rejects with the default strict=True (\"Encountering a dict at the output of the tracer\"); return a tuple or trace with strict=False"
    help = "return a tuple in a fixed order, or call `torch.jit.trace(model, inputs, strict=False)`; script, export and compile accept dicts"
    targets = effects(trace=fail("error: dict output with strict=True"))
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        logits = x * 2
        return logits, x
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        return {"logits": x * 2, "hidden": x}
""", ((6, 16),)),
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        out = {}
        out["logits"] = x * 2
        return out
""", ((8, 16),)),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.tracker = ReturnTracker(ctx)

    def visit_Assign(self, node: cst.Assign) -> None:
        self.tracker.assign(node)

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None and at_boundary(self.ctx, ("forward", "trace")) \
                and self.tracker.kind_of(node.value) == "dict":
            self.report(node.value)
