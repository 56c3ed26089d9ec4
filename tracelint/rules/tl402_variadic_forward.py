"""TL402: `*args`, `**kwargs` or keyword-only parameters with defaults: TorchScript cannot compile them."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import script_only
from tracelint.rule import Invalid, Rule


class VariadicForward(Rule):
    """Flags variadic and keyword-only-with-default parameters of forward and the functions it calls."""

    code = "TL402"
    advice_in_message = True  # the message already ends with what to write instead
    name = "variadic-forward"
    summary = "`*args` / `**kwargs` / `*, opt=default` in forward or a helper: torch.jit.script rejects the signature."
    short_message = "`{param}` in a scripted signature"
    message = "script: `{param}` does not compile in TorchScript (\"Compiled functions can't take variable number of arguments or use keyword-only arguments with defaults\"); list the parameters explicitly"
    help = "spell the parameters out with annotations (`def forward(self, x, y: Optional[Tensor] = None)`); trace, export and compile accept the signature as is"
    targets = script_only("compile error: variable number of arguments / keyword-only arguments with defaults")
    valid = (
        """
from typing import Optional
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x, scale: float = 2.0, bias: Optional[torch.Tensor] = None):
        if bias is not None:
            x = x + bias
        return x * scale

def build(*layers, **options):   # not reached from forward
    return nn.Sequential(*layers)
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x, **kwargs):
        return x * kwargs.get("scale", 2.0)
""", ((5, 26),)),
        Invalid("""
import torch
from torch import nn

class Sum(nn.Module):
    def forward(self, *xs, scale: float = 1.0):
        return torch.stack(xs).sum(0) * scale
""", ((5, 23), (5, 28))),
    )

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        frame = self.ctx.frame
        if frame is None or frame.node is not node or frame.role == "nested":
            return
        params = node.params
        if isinstance(params.star_arg, cst.Param):
            self.report(params.star_arg, param=f"*{params.star_arg.name.value}")
        for p in params.kwonly_params:
            if p.default is not None:
                self.report(p, param=f"*, {p.name.value}=...")
        if params.star_kwarg is not None:
            self.report(params.star_kwarg, param=f"**{params.star_kwarg.name.value}")
