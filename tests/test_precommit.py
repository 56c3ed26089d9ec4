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


BASE = """\
from torch import nn


class Base(nn.Module):
    pass
"""
MODEL = """\
from pkg.base import Base


class Net(Base):
    def forward(self, x):
        return x * 2
"""
HELPERS = """\
def norm(t):
    return t / t.abs().max()
"""


def _git(repo: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=repo,
                          env=env, capture_output=True, text=True, timeout=1500)


def _findings(text: str) -> list[str]:
    return sorted(m.group(0) for m in re.finditer(r"^\S+?:\d+:\d+: TL\d{3}", text, re.M))


def test_commit_of_a_model_whose_base_is_elsewhere_is_blocked(tmp_path, hook_env):
    """pre-commit passes only the changed file; the project model still knows its base class."""
    rev, home = hook_env
    env = _env(home)
    env.pop("TRACELINT_NO_CACHE", None)
    env["TRACELINT_CACHE_DIR"] = str(tmp_path / "cache")
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    _git(repo, env, "init", "-q", ".")
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "base.py").write_text(BASE)
    (repo / "pkg" / "model.py").write_text(MODEL)
    (repo / "pkg" / "helpers.py").write_text(HELPERS)
    (repo / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {ROOT.as_posix()}\n    rev: {rev}\n    hooks:\n      - id: tracelint\n",
        encoding="utf-8")
    _git(repo, env, "add", "-A")
    first = _git(repo, env, "commit", "-q", "-m", "clean project")
    assert first.returncode == 0, first.stdout + first.stderr
    installed = subprocess.run([str(PRE_COMMIT), "install"], cwd=repo, env=env, capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr

    (repo / "pkg" / "model.py").write_text(MODEL.replace("return x * 2", "return x * x.sum().item()"))
    _git(repo, env, "add", "pkg/model.py")
    blocked = _git(repo, env, "commit", "-m", "a hazard in the model only")
    out = blocked.stdout + blocked.stderr
    assert blocked.returncode != 0, out
    assert "pkg/model.py:6:" in out and "TL201" in out, out
    log = _git(repo, env, "log", "--oneline")
    assert len(log.stdout.splitlines()) == 1  # the commit did not happen

    # --all-files gives what `tracelint .` gives on the same tree
    (repo / "pkg" / "helpers.py").write_text(HELPERS.replace("t.abs().max()", "t.abs().max().item()"))
    (repo / "pkg" / "model.py").write_text("from pkg.base import Base\nfrom pkg.helpers import norm\n\n\n"
                                           "class Net(Base):\n    def forward(self, x):\n        return norm(x)\n")
    _git(repo, env, "add", "-A")
    hook = subprocess.run([str(PRE_COMMIT), "run", "--all-files", "--color", "never"], cwd=repo, env=env,
                          capture_output=True, text=True, timeout=1500)
    direct = subprocess.run([sys.executable, "-m", "tracelint", "."], cwd=repo, env=env, capture_output=True,
                            text=True)
    assert hook.returncode != 0 and direct.returncode == 1, hook.stdout + direct.stderr
    assert _findings(direct.stdout) and _findings(hook.stdout) == _findings(direct.stdout)
