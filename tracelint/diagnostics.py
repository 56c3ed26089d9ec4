"""Findings and reports: plain, frozen, serialisable data (no CST nodes)."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from collections.abc import MutableMapping
from typing import Any, Mapping

from tracelint.targets import FAIL, TARGETS, Effect


DOCS_BASE = "https://github.com/tracelint/tracelint/blob/main/"


def rule_doc_url(code: str, name: str) -> str:
    """The web page of a rule (its file in `rules/`): linked from editors and SARIF."""
    return f"{DOCS_BASE}rules/{code}-{name}.md"


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
    short: str = ""                     # the headline of the text format; `message` is the full explanation

    @property
    def headline(self) -> str:
        """The short message, or the full one for findings made without one."""
        return self.short or self.message

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


class RuleTable(MutableMapping):
    """code -> RuleInfo of every rule, loaded on first use: importing the rules costs LibCST's import,
    which a run that lints nothing (or is served by the cache) never pays."""

    def __init__(self, data: dict[str, RuleInfo] | None = None) -> None:
        self._data = data

    def _table(self) -> dict[str, RuleInfo]:
        if self._data is None:
            from tracelint.rules import all_rules
            self._data = {c: r.info() for c, r in all_rules().items()}
        return self._data

    def __getitem__(self, code: str) -> RuleInfo:
        return self._table()[code]

    def __setitem__(self, code: str, info: RuleInfo) -> None:
        self._table()[code] = info

    def __delitem__(self, code: str) -> None:
        del self._table()[code]

    def __iter__(self):
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())

    def __repr__(self) -> str:
        return "RuleTable(<not loaded>)" if self._data is None else f"RuleTable({self._data!r})"


@dataclass
class Report:
    """The result of one run: findings in a deterministic order, plus tool-level errors."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    files_checked: int = 0
    errors: list[str] = field(default_factory=list)          # unreadable paths, tool failures
    skipped: list[str] = field(default_factory=list)         # special files found in folders: warnings
    rules: MutableMapping[str, RuleInfo] = field(default_factory=RuleTable)  # code -> info, for reporters
    targets: tuple[str, ...] = TARGETS
    dynamic: list[dict[str, Any]] = field(default_factory=list)  # per-example tables (dynamic checker)
    run_key: tuple[str, dict[str, str]] | None = None  # (run-summary cache key, its racy files), if cached
    output: dict[str, Any] | None = None  # what the CLI printed for the same run and options, cached

    def sort(self) -> "Report":
        self.diagnostics.sort(key=Diagnostic.sort_key)
        return self

    @property
    def failed(self) -> bool:
        """A tool-level failure (exit 2): unreadable path or a rule that crashed."""
        return bool(self.errors) or any(d.code == "TL001" for d in self.diagnostics)
