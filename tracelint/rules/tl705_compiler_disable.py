"""TL705: a `@torch.compiler.disable` function reached from forward is a forced graph break."""
from __future__ import annotations

import libcst as cst

from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_DISABLE = {"torch.compiler.disable", "torch._dynamo.disable"}
_EFFECTS = {
    "trace": ok(),
    "script": ok(),
    "export": ok("non-strict export runs it (strict: GB0098)"),
    "compile": fail("graph break GB0098: Skip calling torch.compiler.disable()d function (an error with fullgraph=True)"),
}


class CompilerDisable(Rule):
    """Flags the `@torch.compiler.disable` decorator of a function that forward reaches."""

    code = "TL705"
    name = "compiler-disable"
    summary = "`@torch.compiler.disable` on code forward reaches: fullgraph compile (and strict export) fail."
    short_message = "`@{deco}` on `{fn}`, which forward calls"
    message = "`@{deco}` on `{fn}`, which forward calls: compile: graph break GB0098, an error under fullgraph=True"
    help = "drop the decorator and make the function traceable, or compile without fullgraph=True if the break is intended"
    targets = _EFFECTS
    valid = (
        """
import torch
from torch import nn

@torch.compiler.disable
def debug_dump(x):
    return x.detach().cpu()

def scale(x):
    return x * 2

class Net(nn.Module):
    def forward(self, x):
        return scale(x) + 1
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

@torch.compiler.disable
def scale(x):
    return x * 2

class Net(nn.Module):
    def forward(self, x):
        return scale(x) + 1
""", ((4, 2),)),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for d in node.decorators:
            target = d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator
            name = self.ctx.qualified(target)
            if name in _DISABLE:
                self.report(d.decorator, deco=name, fn=node.name.value)
