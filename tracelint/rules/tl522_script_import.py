"""TL522: an `import` statement inside code that forward reaches: TorchScript rejects it."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import script_only
from tracelint.rule import Invalid, Rule


class ScriptImport(Rule):
    """Flags `import` and `from ... import` inside forward and the functions it calls."""

    code = "TL522"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-import"
    summary = "An `import` inside forward or a helper it calls: torch.jit.script rejects it (\"import statements aren't supported\")."
    short_message = "an `import` in scripted code"
    message = ("script: an `import` statement does not compile in TorchScript (\"import statements aren't "
               "supported\"); import at module level")
    help = "move the import to the top of the module; TorchScript resolves module-level names when it compiles"
    targets = script_only("compile error: import statements aren't supported")
    valid = (
        """
import math

import torch
from torch import nn

def scaled(x):
    return x * math.pi

class Net(nn.Module):
    def forward(self, x):
        return scaled(x)
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

def scaled(x):
    import math
    return x * math.pi

class Net(nn.Module):
    def forward(self, x):
        from torch.nn import functional as F
        return F.relu(scaled(x))
""", ((5, 5), (10, 9))),
    )

    def visit_Import(self, node: cst.Import) -> None:
        self.report(node)

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        self.report(node)
