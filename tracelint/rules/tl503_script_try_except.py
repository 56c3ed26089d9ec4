"""TL503: try/except in code that forward reaches: TorchScript has no exception handling."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import script_only
from tracelint.rule import Invalid, Rule


class ScriptTryExcept(Rule):
    """Flags `try` statements in forward and the functions it calls."""

    code = "TL503"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-try-except"
    summary = "A `try`/`except` inside forward: torch.jit.script rejects it (\"try blocks aren't supported\")."
    short_message = "a `try` block in scripted code"
    message = "script: `try` blocks do not compile in TorchScript (\"try blocks aren't supported\"); decide the path without catching exceptions"
    help = "choose the operation up front (e.g. `x.reshape(...)` instead of trying `x.view(...)`), or move the try into an `@torch.jit.ignore` helper"
    targets = script_only("compile error: try blocks aren't supported")
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        return x.reshape(-1, 4) * 2

def load(path):
    try:
        return torch.load(path)
    except FileNotFoundError:
        return None
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        try:
            y = x.view(-1, 4)
        except RuntimeError:
            y = x.reshape(-1, 4)
        return y * 2
""", ((6, 9),)),
    )

    def visit_Try(self, node: cst.Try) -> None:
        self.report(node)

    def visit_TryStar(self, node: cst.TryStar) -> None:
        self.report(node)
