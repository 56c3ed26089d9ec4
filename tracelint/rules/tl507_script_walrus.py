"""TL507: an assignment expression (`:=`) in code that forward reaches: TorchScript rejects it."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import script_only
from tracelint.rule import Invalid, Rule


class ScriptWalrus(Rule):
    """Flags the walrus operator in forward and the functions it calls."""

    code = "TL507"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-walrus"
    summary = "An assignment expression (`:=`) inside forward: torch.jit.script rejects it (\"NamedExpr aren't supported\")."
    short_message = "walrus `{target} := ...` in scripted code"
    message = "script: `{target} := ...` does not compile in TorchScript (\"NamedExpr aren't supported\"); assign on its own line first"
    help = "assign the value in a separate statement before the test (`n = x.size(0)`, then `if n > 1:`)"
    targets = script_only("compile error: NamedExpr aren't supported")
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        y = x * 2
        return y + 1
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        if (y := x * 2) is not None:
            return y + 1
        return x
""", ((6, 13),)),
    )

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        target = node.target.value if isinstance(node.target, cst.Name) else "..."
        self.report(node, target=target)
