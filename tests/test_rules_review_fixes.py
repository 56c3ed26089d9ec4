"""Per-target effects and messages for review findings: validation `raise`s, stateless modules, guards."""
from __future__ import annotations

from conftest import findings, lint_snippet

VALIDATE = """
import torch
from torch import nn

class M(nn.Module):
    def forward(self, x):
        if x.shape[1] != 3 or x.shape[2] != 3:
            raise ValueError("bad shape")
        if not x.is_floating_point():
            raise TypeError("need float")
        if (x < 0).any():
            raise ValueError("negative")
        return x
"""


def test_if_raise_validation_is_reported_once_like_an_assert():
    assert findings(VALIDATE, ("TL301", "TL306", "TL101"), targets=("trace",)) == [
        (6, 12, "TL301"), (8, 16, "TL306"), (10, 12, "TL101")]
    assert findings(VALIDATE, ("TL301", "TL306", "TL101"), targets=("script", "compile")) == []
    assert findings(VALIDATE, ("TL301", "TL306", "TL101"), targets=("export",)) == [(10, 12, "TL101")]
    d = lint_snippet(VALIDATE, ("TL301",))[0]
    assert dict(d.effects)["trace"].outcome == "warn" and "drops the check" in d.message


def test_annotated_container_attribute_scripts():
    code = """
from typing import Dict
import torch
from torch import nn

class Cache(nn.Module):
    cache: Dict[str, torch.Tensor]

    def __init__(self):
        super().__init__()
        self.cache = {}

    def forward(self, x):
        self.cache["last"] = x
        return x
"""
    assert findings(code, ("TL608",), targets=("script",)) == []
    assert findings(code, ("TL608",), targets=("trace",)) == [(13, 9, "TL608")]


def test_parameter_free_module_in_forward_is_a_script_finding_only():
    code = """
from torch import nn

class M(nn.Module):
    def forward(self, x):
        return nn.GELU()(x) + nn.ZeroPad2d(1)(x)[..., 1:-1, 1:-1]
"""
    assert len(findings(code, ("TL611",), targets=("script",))) == 2
    assert findings(code, ("TL611",), targets=("trace", "export", "compile")) == []
    assert all("trace:" not in d.message for d in lint_snippet(code, ("TL611",)))


def test_message_does_not_claim_a_failure_for_an_excluded_target():
    code = """
import torch
from torch import nn

class M(nn.Module):
    def forward(self, x):
        if not torch.jit.is_tracing():
            x = nn.Linear(4, 4)(x)
        return x
"""
    d = lint_snippet(code, ("TL611",))[0]
    assert dict(d.effects)["trace"].outcome == "ok"
    assert "trace:" not in d.message.split(" — ")[0]
