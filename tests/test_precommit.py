"""The `.pre-commit-hooks.yaml` hook really works: real pre-commit clones this checkout and runs tracelint.

pre-commit clones the repository at `rev`, so this exercises the committed HEAD (the lead commits before
CI), builds tracelint into pre-commit's own virtualenv with `pip install .`, and must not pull torch.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PRE_COMMIT = Path(sys.executable).with_name("pre-commit")

HAZARD = """\
import torch
from torch import nn


class Net(nn.Module):
    def forward(self, x):
        s = x.sum().item()
        return x * s
"""
CLEAN = "def f(x):\n    return x\n"


def _env(home: Path) -> dict[str, str]:
    # Drop GIT_* (set when tests run from a git hook) so git acts on the temp repository only.
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env["PRE_COMMIT_HOME"] = str(home)
    env.pop("PYTHONPATH", None)   # the hook must run the tracelint pre-commit installed, not this tree
    return env


@pytest.fixture(scope="module")
def hook_env(tmp_path_factory) -> tuple[str, Path]:
    """This checkout's HEAD and one PRE_COMMIT_HOME shared by the tests (the hook env is built once)."""
    assert PRE_COMMIT.exists(), f"pre-commit not installed next to {sys.executable}"
    rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    assert rev.returncode == 0, f"{ROOT} has no commit for pre-commit to clone: {rev.stderr}"
    return rev.stdout.strip(), tmp_path_factory.mktemp("pre-commit-home")


def _run_hook(repo: Path, files: dict[str, str], hook_env: tuple[str, Path]) -> subprocess.CompletedProcess:
    rev, home = hook_env
    env = _env(home)
    repo.mkdir()
    subprocess.run(["git", "init", "-q", "."], cwd=repo, env=env, check=True)
    for name, text in files.items():
        (repo / name).write_text(text, encoding="utf-8")
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT.as_posix()}\n    rev: {rev}\n    hooks:\n      - id: tracelint\n",
        encoding="utf-8")
    subprocess.run(["git", "add", "-A"], cwd=repo, env=env, check=True)
    return subprocess.run([str(PRE_COMMIT), "run", "--all-files", "--color", "never"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=1500)


def test_hook_fails_on_hazard(tmp_path, hook_env):
    proc = _run_hook(tmp_path / "repo", {"model.py": HAZARD}, hook_env)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "TL201" in out, out
    assert "model.py:7:" in out, out
    # pip install . of tracelint must not have pulled torch into pre-commit's environment.
    home = hook_env[1]
    assert not [p for p in home.rglob("site-packages/torch") if p.is_dir()], "torch installed in hook env"


def test_hook_passes_on_clean_file(tmp_path, hook_env):
    proc = _run_hook(tmp_path / "repo", {"clean.py": CLEAN}, hook_env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not re.search(r"TL\d{3}", proc.stdout), proc.stdout
