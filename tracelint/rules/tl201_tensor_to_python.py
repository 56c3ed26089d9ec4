"""TL201: `.item()`, `.tolist()`, `.numpy()` turn tensor data into Python values."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_EFFECTS = {
    "item": {
        "trace": fail("TracerWarning, then silently wrong: the value is baked in as a constant"),
        "script": ok(),
        "export": ok("captured as an unbacked symbol"),
        "compile": ok("fullgraph captures it (graph break GB0124 without fullgraph)"),
    },
    "tolist": {
        "trace": fail("TracerWarning, then silently wrong: the list is baked in"),
        "script": fail("compile error: tolist() needs a type hint for its result"),
        "export": fail("GuardOnDataDependentSymNode (strict: graph break GB0109)"),
        "compile": fail("graph break GB0109"),
    },
    "numpy": {
        "trace": fail("TracerWarning, then silently wrong: the NumPy result is a baked constant"),
        "script": fail("compile error: NumPy is not TorchScript"),
        "export": fail("error: .numpy() is not supported on the traced tensor"),
        "compile": ok("NumPy is traced by Dynamo"),
    },
}
_HELP = {
    "item": "keep the value a tensor (`s = x.abs().max()`; `x / s` broadcasts), or move the `.item()` out of forward",
    "tolist": "keep it a tensor and use tensor ops (`torch.where`, indexing, `.unbind()`), or move it out of forward",
    "numpy": "use the torch equivalent (`torch.sin`, `torch.fft`, ...) so the op is recorded in the graph",
}


class TensorToPython(Rule):
    """Flags `.item()`, `.tolist()` and `.numpy()` on tensors in code reachable from forward."""

    code = "TL201"
    name = "tensor-to-python"
    summary = "`.item()` / `.tolist()` / `.numpy()` on a tensor inside forward turns data into a Python value."
    short_message = "`.{method}()` turns tensor data into a Python value"
    message = "`.{method}()` turns tensor data into a Python value: {consequence}"
    help = _HELP["item"]
    targets = {t: e for t, e in _EFFECTS["item"].items()} | {
        "script": _EFFECTS["tolist"]["script"], "export": _EFFECTS["tolist"]["export"],
        "compile": _EFFECTS["tolist"]["compile"]}
    valid = (
        """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        s = x.abs().max()
        return x / s

def log_stats(x):
    return x.mean().item()   # not reachable from forward: fine
""",
    )
    invalid = (
        Invalid("""
import torch
import torch.nn as nn

class Net(nn.Module):
    def forward(self, x):
        s = x.abs().max().item()
        return x / s
""", ((6, 13),)),
        Invalid("""
import numpy as np
import torch

class Net(torch.nn.Module):
    def forward(self, x):
        y = np.sin(x.detach().numpy())
        vals = x.sum(1).tolist()
        return torch.from_numpy(y), vals
""", ((6, 20), (7, 16))),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or node.args:
            return
        method = func.attr.value
        if method not in _EFFECTS:
            return
        if self.ctx.kind(func.value) != Kind.TENSOR:
            return
        effects = _EFFECTS[method]
        consequence = "; ".join(f"{t}: {e.text}" for t, e in effects.items() if e.applies)
        self.report(node, method=method, consequence=consequence, effects=effects, help=_HELP[method])
