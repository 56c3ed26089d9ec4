"""The JSON report: one object, pretty-printed (indent 2), keys in this order and always all present.

- `version` (str): the tracelint version that produced the report.
- `targets` (list[str]): the capture mechanisms checked ("trace", "script", "export", "compile"),
  in canonical order; each finding's `severity` is computed over these only.
- `files_checked` (int): Python files the linter read.
- `findings` (list[object]): one `Diagnostic.to_dict()` per finding, in the report's order
  (path, line, column, code). Each has: `path` (str, relative to the working directory, "/"
  separators), `line`, `column`, `end_line`, `end_column` (int, 1-based; `end_column` is exclusive),
  `code` (str, "TL201"), `name` (str, "tensor-to-python"), `message` (str), `severity`
  ("error" | "warning" | "info"), `targets` (object: target -> {`outcome`: "ok" | "warn" | "fail",
  `effect`: str}), `scope` (str, the function or method the finding is in, may be ""), `help` (str),
  `confidence` (str), and, only when the dynamic checker ran, `verdict` ("confirmed" |
  "not-reproduced" | "not-checked" | "not-reached": the summary), `verdicts` (object: target ->
  verdict, for each checked target the finding applies to) and `evidence` (list[str]).
- `errors` (list[str]): tool-level problems (unreadable paths, ...); non-empty means exit status 2.
- `dynamic` (list[object]): the dynamic checker's per-example tables, empty when it did not run. Each
  has `example` (str) and `rows` (list of {`variant`: str, `target`: str, `result`: str}; a row
  whose `variant` is "note" is a remark, e.g. equivalent containers compared by value).
"""
from __future__ import annotations

import json
from typing import Any

import tracelint
from tracelint.diagnostics import Report


def as_dict(report: Report) -> dict[str, Any]:
    """The report as plain data (what `render` serialises)."""
    return {
        "version": tracelint.__version__,
        "targets": list(report.targets),
        "files_checked": report.files_checked,
        "findings": [d.to_dict() for d in report.diagnostics],
        "errors": list(report.errors),
        "dynamic": list(report.dynamic),
    }


def render(report: Report, *, color: bool = False) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False, default=str) + "\n"
