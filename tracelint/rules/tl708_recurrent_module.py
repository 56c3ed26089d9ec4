"""TL708: nn.LSTM / nn.GRU / nn.RNN submodules cannot be exported or compiled with fullgraph."""
from __future__ import annotations

import libcst as cst

from tracelint.rule import INIT, Invalid, Rule
from tracelint.targets import fail, ok

_RNNS = {"torch.nn.LSTM", "torch.nn.GRU", "torch.nn.RNN", "torch.nn.modules.rnn.LSTM",
         "torch.nn.modules.rnn.GRU", "torch.nn.modules.rnn.RNN"}
_EFFECTS = {
    "trace": ok(),
    "script": ok(),
    "export": fail("error: the sequence length is specialised (Constraints violated for a dynamic dim)"),
    "compile": fail("graph break GB0014: Attempted to wrap RNN, GRU, or LSTM"),
}


class RecurrentModule(Rule):
    """Flags the construction of nn.LSTM/GRU/RNN submodules in __init__."""

    code = "TL708"
    name = "recurrent-module"
    summary = "An nn.LSTM/GRU/RNN submodule: torch.export specialises the sequence length, fullgraph compile breaks."
    short_message = "`{ctor}` submodule: a recurrent layer"
    message = "`{ctor}` submodule: export: the sequence length is specialised (dynamic dim error); compile: graph break GB0014"
    help = ("unroll a cell (`nn.GRUCell`/`nn.LSTMCell` or Linear layers) over time steps, or set "
            "`torch._dynamo.config.allow_rnn = True` for compile; trace and script handle it")
    targets = _EFFECTS
    scope = INIT
    valid = (
        """
import torch
from torch import nn

class Encoder(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.cell = nn.GRUCell(d, d)

    def forward(self, x):
        h = x.new_zeros(x.shape[0], x.shape[2])
        for t in range(3):
            h = self.cell(x[:, t], h)
        return h
""",
    )
    invalid = (
        Invalid("""
from torch import nn

class Encoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(3, 4, batch_first=True)

    def forward(self, x):
        out, _ = self.rnn(x)
        return out
""", ((6, 20),)),
    )

    def visit_Call(self, node: cst.Call) -> None:
        if not self.ctx.in_init:
            return
        name = self.ctx.qualified(node.func)
        if name in _RNNS:
            self.report(node, ctor="nn." + name.rsplit(".", 1)[-1])
