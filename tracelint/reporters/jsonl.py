"""One finding per line as a compact JSON object (`Diagnostic.to_dict()`): streamable, `jq -c`-friendly.

Nothing else is printed, not even for an empty report; tool errors are left to stderr and the exit code.
"""
from __future__ import annotations

import json

from tracelint.diagnostics import Report


def render(report: Report, *, color: bool = False) -> str:
    return "".join(json.dumps(d.to_dict(), ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
                   for d in report.diagnostics)
