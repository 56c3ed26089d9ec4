"""SARIF 2.1.0 for GitHub code scanning (`github/codeql-action/upload-sarif`) and SARIF viewers.

Locations are relative URIs against `%SRCROOT%` (the checkout root on GitHub), columns are Unicode code
points as LibCST counts them (`columnKind`), and every result carries a `primaryLocationLineHash`
that survives unrelated edits above the finding, so alerts are not closed and reopened on every push.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import tracelint
from tracelint.diagnostics import Diagnostic, Report, RuleInfo, Severity
from tracelint.fingerprint import fingerprints
from tracelint.targets import FAIL, WARN, Effect

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/tracelint/tracelint"
DOCS_BASE = "https://github.com/tracelint/tracelint/blob/main/"
SRCROOT = "%SRCROOT%"

LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _targets_dict(effects: dict[str, Effect]) -> dict[str, dict[str, str]]:
    return {t: {"outcome": e.outcome, "effect": e.text} for t, e in effects.items()}


def _default_level(info: RuleInfo, targets: tuple[str, ...]) -> str:
    """The level the rule's findings get over the selected targets (as Diagnostic.restricted_to decides)."""
    chosen = [info.targets[t] for t in targets if t in info.targets] or list(info.targets.values())
    if not chosen or any(e.outcome == FAIL for e in chosen):
        return "error"
    return "warning" if any(e.outcome == WARN for e in chosen) else "note"


def _rule_from_diagnostic(d: Diagnostic) -> RuleInfo:
    """A stand-in when a finding's rule is missing from report.rules, so every ruleIndex resolves."""
    return RuleInfo(d.code, d.name or d.code, d.name or d.code, d.help, d.effect_map)


def _rules(report: Report) -> list[RuleInfo]:
    infos = dict(report.rules)
    for d in report.diagnostics:
        infos.setdefault(d.code, _rule_from_diagnostic(d))
    return [infos[code] for code in sorted(infos)]


def _effects_text(effects: dict[str, Effect]) -> str:
    return "; ".join(f"{t}: {e.text or e.outcome}" for t, e in effects.items())


def _rule_descriptor(info: RuleInfo, targets: tuple[str, ...]) -> dict[str, Any]:
    effects = dict(info.targets)
    full = info.summary + (f" Under each capture mechanism: {_effects_text(effects)}." if effects else "")
    table = "".join(f"| `{t}` | {e.outcome} | {e.text} |\n" for t, e in effects.items())
    markdown = info.help
    if table:
        markdown += "\n\n| target | outcome | effect |\n| --- | --- | --- |\n" + table
    descriptor: dict[str, Any] = {
        "id": info.code,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": full},
        "help": {"text": info.help or info.summary, "markdown": markdown or info.summary},
        "defaultConfiguration": {"level": _default_level(info, targets)},
        "properties": {
            "tags": ["pytorch", *[t for t, e in effects.items() if e.applies]],
            "targets": _targets_dict(effects),
        },
    }
    if info.doc_path:
        descriptor["helpUri"] = DOCS_BASE + info.doc_path
    return descriptor


def artifact_location(path: str) -> dict[str, str]:
    """A relative URI under %SRCROOT% for display paths; a file: URI for absolute ones (outside the cwd)."""
    posix = path.replace("\\", "/")
    if posix.startswith("/"):
        return {"uri": "file://" + quote(posix, safe="/")}
    if len(posix) > 1 and posix[1] == ":":  # a Windows drive path
        return {"uri": "file:///" + quote(posix, safe="/:")}
    return {"uri": quote(posix, safe="/"), "uriBaseId": SRCROOT}


def _region(d: Diagnostic) -> dict[str, int]:
    # SARIF wants the end at or after the start; LibCST's end column is already exclusive like SARIF's.
    end_line = max(d.end_line, d.line)
    end_column = d.end_column if end_line > d.line else max(d.end_column, d.column)
    return {"startLine": max(d.line, 1), "startColumn": max(d.column, 1),
            "endLine": max(end_line, 1), "endColumn": max(end_column, 1)}


def _result(d: Diagnostic, index: int, fingerprint: str) -> dict[str, Any]:
    properties: dict[str, Any] = {"targets": _targets_dict(d.effect_map), "scope": d.scope,
                                  "confidence": d.confidence}
    if d.verdict is not None:
        properties["verdict"] = d.verdict
        properties["verdicts"] = dict(d.verdicts)
        properties["evidence"] = list(d.evidence)
    return {
        "ruleId": d.code,
        "ruleIndex": index,
        "level": LEVEL.get(d.severity, "warning"),
        "message": {"text": d.message},
        "locations": [{"physicalLocation": {"artifactLocation": artifact_location(d.path),
                                            "region": _region(d)}}],
        "partialFingerprints": {"primaryLocationLineHash": fingerprint},
        "properties": properties,
    }


def as_dict(report: Report) -> dict[str, Any]:
    """The SARIF log as plain data (what `render` serialises)."""
    rules = _rules(report)
    index = {info.code: i for i, info in enumerate(rules)}
    results = [_result(d, index[d.code], fingerprint)
               for d, fingerprint in zip(report.diagnostics, fingerprints(report.diagnostics))]
    invocation: dict[str, Any] = {"executionSuccessful": not report.failed}
    if report.errors:
        invocation["toolExecutionNotifications"] = [
            {"message": {"text": error}, "level": "error"} for error in report.errors]
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "tracelint",
            "version": tracelint.__version__,
            "semanticVersion": tracelint.__version__,
            "informationUri": INFORMATION_URI,
            "rules": [_rule_descriptor(info, report.targets) for info in rules],
        }},
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": {"targets": list(report.targets), "filesChecked": report.files_checked},
    }
    if report.dynamic:
        run["properties"]["dynamic"] = list(report.dynamic)
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(report: Report, *, color: bool = False) -> str:
    return json.dumps(as_dict(report), indent=2, ensure_ascii=False, default=str) + "\n"
