"""TL514: `isinstance(x, <type TorchScript does not know>)` in reachable code."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import is_builtin_call, script_only
from tracelint.rule import Invalid, Rule

_UNKNOWN_PREFIXES = ("numpy.", "collections.abc.", "PIL.", "pandas.")


class ScriptIsinstanceType(Rule):
    """Flags `isinstance` checks against NumPy, pandas, PIL and `collections.abc` types."""

    code = "TL514"
    advice_in_message = True  # the message already ends with what to write instead
    name = "script-isinstance-type"
    summary = "`isinstance(x, np.ndarray)` inside forward: TorchScript does not know the type and fails to compile."
    short_message = "`isinstance(..., {type})`: a type TorchScript does not know"
    message = "script: `isinstance(..., {type})` names a type TorchScript does not know (\"Unknown type name\"); convert inputs before calling the model"
    help = "convert the input outside the model (or in an `@torch.jit.ignore` helper); inside forward check only torch/builtin types"
    targets = script_only("compile error: Unknown type name")
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        if isinstance(x, torch.Tensor):
            return x * 2
        return x
""",
    )
    invalid = (
        Invalid("""
import numpy as np
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        if isinstance(x, np.ndarray):
            x = torch.from_numpy(x)
        return x * 2
""", ((7, 12),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if not is_builtin_call(self.ctx, node, "isinstance") or len(node.args) != 2:
            return
        spec = node.args[1].value
        types = [e.value for e in spec.elements] if isinstance(spec, cst.Tuple) else [spec]
        for t in types:
            name = self.ctx.qualified(t) or ""
            if name.startswith(_UNKNOWN_PREFIXES):
                self.report(node, type=self.ctx.module.code_for_node(t))
                return
