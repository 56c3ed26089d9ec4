"""TL517: an attribute annotated `Optional[Tensor]` used in forward: script never refines attributes."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import is_optional_annotation, script_only, self_attr
from tracelint.analysis.names import annotation_text
from tracelint.rule import Invalid, Rule


class ScriptOptionalAttribute(Rule):
    """Flags operations on `self.attr` when the class declares `attr: Optional[...]`."""

    code = "TL517"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-optional-attribute"
    summary = "`if self.scale is not None: x * self.scale` with `scale: Optional[Tensor]`: TorchScript does not refine attributes."
    short_message = "`self.{attr}` (`{ann}`) is not narrowed by `is not None`"
    message = "script: `self.{attr}` is declared `{ann}` and TorchScript does not narrow attributes with `is not None`, so this use fails to compile; copy it to a local first"
    help = "copy the attribute to a local and refine that: `scale = self.scale`; `if scale is not None: x = x * scale`"
    targets = script_only("compile error: Optional attribute used without refinement")
    valid = (
        """
from typing import Optional
import torch
from torch import nn

class Net(nn.Module):
    scale: Optional[torch.Tensor]

    def __init__(self):
        super().__init__()
        self.scale = torch.tensor(2.0)

    def forward(self, x):
        scale = self.scale
        if scale is not None:
            x = x * scale
        return x
""",
    )
    invalid = (
        Invalid("""
from typing import Optional
import torch
from torch import nn

class Net(nn.Module):
    scale: Optional[torch.Tensor]

    def __init__(self):
        super().__init__()
        self.scale = torch.tensor(2.0)

    def forward(self, x):
        if self.scale is not None:
            x = x * self.scale
        return x
""", ((14, 21),)),
    )

    def _declared(self) -> dict[str, str]:
        cls = self.ctx.cls
        if cls is None:
            return {}
        cache = self.__dict__.setdefault("_decl", {})
        if cls.name not in cache:
            out: dict[str, str] = {}
            body = cls.node.body.body if isinstance(cls.node.body, cst.IndentedBlock) else []
            for s in body:
                if isinstance(s, cst.SimpleStatementLine):
                    for small in s.body:
                        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                            ann = annotation_text(small.annotation)
                            if is_optional_annotation(ann) and small.target.value not in cls.constants:
                                out[small.target.value] = ann
            cache[cls.name] = out
        return cache[cls.name]

    def _check(self, operand: cst.CSTNode) -> None:
        attr = self_attr(operand)
        if attr is not None:
            ann = self._declared().get(attr)
            if ann:
                self.report(operand, attr=attr, ann=ann)

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        self._check(node.left)
        self._check(node.right)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        self._check(node.expression)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._check(node.value)

    def visit_Subscript(self, node: cst.Subscript) -> None:
        self._check(node.value)
