"""TL609: in-place updates of a registered buffer in forward: trace runs forward several times while capturing."""
from __future__ import annotations

import libcst as cst

from tracelint.analysis.state import in_training_branch, is_registered_buffer, self_attr
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_NOT_MUTATING = {"requires_grad_", "share_memory_", "retain_grad_"}
_EFFECTS = {
    "trace": fail("forward runs up to 4 times while tracing (check_trace), so the buffer is advanced before "
                  "deployment and the result differs (W check-mismatch)"),
    "script": ok(),
    "export": ok("buffer mutation is functionalised"),
    "compile": ok("buffer mutation is functionalised"),
}


class BufferInplaceUpdate(Rule):
    """Flags `self.buf.mul_(...)`, `self.buf[...] = ...`, `self.buf += ...` on registered buffers in forward."""

    code = "TL609"
    name = "buffer-inplace-update"
    summary = "In-place update of a registered buffer in forward: torch.jit.trace advances it while capturing."
    short_message = "buffer `self.{attr}` is updated in place inside forward"
    message = "buffer `self.{attr}` is updated in place inside forward: trace: {consequence}"
    help = ("put the update under `if self.training:` and trace in eval() mode, or pass `check_trace=False` and "
            "re-load the buffers after tracing; export and compile handle buffer updates")
    targets = _EFFECTS
    valid = (
        """
import torch
from torch import nn

class RunningMean(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.register_buffer("mean", torch.zeros(d))

    def forward(self, x):
        if self.training:
            self.mean.mul_(0.9).add_(0.1 * x.mean(0))
        return x - self.mean
""",
    )
    invalid = (
        Invalid("""
import torch
from torch import nn

class RunningMean(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.register_buffer("mean", torch.zeros(d))

    def forward(self, x):
        self.mean.mul_(0.9).add_(0.1 * x.mean(0))
        return x - self.mean
""", ((10, 9),)),
    )

    def _buffer(self, node: cst.CSTNode) -> str | None:
        attr = self_attr(node)
        if attr is None or not is_registered_buffer(self.ctx.attr_fact(attr)):
            return None
        return None if in_training_branch(self.ctx) else attr

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if (isinstance(func, cst.Attribute) and func.attr.value.endswith("_")
                and not func.attr.value.startswith("_") and func.attr.value not in _NOT_MUTATING):
            attr = self._buffer(func.value)
            if attr:
                self.report(node, attr=attr, consequence=_EFFECTS["trace"].text)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        if isinstance(node.target, cst.Subscript):
            attr = self._buffer(node.target.value)
            if attr:
                self.report(node.target, attr=attr, consequence=_EFFECTS["trace"].text)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        attr = self._buffer(node.target)
        if attr:
            self.report(node.target, attr=attr, consequence=_EFFECTS["trace"].text)
