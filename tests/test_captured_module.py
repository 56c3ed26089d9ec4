"""Which module is the captured one (issue 7, class 7): loadable models, configured entry modules,
and output classes defined in other files of the project."""
from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

from tracelint.api import lint_paths
from tracelint.config import Config, ConfigError, from_table
from tracelint.targets import TARGETS

import pytest

OUTPUTS = """
from collections import OrderedDict
from dataclasses import dataclass
import torch


class Output(OrderedDict):
    pass


@dataclass
class HiddenOutput(Output):
    hidden: torch.Tensor
"""

MODEL = """
import torch
from torch import nn
from pkg.outputs import HiddenOutput


class Inner(nn.Module):
    def forward(self, x):
        return HiddenOutput(hidden=x * 2)


class Outer(nn.Module):
    def __init__(self):
        super().__init__()
        self.inner = Inner()

    def forward(self, x):
        return self.inner(x).hidden
"""


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    for name, text in {"pyproject.toml": "", "pkg/__init__.py": "", **files}.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


def run(root: Path, **settings) -> list[tuple[str, int, int, str, str]]:
    config = replace(Config(targets=TARGETS), **settings)
    report = lint_paths([str(root / "pkg")], config)
    assert not report.errors
    return sorted((Path(d.path).name, d.line, d.column, d.code,
                   "".join(t[0] for t, e in d.effects if e.applies)) for d in report.diagnostics)


def test_a_submodule_returning_an_output_object_is_fine(tmp_path):
    root = project(tmp_path, {"pkg/outputs.py": OUTPUTS, "pkg/model.py": MODEL})
    assert run(root) == []


def test_a_configured_entry_module_meets_the_output_rules(tmp_path):
    root = project(tmp_path, {"pkg/outputs.py": OUTPUTS, "pkg/model.py": MODEL})
    assert run(root, entry_modules=("Inner",)) == [("model.py", 8, 16, "TL406", "tse")]
    assert run(root, entry_modules=("pkg.model.Inner",)) == [("model.py", 8, 16, "TL406", "tse")]


def test_a_loadable_model_is_an_entry_point_even_when_held_by_another(tmp_path):
    loadable = MODEL.replace("class Inner(nn.Module):", """class Loadable(nn.Module):
    @classmethod
    def from_pretrained(cls, path):
        return cls()


class Inner(Loadable):""")
    root = project(tmp_path, {"pkg/outputs.py": OUTPUTS, "pkg/model.py": loadable})
    assert run(root) == [("model.py", 14, 16, "TL406", "tse")]


def test_an_output_class_registered_as_a_pytree_node_exports(tmp_path):
    registered = OUTPUTS + "\n\ntorch.utils._pytree.register_pytree_node(HiddenOutput, None, None)\n"
    root = project(tmp_path, {"pkg/outputs.py": registered, "pkg/model.py": MODEL})
    assert run(root, entry_modules=("Inner",)) == [("model.py", 8, 16, "TL406", "ts")]


def test_entry_modules_is_a_list_of_strings_in_the_config():
    assert from_table({"entry-modules": ["BertModel"]}).entry_modules == ("BertModel",)
    with pytest.raises(ConfigError):
        from_table({"entry-modules": [1]})
