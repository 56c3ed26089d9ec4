"""Every rule has a page in rules/ whose Example fires the rule and whose Use-instead code is clean."""
from __future__ import annotations

import re

import pytest

from tracelint.rules import all_rules
from conftest import ROOT, lint_snippet

SECTIONS = ("## What it does", "## Why it breaks, per target", "## Example", "## Use instead",
            "## What the dynamic checker shows")
RULES = list(all_rules().values())


def _page(rule):
    return (ROOT / "rules" / f"{rule.code}-{rule.name}.md").read_text(encoding="utf-8")


def _code_blocks(text: str, section: str) -> list[str]:
    start = text.index(section)
    nxt = text.find("\n## ", start + len(section))
    body = text[start: nxt if nxt != -1 else len(text)]
    return re.findall(r"```python\n(.*?)```", body, re.S)


def test_every_page_belongs_to_a_rule():
    names = {f"{r.code}-{r.name}.md" for r in RULES}
    pages = {p.name for p in (ROOT / "rules").glob("*.md")}
    assert pages - names == set(), "pages without a rule"
    assert names - pages == set(), "rules without a page"


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_page_sections(rule):
    text = _page(rule)
    assert text.startswith(f"# {rule.code} {rule.name}")
    for s in SECTIONS:
        assert s in text, f"{rule.code}: missing section {s!r}"


@pytest.mark.parametrize("rule", [r for r in RULES if not getattr(r, "tool", False)
                                  and not getattr(r, "dynamic_only", False)], ids=lambda r: r.code)
def test_page_examples_run(rule):
    text = _page(rule)
    bad = _code_blocks(text, "## Example")
    good = _code_blocks(text, "## Use instead")
    assert bad and good, f"{rule.code}: Example and Use instead need a ```python block each"
    assert any(d.code == rule.code for b in bad for d in lint_snippet(b, select=(rule.code,))), \
        f"{rule.code}: the page's Example does not fire the rule"
    for g in good:
        assert not [d for d in lint_snippet(g, select=(rule.code,)) if d.code == rule.code], \
            f"{rule.code}: the page's Use-instead code fires the rule"


STATIC = [r for r in RULES if not getattr(r, "tool", False) and not getattr(r, "dynamic_only", False)]
DIRECTIVE = re.compile(r"#\s*(tracelint\b[^`\n]*|noqa\b[^`\n]*)")
VALID_DIRECTIVE = re.compile(r"(tracelint: (ignore(\[[A-Za-z0-9_, -]+\])?|skip-file)|noqa(: [A-Z]+[0-9]+(, [A-Z]+[0-9]+)*)?)\b.*")


@pytest.mark.parametrize("rule", STATIC, ids=lambda r: r.code)
def test_page_suppression_snippet_works(rule):
    """The page's suppression example really silences the finding (and is not itself an unused one)."""
    blocks = _code_blocks(_page(rule), "## Suppressing it")
    assert blocks, f"{rule.code}: the page has no suppression example"
    for snippet in blocks:
        assert "tracelint: ignore[" in snippet
        found = lint_snippet(snippet, select=(rule.code, "TL002"))
        assert [d.code for d in found] == [], f"{rule.code}: still reported: {[(d.line, d.code) for d in found]}"
        bare = re.sub(r"\s*# tracelint: ignore\[[^\]]*\].*", "", snippet)
        assert any(d.code == rule.code for d in lint_snippet(bare, select=(rule.code,))), \
            f"{rule.code}: without the comment the snippet does not fire the rule"


def test_every_suppression_syntax_the_docs_mention_is_one_that_works():
    """No `# tracelint: disable=...` or other syntax the parser ignores, in any page or the README."""
    docs = [*sorted((ROOT / "rules").glob("*.md")), ROOT / "README.md"]
    for path in docs:
        for line in path.read_text(encoding="utf-8").splitlines():
            for m in DIRECTIVE.finditer(line):
                text = m.group(1)
                if text.startswith("tracelint") and not text.startswith("tracelint:"):
                    continue   # prose such as "# tracelint" in a heading, not a directive
                assert VALID_DIRECTIVE.match(text), f"{path.name}: {line.strip()}"
