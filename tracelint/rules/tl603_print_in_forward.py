"""TL603: `print()` inside forward is a graph break under torch.compile(fullgraph=True)."""
from __future__ import annotations

import libcst as cst

from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_EFFECTS = {
    "trace": ok("runs once at capture time only"),
    "script": ok(),
    "export": ok(),
    "compile": fail("graph break GB0059: Failed to trace builtin operator"),
}


class PrintInForward(Rule):
    """Flags the builtin `print(...)` in code reachable from forward."""

    code = "TL603"
    name = "print-in-forward"
    summary = "`print()` inside forward breaks torch.compile(fullgraph=True) and only prints at capture time under trace."
    short_message = "`print()` inside forward"
    message = "`print()` inside forward: compile: graph break GB0059 under fullgraph=True; trace prints only while capturing"
    help = "remove debug prints from forward, or guard them with `if not torch.compiler.is_compiling():`"
    targets = _EFFECTS
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        if not torch.compiler.is_compiling():
            print("mean", x.mean())
        return x * 2

def main(model, x):
    print(model(x))   # outside forward
""",
    )
    invalid = (
        Invalid("""
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        print(f"mean={x.mean()}")
        return x * 2
""", ((5, 9),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "print" and self.ctx.is_builtin("print"):
            self.report(node)
