"""The default format: one `path:line:col: CODE short message [targets]` line per finding (grep-, editor-
and matcher-friendly, readable at ~120 columns); `full`, `tracelint rule CODE` and JSON say more.

Nothing else goes to stdout except the dynamic checker's table when one ran; the count of findings is
`summary()`, which the CLI prints to stderr so stdout stays machine-readable.
"""
from __future__ import annotations

from tracelint.diagnostics import Report, Severity
from tracelint.reporters._common import count_files, dynamic_table, finding_line, join_lines


def render(report: Report, *, color: bool = False) -> str:
    lines = [finding_line(d, report.targets, color=color) for d in report.diagnostics]
    table = dynamic_table(report.dynamic)
    if table:
        lines += ([""] if lines else []) + table
    return join_lines(lines)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def summary(report: Report) -> str:
    """One human line for stderr, e.g. `Found 3 findings (2 errors, 1 warning) in 2 files (5 checked).`"""
    checked = _plural(report.files_checked, "file")
    if not report.diagnostics:
        text = f"No findings in {checked} checked."
    else:
        counts = [(_plural(sum(d.severity == s for d in report.diagnostics), s.value))
                  for s in (Severity.ERROR, Severity.WARNING, Severity.INFO)
                  if any(d.severity == s for d in report.diagnostics)]
        text = (f"Found {_plural(len(report.diagnostics), 'finding')} ({', '.join(counts)}) "
                f"in {_plural(count_files(report), 'file')} ({report.files_checked} checked).")
    if report.errors:
        text += f" {_plural(len(report.errors), 'tool error')}."
    return text
