"""TL513: `super()` in code that forward reaches: TorchScript cannot resolve it."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import is_builtin_call, script_only
from tracelint.rule import Invalid, Rule


class ScriptSuperCall(Rule):
    """Flags `super().method(...)` calls in forward and the functions it calls."""

    code = "TL513"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-super-call"
    summary = "`super().forward(x)` inside forward: torch.jit.script does not support `super()`."
    short_message = "`super().{method}(...)` in scripted code"
    message = "script: `super().{method}(...)` does not compile in TorchScript (super() is not supported); call the parent's code through a submodule or a shared helper"
    help = "hold the parent layer as a submodule (`self.inner = nn.Linear(...)`; `self.inner(x)`) or move the shared code into a helper method"
    targets = script_only("compile error: super() is not supported")
    valid = (
        """
import torch
from torch import nn

class Scaled(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = nn.Linear(8, 8)
    def forward(self, x):
        return self.inner(x) * 2
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Scaled(nn.Linear):
    def __init__(self):
        super().__init__(8, 8)
    def forward(self, x):
        return super().forward(x) * 2
""", ((8, 16),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and is_builtin_call(self.ctx, func.value, "super"):
            self.report(node, method=func.attr.value)
