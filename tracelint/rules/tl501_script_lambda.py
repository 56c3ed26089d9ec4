"""TL501: a lambda in code that forward reaches: TorchScript cannot compile lambdas."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import script_only
from tracelint.rule import Invalid, Rule


class ScriptLambda(Rule):
    """Flags `lambda` expressions in forward and the functions it calls."""

    code = "TL501"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-lambda"
    summary = "A `lambda` inside forward: torch.jit.script rejects it (\"Lambda aren't supported\")."
    short_message = "a lambda in scripted code"
    message = "script: a lambda does not compile in TorchScript (\"Lambda aren't supported\"); define a method or module-level function instead"
    help = "write a method (`def _act(self, t)`) or a module-level function and call it"
    targets = script_only("compile error: Lambda aren't supported")
    valid = (
        """
import torch
from torch import nn

def swish(t):
    return t * torch.sigmoid(t)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.pick = lambda m: m   # __init__ is not compiled
    def forward(self, x):
        return swish(x)
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        act = lambda t: t * torch.sigmoid(t)
        return act(x)
""", ((6, 15),)),
    )

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.report(node)
