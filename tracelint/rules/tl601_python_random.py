"""TL601: Python `random` / NumPy RNG draws inside forward are baked (or break capture)."""
from __future__ import annotations

import libcst as cst

from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok, warn

_RANDOM = {
    "trace": fail("the draw made at capture time is baked in (check_trace: TracingCheckError or mismatch)"),
    "script": fail("compile error: Python builtin random is not supported in TorchScript"),
    "export": fail("non-strict export bakes the draw silently (strict: graph break GB0007)"),
    "compile": fail("graph break GB0007 (random.random is a skipped C builtin)"),
}
_UNIFORM = _RANDOM | {
    "script": fail("compile error: random.uniform is compiled as a Tensor function"),
    "export": fail("non-strict export bakes the draw (strict: AssertionError, additional input)"),
    "compile": ok("Dynamo replays random.uniform outside the graph"),
}
_OTHER = _RANDOM | {"compile": warn("Dynamo may graph-break or replay the draw")}
_NUMPY = _RANDOM | {
    "script": fail("compile error: NumPy is not TorchScript"),
    "export": fail("silently wrong: non-strict bakes the draw, strict swaps in torch's generator"),
    "compile": fail("silently wrong: np.random is replaced by torch's generator (different numbers)"),
}
_HELP = "draw with torch ops that are recorded in the graph (`torch.rand(())`, `torch.randn_like(x)`, `torch.empty(...).uniform_(a, b)`)"


class PythonRandom(Rule):
    """Flags `random.*` and `numpy.random.*` calls in code reachable from forward."""

    code = "TL601"
    name = "python-random"
    summary = "Python `random` or `np.random` inside forward: the draw happens in Python, not in the graph."
    short_message = "`{call}` draws a Python/NumPy random number"
    message = "`{call}` draws a Python/NumPy random number that the capture cannot record: {consequence}"
    help = _HELP
    targets = _RANDOM
    valid = (
        """
import torch
from torch import nn

class Jitter(nn.Module):
    def forward(self, x):
        return x + torch.randn_like(x) * 0.1
""",
        """
import random
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.seed = random.randint(0, 10)   # __init__: fine
""",
    )
    invalid = (
        Invalid("""
import random
import torch
from torch import nn

class DropPath(nn.Module):
    def forward(self, x):
        if random.random() < 0.1:
            return torch.zeros_like(x)
        return x
""", ((7, 12),)),
        Invalid("""
import numpy as np
import torch
from torch import nn

class Noise(nn.Module):
    def forward(self, x):
        n = np.random.normal(size=x.shape)
        return x + torch.from_numpy(n).float()
""", ((7, 13),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        name = self.ctx.qualified(node.func) or ""
        if name.startswith("numpy.random."):
            effects = _NUMPY
        elif name.startswith("random.") and name.count(".") == 1:
            fn = name.split(".")[1]
            if fn in ("seed", "getstate", "setstate", "Random", "SystemRandom"):
                return
            effects = {"random": _RANDOM, "uniform": _UNIFORM}.get(fn, _OTHER)
        else:
            return
        consequence = "; ".join(f"{t}: {e.text}" for t, e in effects.items() if e.applies)
        call = name.replace("numpy.", "np.") + "()"
        self.report(node, call=call, consequence=consequence, effects=effects)
