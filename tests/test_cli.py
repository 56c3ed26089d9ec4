"""The command line as a user runs it: exit codes, options, stdin, subcommands, no torch import."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT

HAZARD = textwrap.dedent("""\
    import torch
    from torch import nn


    class Net(nn.Module):
        def forward(self, x):
            s = x.sum().item()
            return x * s
    """)
CLEAN = "import torch\n\n\ndef f(x):\n    return x + 1\n"


def run(*args: str, cwd: Path | None = None, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "tracelint", *args], cwd=cwd, input=stdin,
                          capture_output=True, text=True, env=env)


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "model.py").write_text(HAZARD)
    (tmp_path / "clean.py").write_text(CLEAN)
    return tmp_path


def test_exit_1_with_findings_and_text_format(tree):
    p = run("model.py", cwd=tree)
    assert p.returncode == 1
    assert p.stdout.splitlines() == [p.stdout.splitlines()[0]]
    path, line, col, rest = p.stdout.splitlines()[0].split(":", 3)
    assert (path, line, col) == ("model.py", "7", "13")
    assert rest.split()[0] == "TL201"
    assert "Found 1 finding" in p.stderr


def test_exit_0_on_clean_file(tree):
    p = run("clean.py", cwd=tree)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout == ""


def test_exit_zero_flag(tree):
    assert run("--exit-zero", "model.py", cwd=tree).returncode == 0


def test_exit_2_on_missing_path(tree):
    p = run("nope.py", "model.py", cwd=tree)
    assert p.returncode == 2
    assert "nope.py" in p.stderr
    assert "TL201" in p.stdout  # the other files were still linted


def test_default_path_is_current_folder(tree):
    p = run(cwd=tree)
    assert p.returncode == 1
    assert p.stdout.startswith("model.py:7:13: TL201")


def test_syntax_error_is_a_finding_and_run_goes_on(tree):
    (tree / "broken.py").write_text("def f(:\n    pass\n")
    p = run(".", cwd=tree)
    assert p.returncode == 1
    lines = p.stdout.splitlines()
    assert lines[0].startswith("broken.py:1:7: TL000")
    assert any(line.startswith("model.py:7:13: TL201") for line in lines)


def test_stdin_with_filename(tree):
    p = run("-", "--stdin-filename", "pkg/unsaved.py", stdin=HAZARD, cwd=tree)
    assert p.returncode == 1
    assert p.stdout.startswith("pkg/unsaved.py:7:13: TL201")


def test_select_ignore_prefix_and_name(tree):
    assert run("--ignore", "TL201", "model.py", cwd=tree).returncode == 0
    assert run("--ignore", "TL2", "model.py", cwd=tree).returncode == 0
    assert run("--ignore", "tensor-to-python", "model.py", cwd=tree).returncode == 0
    assert run("--select", "TL0", "model.py", cwd=tree).returncode == 0
    assert run("--select", "TL201", "model.py", cwd=tree).returncode == 1
    bad = run("--select", "TL999x", "model.py", cwd=tree)
    assert bad.returncode == 2 and "TL999x" in bad.stderr


def test_target_filters_findings(tree):
    # `.item()` is wrong under trace, fine under script/export/compile (catalogue: tensor_item_scalar)
    assert run("--target", "script", "model.py", cwd=tree).returncode == 0
    assert run("--target", "export,compile", "model.py", cwd=tree).returncode == 0
    assert run("--target", "script", "--target", "trace", "model.py", cwd=tree).returncode == 1
    assert run("--target", "jit", "model.py", cwd=tree).returncode == 2


def test_json_and_jsonl_formats(tree):
    data = json.loads(run("--format", "json", "model.py", cwd=tree).stdout)
    (f,) = data["findings"]
    assert (f["path"], f["line"], f["column"], f["code"]) == ("model.py", 7, 13, "TL201")
    for key in ("end_line", "end_column", "name", "message", "severity", "targets", "scope", "help"):
        assert key in f
    assert f["scope"] == "Net.forward"
    assert f["targets"]["trace"]["outcome"] == "fail"
    lines = run("--format", "jsonl", ".", cwd=tree).stdout.splitlines()
    assert [json.loads(x)["code"] for x in lines] == ["TL201"]


def test_output_file(tree):
    p = run("--format", "sarif", "--output-file", "out.sarif", "model.py", cwd=tree)
    assert p.returncode == 1 and p.stdout == ""
    sarif = json.loads((tree / "out.sarif").read_text())
    assert sarif["runs"][0]["results"][0]["ruleId"] == "TL201"


def test_statistics(tree):
    (tree / "model2.py").write_text(HAZARD)
    p = run("--statistics", ".", cwd=tree)
    assert p.returncode == 1
    assert p.stdout.split() == ["2", "TL201", "tensor-to-python"]


def test_statistics_sorted_by_count_then_code(tree):
    (tree / "more.py").write_text(HAZARD.replace("s = x.sum().item()", "s = len(x)\n        t = len(x)\n        u = len(x)"))
    p = run("--statistics", ".", cwd=tree)
    rows = [line.split() for line in p.stdout.splitlines()]
    assert [r[1] for r in rows] == ["TL203", "TL201"] and [int(r[0]) for r in rows] == [3, 1]
    data = json.loads(run("--statistics", "--format", "json", ".", cwd=tree).stdout)
    assert [(r["code"], r["count"]) for r in data] == [("TL203", 3), ("TL201", 1)]


def test_exclude_and_default_excludes(tree):
    venv = tree / ".venv" / "lib"
    venv.mkdir(parents=True)
    (venv / "model.py").write_text(HAZARD)
    p = run(".", cwd=tree)
    assert ".venv" not in p.stdout
    assert run("--extend-exclude", "model.py", ".", cwd=tree).returncode == 0
    # a file named explicitly is linted even when excluded by a pattern
    assert run("--extend-exclude", "model.py", "model.py", cwd=tree).returncode == 1


def test_jobs_give_the_same_deterministic_output(tmp_path):
    for i in range(20):
        (tmp_path / f"m{i:02d}.py").write_text(HAZARD)
    one = run("-j", "1", ".", cwd=tmp_path).stdout
    two = run("-j", "2", ".", cwd=tmp_path).stdout
    assert one == two
    assert len(one.splitlines()) == 20
    assert one.splitlines() == sorted(one.splitlines())


def test_rules_and_rule_commands():
    p = run("rules")
    assert p.returncode == 0 and "TL201" in p.stdout and "tensor-to-python" in p.stdout
    rows = json.loads(run("rules", "--format", "json").stdout)
    assert {"code", "name", "targets", "summary"} <= set(rows[0])
    doc = run("rule", "TL201")
    assert doc.returncode == 0 and doc.stdout.startswith("# TL201 tensor-to-python")
    assert run("rule", "tensor-to-python").stdout == doc.stdout
    assert run("rule", "TL999").returncode == 2


def test_version_and_help():
    p = run("--version")
    assert p.returncode == 0 and "0." in p.stdout
    h = run("check", "--help")
    assert "--target" in h.stdout and "--stdin-filename" in h.stdout
    top = run("--help")
    assert top.returncode == 0 and all(c in top.stdout for c in ("check", "rules", "rule", "confirm"))


def test_color_only_on_a_tty_or_when_forced(tree):
    assert "\x1b[" not in run("model.py", cwd=tree).stdout  # a pipe is not a TTY
    env = {**os.environ, "FORCE_COLOR": "1"}
    env.pop("NO_COLOR", None)
    forced = subprocess.run([sys.executable, "-m", "tracelint", "model.py"], cwd=tree,
                            capture_output=True, text=True, env=env)
    assert "\x1b[" in forced.stdout
    env["NO_COLOR"] = "1"
    off = subprocess.run([sys.executable, "-m", "tracelint", "model.py"], cwd=tree,
                         capture_output=True, text=True, env=env)
    assert "\x1b[" not in off.stdout


def test_static_path_never_imports_torch(tree):
    code = ("import sys, tracelint.cli, tracelint.api as a\n"
            "r = a.lint_paths(['model.py'])\n"
            "assert r.diagnostics, 'expected a finding'\n"
            "print('torch' in sys.modules)")
    p = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "False"


def test_python_dash_m_matches_console_script(tree):
    exe = Path(sys.executable).with_name("tracelint")
    if not exe.exists():
        pytest.skip("console script not installed next to this interpreter")
    a = subprocess.run([str(exe), "model.py"], cwd=tree, capture_output=True, text=True)
    b = run("model.py", cwd=tree)
    assert (a.returncode, a.stdout) == (b.returncode, b.stdout)


def test_sarif_of_the_real_fixtures_validates_against_the_official_schema():
    from jsonschema.validators import validator_for
    schema = json.loads((ROOT / "tests" / "data" / "sarif-schema-2.1.0.json").read_text())
    p = run("--format", "sarif", "--target", "trace,script,export,compile", "fixtures", cwd=ROOT)
    assert p.returncode == 1
    log = json.loads(p.stdout)
    validator_for(schema)(schema).validate(log)
    results = log["runs"][0]["results"]
    assert len(results) > 50
    for r in results:
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"].startswith("fixtures/")
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
        assert r["partialFingerprints"]
    rule_ids = {rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in results} <= rule_ids


def test_github_format_on_real_output(tree):
    p = run("--format", "github", "model.py", cwd=tree)
    assert p.returncode == 1
    assert p.stdout.startswith("::error file=model.py,line=7,col=13,endLine=7,")
    assert "title=TL201::" in p.stdout
