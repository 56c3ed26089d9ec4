"""Flatten example results into located events: what went wrong (or warned), where, under what.

Pure data, no torch: the parent process turns child results into events, then into verdicts and
findings.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from tracelint.dynamic.outcome import SourceOutcome
from tracelint.dynamic.userfiles import norm

FAILURES = ("diverged", "error", "capture-error")


@dataclass(frozen=True)
class Event:
    kind: str        # diverged | error | capture-error | warning | example-failed
    target: str      # capture mechanism; "" for example-failed
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

    def evidence(self) -> str:
        if self.kind == "example-failed":
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
    """One example's identity and the lines it executed.

    `coverage`: lines run by the example (eager runs, the tracing run) and by building it (the
    tracelint_examples() call); `imported`: module-level lines run by importing its source, which
    only count for class bodies of classes the example used (see verdicts).
    """

    id: int
    label: str
    coverage: dict[str, set[int]]
    imported: dict[str, set[int]]
    result: dict[str, Any] | None
    outcome: SourceOutcome
    calls: dict[tuple[str, int], set[tuple[str, int]]] = field(default_factory=dict)  # call site -> callees


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
        load_cov = {norm(p): set(v) for p, v in outcome.coverage.items()}
        imported = {norm(p): set(v) for p, v in outcome.import_coverage.items()}
        source_def = {"path": outcome.source, "line": outcome.line} if outcome.source else None
        if outcome.load_error is not None:
            ref = ExampleRef(len(refs), outcome.display, load_cov, imported, None, outcome)
            refs.append(ref)
            path, line, how, detail = _where(outcome.load_error.get("location"), source_def)
            events.append(Event("example-failed", "", "", path, line, how, detail,
                                _load_what(outcome.load_error), outcome.display, ref.id))
            continue
        for result in outcome.examples:
            cov = {p: set(v) for p, v in load_cov.items()}
            for p, lines in result.get("coverage", {}).items():
                cov.setdefault(norm(p), set()).update(lines)
            ref = ExampleRef(len(refs), f"{outcome.display}::{result['name']}", cov, imported, result, outcome)
            for cp, cl, fp, fl in result.get("calls", []):
                ref.calls.setdefault((norm(cp), cl), set()).add((norm(fp), fl))
            refs.append(ref)
            events.extend(_example_events(ref, result, result.get("where") or source_def))
    return events, refs


def _load_what(error: dict[str, Any]) -> str:
    if error.get("type") in ("Timeout", "Exit") or str(error.get("type", "")).startswith("SIG"):
        return error.get("message", "")
    return f"tracelint_examples() raised {_err(error)}"


def _example_events(ref: ExampleRef, result: dict[str, Any], where: dict[str, Any] | None) -> list[Event]:
    out: list[Event] = []
    status = result.get("status", "ok")
    if status != "ok":
        error = result.get("error") or {}
        path, line, how, detail = _where(error.get("location"), where)
        if status in ("timeout", "crashed"):
            what = error.get("message", status)
        elif status == "oom":
            what = f"ran out of memory in eager mode on its own example: {_err(error)}"
        else:
            what = f"the model raised in eager mode on its own example: {_err(error)}"
        out.append(Event("example-failed", "", "example", path, line, how, detail, what, ref.label, ref.id))
        return out
    for entry in result.get("targets", []):
        target = entry["target"]
        if entry.get("status") == "error":
            path, line, how, detail = _where((entry.get("error") or {}).get("location"), where)
            out.append(Event("capture-error", target, "example", path, line, how, detail,
                             _err(entry.get("error")), ref.label, ref.id))
        for w in entry.get("warnings", []):
            if w.get("category") != "TracerWarning":
                continue
            if w.get("path"):
                out.append(Event("warning", target, "example", norm(w["path"]), int(w.get("line") or 1),
                                 "tracer-warning", "", f"TracerWarning: {w.get('message', '')}", ref.label, ref.id))
            else:   # raised inside torch.jit (about the inputs or outputs as a whole)
                out.append(Event("warning", target, "example", "", 0, "fallback", "",
                                 f"TracerWarning (from torch.jit): {w.get('message', '')}", ref.label, ref.id))
    for run in result.get("runs", []):
        if run["status"] not in ("diverged", "error"):
            continue
        path, line, how, detail = _where(run.get("location"), where)
        what = run.get("detail", "") if run["status"] == "diverged" else _err(run.get("error"))
        out.append(Event(run["status"], run["target"], run["variant"], path, line, how, detail, what,
                         ref.label, ref.id))
    return out
