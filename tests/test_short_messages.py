"""Every rule has a short message, and every finding's text line uses it: concise, filled in, never the long one."""
from __future__ import annotations

import re

import pytest

from conftest import ALL_TARGETS, ROOT, lint_snippet
from tracelint.api import lint_paths
from tracelint.reporters import render
from tracelint.rule import Invalid
from tracelint.rules import all_rules

RULES = list(all_rules().values())
SHORT_LIMIT = 72          # the headline alone; path, position, code and targets take the rest of ~120


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_rule_has_a_short_message(rule):
    for template in (rule.short_message, *rule.short_variants.values()):
        assert template.strip() and len(template) <= SHORT_LIMIT, (rule.code, template)
        assert "use instead" not in template and not template.endswith(".")
    for long_template in rule.short_variants:
        assert long_template != rule.message, f"{rule.code}: a variant of the main message"


def _headlines_are_filled_in(diagnostics):
    for d in diagnostics:
        rule = all_rules()[d.code]
        assert d.short, (d.code, d.message)
        assert not re.search(r"\{[a-z_]+\}", d.short) and len(d.short) <= SHORT_LIMIT + 20, (d.code, d.short)
        if d.code.startswith("TL0"):
            continue
        assert d.short != d.message and len(d.short) < len(d.message), (d.code, d.short)
        assert d.short != rule.summary.rstrip("."), f"{d.code}: the template did not fit the call: {d.message}"


STATIC = [r for r in RULES if not getattr(r, "tool", False) and not getattr(r, "dynamic_only", False)]


@pytest.mark.parametrize("rule", STATIC, ids=lambda r: r.code)
def test_every_invalid_example_gets_a_filled_in_headline(rule):
    for example in rule.invalid:
        ex = example if isinstance(example, Invalid) else Invalid(example)
        found = [d for d in lint_snippet(ex.code, select=(rule.code,)) if d.code == rule.code]
        assert found
        _headlines_are_filled_in(found)


def test_every_fixture_finding_gets_a_filled_in_headline():
    report = lint_paths([str(ROOT / "fixtures")], ALL_TARGETS)
    assert len(report.diagnostics) > 100
    _headlines_are_filled_in(report.diagnostics)
    codes = {d.code for d in report.diagnostics}
    assert {"TL101", "TL301", "TL306", "TL401", "TL510", "TL606", "TL611"} <= codes  # rules with variants


def test_tool_findings_are_short_too(tmp_path):
    (tmp_path / "broken.py").write_text("def f(:\n    pass\n")
    (tmp_path / "sup.py").write_text("import torch\n\nclass Net(torch.nn.Module):\n    def forward(self, x):\n"
                                     "        return x + 1  # tracelint: ignore[TL201]\n")
    from tracelint.config import Config
    report = lint_paths([str(tmp_path)], Config(extend_select=("TL002",)))
    assert {d.code for d in report.diagnostics} == {"TL000", "TL002"}
    _headlines_are_filled_in(report.diagnostics)
    text = render(report, "text")
    assert "[" not in text.split("TL000", 1)[1].splitlines()[0]   # tool findings: no target list


def test_text_lines_of_the_fixtures_fit_in_120_columns():
    """The median default line on the shipped fixtures (benchmarks/line_length.py measures real trees)."""
    import os
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        report = lint_paths(["fixtures"])
    finally:
        os.chdir(cwd)
    lengths = sorted(len(line) for line in render(report, "text").splitlines())
    assert lengths and lengths[len(lengths) // 2] <= 120, lengths[len(lengths) // 2]
