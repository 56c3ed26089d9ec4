"""TL512: an nn.ModuleList / ModuleDict / Sequential indexed by a runtime value inside forward."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import at_boundary, effects, is_literal_index, self_attr
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_CONTAINERS = {
    "torch.nn.ModuleList": "ModuleList", "torch.nn.modules.container.ModuleList": "ModuleList",
    "torch.nn.ModuleDict": "ModuleDict", "torch.nn.modules.container.ModuleDict": "ModuleDict",
    "torch.nn.Sequential": "Sequential", "torch.nn.modules.container.Sequential": "Sequential",
}
_SCRIPT = fail("compile error: module container index must be a literal")
_KEY_INPUT = effects(
    trace=fail("error: the str key is a non-tensor input (\"cannot be traced\")"), script=_SCRIPT,
    export=fail("the key is specialised: runtime 'Guard failed' for any other key"), compile=ok())


class ModuleContainerIndex(Rule):
    """Flags `self.layers[i]` / `self.heads[name]` where the index is not a literal."""

    code = "TL512"
    advice_in_message = True  # the message already ends with what to write instead
    name = "module-container-index"
    summary = "A module container indexed by a runtime value (`self.layers[i]`, `self.heads[task]`): script needs a literal."
    short_message = "`self.{attr}[{index}]` indexes an nn.{container} with a non-literal"
    message = "script: `self.{attr}[{index}]` indexes an nn.{container} with a non-literal, which TorchScript rejects (index must be a literal){extra}; iterate the container instead"
    help = "iterate the container (`for layer in self.layers:`, `for name, head in self.heads.items():`) or index with a literal"
    targets = effects(script=_SCRIPT)
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)])
        self.heads = nn.ModuleDict({"cls": nn.Linear(8, 2), "reg": nn.Linear(8, 1)})
    def forward(self, x):
        for i, layer in enumerate(self.layers):
            x = layer(x)
        x = self.layers[-1](x) + self.layers[0](x)
        return [head(x) for name, head in self.heads.items()], self.heads["cls"](x)
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)])
    def forward(self, x):
        for i in range(len(self.layers)):
            x = self.layers[i](x)
        return x
""", ((10, 17),)),
        Invalid("""
import torch
from torch import nn

class MultiTask(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict({"cls": nn.Linear(8, 2), "reg": nn.Linear(8, 1)})
    def forward(self, x, task: str):
        return self.heads[task](x)
""", ((9, 16),)),
    )

    def visit_Subscript(self, node: cst.Subscript) -> None:
        attr = self_attr(node.value)
        if attr is None or len(node.slice) != 1:
            return
        fact = self.ctx.attr_fact(attr)
        container = _CONTAINERS.get(fact.ctor if fact else "")
        if container is None:
            return
        sl = node.slice[0].slice
        if not isinstance(sl, cst.Index):
            return  # slices of a ModuleList are literal in practice
        index = sl.value
        if is_literal_index(index) or self._constant(index):
            return
        extra, eff = "", self.targets
        frame = self.ctx.frame
        if (isinstance(index, cst.Name) and frame is not None and at_boundary(self.ctx)
                and frame.node is not None and _is_param(frame.node, index.value)):
            extra = "; the key is a forward input, which trace cannot take and export specialises"
            eff = _KEY_INPUT
        text = self.ctx.module.code_for_node(index)
        self.report(node, attr=attr, index=text if len(text) < 24 else "...", container=container,
                    extra=extra, effects=eff)

    def _constant(self, index: cst.BaseExpression) -> bool:
        attr = self_attr(index)
        return attr is not None and self.ctx.cls is not None and attr in self.ctx.cls.constants


def _is_param(fn: cst.FunctionDef, name: str) -> bool:
    return any(p.name.value == name for p in (*fn.params.params, *fn.params.posonly_params))
