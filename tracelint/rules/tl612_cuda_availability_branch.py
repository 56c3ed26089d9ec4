"""TL612: `torch.cuda.is_available()` inside forward does not compile with TorchScript."""
from __future__ import annotations

import libcst as cst

from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_EFFECTS = {
    "trace": ok("evaluated once at capture time (the branch for the capture machine is kept)"),
    "script": fail("compile error: attribute lookup is not defined on python value of type 'module'"),
    "export": ok(),
    "compile": ok(),
}


class CudaAvailabilityBranch(Rule):
    """Flags `torch.cuda.is_available()` in code reachable from forward."""

    code = "TL612"
    name = "cuda-availability-branch"
    summary = "`torch.cuda.is_available()` inside forward: TorchScript cannot compile it."
    short_message = "`torch.cuda.is_available()` inside forward"
    message = ("`torch.cuda.is_available()` inside forward: script: compile error (it recursively compiles "
               "torch.cuda); trace/export freeze the answer of the capture machine")
    help = "decide in __init__ and store a plain flag (`self.use_half = torch.cuda.is_available()`), then branch on `self.use_half`"
    targets = _EFFECTS
    valid = (
        """
import torch
from torch import nn

class Cast(nn.Module):
    def __init__(self):
        super().__init__()
        self.use_half = torch.cuda.is_available()

    def forward(self, x):
        if self.use_half:
            return x.half().float()
        return x
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Cast(nn.Module):
    def forward(self, x):
        if torch.cuda.is_available():
            return x.half().float()
        return x
""", ((6, 12),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.qualified(node.func) == "torch.cuda.is_available":
            self.report(node)
