"""TL611: constructing an nn.Module (or nn.Parameter) inside forward creates fresh weights on every call."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.state import module_ctor
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_EFFECTS = {
    "trace": fail("fresh random weights at every run of forward (W nondeterministic nodes, check mismatch)"),
    "script": fail("compile error: Cannot instantiate class in a script function"),
    "export": ok("non-strict export bakes the weights (strict: graph break GB0244)"),
    "compile": fail("graph break GB0264: nn.Parameter() constructor"),
}


class ModuleCreatedInForward(Rule):
    """Flags `nn.Linear(...)`, `nn.Parameter(...)` and project Module classes constructed in forward."""

    code = "TL611"
    name = "module-created-in-forward"
    summary = "An nn.Module or nn.Parameter constructed inside forward: new untrained weights on every call."
    message = "`{ctor}(...)` is constructed inside forward: {consequence}"
    help = "create the submodule once in __init__ (`self.proj = nn.Linear(d, 3)`) or use the functional form (`F.linear`)"
    targets = _EFFECTS
    valid = (
        """
import torch.nn.functional as F
from torch import nn

class Head(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.proj = nn.Linear(d, 3)

    def forward(self, x):
        return F.relu(self.proj(x))
""",
    )
    invalid = (
        Invalid("""
from torch import nn

class Head(nn.Module):
    def forward(self, x):
        proj = nn.Linear(x.shape[-1], 3)
        return proj(x)
""", ((5, 16),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        ctor = module_ctor(self.ctx, node)
        if ctor is None:
            return
        consequence = "; ".join(f"{t}: {e.text}" for t, e in _EFFECTS.items() if e.applies)
        self.report(node, ctor=ctor.replace("torch.nn.", "nn."), consequence=consequence)
