"""The dynamic checker's entry points: `confirm` (in this process) and `confirm_sources` (isolated).

Both lint the files the models' forwards executed (installed model libraries included, never the
files only imported while the examples were built), so static findings there get verdicts, and
merge the dynamic results into one Report.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable

from tracelint.diagnostics import Report
from tracelint.dynamic.example import Example
from tracelint.dynamic.merge import apply_outcomes
from tracelint.dynamic.outcome import SourceOutcome
from tracelint.dynamic.userfiles import display_path, is_installed, is_user_file
from tracelint.targets import DEFAULT_TARGETS, parse_targets


def _targets(targets: str | Iterable[str]) -> tuple[str, ...]:
    chosen = parse_targets([targets] if isinstance(targets, str) else list(targets))
    if not chosen:
        raise ValueError("at least one target is needed (trace, script, export, compile)")
    return chosen


def lint_files(outcomes: list[SourceOutcome]) -> list[str]:
    """The files the models' forwards executed (yours and installed libraries')."""
    files: set[str] = set()
    for o in outcomes:
        for r in o.examples:
            files.update(p for p in r.get("coverage", {}) if is_user_file(p))
    return sorted(files)


def static_report(files: list[str], targets: tuple[str, ...]) -> Report:
    """The static lint of `files` for `targets`; problems become report.errors (exit 2)."""
    from tracelint.api import lint_paths
    from tracelint.config import ConfigError, load

    if not files:
        return Report(targets=targets)
    try:
        config = load(start=os.getcwd()).with_overrides(targets=targets, jobs=1 if len(files) < 8 else None)
        own = [f for f in files if not is_installed(f)]
        installed = [f for f in files if is_installed(f)]
        # your files in their whole project, as `tracelint check` sees them; an installed library's
        # executed files on their own (its whole package - thousands of files for transformers -
        # would cost more than the capture)
        report = lint_paths([display_path(f) for f in own], config) if own else Report(targets=targets)
        if installed:
            extra = lint_paths([display_path(f) for f in installed], config, project=False)
            report.diagnostics += extra.diagnostics
            report.errors += extra.errors
            report.files_checked += extra.files_checked
            report.sort()
        return report
    except ConfigError as e:
        report = Report(targets=targets)
        report.errors.append(str(e))
        return report
    except Exception as e:  # noqa: BLE001 - keep the dynamic results; the failure still exits 2
        report = Report(targets=targets)
        report.errors.append(f"static lint failed: {type(e).__name__}: {e}")
        return report


def confirm(module: Any, inputs: Any = (), *, targets: str | Iterable[str] = DEFAULT_TARGETS,
            more_inputs: Iterable[Any] = (), variants: int | None = None, rtol: float | None = None,
            atol: float | None = None, seed: int = 0, train: bool = False, name: str | None = None,
            lint: bool = True, compile_backend: str = "aot_eager", kwargs: dict[str, Any] | None = None,
            more_kwargs: Iterable[dict[str, Any]] = ()) -> Report:
    """Check in this process that `module` captured on `inputs` (and keyword `kwargs`) matches eager
    on variants of them.

    No child process and no timeout: for tests and notebooks. The static findings in the files the
    model's forward executed get verdicts; failures nothing explains are TL901/TL902 findings.
    """
    from tracelint.dynamic.runner import run_example, where_defined

    chosen = _targets(targets)
    example = Example(module, inputs, name=name, more_inputs=tuple(more_inputs), train=train, kwargs=kwargs,
                      more_kwargs=tuple(more_kwargs))
    label = name or type(module).__name__
    result = run_example(example, label, targets=chosen, variants=variants, rtol=rtol, atol=atol, seed=seed,
                         compile_backend=compile_backend)
    where = where_defined(module)
    outcome = SourceOutcome(display=display_path(where["path"]) if where else label,
                            source=where["path"] if where else None, line=where["line"] if where else 1,
                            examples=[result])
    report = static_report(lint_files([outcome]), chosen) if lint else Report(targets=chosen)
    report.targets = chosen
    return apply_outcomes(report, [outcome], chosen, only_reached_in_installed=True)


def confirm_sources(targets: list[str], *, capture_targets: Iterable[str] = DEFAULT_TARGETS,
                    variants: int | None = None, timeout: float = 120.0, rtol: float | None = None,
                    atol: float | None = None, seed: int = 0, memory_mb: int | None = None,
                    compile_backend: str = "aot_eager", jobs: int | None = None, lint: bool = True,
                    progress: Callable[[str], None] | None = None, show_progress: bool = True,
                    exclude_modules: Iterable[str] = ()) -> Report:
    """`tracelint confirm TARGET...`: resolve, run each source isolated, lint, merge.

    Set-up problems (torch missing, a target that does not exist or has no examples function) are
    report errors (exit status 2), never findings."""
    from tracelint.dynamic.discover import resolve
    from tracelint.dynamic.isolation import Options
    from tracelint.dynamic.merge import torch_missing
    from tracelint.dynamic.progress import Progress
    from tracelint.dynamic.session import run_sources
    from tracelint.dynamic.userfiles import exclude_modules as set_excluded

    chosen = _targets(capture_targets)
    missing = torch_missing()
    if missing:
        return Report(targets=chosen, errors=[missing])
    set_excluded(tuple(exclude_modules))
    sources, errors = resolve(targets)
    opts = Options(targets=chosen, variants=variants, timeout=timeout, rtol=rtol, atol=atol, seed=seed,
                   memory_mb=memory_mb, compile_backend=compile_backend, exclude_modules=tuple(exclude_modules))
    with Progress.for_stderr(progress, enabled=show_progress) as say:
        outcomes = run_sources(sources, opts, say, jobs=jobs)
    report = static_report(lint_files(outcomes), chosen) if lint else Report(targets=chosen)
    report.targets = chosen
    report.errors[:0] = errors
    report.files_checked = max(report.files_checked, len(sources))
    return apply_outcomes(report, outcomes, chosen, only_reached_in_installed=True)


def has_failures(report: Report) -> bool:
    """Exit 1: something was confirmed (a static finding or a dynamic one)."""
    return any(d.verdict == "confirmed" for d in report.diagnostics)


__all__ = ["confirm", "confirm_sources", "has_failures", "static_report", "lint_files"]
