"""TL518: a list or dict literal mixing tensors with numbers/strings: TorchScript needs one element type."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import script_only
from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule

_OTHER = {Kind.SHAPE: "int (shape)", Kind.PYTHON: "Python value", Kind.BAKED: "Python number", Kind.META: "dtype/device"}


class ScriptMixedContainer(Rule):
    """Flags list literals and dict literals whose elements/values are tensors and non-tensors."""

    code = "TL518"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-mixed-container"
    summary = "A list/dict literal mixing tensors and Python values inside forward: TorchScript lists and dicts hold one type."
    short_message = "a {what} mixing a Tensor with a {other}"
    message = "script: this {what} mixes a Tensor with a {other}, which TorchScript cannot type (\"arguments not valid\"); use a tuple or keep the values apart"
    help = "use a tuple for mixed values (`(x, 2)`), or keep tensors and numbers in separate containers"
    targets = script_only("compile error: list/dict elements must share one type")
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        parts = (x, 2)
        feats = [x, x * 2]
        sizes = [x.size(0), -1]
        return torch.cat(feats, -1).view(sizes) * parts[1]
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        out = {"y": x * 2, "n": x.size(0)}
        parts = [x, 2]
        return out["y"] * parts[1]
""", ((6, 15), (7, 17))),
    )

    def _mixed(self, node: cst.CSTNode, values: list[cst.BaseExpression], what: str) -> None:
        kinds = [self.ctx.kind(v) for v in values]
        if Kind.TENSOR not in kinds:
            return
        # a PYTHON kind counts only for literals: attributes copied from constructor arguments are
        # PYTHON to the kind analysis but may hold tensors
        other = next((k for k, v in zip(kinds, values) if k in _OTHER and (k != Kind.PYTHON or _literal(v))), None)
        if other is not None:
            self.report(node, what=what, other=_OTHER[other])

    def visit_List(self, node: cst.List) -> None:
        if any(isinstance(e, cst.StarredElement) for e in node.elements):
            return
        self._mixed(node, [e.value for e in node.elements], "list")

    def visit_Dict(self, node: cst.Dict) -> None:
        if any(not isinstance(e, cst.DictElement) for e in node.elements):
            return
        self._mixed(node, [e.value for e in node.elements], "dict")


def _literal(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.UnaryOperation):
        node = node.expression
    return isinstance(node, (cst.Integer, cst.Float, cst.SimpleString, cst.ConcatenatedString)) or (
        isinstance(node, cst.Name) and node.value in ("True", "False"))
