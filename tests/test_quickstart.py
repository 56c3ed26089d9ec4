"""The README's first command works on a fresh clone: it installs the linter without torch and lints the fixtures.

Like test_precommit.py this clones the committed HEAD (CI runs on a fresh clone of a commit), then
runs `python3 .ci/quickstart.py` there exactly as the README says: a new .venv, `pip install -e .`,
`tracelint fixtures/`. The second command is what CI itself runs (.ci/run -> .ci/test.py).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT



LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>TL\d{3}) ")
MARK = re.compile(r"#\s*expect:\s*(TL\d{3}(?:[\s,]+TL\d{3})*)")


def _markers(root: Path) -> set[tuple[str, int, str]]:
    out = set()
    for p in (root / "fixtures").rglob("*.py"):
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            m = MARK.search(line)
            if m:
                out |= {(p.relative_to(root).as_posix(), i, c) for c in re.split(r"[\s,]+", m.group(1)) if c}
    return out


@pytest.mark.slow
def test_first_command_on_a_fresh_clone(tmp_path):
    clone = tmp_path / "fresh"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GIT_", "VIRTUAL_ENV", "PYTHONPATH", "TRACELINT_"))}
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, env=env)
    python3 = shutil.which("python3") or sys.executable
    proc = subprocess.run([python3, ".ci/quickstart.py"], cwd=clone, env={**env, "NO_COLOR": "1"},
                          capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-4000:]
    matches = [m for m in map(LINE.match, proc.stdout.splitlines()) if m]
    assert len(matches) == len(proc.stdout.splitlines()) > 50   # stdout holds findings only
    found = {(m["path"], int(m["line"]), m["code"]) for m in matches}
    assert found <= _markers(clone), sorted(found - _markers(clone))[:5]   # every finding is an expected one
    assert re.search(r"Found \d+ findings", proc.stderr)
    site = list((clone / ".venv").glob("lib*/python*/site-packages")) or [clone / ".venv" / "Lib" / "site-packages"]
    assert site and (site[0] / "libcst").is_dir(), "the linter's dependencies are in the new .venv"
    assert not (site[0] / "torch").exists(), "the first command must not install torch"


def _setup_env():
    import importlib.util
    spec = importlib.util.spec_from_file_location("setup_env", ROOT / ".ci" / "setup_env.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("answers", [True, False])
def test_torch_comes_from_the_cpu_index_only_when_it_answers(monkeypatch, answers):
    setup = _setup_env()
    monkeypatch.delenv("TRACELINT_TORCH_INDEX", raising=False)
    monkeypatch.setattr(setup.platform, "system", lambda: "Linux")
    asked = []
    index = setup.torch_index(probe=lambda url: asked.append(url) or answers)
    assert asked == [setup.CPU_INDEX + "/torch/"]
    assert index == (setup.CPU_INDEX if answers else None)
    monkeypatch.setattr(setup.platform, "system", lambda: "Darwin")   # CPU-only wheels by default
    assert setup.torch_index(probe=lambda url: pytest.fail("no probe needed")) is None


def test_torch_index_override(monkeypatch):
    setup = _setup_env()
    monkeypatch.setenv("TRACELINT_TORCH_INDEX", "https://mirror.example/cpu")
    assert setup.torch_index(probe=lambda url: pytest.fail("no probe")) == "https://mirror.example/cpu"
    monkeypatch.setenv("TRACELINT_TORCH_INDEX", "")
    assert setup.torch_index(probe=lambda url: pytest.fail("no probe")) is None


def test_probe_of_an_unreachable_index_returns_false():
    assert _setup_env().reachable("http://127.0.0.1:9/", seconds=5) is False   # the discard port: refused
