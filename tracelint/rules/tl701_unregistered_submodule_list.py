"""TL701: submodules kept in a plain Python list/dict are not registered with the parent module."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.state import jit_compiled, module_ctor, self_attr
from tracelint.rule import INIT, Invalid, Rule
from tracelint.targets import fail, ok

_EFFECTS = {
    "trace": fail("error: Cannot insert a Tensor that requires grad as a constant (parameters not registered)"),
    "script": fail("error: failed to convert the list attribute to a TorchScript type"),
    "export": ok("non-strict export inlines the parameters as constants (strict: KeyError)"),
    "compile": ok("Dynamo guards on the list"),
}


def _elements(value: cst.CSTNode) -> list[cst.CSTNode]:
    """The module expressions a container literal or comprehension holds."""
    if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
        return [e.value for e in value.elements]
    if isinstance(value, cst.Dict):
        return [e.value for e in value.elements if isinstance(e, cst.DictElement)]
    if isinstance(value, (cst.ListComp, cst.SetComp)):
        return [value.elt]
    if isinstance(value, cst.DictComp):
        return [value.value]
    return []


class UnregisteredSubmoduleList(Rule):
    """Flags `self.blocks = [nn.Linear(...), ...]` (list, tuple, dict or comprehension of modules) in __init__."""

    code = "TL701"
    name = "unregistered-submodule-list"
    summary = "Submodules in a plain list/dict on `self`: their parameters are not registered."
    short_message = "`self.{attr}` holds submodules in a plain Python {container}"
    message = "`self.{attr}` holds submodules in a plain Python {container}: {consequence}"
    help = "use `nn.ModuleList([...])` / `nn.ModuleDict({...})` / `nn.Sequential(...)` so the parameters are registered"
    targets = _EFFECTS
    scope = INIT
    valid = (
        """
from torch import nn

class Stack(nn.Module):
    def __init__(self, d=4, n=2):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(d, d) for _ in range(n)])
        self.sizes = [d] * n

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return x
""",
    )
    invalid = (
        Invalid("""
from torch import nn

class Stack(nn.Module):
    def __init__(self, d=4, n=2):
        super().__init__()
        self.blocks = [nn.Linear(d, d) for _ in range(n)]

    def forward(self, x):
        for blk in self.blocks:
            x = blk(x)
        return x
""", ((6, 9),)),
    )

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.ctx.in_init:
            return
        elems = _elements(node.value)
        if not elems or any(jit_compiled(self.ctx, e) for e in elems):
            return  # ScriptModules in a list: TL706
        if not all(module_ctor(self.ctx, e) for e in elems):
            return
        container = {cst.Dict: "dict", cst.DictComp: "dict", cst.Tuple: "tuple"}.get(type(node.value), "list")
        for t in node.targets:
            attr = self_attr(t.target)
            if attr:
                consequence = "; ".join(f"{k}: {e.text}" for k, e in _EFFECTS.items() if e.applies)
                self.report(t.target, attr=attr, container=container, consequence=consequence)
