"""TL610: `Tensor.resize_()` / `set_()` in forward cannot be represented in a trace or a Dynamo graph."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.kinds import Kind
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_EFFECTS = {
    "trace": fail("W resize: later uses become constants; the trace fails on another size"),
    "script": ok(),
    "export": ok("non-strict export handles it (strict: graph break GB0126)"),
    "compile": fail("graph break GB0126: Unsupported Tensor.resize_() call"),
}


class InplaceResize(Rule):
    """Flags `.resize_()`, `.resize_as_()` and `.set_()` on tensors in code reachable from forward."""

    code = "TL610"
    name = "inplace-resize"
    summary = "`.resize_()` inside forward: trace bakes the size, Dynamo refuses it."
    short_message = "`.{method}()` inside forward"
    message = "`.{method}()` inside forward: {consequence}"
    help = "allocate at the right size (`x.new_empty(n, 3)`, `torch.zeros_like`) or use `view`/`reshape`/`expand`"
    targets = _EFFECTS
    valid = (
        """
from torch import nn

class Ones(nn.Module):
    def forward(self, x):
        buf = x.new_ones(x.shape[0], 3)
        return x + buf
""",
    )
    invalid = (
        Invalid("""
from torch import nn

class Ones(nn.Module):
    def forward(self, x):
        buf = x.new_empty(0)
        buf.resize_(x.shape[0], 3)
        return x + buf.fill_(1.0)
""", ((6, 9),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        method = func.attr.value
        kind = self.ctx.kind(func.value)
        if method in ("resize_", "resize_as_") and kind not in (Kind.MODULE, Kind.PYTHON, Kind.NONE):
            pass
        elif method == "set_" and kind == Kind.TENSOR:
            pass
        else:
            return
        consequence = "; ".join(f"{t}: {e.text}" for t, e in _EFFECTS.items() if e.applies)
        self.report(node, method=method, consequence=consequence)
