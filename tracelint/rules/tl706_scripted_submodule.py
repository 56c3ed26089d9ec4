"""TL706: a torch.jit.script/trace-d module used as a submodule of a model that is exported or compiled."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.state import jit_compiled, self_attr
from tracelint.rule import INIT, Invalid, Rule
from tracelint.targets import fail, ok

_REGISTERED = {
    "trace": ok("the ScriptModule is called and inlined"),
    "script": ok(),
    "export": fail("error: non-strict TypeError (forward() takes 2 positional arguments); strict GB4695"),
    "compile": fail("graph break GB4695: torch.jit.script/freeze modules unsupported"),
}
_IN_LIST = {
    "trace": fail("error: Tried to trace a module that is not part of the active trace (not registered)"),
    "script": fail("error: failed to convert the list of ScriptModules to a TorchScript type"),
    "export": _REGISTERED["export"],
    "compile": _REGISTERED["compile"],
}


class ScriptedSubmodule(Rule):
    """Flags `self.x = torch.jit.script(...)` (and plain lists of ScriptModules) in __init__."""

    code = "TL706"
    name = "scripted-submodule"
    summary = "A ScriptModule as a submodule: torch.export and torch.compile cannot trace into it."
    short_message = "`self.{attr}` holds a scripted `{ctor}(...)` module"
    message = "`self.{attr}` holds a `{ctor}(...)` module{where}: {consequence}"
    help = "keep the eager module as the submodule (`self.inner = Inner()`) and script/trace only the top-level model"
    targets = _REGISTERED
    scope = INIT
    valid = (
        """
import torch
from torch import nn

class Inner(nn.Module):
    def forward(self, x):
        return x * 2

class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Inner()

    def forward(self, x):
        return self.inner(x) + 1

scripted = torch.jit.script(Model())
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Inner(nn.Module):
    def forward(self, x):
        return x * 2

class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = torch.jit.script(Inner())

    def forward(self, x):
        return self.inner(x) + 1
""", ((11, 9),)),
        Invalid("""
import torch
from torch import nn

class Model(nn.Module):
    def __init__(self, path="inner.pt"):
        super().__init__()
        self.holder = [torch.jit.load(path)]

    def forward(self, x):
        return self.holder[0](x) + 1
""", ((7, 9),)),
    )

    def visit_Assign(self, node: cst.Assign) -> None:
        if not self.ctx.in_init:
            return
        value = node.value
        ctor = jit_compiled(self.ctx, value)
        effects, where = _REGISTERED, ""
        if ctor is None and isinstance(value, (cst.List, cst.Tuple, cst.Dict)):
            elems = [getattr(e, "value", None) for e in value.elements]
            ctor = next((c for c in (jit_compiled(self.ctx, e) for e in elems if e is not None) if c), None)
            effects, where = _IN_LIST, " in a plain Python container (not registered)"
        if ctor is None:
            return
        for t in node.targets:
            attr = self_attr(t.target)
            if attr:
                consequence = "; ".join(f"{k}: {e.text}" for k, e in effects.items() if e.applies)
                self.report(t.target, attr=attr, ctor=ctor, where=where, consequence=consequence,
                            effects=effects)
