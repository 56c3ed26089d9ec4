"""TL511: `getattr(obj, name)` with a computed name in reachable code: script needs a literal."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import is_builtin_call, script_only
from tracelint.rule import Invalid, Rule


class ScriptDynamicGetattr(Rule):
    """Flags `getattr` whose attribute name is not a string literal."""

    code = "TL511"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-dynamic-getattr"
    summary = "`getattr(self, f\"layer{i}\")` inside forward: torch.jit.script only accepts a literal attribute name."
    short_message = "`getattr` with a computed name"
    message = "script: `getattr` with a computed name does not compile in TorchScript (\"getattr's second argument must be a string literal\"); use an nn.ModuleList"
    help = "keep the layers in an `nn.ModuleList` and iterate it (`for layer in self.layers:`), or use a literal name"
    targets = script_only("compile error: getattr name must be a string literal")
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(2)])
        self.head = nn.Linear(8, 2)
    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return getattr(self, "head")(x)
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer0 = nn.Linear(8, 8)
        self.layer1 = nn.Linear(8, 8)
    def forward(self, x):
        for i in range(2):
            x = getattr(self, f"layer{i}")(x)
        return x
""", ((11, 17),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if is_builtin_call(self.ctx, node, "getattr") and len(node.args) >= 2 \
                and not isinstance(node.args[1].value, cst.SimpleString):
            self.report(node)
