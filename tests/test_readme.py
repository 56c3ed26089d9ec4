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


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pytest -q" in README and "python -m pytest -q" in ci
    assert 'pip install -e ".[dynamic,test]"' in README and 'pip install -q -e ".[dynamic,test]"' in ci
    assert "pip install torch==2.13.0" in README and "torch==2.13.0" in ci
