"""TL303: a shape value converted to a Python number (`int()`, `math.*`, NumPy, `max()`/`min()`)."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_BUILTINS = {"int", "float", "bool", "round", "abs", "max", "min", "pow", "divmod"}
_EFFECTS = {
    "trace": fail("TracerWarning, then silently wrong: the size is baked in as a constant"),
    "script": ok("TorchScript computes it at run time"),
    "export": fail("constraint violated: the dynamic dimension is specialised (or guarded)"),
    "compile": ok("guards on the size and recompiles"),
}
_NUMPY = {**_EFFECTS, "script": fail("compile error: NumPy functions are not TorchScript")}


class ShapeToPython(Rule):
    """Flags Python-level conversions and comparisons of sizes that trace cannot record."""

    code = "TL303"
    name = "shape-to-python"
    summary = "`int()`/`float()`/`math.*`/NumPy/`max()`/`min()` applied to a shape inside forward."
    short_message = "`{fn}(...)` turns a shape into a plain Python number"
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

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        ctx = self.ctx
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
