"""TL406: forward returns a namedtuple or a dataclass: trace flattens the one, trace/script/export reject the other."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import at_boundary, effects, structured_classes
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail

_EFFECTS = {
    "namedtuple": effects(trace=fail("silently wrong: the namedtuple comes back as a plain tuple (`.logits` fails)")),
    "dataclass": effects(
        trace=fail("error: the tracer cannot infer the type of a dataclass output"),
        script=fail("error: the dataclass __init__ source cannot be compiled"),
        export=fail("error: unknown type in output (register it as a pytree node)")),
}
_HELP = {
    "namedtuple": "return a plain tuple and wrap it in the namedtuple outside the traced module, or use export/script",
    "dataclass": "return a tuple (or a dict with trace strict=False); build the dataclass outside the captured module, or register it with torch.utils._pytree for export",
}


class StructuredOutput(Rule):
    """Flags `return Out(...)` in a top-level forward when `Out` is a local namedtuple or dataclass."""

    code = "TL406"
    name = "structured-output"
    summary = "forward returns a namedtuple or dataclass: trace flattens namedtuples; trace, script and export reject dataclasses."
    short_message = "forward returns the {what} `{cls}`"
    message = "forward returns the {what} `{cls}`: {consequence}"
    help = _HELP["dataclass"]
    targets = _EFFECTS["dataclass"]
    valid = (
        """
from collections import namedtuple
import torch
from torch import nn

Out = namedtuple("Out", ["logits", "hidden"])

class Net(nn.Module):
    def forward(self, x):
        return x * 2, x

def predict(model, x):
    return Out(*model(x))   # wrapped outside the captured module
""",
    )
    invalid = (
        Invalid("""
from dataclasses import dataclass
import torch
from torch import nn

@dataclass
class Out:
    logits: torch.Tensor

class Net(nn.Module):
    def forward(self, x):
        return Out(logits=x * 2)
""", ((11, 16),)),
        Invalid("""
from typing import NamedTuple
import torch
from torch import nn

class Out(NamedTuple):
    logits: torch.Tensor
    hidden: torch.Tensor

class Net(nn.Module):
    def forward(self, x):
        return Out(x * 2, x)
""", ((11, 16),)),
    )

    def visit_Return(self, node: cst.Return) -> None:
        value = node.value
        if not (isinstance(value, cst.Call) and isinstance(value.func, cst.Name)):
            return
        what = structured_classes(self.ctx).get(value.func.value)
        if what is None or not at_boundary(self.ctx, ("forward", "trace")):
            return
        eff = _EFFECTS[what]
        consequence = "; ".join(f"{t}: {e.text}" for t, e in eff.items() if e.applies)
        self.report(value, what=what, cls=value.func.value, consequence=consequence, effects=eff,
                    help=_HELP[what])
