"""TL306: an `if`/ternary decided by an input's dtype or device."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.conditions import IF, IFEXP, WHILE, ConditionRule
from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid
from tracelint.targets import fail, ok, warn
from tracelint.analysis.nodes import children

_ATTRS = {"dtype": "dtype", "device": "device", "is_cuda": "device", "is_cpu": "device",
          "is_mps": "device", "is_xpu": "device", "is_meta": "device"}
_METHODS = {"is_floating_point": "dtype", "is_complex": "dtype", "is_signed": "dtype",
            "get_device": "device"}


class DtypeDeviceCondition(ConditionRule):
    """Flags conditions on `x.dtype`, `x.device`, `x.is_cuda`, `x.is_floating_point()` of run-time tensors."""

    code = "TL306"
    name = "dtype-device-condition"
    summary = "A Python `if`/ternary on an input's dtype or device inside forward."
    short_message = "the {where} condition reads the {what}"
    message = ("the {where} condition reads the {what}: trace and export bake the branch for the "
               "example's {what} with no guard (silently wrong for inputs of another {what})")
    help = ("make the code dtype/device-agnostic (`x.to(self.weight.dtype)`, `*_like` / `new_*` "
            "factories), or capture one artifact per dtype/device")
    targets = {
        "trace": fail("silently wrong, no warning: the branch for the example's dtype/device is baked in"),
        "script": ok("TorchScript reads it at run time"),
        "export": fail("silently wrong: no dtype/device guard in the exported program"),
        "compile": ok("guards on dtype/device and recompiles"),
    }
    contexts = (IF, WHILE, IFEXP)
    # `if <dtype/device test>: raise ...` validates the input: trace drops it like an assert (TL302).
    validation_message = ("the if condition reads the {what} to validate the input: trace drops the check "
                          "from the graph, so the traced model accepts inputs of another {what}")
    validation_help = "validate the dtype/device outside forward, or convert instead of rejecting (`x = x.float()`)"
    validation_targets = {
        "trace": warn("the check is dropped from the graph (the traced model accepts another dtype/device)"),
        "script": ok("TorchScript keeps the check"),
        "export": ok("the exported program is specialised to the example's dtype/device"),
        "compile": ok("guards on dtype/device"),
    }
    short_variants = {validation_message: "the if condition validates the {what}"}
    valid = (
        """
import torch
from torch import nn

class Cast(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 4)
        self.weight = nn.Parameter(torch.ones(4))

    def forward(self, x):
        if self.weight.dtype == torch.float16:
            x = x.half()
        return self.proj(x.to(self.weight.dtype)) + torch.zeros_like(x)
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class Cast(nn.Module):
    def forward(self, x):
        if x.dtype == torch.float64:
            return x.float() * 2
        return x * 3 if x.device.type == "cpu" else x.sum(0)
""", ((6, 12), (8, 25))),
        # a bare `raise` body is a dropped check (trace warns), reported once per test
        Invalid("""
import torch
from torch import nn

class Cast(nn.Module):
    def forward(self, x):
        if not x.is_floating_point() or x.is_complex():
            raise TypeError("expected a real floating-point input")
        return x * 2
""", ((6, 16),)),
    )

    def match(self, leaf: cst.BaseExpression, where: str):
        if self.ctx.kind(leaf) != Kind.META:
            return None
        what = self._reads(leaf)
        if not what:
            return None
        if self.validation:
            return self.validation_targets, {"what": what}, self.validation_message, self.validation_help
        return None, {"what": what}

    def _reads(self, node: cst.CSTNode) -> str | None:
        """'dtype' / 'device' when the expression reads one of a run-time tensor's (not self.*'s)."""
        stack = [node]
        while stack:
            n = stack.pop()
            base = None
            what = None
            if isinstance(n, cst.Attribute) and n.attr.value in _ATTRS:
                base, what = n.value, _ATTRS[n.attr.value]
            elif isinstance(n, cst.Call) and isinstance(n.func, cst.Attribute) and n.func.attr.value in _METHODS:
                base, what = n.func.value, _METHODS[n.func.attr.value]
            if base is not None and self.ctx.kind(base) == Kind.TENSOR and not _on_self(base):
                return what
            stack.extend(children(n))
        return None


def _on_self(node: cst.CSTNode) -> bool:
    while isinstance(node, (cst.Attribute, cst.Subscript, cst.Call)):
        node = node.value if not isinstance(node, cst.Call) else node.func
    return isinstance(node, cst.Name) and node.value == "self"
