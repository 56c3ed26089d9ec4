"""TL406: forward returns a namedtuple or a dataclass: trace flattens the one, trace/script/export reject the other."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.boundary import at_boundary, effects, structured_classes
from tracelint.analysis.names import dotted_name
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail

_EFFECTS = {
    "namedtuple": effects(trace=fail("silently wrong: the namedtuple comes back as a plain tuple (`.logits` fails)")),
    "dataclass": effects(
        trace=fail("error: the tracer cannot infer the type of a dataclass output"),
        script=fail("error: the dataclass __init__ source cannot be compiled"),
        export=fail("error: unknown type in output (register it as a pytree node)")),
    # a dict subclass (ModelOutput, BaseOutput): trace's strict mode rejects dicts at the output
    "dict": effects(
        trace=fail("error: the tracer rejects a dict at the output (strict=True)"),
        script=fail("error: the output class cannot be compiled"),
        export=fail("error: unknown type in output (register it as a pytree node)")),
    "dict-pytree": effects(
        trace=fail("error: the tracer rejects a dict at the output (strict=True)"),
        script=fail("error: the output class cannot be compiled")),
}
_WHAT = {"dict": "dict-based output class", "dict-pytree": "dict-based output class"}
_HELP = {
    "namedtuple": "return a plain tuple and wrap it in the namedtuple outside the traced module, or use export/script",
    "dataclass": "return a tuple (or a dict with trace strict=False); build the dataclass outside the captured module, or register it with torch.utils._pytree for export",
    "dict": "return a tuple (`return_dict=False` where the model offers it), or trace with strict=False",
    "dict-pytree": "return a tuple (`return_dict=False` where the model offers it), or trace with strict=False",
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
        if not (isinstance(value, cst.Call) and isinstance(value.func, (cst.Name, cst.Attribute))):
            return
        what = structured_classes(self.ctx).get(value.func.value) if isinstance(value.func, cst.Name) else None
        if what is None or what == "dataclass":  # a project class: a dict subclass wins over its decorator
            what = self._project_kind(value.func) or what
        if what is None or not at_boundary(self.ctx, ("forward", "trace")):
            return
        eff = _EFFECTS[what]
        consequence = "; ".join(f"{t}: {e.text}" for t, e in eff.items() if e.applies)
        self.report(value, what=_WHAT.get(what, what), cls=dotted_name(value.func) or "", consequence=consequence,
                    effects=eff, help=_HELP[what])

    def _project_kind(self, func: cst.BaseExpression) -> str | None:
        """What the project index says about an output class defined in any file."""
        name = self.ctx.qualified(func)
        if not name:
            return None
        if "." not in name:
            name = f"{self.ctx.index.module}.{name}"
        return next((k for k in ("dict-pytree", "dict", "dataclass", "namedtuple")
                     if f"{name}={k}" in self.ctx.output_classes), None)
