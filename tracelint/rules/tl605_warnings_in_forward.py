"""TL605: `warnings.warn()` inside forward is a graph break under torch.compile(fullgraph=True)."""
from __future__ import annotations

import libcst as cst

from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_EFFECTS = {
    "trace": ok("warns once at capture time"),
    "script": ok(),
    "export": ok("warns once at capture time"),
    "compile": fail("graph break GB0007: warnings.warn is a skipped C builtin"),
}


class WarningsInForward(Rule):
    """Flags `warnings.warn(...)` in code reachable from forward."""

    code = "TL605"
    name = "warnings-in-forward"
    summary = "`warnings.warn()` inside forward breaks torch.compile(fullgraph=True)."
    short_message = "`warnings.warn()` inside forward"
    message = "`warnings.warn()` inside forward: compile: graph break GB0007 under fullgraph=True; trace/export warn only at capture"
    help = "validate arguments in __init__ or in a wrapper outside forward, or guard with `if not torch.compiler.is_compiling():`"
    targets = _EFFECTS
    valid = (
        """
import warnings
from torch import nn

class Net(nn.Module):
    def __init__(self, legacy=False):
        super().__init__()
        if legacy:
            warnings.warn("legacy mode is deprecated")
        self.legacy = legacy

    def forward(self, x):
        return x * 2
""",
    )
    invalid = (
        Invalid("""
import warnings
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        if x.dim() > 2:
            warnings.warn("flattening extra dims")
        return x.flatten(1)
""", ((7, 13),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.qualified(node.func) in ("warnings.warn", "warnings.warn_explicit"):
            self.report(node)
