"""Focused checks for the forward-boundary (TL4xx) and TorchScript-limit (TL5xx) rules: codes, lines, targets."""
from __future__ import annotations

from conftest import findings, lint_snippet

FAMILY = tuple(f"TL{n}" for n in (*range(401, 408), *range(501, 521)))


def codes(code: str, targets=("trace", "script", "export", "compile")) -> list[tuple[int, str]]:
    return sorted((line, c) for line, _, c in findings(code, FAMILY, targets))


def test_safe_idioms_are_clean():
    code = """
from typing import Final, List, Optional
import torch
from torch import nn

class Net(nn.Module):
    heads: Final[int] = 2

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleList([nn.Linear(4, 4) for _ in range(2)])
        self.norms = nn.ModuleList([nn.LayerNorm(4) for _ in range(2)])

    def forward(self, x, y, mask: Optional[torch.Tensor] = None):
        if mask is not None:
            x = x * mask
        if any(t.dim() == 3 for t in (x, y)):
            return None
        with torch.no_grad():
            h = x * 2
        del h
        outs = []
        for i, (layer, norm) in enumerate(zip(self.layers, self.norms)):
            outs.append(norm(layer(x)))
        more = [layer(x) for layer in self.layers]
        if isinstance(x, torch.Tensor):
            x = x + 1
        return torch.cat(outs + more, -1).view(x.size(0), self.heads, -1)
"""
    assert codes(code) == []


def test_script_only_findings_are_dropped_for_other_targets():
    code = """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x, **kwargs):
        act = lambda t: t * 2
        try:
            y = x.view(-1)
        except RuntimeError:
            y = x.reshape(-1)
        return act(y)
"""
    assert codes(code, ("script",)) == [(5, "TL402"), (6, "TL501"), (7, "TL503")]
    for t in ("trace", "export", "compile"):
        assert codes(code, (t,)) == []


def test_input_effects_per_variant():
    code = """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x, k: int, mask=None, scale: float = 2.0):
        if mask is not None:
            x = x * mask
        return x[:, :k] * scale
"""
    assert codes(code, ("trace",)) == [(5, "TL401"), (5, "TL401")]
    assert codes(code, ("script",)) == [(5, "TL401")]            # only the None default
    assert codes(code, ("export",)) == [(5, "TL401")]            # only the int
    assert codes(code, ("compile",)) == []


def test_submodule_boundary_is_not_the_capture_boundary():
    code = """
import torch
from torch import nn

class Block(nn.Module):
    def forward(self, x, residual: bool):
        return x * 2, None

class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.block = Block()
    def forward(self, x):
        out = self.block(x, True)
        return out[0]
"""
    assert codes(code) == []


def test_outputs():
    code = """
from collections import namedtuple
import torch
from torch import nn

Out = namedtuple("Out", "a b")

class A(nn.Module):
    def forward(self, x):
        return {"y": x}

class B(nn.Module):
    def forward(self, x):
        return [x, x]

class C(nn.Module):
    def forward(self, x):
        return Out(x, x)
"""
    assert codes(code, ("trace",)) == [(9, "TL404"), (13, "TL405"), (17, "TL406")]
    assert codes(code, ("script", "export", "compile")) == []


def test_moduledict_key_input_fails_trace_and_export():
    code = """
import torch
from torch import nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.heads = nn.ModuleDict({"a": nn.Linear(4, 4)})
        self.layers = nn.ModuleList([nn.Linear(4, 4)])
    def forward(self, x, task: str):
        for i in range(1):
            x = self.layers[i](x)
        return self.heads[task](x)
"""
    assert codes(code, ("trace",)) == [(9, "TL401"), (12, "TL512")]
    assert codes(code, ("script",)) == [(11, "TL512"), (12, "TL512")]


def test_optional_refinements():
    code = """
from typing import Optional
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x, a: Optional[torch.Tensor] = None, b: Optional[torch.Tensor] = None,
                c: Optional[torch.Tensor] = None):
        if a is None:
            return x
        assert b is not None
        y = x + a + b
        y = y * c if c is not None else y
        return y + c
"""
    assert codes(code, ("script",)) == [(13, "TL516")]


def test_guarded_script_code_is_not_flagged():
    code = """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        if not torch.jit.is_scripting():
            act = lambda t: t * 2
            return act(x)
        return x

    @torch.jit.ignore
    def debug(self, x):
        return {k for k in range(3)}
"""
    assert codes(code, ("script",)) == []


def test_messages_name_the_target():
    for d in lint_snippet("""
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x):
        return x * 2, None
""", FAMILY):
        assert "trace" in d.message


def test_submodule_in_another_file_is_not_a_boundary(tmp_path):
    from tracelint.api import lint_paths
    from tracelint.config import Config

    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "blocks.py").write_text(
        "from torch import nn\n\n\nclass Block(nn.Module):\n"
        "    def forward(self, x, residual: bool):\n        return x * 2, None\n")
    (pkg / "model.py").write_text(
        "from torch import nn\nfrom pkg.blocks import Block\n\n\nclass Model(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n"
        "        self.blocks = nn.ModuleList([Block() for _ in range(2)])\n\n"
        "    def forward(self, x):\n        for b in self.blocks:\n            x = b(x, True)[0]\n"
        "        return x\n")
    config = Config(targets=("trace", "script", "export", "compile"), select=FAMILY)
    together = lint_paths([str(pkg)], config).diagnostics
    assert [d.code for d in together] == []
    # linted alone, the file is still seen in its project (pre-commit passes only changed files)
    assert lint_paths([str(pkg / "blocks.py")], config).diagnostics == []
    # with no project around it, Block.forward is a capture boundary of its own
    alone = lint_paths([str(pkg / "blocks.py")], config, project=False).diagnostics
    assert sorted(d.code for d in alone) == ["TL401", "TL403"]


def test_none_default_in_helpers_depends_on_call_sites():
    code = """
import torch
from torch import nn

class Net(nn.Module):
    def left_out(self, x, mask=None):
        return x if mask is None else x * mask

    def always_given(self, x, mask=None):
        return x if mask is None else x * mask

    def forward(self, x):
        return self.left_out(x) + self.always_given(x, x)
"""
    assert codes(code, ("script",)) == [(5, "TL401")]


def test_isinstance_refines_optional():
    code = """
from typing import Optional
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, x, mask: Optional[torch.Tensor] = None):
        if isinstance(mask, torch.Tensor):
            x = x * mask
        return x
"""
    assert codes(code, ("script",)) == []


def test_untyped_container_inputs():
    code = """
import torch
from torch import nn

class Net(nn.Module):
    def forward(self, batch, scales, x):
        y = batch["image"] * scales[0] + batch.get("depth", x)
        return y + x[0] + x.sum()
"""
    assert codes(code, ("script",)) == [(5, "TL401"), (5, "TL401")]
    assert codes(code, ("trace",)) == [(5, "TL401")]       # the list of numbers; a dict of tensors is fine
