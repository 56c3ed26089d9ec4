"""TL704: torch.utils.checkpoint inside forward cannot be compiled by TorchScript."""
from __future__ import annotations

import libcst as cst

from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_CALLS = {"torch.utils.checkpoint.checkpoint", "torch.utils.checkpoint.checkpoint_sequential"}
_EFFECTS = {
    "trace": ok(),
    "script": fail("error: Compiled functions can't take variable number of arguments (checkpoint takes *args)"),
    "export": ok("non-strict export is fine (strict: RuntimeError _checkpoint_context_fn)"),
    "compile": ok(),
}


class ActivationCheckpoint(Rule):
    """Flags `checkpoint(...)` / `checkpoint_sequential(...)` in code reachable from forward."""

    code = "TL704"
    name = "activation-checkpoint"
    summary = "Activation checkpointing in forward: torch.jit.script cannot compile `torch.utils.checkpoint`."
    short_message = "`{call}(...)` checkpoints activations inside forward"
    message = "`{call}(...)` inside forward: script: compile error (checkpoint takes *args); strict export fails too"
    help = ("guard it so script skips it: `if self.training and not torch.jit.is_scripting(): "
            "return checkpoint(self.block, x, use_reentrant=False)`")
    targets = _EFFECTS
    valid = (
        """
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 3), nn.GELU())

    def forward(self, x):
        if not torch.jit.is_scripting():
            return checkpoint(self.body, x, use_reentrant=False)
        return self.body(x)
""",
    )
    invalid = (
        Invalid("""
from torch import nn
from torch.utils.checkpoint import checkpoint

class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 3), nn.GELU())

    def forward(self, x):
        return checkpoint(self.body, x, use_reentrant=False)
""", ((10, 16),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        name = self.ctx.qualified(node.func)
        if name in _CALLS:
            self.report(node, call=name.rsplit(".", 1)[-1])
