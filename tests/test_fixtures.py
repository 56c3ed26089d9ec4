"""Golden findings: every `# expect: CODE` marker in fixtures/ is found, at that line, and nothing else."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tracelint.api import lint_paths
from conftest import ALL_TARGETS, ROOT

MARK = re.compile(r"#\s*expect:\s*(TL\d{3}(?:[\s,]+TL\d{3})*)")
FIXTURES = sorted(p for p in (ROOT / "fixtures").rglob("*.py"))


def expected(path) -> set[tuple[int, str]]:
    out = set()
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = MARK.search(line)
        if m:
            out |= {(i, c) for c in re.split(r"[\s,]+", m.group(1)) if c}
    return out


@pytest.fixture(scope="module")
def tree_findings():
    """Lint fixtures/ once, as a user's `tracelint fixtures/` does (so cross-file facts count)."""
    report = lint_paths([str(ROOT / "fixtures")], ALL_TARGETS)
    assert not report.errors
    out: dict[str, set[tuple[int, str]]] = {}
    for d in report.diagnostics:
        out.setdefault(Path(d.path).resolve().as_posix(), set()).add((d.line, d.code))
    return out


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: str(p.relative_to(ROOT)))
def test_fixture_golden(path, tree_findings):
    got = tree_findings.get(path.resolve().as_posix(), set())
    want = expected(path)
    assert sorted(got - want) == [], "unexpected findings (false positives or missing markers)"
    assert sorted(want - got) == [], "expected findings not reported"


def test_every_rule_has_a_fixture():
    from tracelint.rules import all_rules
    seen = set()
    for p in FIXTURES:
        seen |= {c for _, c in expected(p)}
    missing = [c for c, r in all_rules().items()
               if not getattr(r, "tool", False) and not getattr(r, "dynamic_only", False) and c not in seen]
    assert missing == []
