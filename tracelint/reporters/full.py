"""The text line plus context: the source line, a caret under the span, each selected target's outcome, the fix.

Each part is printed once: the headline is the text format's line, the consequence per target and
what to write instead follow it (the JSON `message` field is these three in one sentence).
"""
from __future__ import annotations

import unicodedata

from tracelint.diagnostics import Diagnostic, Report
from tracelint.reporters._common import (
    SEVERITY_COLOR, dynamic_table, effect_lines, finding_line, join_lines, one_line, paint)


def _width(ch: str) -> int:
    """Terminal cells a character takes, so the caret lines up under wide (CJK) and combining text."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _pad(prefix: str) -> str:
    # Keep tabs as tabs: they then expand to the same stops as in the source line above.
    return "".join(ch if ch == "\t" else " " * _width(ch) for ch in prefix)


def underline(d: Diagnostic) -> str:
    """Spaces then `^~~~` from column to end_column on the finding's line (to end of line if it spans more)."""
    src = d.source_line.rstrip("\r\n")
    start = max(d.column - 1, 0)
    end = d.end_column - 1 if d.end_line == d.line else len(src)
    end = min(end, len(src)) if start < len(src) else start + 1
    cells = sum(_width(ch) for ch in src[start:end])
    beyond = " " * max(start - len(src), 0)  # e.g. a syntax error just past the end of the line
    return _pad(src[:start]) + beyond + "^" + "~" * max(cells - 1, 0)


def _finding(d: Diagnostic, targets: tuple[str, ...], color: bool) -> list[str]:
    lines = [finding_line(d, targets, color=color)]
    gutter = " " * len(str(d.line))
    if d.source_line.strip():
        src = d.source_line.rstrip("\r\n")
        lines += [f"{gutter} |", f"{d.line} | {src}",
                  f"{gutter} | " + paint(underline(d), SEVERITY_COLOR.get(d.severity, ""), color)]
    if d.code.startswith("TL0") and d.message != d.headline:
        lines.append(f"{gutter} = {one_line(d.message)}")   # a tool finding's details (a crash's traceback)
    if not d.code.startswith("TL0"):
        lines += [f"{gutter} = {line}" for line in effect_lines(d, targets)]
    if d.help:
        lines.append(f"{gutter} = help: {one_line(d.help)}")
    for item in d.evidence:
        lines.append(f"{gutter} = {d.verdict or 'evidence'}: {one_line(item)}")
    return lines


def render(report: Report, *, color: bool = False) -> str:
    lines: list[str] = []
    for d in report.diagnostics:
        if lines:
            lines.append("")
        lines += _finding(d, report.targets, color)
    table = dynamic_table(report.dynamic)
    if table:
        lines += ([""] if lines else []) + table
    return join_lines(lines)
