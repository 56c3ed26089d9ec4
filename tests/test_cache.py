"""The content-hash cache: hits give the same result, any input change misses, nothing in the tree."""
from __future__ import annotations

import os
import subprocess
import sys

from tracelint import engine
from tracelint.api import lint_paths
from tracelint.config import Config

HAZARD = ("import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n"
          "    def forward(self, x):\n        return x * x.sum().item()\n")


def test_hit_is_identical_and_skips_linting(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    (src / "m.py").write_text(HAZARD)
    cfg = Config(jobs=1, cache_dir=str(tmp_path / "cache"))
    first = lint_paths([str(src)], cfg).diagnostics
    assert [d.code for d in first] == ["TL201"]

    def boom(*a, **k):
        raise AssertionError("linted again despite the cache")

    monkeypatch.setattr(engine, "lint_job", boom)
    assert lint_paths([str(src)], cfg).diagnostics == first


def test_changes_miss(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "m.py").write_text(HAZARD)
    cfg = Config(jobs=1, cache_dir=str(tmp_path / "cache"))
    assert len(lint_paths([str(src)], cfg).diagnostics) == 1
    (src / "m.py").write_text(HAZARD.replace(".item()", ".mean()"))
    assert lint_paths([str(src)], cfg).diagnostics == []
    (src / "m.py").write_text(HAZARD)
    assert lint_paths([str(src)], Config(jobs=1, cache_dir=cfg.cache_dir, ignore=("TL201",))).diagnostics == []


def test_cli_cache_lives_outside_the_tree(tmp_path):
    (tmp_path / "m.py").write_text(HAZARD)
    env = {k: v for k, v in os.environ.items() if k != "TRACELINT_NO_CACHE"}
    env["TRACELINT_CACHE_DIR"] = str(tmp_path.parent / f"{tmp_path.name}-cache")
    for _ in range(2):
        p = subprocess.run([sys.executable, "-m", "tracelint", "m.py"], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
        assert p.returncode == 1 and "TL201" in p.stdout
    assert sorted(os.listdir(tmp_path)) == ["m.py"]
    assert os.listdir(env["TRACELINT_CACHE_DIR"])
