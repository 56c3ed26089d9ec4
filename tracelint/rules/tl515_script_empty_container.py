"""TL515: `xs = []` (or `d = {}`) later filled with non-tensors: script types the empty literal as tensors."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import is_builtin_call, script_only
from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule

_NON_TENSOR = {Kind.SHAPE, Kind.PYTHON, Kind.META, Kind.BAKED}


class ScriptEmptyContainer(Rule):
    """Flags an unannotated empty list/dict that receives ints, floats, strings or shapes."""

    code = "TL515"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-empty-container"
    summary = "An unannotated `[]`/`{}` filled with non-tensors inside forward: TorchScript assumes List[Tensor]/Dict[str, Tensor]."
    short_message = "`{name} = {empty}` is typed {typed} by TorchScript"
    message = "script: `{name} = {empty}` is typed {typed} by TorchScript, so adding a {kind} value fails to compile; annotate it (`{name}: {hint} = {empty}`)"
    help = "annotate the empty container with its element type, e.g. `sizes: List[int] = []`"
    targets = script_only("compile error: the empty literal is typed as a container of Tensors")
    valid = (
        """
from typing import List
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        outs = []
        sizes: List[int] = []
        for k in (1, 2):
            outs.append(x * k)
            sizes.append(x.size(0))
        return torch.cat(outs, -1)
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        sizes = []
        sizes.append(x.size(0))
        return x.reshape(sizes[0], -1)
""", ((6, 17),)),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.empty: dict[int, dict[str, cst.BaseExpression]] = {}
        self.done: set[int] = set()

    def _names(self) -> dict[str, cst.BaseExpression]:
        return self.empty.setdefault(id(self.ctx.frame.node if self.ctx.frame else None), {})

    def visit_Assign(self, node: cst.Assign) -> None:
        names = self._names()
        for t in node.targets:
            tgt = t.target
            if isinstance(tgt, cst.Name):
                v = node.value
                if (isinstance(v, (cst.List, cst.Dict)) and not v.elements) or is_builtin_call(
                        self.ctx, v, "list", "dict") and not v.args:
                    names[tgt.value] = v
                else:
                    names.pop(tgt.value, None)
            elif isinstance(tgt, cst.Subscript) and isinstance(tgt.value, cst.Name):
                self._added(tgt.value.value, node.value, dict_only=True)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name):
            self._names().pop(node.target.value, None)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and node.args:
            if func.attr.value == "append":
                self._added(func.value.value, node.args[0].value)
            elif func.attr.value == "insert" and len(node.args) == 2:
                self._added(func.value.value, node.args[1].value)

    def _added(self, name: str, value: cst.BaseExpression, dict_only: bool = False) -> None:
        empty = self._names().get(name)
        if empty is None or id(empty) in self.done:
            return
        is_dict = isinstance(empty, cst.Dict) or (isinstance(empty, cst.Call) and empty.func.value == "dict")
        if dict_only != is_dict:
            return
        k = self.ctx.kind(value)
        if k not in _NON_TENSOR:
            return
        self.done.add(id(empty))
        text = self.ctx.module.code_for_node(empty)
        hint = "Dict[str, int]" if is_dict else "List[int]"
        self.report(empty, name=name, empty=text, typed="Dict[str, Tensor]" if is_dict else "List[Tensor]",
                    kind={Kind.SHAPE: "shape (int)", Kind.META: "dtype/device"}.get(k, "non-tensor"), hint=hint)
