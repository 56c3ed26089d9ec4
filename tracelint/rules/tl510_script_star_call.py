"""TL510: `f(*seq)` / `f(**kw)` with a runtime sequence in reachable code: script cannot size it."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import script_only
from tracelint.rule import Invalid, Rule


class ScriptStarCall(Rule):
    """Flags star-expanded call arguments other than a tuple literal (or a name bound to one)."""

    code = "TL510"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-star-call"
    summary = "A call with `*args`/`**kwargs` expansion inside forward: torch.jit.script cannot infer the argument list."
    message = "script: expanding `{star}{arg}` into a call does not compile in TorchScript (\"cannot infer list size\"); pass the list itself"
    help = "pass the list directly (`x.view(shape)`, `x.permute(dims)`) or spell the arguments out"
    targets = script_only("compile error: star expansion of a list, cannot infer list size")
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        shape = [x.size(0), -1]
        dims = (1, 0)
        return x.view(shape).permute(*dims) + x.view(shape).permute(*(1, 0))
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        shape = [x.size(0), -1]
        return x.view(*shape)
""", ((7, 23),)),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.tuples: dict[int, set[str]] = {}

    def _tuple_names(self) -> set[str]:
        return self.tuples.setdefault(id(self.ctx.frame.node if self.ctx.frame else None), set())

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            if isinstance(t.target, cst.Name):
                names = self._tuple_names()
                if isinstance(node.value, cst.Tuple):
                    names.add(t.target.value)
                else:
                    names.discard(t.target.value)

    def visit_Call(self, node: cst.Call) -> None:
        for arg in node.args:
            if not arg.star:
                continue
            value = arg.value
            if arg.star == "*" and (isinstance(value, cst.Tuple) or (
                    isinstance(value, cst.Name) and value.value in self._tuple_names())):
                continue
            text = self.ctx.module.code_for_node(value)
            self.report(arg, star=arg.star, arg=text if len(text) < 30 else "...")
