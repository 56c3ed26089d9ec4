"""The dynamic checker's entry points: `confirm` (in this process) and `confirm_sources` (isolated).

Both lint the user files the examples executed, so static findings there get verdicts, and merge
the dynamic results into one Report.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from tracelint.diagnostics import Report
from tracelint.dynamic.example import Example
from tracelint.dynamic.merge import apply_outcomes
from tracelint.dynamic.outcome import SourceOutcome
from tracelint.dynamic.userfiles import display_path, is_user_file
from tracelint.targets import DEFAULT_TARGETS, parse_targets


def _targets(targets: str | Iterable[str]) -> tuple[str, ...]:
    chosen = parse_targets([targets] if isinstance(targets, str) else list(targets))
    if not chosen:
        raise ValueError("at least one target is needed (trace, script, export, compile)")
    return chosen


def lint_files(outcomes: list[SourceOutcome]) -> list[str]:
    """The user's files the examples came from or executed (installed packages left out)."""
    files: list[str] = []

    def add(path: str | None) -> None:
        if not path or not is_user_file(path):
            return
        parts = path.replace("\\", "/").split("/")
        if "site-packages" in parts or "dist-packages" in parts:
            return
        if path not in files:
            files.append(path)

    for o in outcomes:
        add(o.source)
        for p in o.coverage:
            add(p)
        for r in o.examples:
            for p in r.get("coverage", {}):
                add(p)
    return sorted(files)


def static_report(files: list[str], targets: tuple[str, ...]) -> Report:
    """The static lint of `files` for `targets`; problems become report.errors (exit 2)."""
    from tracelint.api import lint_paths
    from tracelint.config import ConfigError, load

    if not files:
        return Report(targets=targets)
    try:
        config = load(start=files[0]).with_overrides(targets=targets)
        return lint_paths([display_path(f) for f in files], config)
    except ConfigError as e:
        report = Report(targets=targets)
        report.errors.append(str(e))
        return report
    except Exception as e:  # noqa: BLE001 - keep the dynamic results; the failure still exits 2
        report = Report(targets=targets)
        report.errors.append(f"static lint failed: {type(e).__name__}: {e}")
        return report


def confirm(module: Any, inputs: Any, *, targets: str | Iterable[str] = DEFAULT_TARGETS,
            more_inputs: Iterable[Any] = (), variants: int | None = None, rtol: float | None = None,
            atol: float | None = None, seed: int = 0, train: bool = False, name: str | None = None,
            lint: bool = True, compile_backend: str = "aot_eager") -> Report:
    """Check in this process that `module` captured on `inputs` matches eager on variants of them.

    No child process and no timeout: for tests and notebooks. The static findings in the files the
    model executed get verdicts; divergences nothing explains are TL901/TL902/TL903 findings.
    """
    from tracelint.dynamic.runner import run_example, where_defined

    chosen = _targets(targets)
    example = Example(module, inputs, name=name, more_inputs=tuple(more_inputs), train=train)
    label = name or type(module).__name__
    result = run_example(example, label, targets=chosen, variants=variants, rtol=rtol, atol=atol, seed=seed,
                         compile_backend=compile_backend)
    where = where_defined(module)
    outcome = SourceOutcome(display=display_path(where["path"]) if where else label,
                            source=where["path"] if where else None, line=where["line"] if where else 1,
                            examples=[result])
    report = static_report(lint_files([outcome]), chosen) if lint else Report(targets=chosen)
    report.targets = chosen
    return apply_outcomes(report, [outcome], chosen)


def confirm_sources(targets: list[str], *, capture_targets: Iterable[str] = DEFAULT_TARGETS,
                    variants: int | None = None, timeout: float = 120.0, rtol: float | None = None,
                    atol: float | None = None, seed: int = 0, memory_mb: int | None = None,
                    compile_backend: str = "aot_eager", jobs: int | None = None, lint: bool = True,
                    progress: Callable[[str], None] | None = None) -> Report:
    """`tracelint confirm TARGET...`: resolve, run each source isolated, lint, merge."""
    from tracelint.dynamic.discover import resolve
    from tracelint.dynamic.isolation import Options
    from tracelint.dynamic.progress import Progress
    from tracelint.dynamic.session import run_sources

    chosen = _targets(capture_targets)
    sources, errors = resolve(targets)
    opts = Options(targets=chosen, variants=variants, timeout=timeout, rtol=rtol, atol=atol, seed=seed,
                   memory_mb=memory_mb, compile_backend=compile_backend)
    with Progress.for_stderr(progress) as say:
        outcomes = run_sources(sources, opts, say, jobs=jobs)
    report = static_report(lint_files(outcomes), chosen) if lint else Report(targets=chosen)
    report.targets = chosen
    report.errors[:0] = errors
    report.files_checked = max(report.files_checked, len(sources))
    return apply_outcomes(report, outcomes, chosen)


def has_failures(report: Report) -> bool:
    """Exit 1: something was confirmed (a static finding or a dynamic one)."""
    return any(d.verdict == "confirmed" for d in report.diagnostics)


__all__ = ["confirm", "confirm_sources", "has_failures", "static_report", "lint_files"]
