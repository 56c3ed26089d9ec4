"""The command line: thin over tracelint.api, the reporters and the rule registry."""
from __future__ import annotations

import os
import sys
from collections import Counter
from pathlib import Path

import click

from tracelint.paths import use_color

from tracelint import __version__
from tracelint.config import ConfigError, load
from tracelint.targets import TARGETS, parse_targets

FORMATS = ("text", "full", "json", "jsonl", "sarif", "github")
EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _split(values) -> tuple[str, ...] | None:
    """Repeated options and comma lists alike; None when the flag was not given."""
    if not values:
        return None
    return tuple(p.strip() for v in values for p in v.split(",") if p.strip())


def _error(message: str) -> None:
    click.echo(f"tracelint: error: {message}", err=True)


@click.command(context_settings={"help_option_names": ["-h", "--help"]},
               epilog="Other commands: `tracelint rules` (list the rules), `tracelint rule CODE` "
                      "(a rule's documentation), `tracelint confirm TARGET...` (the dynamic checker).")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--select", multiple=True, help="Codes, code prefixes (TL1) or rule names to check, instead of the default set.")
@click.option("--ignore", multiple=True, help="Codes, prefixes or names to skip.")
@click.option("--extend-select", multiple=True, help="Codes, prefixes or names to add to the selection.")
@click.option("--target", "targets", multiple=True,
              help=f"Capture mechanisms to check for ({', '.join(TARGETS)}; repeat or comma-separate). "
                   "Default: from config, else trace,script.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
@click.option("--output-file", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the report here.")
@click.option("--exclude", multiple=True, help="Glob patterns to skip (replaces the default list).")
@click.option("--extend-exclude", multiple=True, help="Glob patterns to skip, in addition.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per code instead of the findings.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Processes to use (default: all cores).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help="A pyproject.toml or tracelint.toml.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, no summary.")
@click.option("--stdin-filename", help="With `-` as the path: the file name of the source read from stdin.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the result cache (~/.cache/tracelint, "
              "or $TRACELINT_CACHE_DIR).")
@click.option("--dynamic", is_flag=True, help="Also run the dynamic checker on files that define tracelint_examples().")
@click.option("--variants", type=click.IntRange(min=0), help="Dynamic: how many input variants per example.")
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Dynamic: seconds per example.")
@click.option("--rtol", type=float, help="Dynamic: relative tolerance.")
@click.option("--atol", type=float, help="Dynamic: absolute tolerance.")
@click.option("--seed", type=int, default=0, show_default=True, help="Dynamic: random seed.")
@click.version_option(__version__, "--version", prog_name="tracelint")
def check(paths, select, ignore, extend_select, targets, fmt, output_file, exclude, extend_exclude,
          statistics, exit_zero, jobs, config_path, quiet, stdin_filename, no_cache, dynamic, variants,
          timeout, rtol, atol, seed) -> None:
    """Lint PyTorch code for hazards under torch.jit.trace / script, torch.export and torch.compile.

    PATHS are files and folders (default: the current folder); `-` reads one file from stdin.
    Exit status: 0 no findings, 1 findings, 2 usage error, unreadable path or tool failure.
    """
    from tracelint import api, engine
    from tracelint.rules import select_rules

    paths = list(paths) or ["."]
    try:
        config = load(config_path, start=paths[0] if paths[0] != "-" else ".")
        tgts = parse_targets(targets) if targets else None
        if targets and not tgts:
            raise click.UsageError("--target needs at least one target")
        config = config.with_overrides(
            select=_split(select), ignore=_split(ignore), extend_select=_split(extend_select),
            exclude=_split(exclude), extend_exclude=_split(extend_exclude), targets=tgts, jobs=jobs)
        if not no_cache:
            from tracelint.cache import default_dir
            folder = default_dir()
            config = config.with_overrides(cache_dir=str(folder) if folder else None)
        rule_classes = select_rules(config.select, config.ignore, config.extend_select)
    except (ConfigError, ValueError) as e:
        _error(str(e))
        sys.exit(EXIT_ERROR)

    if paths == ["-"]:
        data = sys.stdin.buffer.read()
        report = engine.run([], config, rule_classes, stdin=(stdin_filename or "<stdin>", data))
    elif "-" in paths:
        raise click.UsageError("`-` (stdin) cannot be mixed with other paths")
    else:
        if stdin_filename:
            raise click.UsageError("--stdin-filename needs `-` as the path")
        from tracelint.discovery import discover
        files, errors = discover(paths, config.exclude + config.extend_exclude)
        report = engine.run(files, config, rule_classes)
        report.errors[:0] = errors
        if dynamic:
            from tracelint.dynamic.merge import confirm_paths
            report = confirm_paths(paths, report, targets=config.targets, variants=variants,
                                   timeout=timeout, rtol=rtol, atol=atol, seed=seed)

    _emit(report, fmt, output_file, statistics, quiet)
    if report.failed:
        sys.exit(EXIT_ERROR)
    if report.diagnostics and not exit_zero:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_CLEAN)


def _emit(report, fmt: str, output_file: str | None, statistics: bool, quiet: bool) -> None:
    from tracelint.reporters import render, summary

    for err in report.errors:
        _error(err)
    if statistics:
        counts = Counter((d.code, d.name) for d in report.diagnostics)
        if fmt in ("json", "jsonl"):
            import json
            text = json.dumps([{"code": c, "name": n, "count": k} for (c, n), k in sorted(counts.items())], indent=2)
        else:
            text = "\n".join(f"{k:5d}  {c}  {n}" for (c, n), k in sorted(counts.items()))
    else:
        color = output_file is None and fmt in ("text", "full") and use_color(sys.stdout)
        text = render(report, fmt, color=color)
    if output_file:
        Path(output_file).write_text(text + ("\n" if text and not text.endswith("\n") else ""), encoding="utf-8")
    elif text:
        click.echo(text.rstrip("\n"), color=not statistics and color)
    if not quiet and fmt in ("text", "full"):
        click.echo(summary(report), err=True)


@click.command("rules", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--format", "fmt", type=click.Choice(("text", "json", "markdown")), default="text", show_default=True)
def rules_command(fmt: str) -> None:
    """List every rule: code, name, the targets it breaks, summary (markdown: the README's table)."""
    from tracelint.rules import all_rules

    rows = []
    for code, r in all_rules().items():
        breaks = [t for t in TARGETS if r.targets[t].applies]
        rows.append({"code": code, "name": r.name, "targets": breaks,
                     "effects": {t: {"outcome": e.outcome, "effect": e.text} for t, e in r.targets.items()},
                     "summary": r.summary, "default": r.default_enabled,
                     "dynamic_only": bool(getattr(r, "dynamic_only", False))})
    if fmt == "json":
        import json
        click.echo(json.dumps(rows, indent=2))
        return
    if fmt == "markdown":
        from tracelint.docs import rules_table
        click.echo(rules_table().rstrip("\n"))
        return
    for row in rows:
        flag = "" if row["default"] else " (opt-in)"
        click.echo(f"{row['code']}  {row['name']:<34} {','.join(row['targets']) or '-':<27} {row['summary']}{flag}")


@click.command("rule", context_settings={"help_option_names": ["-h", "--help"]})
@click.argument("code_or_name")
def rule_command(code_or_name: str) -> None:
    """Print a rule's documentation (its page in rules/)."""
    from tracelint.docs import rule_page
    from tracelint.rules import all_rules, by_name

    r = all_rules().get(code_or_name.upper()) or by_name().get(code_or_name)
    if r is None:
        _error(f"unknown rule {code_or_name!r} (see `tracelint rules`)")
        sys.exit(EXIT_ERROR)
    click.echo(rule_page(r).rstrip("\n"))


def _confirm_command():
    from tracelint.dynamic.cli import confirm_command
    return confirm_command


@click.command("server", context_settings={"help_option_names": ["-h", "--help"]})
def server_command() -> None:
    """Run the Language Server (LSP over stdio) for editors; needs `pip install "tracelint[lsp]"`."""
    try:
        from tracelint.server import main as serve
    except ImportError as e:
        _error(f"the language server needs pygls ({e}): pip install \"tracelint[lsp]\"")
        sys.exit(EXIT_ERROR)
    serve()


SUBCOMMANDS = {"rules": lambda: rules_command, "rule": lambda: rule_command, "confirm": _confirm_command,
               "server": lambda: server_command}


def main(argv: list[str] | None = None) -> None:
    """`tracelint [PATHS]` lints; `tracelint rules|rule|confirm ...` are the other commands."""
    import warnings
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit.*")
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in SUBCOMMANDS:
        cmd = SUBCOMMANDS[args[0]]()
        cmd.main(args[1:], prog_name=f"tracelint {args[0]}")
    else:
        check.main(args, prog_name="tracelint")


if __name__ == "__main__":  # pragma: no cover
    main()
