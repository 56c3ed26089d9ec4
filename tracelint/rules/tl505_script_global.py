"""TL505: `global` in code that forward reaches: TorchScript has no global variables."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import script_only
from tracelint.rule import Invalid, Rule


class ScriptGlobal(Rule):
    """Flags `global` statements in forward and the functions it calls."""

    code = "TL505"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-global"
    summary = "A `global` statement inside forward: torch.jit.script rejects it (\"global variables aren't supported\")."
    short_message = "`global {names}` in scripted code"
    message = "script: `global {names}` does not compile in TorchScript (\"global variables aren't supported\"); keep the state on the module"
    help = "keep counters and state on the module (a buffer or an attribute updated outside forward), not in module globals"
    targets = script_only("compile error: global variables aren't supported")
    valid = (
        """
import torch
from torch import nn

CALLS = 0

class Net(nn.Module):
    def forward(self, x):
        return x * 2

def count():
    global CALLS
    CALLS += 1
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

CALLS = 0

class Net(nn.Module):
    def forward(self, x):
        global CALLS
        CALLS += 1
        return x * 2
""", ((8, 9),)),
    )

    def visit_Global(self, node: cst.Global) -> None:
        self.report(node, names=", ".join(n.name.value for n in node.names))
