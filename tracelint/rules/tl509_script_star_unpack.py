"""TL509: starred assignment targets (`first, *rest = ...`) in reachable code: script cannot size them."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import script_only
from tracelint.rule import Invalid, Rule


def _starred(target: cst.BaseExpression) -> cst.StarredElement | None:
    if isinstance(target, (cst.Tuple, cst.List)):
        for e in target.elements:
            if isinstance(e, cst.StarredElement):
                return e
            inner = _starred(e.value)
            if inner is not None:
                return inner
    return None


class ScriptStarUnpack(Rule):
    """Flags `a, *b = ...` and `for a, *b in ...` in forward and the functions it calls."""

    code = "TL509"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-star-unpack"
    summary = "Starred unpacking (`first, *rest = ...`) inside forward: torch.jit.script cannot infer the list size."
    short_message = "starred unpacking `*{name}` in scripted code"
    message = "script: starred unpacking `*{name}` does not compile in TorchScript (\"cannot infer list size\"); index or slice instead"
    help = "index and slice explicitly (`parts = x.unbind(0)`; `first = parts[0]`; `rest = parts[1:]`)"
    targets = script_only("compile error: starred unpacking, cannot infer list size")
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        parts = x.unbind(0)
        first = parts[0]
        return first * 2
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        first, *rest = x.unbind(0)
        return first * 2
""", ((6, 16),)),
    )

    def _check(self, target: cst.BaseExpression) -> None:
        star = _starred(target)
        if star is not None:
            name = star.value.value if isinstance(star.value, cst.Name) else "..."
            self.report(star, name=name)

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self._check(t.target)

    def visit_For(self, node: cst.For) -> None:
        self._check(node.target)
