"""Findings and reports: plain, frozen, serialisable data (no CST nodes)."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from typing import Any, Mapping

from tracelint.targets import FAIL, TARGETS, Effect


class Severity(str, enum.Enum):
    ERROR = "error"      # some selected target fails (wrong output, capture error)
    WARNING = "warning"  # selected targets only warn
    INFO = "info"

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.value


@dataclass(frozen=True)
class Diagnostic:
    """One finding at a 1-based line and column, with its end and its per-target effects."""

    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    name: str
    message: str
    severity: Severity = Severity.ERROR
    effects: tuple[tuple[str, Effect], ...] = ()
    scope: str = ""
    help: str = ""
    source_line: str = ""
    confidence: str = "high"
    verdict: str | None = None          # dynamic checker: confirmed | not-reproduced | not-checked | not-reached
    evidence: tuple[str, ...] = ()
    verdicts: tuple[tuple[str, str], ...] = ()   # the verdict per target; `verdict` is their summary

    @property
    def effect_map(self) -> dict[str, Effect]:
        return dict(self.effects)

    def applies_to(self, targets) -> bool:
        """True when the hazard changes the outcome under at least one of `targets`."""
        effects = self.effect_map
        if not effects:  # tool diagnostics (syntax error, internal error) apply everywhere
            return True
        return any(effects.get(t) is not None and effects[t].applies for t in targets)

    def restricted_to(self, targets) -> "Diagnostic":
        """The same finding with severity computed over the selected targets only."""
        effects = self.effect_map
        if not effects:
            return self
        chosen = [effects[t] for t in targets if t in effects and effects[t].applies]
        severity = Severity.ERROR if any(e.outcome == FAIL for e in chosen) else Severity.WARNING
        return replace(self, severity=severity)

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code, self.message)

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape (see README, "JSON output")."""
        data: dict[str, Any] = {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "severity": self.severity.value,
            "targets": {t: {"outcome": e.outcome, "effect": e.text} for t, e in self.effects},
            "scope": self.scope,
            "help": self.help,
            "confidence": self.confidence,
        }
        if self.verdict is not None:
            data["verdict"] = self.verdict
            data["verdicts"] = dict(self.verdicts)
            data["evidence"] = list(self.evidence)
        return data


@dataclass(frozen=True)
class RuleInfo:
    """What reporters need to know about a rule (SARIF rules table, docs links)."""

    code: str
    name: str
    summary: str
    help: str
    targets: Mapping[str, Effect]
    doc_path: str = ""


@dataclass
class Report:
    """The result of one run: findings in a deterministic order, plus tool-level errors."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    files_checked: int = 0
    errors: list[str] = field(default_factory=list)          # unreadable paths, tool failures
    rules: dict[str, RuleInfo] = field(default_factory=dict)  # code -> info, for reporters
    targets: tuple[str, ...] = TARGETS
    dynamic: list[dict[str, Any]] = field(default_factory=list)  # per-example tables (dynamic checker)

    def sort(self) -> "Report":
        self.diagnostics.sort(key=Diagnostic.sort_key)
        return self

    @property
    def failed(self) -> bool:
        """A tool-level failure (exit 2): unreadable path or a rule that crashed."""
        return bool(self.errors) or any(d.code == "TL001" for d in self.diagnostics)
