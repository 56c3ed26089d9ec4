"""Fold dynamic results into a report: verdicts on static findings, TL9xx findings, tables.

Also `confirm_paths`, what `tracelint --dynamic PATHS` calls after the static lint. Problems that
kept the checker from checking (a source it could not use, an example that did not finish) are
report errors too: the exit status is 2, never a confirmed model defect.
"""
from __future__ import annotations

from typing import Callable, Iterable

from tracelint.diagnostics import Report
from tracelint.dynamic import events as ev
from tracelint.dynamic import findings, tables, verdicts
from tracelint.dynamic.outcome import SourceOutcome
from tracelint.dynamic.userfiles import is_installed


def apply_outcomes(report: Report, outcomes: list[SourceOutcome], targets: Iterable[str], *,
                   only_reached_in_installed: bool = False) -> Report:
    """Set verdicts/evidence on the report's findings, append TL9xx findings and the tables.

    `only_reached_in_installed`: drop the not-reached findings of installed packages (code of a
    library the model never ran is not the user's concern)."""
    targets = tuple(targets)
    events, refs = ev.collect(outcomes)
    diags, unexplained = verdicts.assign(report.diagnostics, events, refs, targets)
    if only_reached_in_installed:
        diags = [d for d in diags if not (d.verdict == verdicts.NOT_REACHED and is_installed(d.path))]
    fallback = {r.id: r.outcome.display for r in refs}
    report.diagnostics = diags + findings.build(unexplained, targets, fallback)
    report.dynamic = list(report.dynamic) + tables.tables(outcomes)
    for o in outcomes:
        if o.setup_error:
            report.errors.append(f"{o.display}: {o.load_error.get('message', 'cannot be used')}")
    unchecked = sorted({e.example for e in unexplained if e.kind in ev.NOT_CHECKED})
    if unchecked:
        shown = ", ".join(unchecked[:3]) + (f" and {len(unchecked) - 3} more" if len(unchecked) > 3 else "")
        report.errors.append(f"the dynamic check did not complete for {shown} (TL903: fix the example, "
                             f"or raise --timeout / --memory-limit)")
    _ensure_rules(report)
    return report.sort()


def _ensure_rules(report: Report) -> None:
    from tracelint.rules import all_rules

    for code, rule in all_rules().items():
        if code.startswith("TL9") and code not in report.rules:
            report.rules[code] = rule.info()


def torch_missing() -> str | None:
    """The usage error to report when torch cannot be imported (checked without importing it)."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        return ("the dynamic checker needs torch, which is not installed in this environment: "
                "pip install 'tracelint[dynamic]' (or install torch)")
    return None


def confirm_paths(paths: list[str], report: Report, *, targets: Iterable[str], variants: int | None = None,
                  timeout: float = 120.0, rtol: float | None = None, atol: float | None = None, seed: int = 0,
                  memory_mb: int | None = None, compile_backend: str = "aot_eager", jobs: int | None = None,
                  progress: Callable[[str], None] | None = None, exclude_modules: Iterable[str] = ()) -> Report:
    """Confirm every file under `paths` that defines tracelint_examples() and merge into `report`."""
    from tracelint.dynamic.discover import example_files
    from tracelint.dynamic.isolation import Options
    from tracelint.dynamic.progress import Progress
    from tracelint.dynamic.session import run_sources

    missing = torch_missing()
    if missing:
        report.errors.append(missing)
        return report
    sources, errors = example_files(paths)
    report.errors.extend(errors)
    opts = Options(targets=tuple(targets), variants=variants, timeout=timeout, rtol=rtol, atol=atol,
                   seed=seed, memory_mb=memory_mb, compile_backend=compile_backend,
                   exclude_modules=tuple(exclude_modules))
    with Progress.for_stderr(progress) as say:
        outcomes = run_sources(sources, opts, say, jobs=jobs)
    return apply_outcomes(report, outcomes, opts.targets)
