"""[tool.tracelint] in pyproject.toml: keys, validation, precedence of CLI flags."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tracelint.config import ConfigError, load

HAZARD = ("import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n"
          "    def forward(self, x):\n        return x * x.sum().item()\n")


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "tracelint", *args], cwd=cwd, capture_output=True,
                          text=True, env={**os.environ, "NO_COLOR": "1"})


def write(tmp_path, body: str):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n\n[tool.tracelint]\n" + body)


def test_defaults_without_config(tmp_path):
    cfg = load(start=tmp_path)
    assert cfg.targets == ("trace", "script")
    assert ".venv" in cfg.exclude


def test_all_keys(tmp_path):
    write(tmp_path, 'select = ["TL2"]\nignore = ["TL202"]\nextend-select = ["TL002"]\n'
                    'exclude = ["gen"]\nextend-exclude = ["old_*"]\ntarget = ["export", "trace"]\n'
                    'module-bases = ["mylib.Layer"]\n[tool.tracelint.per-file-ignores]\n"tests/*" = ["TL201"]\n')
    cfg = load(start=tmp_path)
    assert cfg.select == ("TL2",) and cfg.ignore == ("TL202",) and cfg.extend_select == ("TL002",)
    assert cfg.exclude == ("gen",) and cfg.extend_exclude == ("old_*",)
    assert cfg.targets == ("trace", "export")
    assert cfg.module_bases == ("mylib.Layer",)
    assert cfg.per_file_ignores == (("tests/*", ("TL201",)),)


@pytest.mark.parametrize("body,key", [
    ('selct = ["TL2"]\n', "selct"),
    ('target = ["jit"]\n', "target"),
    ('ignore = 3\n', "ignore"),
    ('per-file-ignores = 1\n', "per-file-ignores"),
])
def test_bad_config_names_the_key_and_exits_2(tmp_path, body, key):
    write(tmp_path, body)
    with pytest.raises(ConfigError, match=key):
        load(start=tmp_path)
    (tmp_path / "m.py").write_text(HAZARD)
    p = run("m.py", cwd=tmp_path)
    assert p.returncode == 2 and key in p.stderr


def test_nearest_pyproject_above_the_paths_and_cli_override(tmp_path):
    write(tmp_path, 'target = ["script"]\n')
    sub = tmp_path / "src" / "pkg"
    sub.mkdir(parents=True)
    (sub / "m.py").write_text(HAZARD)
    assert run("src", cwd=tmp_path).returncode == 0              # .item() is fine under script
    assert run("--target", "trace", "src", cwd=tmp_path).returncode == 1  # the flag wins


def test_per_file_ignores(tmp_path):
    write(tmp_path, '[tool.tracelint.per-file-ignores]\n"legacy/*.py" = ["TL201"]\n')
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "m.py").write_text(HAZARD)
    (tmp_path / "m.py").write_text(HAZARD)
    p = run(".", cwd=tmp_path)
    assert p.stdout.splitlines()[0].startswith("m.py:7")
    assert len(p.stdout.splitlines()) == 1


def test_explicit_config_file(tmp_path):
    (tmp_path / "tl.toml").write_text('[tool.tracelint]\nignore = ["TL201"]\n')
    (tmp_path / "m.py").write_text(HAZARD)
    assert run("--config", "tl.toml", "m.py", cwd=tmp_path).returncode == 0
    assert run("--config", "missing.toml", "m.py", cwd=tmp_path).returncode == 2


def test_module_bases_extends_entry_points(tmp_path):
    code = ("from mylib import Layer\n\n\nclass Net(Layer):\n    def forward(self, x):\n"
            "        return x * x.sum().item()\n")
    (tmp_path / "m.py").write_text(code)
    assert run("m.py", cwd=tmp_path).returncode == 0
    write(tmp_path, 'module-bases = ["mylib.Layer"]\n')
    assert run("m.py", cwd=tmp_path).returncode == 1
