"""TL506: a set (literal, comprehension or `set()`) in code that forward reaches: no sets in TorchScript."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import is_builtin_call, script_only
from tracelint.rule import Invalid, Rule


class ScriptSet(Rule):
    """Flags set literals, set comprehensions and `set(...)`/`frozenset(...)` calls in reachable code."""

    code = "TL506"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-set"
    summary = "A set inside forward: torch.jit.script has no set type (\"Set aren't supported\")."
    short_message = "a set in scripted code"
    message = "script: sets do not compile in TorchScript (\"Set aren't supported\"); use a tuple or list for membership tests"
    help = "use a tuple (`x.dim() in (2, 3)`) or a list; TorchScript supports `in` on both"
    targets = script_only("compile error: Set aren't supported")
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.allowed = {2, 3}   # __init__ is not compiled
    def forward(self, x):
        if x.dim() in (2, 3):
            return x * 2
        return x
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        allowed = {2, 3}
        if x.dim() in allowed:
            return x * 2
        return x
""", ((6, 19),)),
    )

    def visit_Set(self, node: cst.Set) -> None:
        self.report(node)

    def visit_SetComp(self, node: cst.SetComp) -> None:
        self.report(node)

    def visit_Call(self, node: cst.Call) -> None:
        if is_builtin_call(self.ctx, node, "set", "frozenset"):
            self.report(node)
