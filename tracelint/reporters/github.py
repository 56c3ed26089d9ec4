"""GitHub Actions workflow commands: each finding becomes an annotation on the pull request's diff.

Escaping follows @actions/core (`escapeData` / `escapeProperty`) so a message cannot end the command
early or inject another one.
"""
from __future__ import annotations

from tracelint.diagnostics import Diagnostic, Report, Severity
from tracelint.reporters._common import effect_lines, targets_suffix, verdict_suffix

COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(d: Diagnostic, targets=("trace", "script", "export", "compile")) -> str:
    """`::error file=P,line=L,col=C,endLine=EL,endColumn=EC,title=CODE::message` for one finding.

    The message is the headline, then one line per selected target and the fix: each part once.
    """
    props = {"file": d.path, "line": d.line, "col": d.column, "endLine": d.end_line,
             "endColumn": d.end_column, "title": d.code}
    joined = ",".join(f"{k}={escape_property(str(v))}" for k, v in props.items())
    lines = [d.headline + targets_suffix(d, targets) + verdict_suffix(d)]
    if d.code.startswith("TL0"):
        lines += [d.message] if d.message != d.headline else []
    else:
        lines += effect_lines(d, targets)
    if d.help:
        lines.append("help: " + d.help)
    message = "\n".join(lines)
    return f"::{COMMAND.get(d.severity, 'error')} {joined}::{escape_data(message)}"


def render(report: Report, *, color: bool = False) -> str:
    lines = [annotation(d, report.targets) for d in report.diagnostics]
    lines += [f"::error title=tracelint::{escape_data(error)}" for error in report.errors]
    return "".join(line + "\n" for line in lines)
