"""Entry points and reachability: across files, through bases, submodules and captured functions."""
from __future__ import annotations

import textwrap
from pathlib import Path

from tracelint.api import lint_paths
from tracelint.config import Config


def make(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, code in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(code).lstrip("\n"))
    return tmp_path


def found(root: Path, select=("TL201",)) -> set[tuple[str, int]]:
    report = lint_paths([str(root)], Config(select=select, targets=("trace", "script", "export", "compile"), jobs=1))
    assert not report.errors
    return {(Path(d.path).relative_to(root).as_posix() if Path(d.path).is_absolute()
             else Path(d.path).name, d.line) for d in report.diagnostics}


PROJECT = {
    "zoo/__init__.py": "",
    "zoo/base.py": """
        from torch import nn

        class Block(nn.Module):
            pass
        """,
    "zoo/utils.py": """
        def peak(t):
            return t.abs().max().item()

        def unused_helper(t):
            return t.mean().item()
        """,
    "zoo/stats.py": """
        def spread(t):
            return t.std().item()
        """,
    "zoo/model.py": """
        import torch
        from .base import Block
        from .utils import peak
        import zoo.stats as stats

        class Inner(Block):
            def forward(self, x):
                return x / x.norm().item()

            def not_called(self, x):
                return x.sum().item()

        class Net(Block):
            def __init__(self):
                super().__init__()
                self.inner = Inner()

            def forward(self, x):
                y = self.inner(x)
                return y * peak(y) + stats.spread(x)
        """,
    "train.py": """
        import torch
        from zoo.model import Net

        def train(model, batches):
            for x in batches:
                loss = model(x).sum()
                print(loss.item())
        """,
    "metrics.py": """
        def accuracy(logits, labels):
            return (logits.argmax(-1) == labels).float().mean().item()
        """,
}


def test_cross_file_bases_helpers_and_submodules(tmp_path):
    root = make(tmp_path, PROJECT)
    got = {(Path(p).name, line) for p, line in found(root)}
    assert got == {("model.py", 8), ("utils.py", 2), ("stats.py", 2)}


def test_single_file_keeps_in_file_facts(tmp_path):
    root = make(tmp_path, PROJECT)
    alone = lint_paths([str(root / "zoo" / "model.py")], Config(select=("TL201",), jobs=1), project=False)
    # without its project, Block lives in a file nobody indexed: Inner/Net are not known modules
    assert alone.diagnostics == []
    # in its project (the default), the file's findings are those of the whole-tree run
    whole = lint_paths([str(root)], Config(select=("TL201",), jobs=1))
    in_project = lint_paths([str(root / "zoo" / "model.py")], Config(select=("TL201",), jobs=1))
    assert in_project.diagnostics and in_project.diagnostics == [
        d for d in whole.diagnostics if d.path.endswith("zoo/model.py")]


def test_jit_export_script_decorator_and_captured_functions(tmp_path):
    root = make(tmp_path, {"m.py": """
        import torch

        class Plain:
            @torch.jit.export
            def infer(self, x):
                return x.sum().item()

        @torch.jit.script
        def scripted(x):
            return x.sum().item()

        def traced(x):
            return x.sum().item()

        def not_captured(x):
            return x.sum().item()

        fn = torch.jit.trace(traced, (torch.ones(2),))
        """})
    assert {line for _, line in found(root)} == {6, 10, 13}


def test_module_bases_from_config(tmp_path):
    root = make(tmp_path, {"m.py": """
        from mylib import Layer

        class Net(Layer):
            def forward(self, x):
                return x.sum().item()
        """})
    cfg = Config(select=("TL201",), module_bases=("mylib.Layer",), jobs=1)
    assert [d.line for d in lint_paths([str(root)], cfg).diagnostics] == [5]
    assert lint_paths([str(root)], Config(select=("TL201",), jobs=1)).diagnostics == []


def test_jit_ignore_and_is_scripting_guards_per_target(tmp_path):
    root = make(tmp_path, {"m.py": """
        import torch
        from torch import nn

        class Net(nn.Module):
            @torch.jit.ignore
            def helper(self, x: torch.Tensor):
                return x.tolist()

            def forward(self, x):
                if not torch.jit.is_scripting():
                    v = x.numpy()
                return self.helper(x)
        """})
    script = lint_paths([str(root)], Config(select=("TL201",), targets=("script",), jobs=1))
    trace = lint_paths([str(root)], Config(select=("TL201",), targets=("trace",), jobs=1))
    assert script.diagnostics == []
    assert sorted(d.line for d in trace.diagnostics) == [7, 11]


def test_training_only_code_is_not_flagged_for_eval_mode_captures(tmp_path):
    root = make(tmp_path, {"m.py": """
        import torch
        from torch import nn

        class Net(nn.Module):
            def train_only(self, x):
                return x * x.std().item()

            def forward(self, x):
                if self.training:
                    x = self.train_only(x) + x.mean().item()
                else:
                    x = x * x.max().item()
                return x
        """})
    trace = lint_paths([str(root)], Config(select=("TL201",), targets=("trace",), jobs=1))
    assert [d.line for d in trace.diagnostics] == [12]  # the eval branch only


def test_submodule_outputs_tuple_vs_tensor(tmp_path):
    root = make(tmp_path, {"m.py": """
        import torch
        from torch import nn

        class Pair(nn.Module):
            def forward(self, x):
                return x * 2, x + 1

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.pair = Pair()
                self.lin = nn.Linear(3, 3)
                self.layers = nn.ModuleList([nn.Linear(3, 3)])

            def forward(self, x):
                a, b = self.pair(x)          # a tuple output: unpacking is fine
                h = self.lin(a)
                h = h * h.sum().item() + b   # self.lin(a) is a tensor
                for layer in self.layers:
                    h, _ = layer(h)          # elements of a ModuleList: output kind unknown
                return h
        """})
    got = lint_paths([str(root)], Config(select=("TL2",), targets=("trace",), jobs=1)).diagnostics
    assert [(d.line, d.code) for d in got] == [(18, "TL201")]


def test_known_library_bases_are_modules_without_reading_site_packages(tmp_path):
    root = make(tmp_path, {"m.py": """
        import transformers
        from diffusers import ModelMixin
        from lightning import LightningModule as LM
        from somelib import Unknown

        class Text(transformers.PreTrainedModel):
            def forward(self, x):
                return x.sum().item()

        class Image(ModelMixin):
            def forward(self, x):
                return x.sum().item()

        class Lit(LM):
            def forward(self, x):
                return x.sum().item()

        class Other(Unknown):
            def forward(self, x):
                return x.sum().item()
        """})
    assert sorted(line for _, line in found(root)) == [8, 12, 16]
