"""Fold dynamic results into a report: verdicts on static findings, TL9xx findings, tables.

Also `confirm_paths`, what `tracelint --dynamic PATHS` calls after the static lint.
"""
from __future__ import annotations

from typing import Callable, Iterable

from tracelint.diagnostics import Report
from tracelint.dynamic import events as ev
from tracelint.dynamic import findings, tables, verdicts
from tracelint.dynamic.outcome import SourceOutcome


def apply_outcomes(report: Report, outcomes: list[SourceOutcome], targets: Iterable[str]) -> Report:
    """Set verdict/evidence on the report's findings, append TL9xx findings and the tables."""
    targets = tuple(targets)
    events, refs = ev.collect(outcomes)
    diags, unexplained = verdicts.assign(report.diagnostics, events, refs, targets)
    fallback = {r.id: r.outcome.display for r in refs}
    report.diagnostics = diags + findings.build(unexplained, targets, fallback)
    report.dynamic = list(report.dynamic) + tables.tables(outcomes)
    _ensure_rules(report)
    return report.sort()


def _ensure_rules(report: Report) -> None:
    from tracelint.rules import all_rules

    for code, rule in all_rules().items():
        if code.startswith("TL9") and code not in report.rules:
            report.rules[code] = rule.info()


def confirm_paths(paths: list[str], report: Report, *, targets: Iterable[str], variants: int | None = None,
                  timeout: float = 120.0, rtol: float | None = None, atol: float | None = None, seed: int = 0,
                  memory_mb: int | None = None, compile_backend: str = "aot_eager", jobs: int | None = None,
                  progress: Callable[[str], None] | None = None) -> Report:
    """Confirm every file under `paths` that defines tracelint_examples() and merge into `report`."""
    from tracelint.dynamic.discover import example_files
    from tracelint.dynamic.isolation import Options
    from tracelint.dynamic.progress import Progress
    from tracelint.dynamic.session import run_sources

    sources, errors = example_files(paths)
    report.errors.extend(errors)
    opts = Options(targets=tuple(targets), variants=variants, timeout=timeout, rtol=rtol, atol=atol,
                   seed=seed, memory_mb=memory_mb, compile_backend=compile_backend)
    with Progress.for_stderr(progress) as say:
        outcomes = run_sources(sources, opts, say, jobs=jobs)
    return apply_outcomes(report, outcomes, opts.targets)
