"""TL504: `yield` in code that forward reaches: TorchScript has no generators."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import script_only
from tracelint.rule import Invalid, Rule


class ScriptGenerator(Rule):
    """Flags `yield` in forward and the functions it calls (a generator helper)."""

    code = "TL504"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-generator"
    summary = "A generator (`yield`) reached from forward: torch.jit.script rejects it (\"Yield aren't supported\")."
    short_message = "`yield` in scripted code"
    message = "script: `yield` does not compile in TorchScript (\"Yield aren't supported\"); build and return a list instead"
    help = "return a `List[Tensor]` built with `.append()` (or a list comprehension) instead of yielding"
    targets = script_only("compile error: Yield aren't supported")
    valid = (
        """
from typing import List
import torch
from torch import nn

def doubled(xs: List[torch.Tensor]) -> List[torch.Tensor]:
    return [t * 2 for t in xs]

class Net(nn.Module):
    def forward(self, x):
        return torch.stack(doubled([x, x + 1]))
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

def doubled(xs):
    for t in xs:
        yield t * 2

class Net(nn.Module):
    def forward(self, x):
        return torch.stack(list(doubled([x, x + 1])))
""", ((6, 9),)),
    )

    def visit_Yield(self, node: cst.Yield) -> None:
        self.report(node)
