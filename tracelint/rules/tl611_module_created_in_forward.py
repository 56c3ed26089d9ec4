"""TL611: constructing an nn.Module (or nn.Parameter) inside forward creates fresh weights on every call."""
from __future__ import annotations

import re

import libcst as cst

from tracelint.analysis.state import module_ctor
from tracelint.rule import Invalid, Rule
from tracelint.targets import fail, ok

_EFFECTS = {
    "trace": fail("fresh random weights at every run of forward (W nondeterministic nodes, check mismatch)"),
    "script": fail("compile error: Cannot instantiate class in a script function"),
    "export": ok("non-strict export bakes the weights (strict: graph break GB0244)"),
    "compile": fail("graph break GB0264: nn.Parameter() constructor"),
}


# torch.nn modules without parameters or buffers: building one in forward is just a function call for the
# tracers (trace/export/compile record the same ops); only TorchScript rejects the construction.
_STATELESS = re.compile(
    r"(Softmax|Softmin|Softmax2d|LogSoftmax|ReLU|ReLU6|LeakyReLU|ELU|SELU|CELU|GELU|SiLU|Sigmoid|Tanh|"
    r"Hardtanh|Hardswish|Hardsigmoid|Hardshrink|Softshrink|Tanhshrink|Softplus|Softsign|Mish|LogSigmoid|"
    r"Threshold|GLU|Identity|Flatten|Unflatten|Dropout\d?d?|AlphaDropout|FeatureAlphaDropout|"
    r"(Zero|Constant|Reflection|Replication|Circular)Pad[123]d|Upsample|UpsamplingNearest2d|"
    r"UpsamplingBilinear2d|(Max|Avg|LP)Pool[123]d|Adaptive(Avg|Max)Pool[123]d|PixelShuffle|PixelUnshuffle|"
    r"ChannelShuffle|Fold|Unfold|CosineSimilarity|PairwiseDistance|"
    # losses hold no trainable weights (a `weight=` argument becomes a buffer, not random values)
    r"(?!AdaptiveLogSoftmax)\w*Loss)")
_STATELESS_EFFECTS = {
    "trace": ok("no parameters: the module's ops are traced like a function call"),
    "script": fail("compile error: Cannot instantiate class in a script function"),
    "export": ok("no parameters: the module's ops are exported like a function call"),
    "compile": ok("no parameters: Dynamo inlines the construction"),
}


def _stateless(ctor: str) -> bool:
    return ctor.startswith("torch.nn.") and _STATELESS.fullmatch(ctor.rsplit(".", 1)[-1]) is not None


class ModuleCreatedInForward(Rule):
    """Flags `nn.Linear(...)`, `nn.Parameter(...)` and project Module classes constructed in forward."""

    code = "TL611"
    name = "module-created-in-forward"
    summary = "An nn.Module or nn.Parameter constructed inside forward: new untrained weights on every call."
    short_message = "`{ctor}(...)` is constructed inside forward"
    message = "`{ctor}(...)` is constructed inside forward: {consequence}"
    help = "create the submodule once in __init__ (`self.proj = nn.Linear(d, 3)`) or use the functional form (`F.linear`)"
    targets = _EFFECTS
    stateless_message = ("`{ctor}(...)` (a module without parameters) is constructed inside forward: "
                         "{consequence}; trace, export and compile record it like a function call")
    stateless_help = ("create it once in __init__ (`self.act = nn.GELU()`) or call the functional form "
                      "(`F.gelu(x)`, `F.softmax(x, -1)`, `F.pad(x, p)`)")
    short_variants = {stateless_message: "`{ctor}(...)` (no parameters) is constructed inside forward"}
    valid = (
        """
import torch.nn.functional as F
from torch import nn

class Head(nn.Module):
    def __init__(self, d=8):
        super().__init__()
        self.proj = nn.Linear(d, 3)

    def forward(self, x):
        return F.relu(self.proj(x))
""",
    )
    invalid = (
        Invalid("""
from torch import nn

class Head(nn.Module):
    def forward(self, x):
        proj = nn.Linear(x.shape[-1], 3)
        return proj(x)
""", ((5, 16),)),
        # a parameter-free module: only the script claim remains
        Invalid("""
from torch import nn

class Head(nn.Module):
    def forward(self, x):
        return nn.Softmax(dim=-1)(x) + nn.ZeroPad2d(1)(x)[..., 1:-1, 1:-1]
""", ((5, 16), (5, 40))),
    )

    def visit_Call(self, node: cst.Call) -> None:
        ctor = module_ctor(self.ctx, node)
        if ctor is None:
            return
        effects = _STATELESS_EFFECTS if _stateless(ctor) else _EFFECTS
        consequence = "; ".join(f"{t}: {e.text}" for t, e in effects.items() if e.applies)
        short = ctor.replace("torch.nn.", "nn.")
        if effects is _STATELESS_EFFECTS:
            self.report(node, self.stateless_message, help=self.stateless_help, effects=effects,
                        ctor=short, consequence=consequence)
        else:
            self.report(node, ctor=short, consequence=consequence)
