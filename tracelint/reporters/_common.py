"""Pieces several formats share: the one-line finding, verdict suffix, effects line, ANSI, dynamic table.

Kept here so `text` and `full` print the very same first line (the problem matcher relies on it).
"""
from __future__ import annotations

from typing import Any, Iterable

from tracelint.diagnostics import Diagnostic, Report, Severity
from tracelint.targets import FAIL, TARGETS, WARN

BOLD = "\x1b[1m"
RED = "\x1b[31m"
YELLOW = "\x1b[33m"
CYAN = "\x1b[36m"
RESET = "\x1b[0m"

SEVERITY_COLOR = {Severity.ERROR: RED, Severity.WARNING: YELLOW, Severity.INFO: CYAN}


def one_line(text: str) -> str:
    """Line breaks would split a finding over several lines and break line-oriented consumers."""
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def paint(text: str, style: str, color: bool) -> str:
    return f"{style}{text}{RESET}" if color and style else text


def verdict_suffix(d: Diagnostic) -> str:
    """` [confirmed: first evidence]`, ` [not-reached]`, or "" when no dynamic check ran."""
    if d.verdict is None:
        return ""
    verdict = d.verdict
    if len({v for _, v in d.verdicts}) > 1:   # say which target confirmed what
        verdict += " (" + ", ".join(f"{t}: {v}" for t, v in d.verdicts) + ")"
    if d.evidence:
        return f" [{verdict}: {one_line(d.evidence[0])}]"
    return f" [{verdict}]"


def targets_suffix(d: Diagnostic, targets: Iterable[str]) -> str:
    """` [trace, export]`: the selected targets that fail; `warns: trace` for those that only warn.

    Tool findings (TL0xx: syntax error, crash, unused suppression) concern no capture mechanism.
    """
    if d.code.startswith("TL0"):
        return ""
    effects = d.effect_map
    chosen = [t for t in TARGETS if t in set(targets) and t in effects]
    fails = [t for t in chosen if effects[t].outcome == FAIL]
    warns = [t for t in chosen if effects[t].outcome == WARN]
    parts = [", ".join(fails)] if fails else []
    if warns:
        parts.append("warns: " + ", ".join(warns))
    return f" [{'; '.join(parts)}]" if parts else ""


def finding_line(d: Diagnostic, targets: Iterable[str] = TARGETS, *, color: bool = False) -> str:
    """`path:line:col: CODE short message [targets that fail]`, 1-based (the text format, one finding)."""
    location = paint(f"{d.path}:{d.line}:{d.column}:", BOLD, color)
    code = paint(d.code, SEVERITY_COLOR.get(d.severity, ""), color)
    return f"{location} {code} {one_line(d.headline)}{targets_suffix(d, targets)}{verdict_suffix(d)}"


def effect_lines(d: Diagnostic, targets: Iterable[str]) -> list[str]:
    """`trace [fail]: what happens` per selected target, in their canonical order."""
    effects = d.effect_map
    out = []
    for target in TARGETS:
        effect = effects.get(target)
        if effect is None or target not in set(targets):
            continue
        text = one_line(effect.text)
        out.append(f"{target} [{effect.outcome}]" + (f": {text}" if text and text != effect.outcome else ""))
    return out


def dynamic_table(dynamic: list[dict[str, Any]]) -> list[str]:
    """The dynamic checker's per-example results as aligned columns (empty list when none ran)."""
    if not dynamic:
        return []
    header = ("variant", "target", "result")
    out = ["Dynamic check:"]
    for entry in dynamic:
        rows = [tuple(one_line(str(row.get(k, ""))) for k in header) for row in entry.get("rows", [])]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        out.append(f"  example {one_line(str(entry.get('example', '')))}")
        for row in [header, *rows]:
            out.append("    " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    return out


def join_lines(lines: list[str]) -> str:
    """Renderers return complete output: lines ending in newline, or "" when there is nothing to say."""
    return "".join(line + "\n" for line in lines)


def count_files(report: Report) -> int:
    return len({d.path for d in report.diagnostics})
