"""Rule documentation: the Markdown page in the top-level rules/ folder (shipped in the wheel)."""
from __future__ import annotations

from pathlib import Path

from tracelint.rule import Rule
from tracelint.targets import TARGETS


def pages_dir() -> Path | None:
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "rules", here / "_rule_pages"):
        if candidate.is_dir():
            return candidate
    return None


def page_path(rule: type[Rule]) -> Path | None:
    d = pages_dir()
    if d is None:
        return None
    p = d / f"{rule.code}-{rule.name}.md"
    return p if p.is_file() else None


def rule_page(rule: type[Rule]) -> str:
    """The page's text; a page generated from the class if the file is missing (e.g. an odd install)."""
    p = page_path(rule)
    if p is not None:
        return p.read_text(encoding="utf-8")
    effects = "\n".join(f"- **{t}**: {rule.targets[t].outcome} — {rule.targets[t].text}" for t in TARGETS)
    return (f"# {rule.code} {rule.name}\n\n## What it does\n\n{rule.summary}\n\n"
            f"## Why it breaks, per target\n\n{effects}\n\n## Use instead\n\n{rule.help}\n")


def _cell(effect) -> str:
    mark = {"fail": "**fail**", "warn": "warn", "ok": "ok"}[effect.outcome]
    return mark


def rules_table() -> str:
    """The README's rules table: one row per rule, with its outcome per target."""
    from tracelint.rules import all_rules

    head = "| code | name | trace | script | export | compile | summary |\n|---|---|---|---|---|---|---|\n"
    rows = []
    for code, r in all_rules().items():
        cells = " | ".join(_cell(r.targets[t]) for t in TARGETS)
        rows.append(f"| [{code}](rules/{code}-{r.name}.md) | `{r.name}` | {cells} | {r.summary.replace('|', '/')} |")
    return head + "\n".join(rows) + "\n"
