"""The README's generated parts are current and its commands are the ones CI runs."""
from __future__ import annotations

import re

from tracelint.docs import rules_table
from tracelint.rules import all_rules
from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def block(name: str) -> str:
    m = re.search(rf"<!-- {name}:start -->\n(.*?)<!-- {name}:end -->", README, re.S)
    assert m, f"README lacks the {name} block"
    return m.group(1)


def test_rules_table_is_current():
    assert block("rules-table") == rules_table(), "run: tracelint rules --format markdown"


def test_every_rule_family_is_described():
    families = block("rule-families")
    for code in all_rules():
        if code >= "TL100":
            assert f"TL{code[2]}xx" in families, code


def test_ci_runs_the_readme_second_command_with_the_cpu_torch_first():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 .ci/test.py" in ci and "python3 .ci/test.py" in README
    test = (ROOT / ".ci" / "test.py").read_text()
    assert test.index("ensure_torch(python)") < test.index("[dynamic,test]")
    assert '"torch==2.13.0"' in (ROOT / ".ci" / "setup_env.py").read_text()


def test_readme_quick_start_is_the_two_scripts():
    block = README.split("## Quick start", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in block.strip().splitlines()]
    assert commands == ["python3 .ci/quickstart.py", "python3 .ci/test.py"]


def test_install_lines_name_our_distribution():
    """`pip install tracelint` installs an unrelated project: every install line names ours."""
    from tracelint.config import tomllib   # tomllib, or tomli before Python 3.11
    name = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["name"]
    assert name == "torch-tracelint"
    lines = [ln for ln in README.splitlines() if "pip install" in ln]
    assert lines
    for line in lines:
        args = line.split("pip install", 1)[1].split("#", 1)[0].replace('"', " ").split()
        assert not any(a == "tracelint" or a.startswith(("tracelint[", "tracelint=")) for a in args), line
    assert f"pip install {name}" in README and f'pip install "{name}[dynamic]"' in README
    assert "download.pytorch.org/whl/cpu" in README     # the CPU-only torch wheel


def test_pre_commit_snippet_pins_a_rev_that_can_exist():
    snippet = README.split("## pre-commit", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    rev = re.search(r"rev:\s*(\S+)", snippet).group(1)
    assert rev != "v0.1.0" and re.fullmatch(r"[0-9a-f]{40}|v\d+\.\d+\.\d+", rev)


def test_opt_in_rules_are_listed():
    listed = block("opt-in")
    opt_in = [c for c, r in all_rules().items() if not r.default_enabled]
    assert opt_in and all(f"`{c}` {all_rules()[c].name}" in listed for c in opt_in)
    assert listed.count("`TL") == len(opt_in)
