"""TL303: a shape value converted to a Python number (`int()`, `math.*`, NumPy, `max()`/`min()`)."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok, warn
from tracelint.analysis.nodes import iter_nodes

_BUILTINS = {"int", "float", "bool", "round", "abs", "max", "min", "pow", "divmod"}
_EFFECTS = {
    "trace": fail("TracerWarning, then silently wrong: the size is baked in as a constant"),
    "script": ok("TorchScript computes it at run time"),
    "export": fail("constraint violated: the dynamic dimension is specialised (or guarded)"),
    "compile": ok("guards on the size and recompiles"),
}
_NUMPY = {**_EFFECTS, "script": fail("compile error: NumPy functions are not TorchScript")}
_TEXT = {
    "trace": warn("TracerWarning: the size is converted to a Python number (the text holds the example's size)"),
    "script": ok("TorchScript formats the size at run time"),
    "export": ok("formatting does not specialise the dimension"),
    "compile": ok("formatting does not specialise the dimension"),
}
_TEXT_MESSAGE = "{fn} formats a traced size as text: {consequence}"
_TEXT_HELP = ("format sizes only where the text is needed at run time (an error message after a failed "
              "check), or guard the formatting with `if not torch.jit.is_tracing():`")


class ShapeToPython(Rule):
    """Flags Python-level conversions and comparisons of sizes that trace cannot record."""

    code = "TL303"
    name = "shape-to-python"
    summary = "`int()`/`float()`/`math.*`/NumPy/`max()`/`min()` applied to a shape inside forward."
    short_message = "`{fn}(...)` turns a shape into a plain Python number"
    short_variants = {_TEXT_MESSAGE: "{fn} formats a traced size as text"}
    message = ("`{fn}(...)` turns a shape into a plain Python number: {consequence}")
    help = ("keep sizes as they are (`x.view(x.size(0), -1)`, `x.shape[-1] ** -0.5`, `x.flatten(1)`), "
            "or use torch ops (`torch.clamp`, `torch.sqrt` on a tensor) so the computation is recorded")
    targets = _EFFECTS
    valid = (
        """
import math
import torch
from torch import nn

class Attn(nn.Module):
    def __init__(self, dim: int = 64):
        super().__init__()
        self.scale = 1.0 / math.sqrt(dim)
        self.k = max(dim // 8, 1)

    def forward(self, q, k):
        b = q.size(0)
        w = (q @ k.transpose(-2, -1)) * q.shape[-1] ** -0.5
        return w.reshape(b, -1) * self.scale
""",
        """
import torch
from torch import nn

class Images(nn.Module):
    def forward(self, images):
        for img in images:
            torch._assert(img.dim() == 3, f"expected C, H, W, got {img.shape[-2:]} of {img.size()}")
        return images
""",
    )
    invalid = (
        Invalid("""
import math
import torch
from torch import nn

class Attn(nn.Module):
    def forward(self, q, k):
        w = (q @ k.transpose(-2, -1)) / math.sqrt(q.shape[-1])
        n = max(w.shape[-1] // 2, 1)
        return w[..., :n].view(int(w.size(0)), -1)
""", ((7, 41), (8, 13), (9, 32))),
        Invalid("""
import numpy as np
import torch
from torch import nn

class Flat(nn.Module):
    def forward(self, x):
        k = int(np.prod(x.shape[1:]))
        return x.reshape(-1, k)
""", ((7, 17),)),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self._lazy: set[int] = set()   # text built only when a check fails (raise, assert message)

    def visit_Raise(self, node: cst.Raise) -> None:
        if node.exc is not None:
            self._lazy.update(id(n) for n in iter_nodes(node.exc))

    def visit_Assert(self, node: cst.Assert) -> None:
        if node.msg is not None:
            self._lazy.update(id(n) for n in iter_nodes(node.msg))

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        if id(node) in self._lazy:
            return
        for part in node.parts:
            if isinstance(part, cst.FormattedStringExpression) and self.ctx.kind(part.expression) == Kind.SHAPE \
                    and not _whole_shape(part.expression):
                self._text(part.expression, "an f-string")
                return

    def _text(self, node: cst.CSTNode, fn: str) -> None:
        consequence = "; ".join(f"{t}: {e.text}" for t, e in _TEXT.items() if e.applies)
        self.report(node, _TEXT_MESSAGE, fn=fn, consequence=consequence, effects=_TEXT, help=_TEXT_HELP)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        ctx = self.ctx
        if id(node) in self._lazy:
            return
        if isinstance(func, cst.Name) and func.value == "str" and ctx.is_builtin("str") and len(node.args) == 1:
            if ctx.kind(node.args[0].value) == Kind.SHAPE and not _whole_shape(node.args[0].value):
                self._text(node, "`str(...)`")
            return
        if isinstance(func, cst.Attribute) and func.attr.value == "format" and isinstance(
                func.value, (cst.SimpleString, cst.ConcatenatedString)):
            if any(ctx.kind(a.value) == Kind.SHAPE and not _whole_shape(a.value) for a in node.args):
                self._text(node, "`str.format(...)`")
            return
        kinds = [ctx.kind(a.value) for a in node.args]
        if Kind.SHAPE not in kinds or Kind.TENSOR in kinds:
            return
        if isinstance(func, cst.Name) and func.value in _BUILTINS and ctx.is_builtin(func.value):
            self._report(node, func.value, _EFFECTS)
            return
        full = ctx.qualified(func) or ""
        if full.startswith("math."):
            self._report(node, full, _EFFECTS)
        elif full.startswith("numpy."):
            self._report(node, full.replace("numpy.", "np.", 1), _NUMPY)

    def _report(self, node: cst.Call, fn: str, effects) -> None:
        consequence = "; ".join(f"{t}: {e.text}" for t, e in effects.items() if e.applies)
        self.report(node, fn=fn, consequence=consequence, effects=effects)


def _whole_shape(node: cst.CSTNode) -> bool:
    """`x.shape` / `x.size()` as a whole, or a slice of it (`x.shape[-2:]`): a torch.Size formats
    without converting its elements (an element, `x.shape[-1]`, is converted)."""
    if isinstance(node, cst.Subscript) and node.slice and all(isinstance(e.slice, cst.Slice) for e in node.slice):
        return _whole_shape(node.value)
    if isinstance(node, cst.Attribute):
        return node.attr.value == "shape"
    return (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
            and node.func.attr.value == "size" and not node.args)
