"""TL521: a comprehension with two `for`s or an `if` clause in code that forward reaches."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import script_only
from tracelint.rule import Invalid, Rule


class ScriptComprehensionClause(Rule):
    """Flags list and dict comprehensions TorchScript cannot compile: one `for`, no `if`, is all it takes."""

    code = "TL521"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-comprehension-clause"
    summary = ("A comprehension with a second `for` or an `if` clause inside forward: torch.jit.script rejects "
               "it (\"Only a single generator is currently supported\", \"Comprehension ifs are not supported yet\").")
    short_message = "{what} in a comprehension in scripted code"
    message = ("script: {what} in a comprehension does not compile in TorchScript ({error}); "
               "write the loop out with `for` and `.append()`")
    help = "build the list with an explicit `for` loop (nested for two `for`s, an `if` inside it for the filter)"
    targets = script_only("compile error: Only a single generator is currently supported / "
                          "Comprehension ifs are not supported yet")
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])

    def forward(self, x):
        parts = [head(x) for head in self.heads]
        picked = []
        for i in range(3):
            if i != 1:
                picked.append(parts[i])
        return torch.cat(picked, dim=-1)
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Merge(nn.Module):
    def forward(self, x):
        quads = [x[:, r::2, c::2] for c in range(2) for r in range(2)]
        kept = [q for q in quads if q.numel() > 0]
        return torch.cat(kept, dim=-1)
""", ((6, 52), (7, 33))),
    )

    def visit_ListComp(self, node: cst.ListComp) -> None:
        self._check(node.for_in)

    def visit_DictComp(self, node: cst.DictComp) -> None:
        self._check(node.for_in)

    def _check(self, comp: cst.CompFor) -> None:
        if comp.ifs:
            self.report(comp.ifs[0], what="an `if` clause", error="\"Comprehension ifs are not supported yet\"")
        elif comp.inner_for_in is not None:
            self.report(comp.inner_for_in, what="a second `for`",
                        error="\"Only a single generator is currently supported\"")
