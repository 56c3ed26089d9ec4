"""The shipped VS Code problem matcher really parses the text format (ours, and the real CLI's output)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from tracelint.diagnostics import Diagnostic, Report, Severity
from tracelint.reporters import render, summary
from tracelint.targets import fail, ok

ROOT = Path(__file__).resolve().parents[1]

HAZARD = """\
import torch
from torch import nn


class Net(nn.Module):
    def forward(self, x):
        s = x.sum().item()
        return x * s
"""


def _matcher() -> dict:
    text = (resources.files("tracelint") / "data" / "vscode-problem-matcher.json").read_text(encoding="utf-8")
    return json.loads(text)["problemMatcher"][0]


def _regex() -> re.Pattern[str]:
    return re.compile(_matcher()["pattern"]["regexp"])


def _groups(line: str) -> dict[str, str] | None:
    """Map the matcher's numbered groups to their roles, as VS Code does."""
    pattern = _matcher()["pattern"]
    m = _regex().match(line)
    if m is None:
        return None
    return {role: m.group(pattern[role]) for role in ("file", "line", "column", "code", "message")}


def _diag(path: str, line: int, column: int, code: str, message: str, **kw) -> Diagnostic:
    return Diagnostic(path, line, column, line, column + 4, code, "some-rule", message, Severity.ERROR,
                      (("trace", fail("wrong")), ("script", ok())), **kw)


DIAGS = [
    _diag("model.py", 7, 13, "TL201", "`.item()` turns tensor data into a Python value: trace: wrong"),
    _diag("src/pkg/a:b, c.py", 120, 1, "TL305", "message with: colons, commas and 100%"),
    _diag("../outside/x.py", 3, 44, "TL002", "unused suppression: TL201",
          verdict="confirmed", evidence=("outputs differ",)),
]


def test_matcher_shape():
    m = _matcher()
    assert m["owner"] == "tracelint"
    assert m["fileLocation"][0] in ("relative", "autoDetect", "absolute")
    assert m["severity"] in ("error", "warning", "info")
    p = m["pattern"]
    assert [p["file"], p["line"], p["column"], p["code"], p["message"]] == [1, 2, 3, 4, 5]
    assert _regex().groups == 5


def test_matcher_reads_every_text_line():
    lines = render(Report(diagnostics=DIAGS, files_checked=3), "text").splitlines()
    assert len(lines) == len(DIAGS)
    for line, d in zip(lines, DIAGS):
        g = _groups(line)
        assert g is not None, line
        assert g["file"] == d.path
        assert (int(g["line"]), int(g["column"])) == (d.line, d.column)
        assert g["code"] == d.code
        assert g["message"].startswith(d.message)
    assert _groups(lines[2])["message"].endswith("[confirmed: outputs differ]")


def test_matcher_ignores_what_is_not_a_finding():
    r = Report(diagnostics=DIAGS[:1], files_checked=1,
               dynamic=[{"example": "Net(x=randn(2, 3))",
                         "rows": [{"variant": "other values", "target": "trace", "result": "WRONG"}]}])
    lines = render(r, "text").splitlines()
    assert [line for line in lines if _groups(line)] == lines[:1]
    assert _groups(summary(r)) is None
    full_lines = render(r, "full").splitlines()
    assert [line for line in full_lines if _groups(line)] == lines[:1]


@pytest.mark.skipif(shutil.which("node") is None, reason="node not installed: JS regexp check needs it")
def test_matcher_regexp_means_the_same_in_javascript():
    lines = render(Report(diagnostics=DIAGS, files_checked=3), "text").splitlines()
    script = ("const [re, lines] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "const r = new RegExp(re);"
              "console.log(JSON.stringify(lines.map(l => { const m = r.exec(l); return m && m.slice(1); })));")
    out = subprocess.run(["node", "-e", script], input=json.dumps([_matcher()["pattern"]["regexp"], lines]),
                         capture_output=True, text=True, check=True, timeout=60).stdout
    assert json.loads(out) == [list(_regex().match(line).groups()) for line in lines]


def test_matcher_on_real_cli_output(tmp_path):
    (tmp_path / "model.py").write_text(HAZARD, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env.pop("NO_COLOR", None)
    proc = subprocess.run([sys.executable, "-m", "tracelint", "--format", "text", "model.py"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 2, proc.stderr     # 2 would be a tool failure, not findings
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines, f"no findings on stdout; stderr: {proc.stderr}"
    parsed = [_groups(line) for line in lines]
    assert all(parsed), f"lines the matcher does not read: {[l for l, g in zip(lines, parsed) if not g]}"
    hits = [g for g in parsed if g["code"] == "TL201"]
    assert hits, lines
    assert hits[0]["file"] == "model.py"
    assert (tmp_path / hits[0]["file"]).is_file()    # resolves relative to the workspace, as VS Code will
    assert hits[0]["line"] == "7"
    # The column points into the `x.sum().item()` expression (1-based), wherever in it the rule anchors.
    src = HAZARD.splitlines()[6]
    assert src.index("x.sum") + 1 <= int(hits[0]["column"]) <= src.index("item") + 1
