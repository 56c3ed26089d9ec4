"""Focused checks for the TL6xx/TL7xx family: per-target effects where variants differ."""
from __future__ import annotations

from conftest import findings

CONSTANT = """
from torch import nn

EPS = 1e-6

class Norm(nn.Module):
    def forward(self, x):
        return x / (x.norm() + EPS)
"""


def test_constant_global_is_a_script_finding_only():
    assert findings(CONSTANT, ("TL606",), targets=("script",)) == [(7, 32, "TL606")]
    for t in ("trace", "export", "compile"):
        assert findings(CONSTANT, ("TL606",), targets=(t,)) == []


def test_random_uniform_is_fine_for_compile_but_random_random_is_not():
    code = """
import random
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        return x * random.uniform(0.5, 1.5) + random.random()
"""
    assert [c for *_, c in findings(code, ("TL601",), targets=("compile",))] == ["TL601"]
    assert len(findings(code, ("TL601",), targets=("trace",))) == 2


def test_training_branch_state_updates_are_left_to_the_call_site():
    code = """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = 0
        self.history = []
        self.register_buffer("mean", torch.zeros(3))

    def forward(self, x):
        if self.training:
            self.calls += 1
            self.history.append(x)
            self.mean.add_(1)
        return x
"""
    assert findings(code, ("TL607", "TL608", "TL609")) == []


def test_scripted_submodule_in_a_list_fails_everywhere():
    code = """
import torch
from torch import nn

class Model(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.holder = [torch.jit.script(inner)]
        self.direct = torch.jit.script(inner)

    def forward(self, x):
        return self.holder[0](x) + self.direct(x)
"""
    assert findings(code, ("TL706", "TL701"), targets=("trace",)) == [(7, 9, "TL706")]
    assert sorted(findings(code, ("TL706", "TL701"), targets=("compile",))) == [(7, 9, "TL706"), (8, 9, "TL706")]
