"""TL508: a `match` statement in code that forward reaches: TorchScript rejects it."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import script_only
from tracelint.rule import Invalid, Rule


class ScriptMatch(Rule):
    """Flags structural pattern matching in forward and the functions it calls."""

    code = "TL508"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-match"
    summary = "A `match` statement inside forward: torch.jit.script rejects it (\"Match aren't supported\")."
    short_message = "a `match` statement in scripted code"
    message = "script: `match` does not compile in TorchScript (\"Match aren't supported\"); use `if`/`elif` instead"
    help = "rewrite the `match` as an `if`/`elif` chain on the same value"
    targets = script_only("compile error: Match aren't supported")
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self, mode: str = "double"):
        super().__init__()
        self.mode = mode
    def forward(self, x):
        if self.mode == "double":
            return x * 2
        return x
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self, mode: str = "double"):
        super().__init__()
        self.mode = mode
    def forward(self, x):
        match self.mode:
            case "double":
                return x * 2
            case _:
                return x
""", ((9, 9),)),
    )

    def visit_Match(self, node: cst.Match) -> None:
        self.report(node)
