"""Every rule's VALID examples are clean and its INVALID examples fire at the stated positions."""
from __future__ import annotations

import textwrap

import pytest

from tracelint.rule import Invalid
from tracelint.rules import all_rules
from conftest import lint_snippet

STATIC_RULES = [r for r in all_rules().values()
                if not getattr(r, "tool", False) and not getattr(r, "dynamic_only", False)]


def test_every_static_rule_has_examples():
    for r in STATIC_RULES:
        assert r.valid, f"{r.code} has no VALID example"
        assert r.invalid, f"{r.code} has no INVALID example"


@pytest.mark.parametrize("rule", STATIC_RULES, ids=lambda r: r.code)
def test_valid_examples_are_clean(rule):
    for code in rule.valid:
        found = [d for d in lint_snippet(code, select=(rule.code,)) if d.code == rule.code]
        assert not found, f"{rule.code} fired on a VALID example: {[(d.line, d.column) for d in found]}"


@pytest.mark.parametrize("rule", STATIC_RULES, ids=lambda r: r.code)
def test_invalid_examples_fire(rule):
    for example in rule.invalid:
        ex = example if isinstance(example, Invalid) else Invalid(example)
        found = [(d.line, d.column) for d in lint_snippet(ex.code, select=(rule.code,)) if d.code == rule.code]
        assert found, f"{rule.code} did not fire on:\n{textwrap.dedent(ex.code)}"
        if ex.positions:
            assert sorted(found) == sorted(ex.positions)


@pytest.mark.parametrize("rule", STATIC_RULES, ids=lambda r: r.code)
def test_message_names_targets_and_help(rule):
    ex = rule.invalid[0]
    ex = ex if isinstance(ex, Invalid) else Invalid(ex)
    d = next(d for d in lint_snippet(ex.code, select=(rule.code,)) if d.code == rule.code)
    assert any(t in d.message for t in ("trace", "script", "export", "compile")), d.message
    assert d.help
    assert d.scope
    # what to write instead: in the message itself, or appended from the rule's help
    assert rule.advice_in_message or "use instead:" in d.message
