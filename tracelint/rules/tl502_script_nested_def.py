"""TL502: a function defined inside forward (a closure): TorchScript has no nested functions."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import script_only
from tracelint.rule import Invalid, Rule


class ScriptNestedDef(Rule):
    """Flags `def` statements nested in functions that forward reaches."""

    code = "TL502"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-nested-def"
    summary = "A `def` inside forward (or a helper it calls): torch.jit.script cannot compile closures."
    short_message = "nested `def {fn}` inside `{outer}`"
    message = "script: `def {fn}` inside `{outer}` does not compile (\"function definitions aren't supported\"); move it to a method or module level"
    help = "move the inner function to a method or a module-level function and pass what it closes over as arguments"
    targets = script_only("compile error: function definitions aren't supported")
    valid = (
        """
import torch
from torch import nn

def double(t):
    return t * 2

class Net(nn.Module):
    def forward(self, x):
        return double(double(x))
""",
        """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self, depth: int = 2):
        super().__init__()
        def _kw(i: int):
            return {} if i else dict(bias=False)
        self.blocks = nn.ModuleList([nn.Linear(4, 4, **_kw(i)) for i in range(depth)])

    def forward(self, x):
        for b in self.blocks:
            x = b(x)
        return x
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        def double(t):
            return t * 2
        return double(x)
""", ((6, 13),)),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        frame = self.ctx.frame
        if frame is None or frame.role != "nested" or len(self.ctx.frames) < 2:
            return
        if any(f.role == "init" for f in self.ctx.frames):
            return  # script never compiles __init__: a helper defined there is fine
        outer = self.ctx.frames[-2].qualname.rsplit(".", 1)[-1]
        self.report(node.name, fn=node.name.value, outer=outer)
