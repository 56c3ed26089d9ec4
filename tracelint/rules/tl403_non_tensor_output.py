"""TL403: None or Python values in what forward returns: trace only outputs tensors."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import LITERALS, at_boundary, effects, is_builtin_call, returned_elements, self_attr
from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail


class NonTensorOutput(Rule):
    """Flags `return out, None` and `return out, <Python number>` in a top-level forward."""

    code = "TL403"
    advice_in_message = True  # the message already ends with what to write instead
    name = "non-tensor-output"
    summary = "forward returns None or a Python value next to its tensors: torch.jit.trace only outputs tensors."
    short_message = "forward returns {what} at output {index}"
    message = "trace: forward returns {what} at output {index}, and traced functions can only output tensors (\"Only tensors, lists, tuples of tensors, or dictionary of tensors can be output\"); return tensors only"
    help = "return only tensors: drop the None (or return a separate entry point), and keep numbers as tensors (`x.sum()`, not `.item()`)"
    targets = effects(trace=fail("error: only tensors can be output from traced functions"))
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        if x.dim() == 3:
            return None          # a different path: not taken by the example input
        return x * 2, x.sum()

class Block(nn.Module):
    def forward(self, x):
        return x * 2, None       # a submodule: its caller unpacks the tuple

class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
    def forward(self, x):
        y, _ = self.block(x)
        return y
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        return x * 2, None
""", ((6, 23),)),
        Invalid("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        loss = x.pow(2).mean()
        return x * 2, float(loss)
""", ((7, 23),)),
        Invalid("""
from typing import Optional
import torch
import torch.nn.functional as F
from torch import nn

class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.head = nn.Linear(8, 3)
    def forward(self, x, labels: Optional[torch.Tensor] = None):
        logits = self.head(x)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits, labels)
        return loss, logits
""", ((15, 16),)),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.maybe_none: dict[int, set[str]] = {}

    def _maybe_none(self) -> set[str]:
        return self.maybe_none.setdefault(id(self.ctx.frame.node if self.ctx.frame else None), set())

    def visit_Assign(self, node: cst.Assign) -> None:
        """`loss = None` at function level, set to a tensor only inside a branch: None on some paths."""
        if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Name):
            return
        name = node.targets[0].target.value
        is_none = isinstance(node.value, cst.Name) and node.value.value == "None"
        if any(isinstance(s, (cst.If, cst.For, cst.While, cst.Try, cst.With)) for s in self.ctx.stmts):
            return
        if is_none:
            self._maybe_none().add(name)
        else:
            self._maybe_none().discard(name)

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is None or not at_boundary(self.ctx, ("forward", "trace")):
            return
        if not isinstance(node.value, cst.Tuple):
            k = self.ctx.kind(node.value)
            if k == Kind.BAKED or isinstance(node.value, (cst.Integer, cst.Float)):
                self.report(node.value, what="a Python number", index=0)
            return
        for i, e in enumerate(returned_elements(node.value)):
            what = self._what(e)
            if what:
                self.report(e, what=what, index=i)

    def _what(self, e: cst.BaseExpression) -> str:
        if isinstance(e, cst.Name) and e.value == "None":
            return "None"
        if isinstance(e, cst.Name) and e.value in self._maybe_none():
            return f"`{e.value}`, which is None unless a branch sets it,"
        if isinstance(e, cst.IfExp) and any(isinstance(v, cst.Name) and v.value == "None"
                                            for v in (e.body, e.orelse)):
            return "None on one arm of a conditional expression"
        if isinstance(e, LITERALS):
            return "a Python literal"
        k = self.ctx.kind(e)
        if k == Kind.BAKED:
            return "a Python number made from a tensor"
        if k == Kind.PYTHON and self._scalar(e):
            return "a Python value"
        return ""

    def _scalar(self, e: cst.BaseExpression) -> bool:
        """A Python scalar for sure: a builtin conversion, a local bound to one, or a literal attribute
        (an attribute copied from a constructor argument may hold a tensor)."""
        if isinstance(e, cst.Call):
            return is_builtin_call(self.ctx, e, "int", "float", "bool", "str", "len", "round")
        if isinstance(e, cst.Name):
            return e.value not in ("self",)
        attr = self_attr(e)
        fact = self.ctx.attr_fact(attr) if attr else None
        return fact is not None and isinstance(fact.node, LITERALS)
