"""Flatten example results into located events: what went wrong (or warned), where, under what.

Pure data, no torch: the parent process turns child results into events, then into verdicts and
findings. An event that no line could be found for keeps the model's `def forward` as its place
but is marked unlocalised: it is reported as its own TL9xx there and confirms nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from tracelint.dynamic.outcome import SourceOutcome
from tracelint.dynamic.userfiles import norm

FAILURES = ("diverged", "error", "capture-error")
NOT_CHECKED = ("example-failed", "not-checked")


@dataclass(frozen=True)
class Event:
    kind: str        # diverged | error | capture-error | warning | example-failed | not-checked
    target: str      # capture mechanism; "" when about the whole example
    variant: str
    path: str        # normalised absolute path; "" when unknown
    line: int
    how: str         # how it was localised: settrace, torchscript, traceback, tracer-warning, ..., fallback
    detail: str      # what the localisation saw (loop counts, converted values)
    what: str        # what happened
    example: str     # display name of the example: source::name
    example_id: int

    @property
    def localised(self) -> bool:
        return self.how != "fallback" and bool(self.path)

    @property
    def failure(self) -> bool:
        return self.kind in FAILURES

    def evidence(self) -> str:
        if self.kind in NOT_CHECKED:
            text = f"{self.example}: {self.what}"
        elif self.kind == "warning":
            text = f"{self.target}: {self.what}"
        elif self.kind == "capture-error":
            text = f"{self.target}: capture failed: {self.what}"
        elif self.kind == "error":
            text = f"{self.target}, variant {self.variant}: the captured model raised {self.what}"
        else:
            text = f"{self.target}, variant {self.variant}: {self.what}"
        if self.detail and self.kind != "warning":
            text += f" [{self.detail}]"
        return text


@dataclass
class ExampleRef:
    """One example's identity and the lines its forward executed (eager on the example and the
    variants that were traced line by line, and the tracing run) - never the lines that ran while
    the example was built."""

    id: int
    label: str
    coverage: dict[str, set[int]]
    result: dict[str, Any] | None
    outcome: SourceOutcome
    calls: dict[tuple[str, int], set[tuple[str, int]]] = field(default_factory=dict)  # call site -> callees

    def checked(self, target: str) -> bool:
        """True when `target` was captured and run on this example's variants to the end."""
        r = self.result or {}
        entry = next((t for t in r.get("targets", []) if t["target"] == target), None)
        if entry is None or entry.get("status") != "ok":
            return False
        interrupted = r.get("interrupted")
        return not (interrupted and interrupted.get("target") == target)

    def why_unchecked(self, target: str) -> str:
        r = self.result or {}
        entry = next((t for t in r.get("targets", []) if t["target"] == target), None)
        interrupted = r.get("interrupted") or {}
        if entry is not None and entry.get("status") == "error":
            loc = (entry.get("error") or {}).get("location") or {}
            where = f" at {loc.get('path', '').rsplit('/', 1)[-1]}:{loc['line']}" if loc.get("line") else ""
            return f"the capture failed first{where}"
        if interrupted:
            return interrupted.get("message", "the example did not finish")
        if target not in r.get("run_targets", []):
            return "not run for this example"
        return "the example did not finish"


def _where(loc: dict[str, Any] | None, fallback: dict[str, Any] | None) -> tuple[str, int, str, str]:
    if loc and loc.get("path"):
        return norm(loc["path"]), int(loc.get("line") or 1), loc.get("how", ""), loc.get("detail", "")
    if fallback and fallback.get("path"):
        return norm(fallback["path"]), int(fallback.get("line") or 1), "fallback", ""
    return "", 1, "fallback", ""


def _err(error: dict[str, Any] | None) -> str:
    if not error:
        return "unknown error"
    return f"{error.get('type', 'Error')}: {error.get('message', '')}".strip()


def collect(outcomes: Iterable[SourceOutcome]) -> tuple[list[Event], list[ExampleRef]]:
    events: list[Event] = []
    refs: list[ExampleRef] = []
    for outcome in outcomes:
        source_def = {"path": outcome.source, "line": outcome.line} if outcome.source else None
        if outcome.load_error is not None:
            if outcome.setup_error:
                continue   # a usage error (report.errors), not a finding
            ref = ExampleRef(len(refs), outcome.display, {}, None, outcome)
            refs.append(ref)
            path, line, how, detail = _where(outcome.load_error.get("location"), source_def)
            events.append(Event("example-failed", "", "", path, line, how, detail,
                                _load_what(outcome.load_error), outcome.display, ref.id))
            continue
        for result in outcome.examples:
            cov: dict[str, set[int]] = {}
            for p, lines in result.get("coverage", {}).items():
                cov.setdefault(norm(p), set()).update(lines)
            ref = ExampleRef(len(refs), f"{outcome.display}::{result['name']}", cov, result, outcome)
            for cp, cl, fp, fl in result.get("calls", []):
                ref.calls.setdefault((norm(cp), cl), set()).add((norm(fp), fl))
            refs.append(ref)
            events.extend(_example_events(ref, result, result.get("where") or source_def))
    return events, refs


def _load_what(error: dict[str, Any]) -> str:
    if error.get("kind") in ("timeout", "crashed", "oom"):
        return f"not checked: {error.get('message', '')}"
    return f"not checked: tracelint_examples() raised {_err(error)}"


def _example_events(ref: ExampleRef, result: dict[str, Any], where: dict[str, Any] | None) -> list[Event]:
    out: list[Event] = []
    status = result.get("status", "ok")
    if status != "ok":
        error = result.get("error") or {}
        path, line, how, detail = _where(error.get("location"), where)
        if status in ("timeout", "crashed", "oom") and error.get("kind"):
            what = f"not checked: {error.get('message', status)}"
        elif status == "oom":
            what = f"not checked: it ran out of memory in eager mode on its own example: {_err(error)}"
        else:
            what = f"not checked: the model raised in eager mode on its own example: {_err(error)}"
        out.append(Event("example-failed", "", "example", path, line, how, detail, what, ref.label, ref.id))
        return out
    for entry in result.get("targets", []):
        target = entry["target"]
        if entry.get("status") == "error":
            for error in [entry.get("error")] + list(entry.get("errors", [])):
                path, line, how, detail = _where((error or {}).get("location"), where)
                out.append(Event("capture-error", target, "example", path, line, how, detail,
                                 _err(error), ref.label, ref.id))
        for w in entry.get("warnings", []):
            if w.get("category") != "TracerWarning":
                continue
            if w.get("path"):
                out.append(Event("warning", target, "example", norm(w["path"]), int(w.get("line") or 1),
                                 "tracer-warning", "", f"TracerWarning: {w.get('message', '')}", ref.label, ref.id))
    for run in result.get("runs", []):
        if run["status"] not in ("diverged", "error"):
            continue
        path, line, how, detail = _where(run.get("location"), where)
        what = run.get("detail", "") if run["status"] == "diverged" else _err(run.get("error"))
        out.append(Event(run["status"], run["target"], run["variant"], path, line, how, detail, what,
                         ref.label, ref.id))
    interrupted = result.get("interrupted")
    if interrupted:
        path, line, how, detail = _where(interrupted.get("location"), where)
        out.append(Event("not-checked", interrupted.get("target") or "", interrupted.get("variant") or "",
                         path, line, how, detail, f"not checked: {interrupted.get('message', '')}; "
                         f"the results that finished are kept", ref.label, ref.id))
    return out
