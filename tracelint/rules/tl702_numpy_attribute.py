"""TL702: a NumPy array stored on the module and used in forward cannot be typed by TorchScript."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.state import self_attr
from tracelint.rule import INIT, Invalid, Rule
from tracelint.targets import fail, ok
from tracelint.analysis.nodes import run_visitor

_EFFECTS = {
    "trace": ok("the array is used as a constant"),
    "script": fail("error: failed to convert Python type numpy.ndarray to a TorchScript type"),
    "export": ok("non-strict export is fine (strict export silently returns NaN)"),
    "compile": ok("fullgraph traces it (graph break GB0033 without fullgraph)"),
}


class _Uses(cst.CSTVisitor):
    def __init__(self, attr: str) -> None:
        self.attr = attr
        self.found = False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if self_attr(node) == self.attr:
            self.found = True


def used_in_capture(ctx, attr: str) -> bool:
    """Is `self.<attr>` read by a method of the current class that forward reaches?"""
    cls = ctx.cls
    if cls is None:
        return False
    for name, fn in cls.methods.items():
        if f"{cls.name}.{name}" in ctx.reach:
            finder = _Uses(attr)
            run_visitor(fn, finder)
            if finder.found:
                return True
    return False


class NumpyAttribute(Rule):
    """Flags `self.x = np.<...>(...)` in __init__ when forward (or what it calls) reads `self.x`."""

    code = "TL702"
    name = "numpy-attribute"
    summary = "A NumPy array attribute read in forward: TorchScript cannot type it."
    short_message = "`self.{attr}` is a NumPy array read in forward"
    message = "`self.{attr}` is a NumPy array read in forward: script: compile error (numpy.ndarray is not a TorchScript type); strict export returns NaN"
    help = "store it as a tensor buffer: `self.register_buffer(\"name\", torch.as_tensor(array))`"
    targets = _EFFECTS
    scope = INIT
    valid = (
        """
import numpy as np
import torch
from torch import nn

class Weighted(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("weights", torch.as_tensor(np.array([1.0, 2.0, 3.0])))
        self.table = np.arange(4)      # never read in forward

    def forward(self, x):
        return x * self.weights
""",
    )
    invalid = (
        Invalid("""
import numpy as np
from torch import nn

class Weighted(nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = np.array([1.0, 2.0, 3.0])

    def forward(self, x):
        return x * float(self.weights.sum())
""", ((7, 9),)),
    )

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.ctx.in_init or not isinstance(node.value, cst.Call):
            return
        ctor = self.ctx.qualified(node.value.func) or ""
        if not ctor.startswith("numpy.") or ctor.startswith("numpy.random.seed"):
            return
        for t in node.targets:
            attr = self_attr(t.target)
            if attr and used_in_capture(self.ctx, attr):
                self.report(t.target, attr=attr, help=self.help.replace('"name"', f'"{attr}"'))
