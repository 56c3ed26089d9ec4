"""`tracelint confirm TARGET...`: run examples captured and eager, report verdicts and divergences.

Importing this module does not import torch (the workers do, in child processes).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from tracelint.paths import use_color

from tracelint.reporters import FORMATS
from tracelint.targets import DEFAULT_TARGETS, TARGETS, parse_targets

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


@click.command("confirm", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("sources", nargs=-1, required=True, metavar="TARGET...")
@click.option("--target", "targets", multiple=True,
              help=f"Capture mechanisms to run ({', '.join(TARGETS)}; repeat or comma-separate). "
                   f"Default: {','.join(DEFAULT_TARGETS)}.")
@click.option("--variants", type=click.IntRange(min=0),
              help="At most this many automatic input variants per example (default: all, about 10).")
@click.option("--timeout", type=click.FloatRange(min=1.0), default=120.0, show_default=True,
              help="Hard deadline per example, in seconds (its process: eager, every capture, every variant); "
                   "the targets that finished are kept.")
@click.option("--rtol", type=float, help="Relative tolerance (default: by dtype, 1e-4 for float32).")
@click.option("--atol", type=float, help="Absolute tolerance (default: by dtype, 1e-5 for float32).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for variants and every run.")
@click.option("--memory-limit", "memory_mb", type=click.IntRange(min=0),
              help="Address-space cap per example process, in MiB (default: 80% of RAM; 0: none).")
@click.option("--compile-backend", default="aot_eager", show_default=True,
              help="torch.compile backend for the compile target (inductor needs a C++ compiler and time).")
@click.option("--jobs", "-j", type=click.IntRange(min=1),
              help="Example sources checked at the same time (default: cores, at most 4).")
@click.option("--no-static", is_flag=True, help="Skip the static lint of the executed files (no verdicts).")
@click.option("--exclude-module", "exclude_modules", multiple=True, metavar="PACKAGE",
              help="Treat this installed package as library code like torch: never linted, localised or "
                   "blamed (repeat or comma-separate).")
@click.option("--format", "fmt", type=click.Choice(tuple(FORMATS)), default="text", show_default=True)
@click.option("--output-file", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the report here.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when something was confirmed.")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no summary line on stderr.")
def confirm_command(sources, targets, variants, timeout, rtol, atol, seed, memory_mb, compile_backend,
                    jobs, no_static, exclude_modules, fmt, output_file, exit_zero, quiet) -> None:
    """Prove what static analysis suspects: capture each example, run it on input variants, compare.

    TARGET is a .py file defining tracelint_examples(), a folder (every such file) or an importable
    `package.module[:function]` returning examples. This imports and runs your code (and the
    libraries it uses) with your rights: each example runs in its own process with a deadline and
    a memory cap, which isolates crashes - it is not a sandbox. Exit status: 0 everything matched,
    1 a finding was confirmed or the checker found a failure, 2 usage error, an example that could
    not be checked (TL903: it crashed, timed out, or failed in eager mode), or a tool failure.
    """
    from tracelint.dynamic.api import confirm_sources, has_failures
    from tracelint.reporters import render, summary

    try:
        chosen = parse_targets(targets) if targets else DEFAULT_TARGETS
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--target") from None
    if not chosen:
        raise click.BadParameter("at least one target is needed", param_hint="--target")
    try:
        excluded = [m.strip() for raw in exclude_modules for m in raw.split(",") if m.strip()]
        report = confirm_sources(list(sources), capture_targets=chosen, variants=variants, timeout=timeout,
                                 rtol=rtol, atol=atol, seed=seed, memory_mb=memory_mb,
                                 compile_backend=compile_backend, jobs=jobs, lint=not no_static,
                                 show_progress=not quiet, exclude_modules=excluded)
    except Exception as e:  # noqa: BLE001 - a tracelint bug: report it, exit 2
        click.echo(f"tracelint: error: the dynamic checker failed: {type(e).__name__}: {e}", err=True)
        sys.exit(EXIT_ERROR)

    for err in report.errors:
        click.echo(f"tracelint: error: {err}", err=True)
    color = output_file is None and fmt in ("text", "full") and use_color(sys.stdout)
    text = render(report, fmt, color=color)
    if output_file:
        Path(output_file).write_text(text, encoding="utf-8")
    elif text:
        click.echo(text, nl=False, color=color)
    if not quiet and fmt in ("text", "full"):
        click.echo(summary(report), err=True)
    if report.failed:
        sys.exit(EXIT_ERROR)
    if has_failures(report) and not exit_zero:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_CLEAN)
