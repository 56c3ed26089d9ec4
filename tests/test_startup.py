"""Start-up: a command imports only what it needs (no LibCST when nothing is linted, one reporter)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tracelint.rules import all_rules, catalog_source
from tracelint.rules.catalog import CATALOG

PROBE = """
import atexit, sys
atexit.register(lambda: sys.stderr.write("\\nMODULES " + " ".join(sorted(sys.modules)) + "\\n"))
from tracelint.cli import main
main(sys.argv[1:])
"""


def modules_after(args: list[str], cwd: Path) -> set[str]:
    p = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True,
                       env={"TRACELINT_NO_CACHE": "1", "PATH": ""})
    line = next(ln for ln in p.stderr.splitlines() if ln.startswith("MODULES "))
    return set(line.split()[1:])


def test_catalog_is_current():
    assert CATALOG == {c: (r.name, r.default_enabled) for c, r in all_rules().items()}
    assert catalog_source() == (Path(__file__).parents[1] / "tracelint/rules/catalog.py").read_text()


def test_linting_a_file_with_nothing_to_check_imports_no_libcst(tmp_path):
    (tmp_path / "empty.py").write_text("")
    (tmp_path / "util.py").write_text("def f(x):\n    return x + 1\n")
    mods = modules_after(["empty.py", "util.py"], tmp_path)
    heavy = {m for m in mods if m.split(".")[0] in ("libcst", "torch", "numpy", "pygls")}
    assert not heavy
    assert "tracelint.rule" not in mods and "tracelint.dynamic" not in mods
    assert not any(m.startswith("tracelint.rules.tl") for m in mods)
    assert "concurrent.futures.process" not in mods
    reporters = {m for m in mods if m.startswith("tracelint.reporters.")}
    assert reporters <= {"tracelint.reporters.text", "tracelint.reporters._common"}


def test_linting_a_model_loads_libcst_and_one_reporter(tmp_path):
    (tmp_path / "m.py").write_text("from torch import nn\n\n\nclass Net(nn.Module):\n"
                                   "    def forward(self, x):\n        return x * x.sum().item()\n")
    mods = modules_after(["m.py", "--format", "json"], tmp_path)
    assert "libcst" in mods and "tracelint.rules.tl201_tensor_to_python" in mods
    assert "tracelint.reporters.json" in mods and "tracelint.reporters.sarif" not in mods
    assert "torch" not in mods and "tracelint.dynamic" not in mods
