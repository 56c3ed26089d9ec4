"""The command line: thin over tracelint.api, the reporters and the rule registry.

`tracelint check [PATHS]` is the canonical lint command; a bare `tracelint [PATHS]` means the same.
A first argument that is exactly a command name (`rules`, `rule`, `confirm`, `check`, ...) runs
that command; anything else (a path such as `rules/` or `./rules`, an option) is handed to
`check`. So `tracelint rules` lists the rules and `tracelint rules/` lints the folder `rules`.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from tracelint import __version__
from tracelint.config import ConfigError, load, parse_size
from tracelint.paths import COLOR_MODES, display_path, use_color
from tracelint.targets import TARGETS, parse_targets

FORMATS = ("text", "full", "json", "jsonl", "sarif", "github")
EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
EXIT_INTERRUPTED = 130   # 128 + SIGINT, as shells report a command stopped by Ctrl-C
CONTEXT = {"help_option_names": ["-h", "--help"]}


def _split(values) -> tuple[str, ...] | None:
    """Repeated options and comma lists alike; None when the flag was not given."""
    if not values:
        return None
    return tuple(p.strip() for v in values for p in v.split(",") if p.strip())


def _error(message: str) -> None:
    click.echo(f"tracelint: error: {message}", err=True)


def _warning(message: str) -> None:
    click.echo(f"tracelint: warning: {message}", err=True)


@click.command("check", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--select", multiple=True, help="Codes, code prefixes (TL1) or rule names to check, instead of the default set.")
@click.option("--ignore", multiple=True, help="Codes, prefixes or names to skip.")
@click.option("--extend-select", multiple=True, help="Codes, prefixes or names to add to the selection.")
@click.option("--target", "targets", multiple=True,
              help=f"Capture mechanisms to check for ({', '.join(TARGETS)}; repeat or comma-separate). "
                   "Default: from config, else trace,script.")
@click.option("--format", "--output-format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Report format (`--output-format` is the same option, as in ruff).")
@click.option("--output-file", "-o", type=click.Path(dir_okay=False, writable=True), help="Write the report here.")
@click.option("--exclude", multiple=True, help="Glob patterns to skip (replaces the default list).")
@click.option("--extend-exclude", multiple=True, help="Glob patterns to skip, in addition.")
@click.option("--statistics", is_flag=True, help="Print the number of findings per code, most frequent first.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Processes to use (default: all cores).")
@click.option("--max-file-size", help="Skip (TL003) files bigger than this, e.g. 10MB, 512KB; 0: no limit "
                                      "(default: from config, else 10MB).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="A config file (pyproject.toml, tracelint.toml, .tracelint.toml) instead of the discovered one.")
@click.option("--quiet", "-q", is_flag=True, help="Print findings only, no summary.")
@click.option("--color", type=click.Choice(COLOR_MODES), default="auto", show_default=True,
              help="Colour the text and full formats: auto (on a terminal, honouring NO_COLOR/FORCE_COLOR), always, never.")
@click.option("--stdin-filename", help="With `-` as the path: the file name of the source read from stdin.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the result cache.")
@click.option("--daemon", "use_daemon", is_flag=True,
              help="Run in a background server that keeps LibCST and the project index loaded (started on first "
                   "use, this run is local; exits after 15 idle minutes); same output. Also TRACELINT_DAEMON=1.")
@click.option("--cache-dir", type=click.Path(file_okay=False),
              help="The result cache folder (default: $TRACELINT_CACHE_DIR, else ~/.cache/tracelint).")
@click.option("--show-settings", is_flag=True, help="Print the resolved settings and the config file they came from, then exit.")
@click.option("--show-files", is_flag=True, help="Print the files that would be linted, then exit.")
@click.option("--add-noqa", is_flag=True,
              help="Write a `# tracelint: ignore[CODE]` comment on the line of every current finding (changes your files).")
@click.option("--baseline", "baseline", type=click.Path(dir_okay=False),
              help="Report only findings that are not in this baseline file.")
@click.option("--write-baseline", type=click.Path(dir_okay=False),
              help="Record every current finding in this baseline file and exit 0.")
@click.option("--dynamic", is_flag=True, help="Also run the dynamic checker on files that define tracelint_examples().")
@click.option("--variants", type=click.IntRange(min=0), help="Dynamic: how many input variants per example.")
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Dynamic: seconds per example.")
@click.option("--rtol", type=float, help="Dynamic: relative tolerance.")
@click.option("--atol", type=float, help="Dynamic: absolute tolerance.")
@click.option("--seed", type=int, default=0, show_default=True, help="Dynamic: random seed.")
def check_command(paths, select, ignore, extend_select, targets, fmt, output_file, exclude, extend_exclude,
                  statistics, exit_zero, jobs, max_file_size, config_path, quiet, color, stdin_filename, no_cache, use_daemon, cache_dir,
                  show_settings, show_files, add_noqa, baseline, write_baseline, dynamic, variants, timeout,
                  rtol, atol, seed) -> None:
    """Lint PyTorch code for hazards under torch.jit.trace / script, torch.export and torch.compile.

    PATHS are files and folders (default: the current folder); `-` reads one file from stdin.
    Exit status: 0 no findings (also when no Python file was found: a warning says so),
    1 findings, 2 usage error, bad configuration, unreadable path or tool failure.
    """
    from tracelint import engine
    from tracelint.rules import selected_codes

    paths = list(paths) or ["."]
    if "-" in paths and paths != ["-"]:
        raise click.UsageError("`-` (stdin) cannot be mixed with other paths")
    if stdin_filename and paths != ["-"]:
        raise click.UsageError("--stdin-filename needs `-` as the path")
    if add_noqa and paths == ["-"]:
        raise click.UsageError("--add-noqa writes files: it cannot be used with `-` (stdin)")
    if output_file:
        _check_output_file(output_file)
    try:
        # stdin: the config of the file the buffer stands for, as for that file on disk
        start = paths[0] if paths[0] != "-" else os.path.dirname(os.path.abspath(stdin_filename or "<stdin>"))
        config = load(config_path, start=start)
        tgts = parse_targets(targets) if targets else None
        if targets and not tgts:
            raise click.UsageError("--target needs at least one target")
        config = config.with_overrides(
            select=_split(select), ignore=_split(ignore), extend_select=_split(extend_select),
            exclude=_split(exclude), extend_exclude=_split(extend_exclude), targets=tgts, jobs=jobs,
            max_file_size=parse_size(max_file_size, "--max-file-size") if max_file_size is not None else None)
        config = config.with_overrides(cache_dir=_cache_dir(no_cache, cache_dir))
        codes = selected_codes(config.select, config.ignore, config.extend_select)
    except (ConfigError, ValueError) as e:
        _error(str(e))
        sys.exit(EXIT_ERROR)

    if show_settings:
        from tracelint.config import describe
        click.echo(describe(config), nl=False)
        click.echo(f"rules = [{', '.join(codes)}]")
        sys.exit(EXIT_CLEAN)

    if paths == ["-"]:
        data = sys.stdin.buffer.read()
        report = engine.run([], config, stdin=(stdin_filename or "<stdin>", data))
    else:
        from tracelint.discovery import discover
        skipped: list[str] = []
        files, errors = discover(paths, config.exclude + config.extend_exclude, skipped)
        if show_files:
            for note in skipped:
                _warning(note)
            for err in errors:
                _error(err)
            for f in files:
                click.echo(display_path(f))
            sys.exit(EXIT_ERROR if errors else EXIT_CLEAN)
        if not files and not errors:
            _warning(f"no Python files found under {', '.join(paths)}")
        # a warm run with nothing changed prints what the same run printed before (no decoding and
        # rendering of tens of thousands of findings); only for plain runs that change nothing
        from tracelint.serde import canonical
        plain = not (dynamic or write_baseline or add_noqa or baseline or errors or skipped)
        output = canonical({"format": fmt, "statistics": statistics, "quiet": quiet, "to_file": bool(output_file),
                            "color": use_color(sys.stdout, color)}) if plain else None
        report = engine.run(files, config, output=output)
        if report.output is not None:
            _replay(report.output, output_file, exit_zero)
        report.errors[:0] = errors
        report.skipped[:0] = skipped
        if dynamic:
            from tracelint.dynamic.merge import confirm_paths
            report = confirm_paths(paths, report, targets=config.targets, variants=variants,
                                   timeout=timeout, rtol=rtol, atol=atol, seed=seed)

    if write_baseline:
        _write_baseline(report, write_baseline, quiet)
    if add_noqa:
        _add_noqa(report, quiet)
    baselined = _apply_baseline(report, baseline) if baseline else 0

    text, line = _emit(report, fmt, output_file, statistics, quiet, use_color(sys.stdout, color), baselined)
    if paths != ["-"] and output is not None:
        engine.store_output(config, report, output, text, line)
    if report.failed:
        sys.exit(EXIT_ERROR)
    if report.diagnostics and not exit_zero:
        sys.exit(EXIT_FINDINGS)
    sys.exit(EXIT_CLEAN)


def _cache_dir(no_cache: bool, cache_dir: str | None) -> str | None:
    """--no-cache wins, then --cache-dir, then the environment and ~/.cache/tracelint."""
    if no_cache:
        return None
    if cache_dir:
        return cache_dir
    from tracelint.cache import default_dir
    folder = default_dir()
    return str(folder) if folder else None


def _write_baseline(report, path: str, quiet: bool) -> None:
    from tracelint.adoption import write_baseline
    try:
        n = write_baseline(report.diagnostics, path)
    except OSError as e:
        _error(f"cannot write baseline {path}: {e.strerror}")
        sys.exit(EXIT_ERROR)
    if not quiet:
        click.echo(f"Wrote {n} finding{'s' * (n != 1)} to the baseline {path}.", err=True)
    for err in report.errors:
        _error(err)
    sys.exit(EXIT_ERROR if report.failed else EXIT_CLEAN)


def _add_noqa(report, quiet: bool) -> None:
    from tracelint.adoption import add_noqa
    try:
        result = add_noqa(report.diagnostics)
    except OSError as e:
        _error(f"cannot write {e.filename}: {e.strerror}")
        sys.exit(EXIT_ERROR)
    if not quiet:
        click.echo(f"Added {result.added} suppression comment{'s' * (result.added != 1)} "
                   f"in {result.files} file{'s' * (result.files != 1)}.", err=True)
    if result.skipped:
        _warning(f"{result.skipped} finding(s) cannot take a suppression comment "
                 "(syntax errors, internal errors, unused suppressions): fix them instead")
    for err in report.errors:
        _error(err)
    sys.exit(EXIT_ERROR if report.failed else EXIT_CLEAN)


def _apply_baseline(report, path: str) -> int:
    from tracelint.adoption import BaselineError, filter_baseline
    try:
        report.diagnostics, hidden = filter_baseline(report.diagnostics, path)
    except BaselineError as e:
        _error(str(e))
        sys.exit(EXIT_ERROR)
    return hidden


def _check_output_file(path: str) -> None:
    """Fail before linting (exit 2), not after, when the report could not be written."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        _error(f"--output-file {path}: the folder {display_path(folder)} does not exist")
        sys.exit(EXIT_ERROR)
    if os.path.isdir(path):
        _error(f"--output-file {path}: is a folder")
        sys.exit(EXIT_ERROR)
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        _error(f"--output-file {path}: not writable")
        sys.exit(EXIT_ERROR)


def _replay(shown: dict, output_file: str | None, exit_zero: bool) -> None:
    """Print a cached run's output again, with its exit status."""
    _write(shown["text"], output_file, color=True)
    if shown["line"]:
        click.echo(shown["line"], err=True)
    if shown["failed"]:
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_FINDINGS if shown["findings"] and not exit_zero else EXIT_CLEAN)


def _write(text: str, output_file: str | None, color: bool) -> None:
    if output_file:
        try:
            Path(output_file).write_text(text, encoding="utf-8")
        except OSError as e:
            _error(f"--output-file {output_file}: cannot write: {e.strerror or e}")
            sys.exit(EXIT_ERROR)
    elif text:
        click.echo(text, nl=False, color=color)


def _emit(report, fmt: str, output_file: str | None, statistics: bool, quiet: bool, color: bool,
          baselined: int = 0) -> tuple[str, str]:
    """Print the report; (the text, the summary line) as printed."""
    from tracelint.reporters import render, summary

    for note in report.skipped:
        _warning(note)
    for err in report.errors:
        _error(err)
    if statistics:
        from tracelint.reporters import statistics as stats
        text = stats.render(report, machine=fmt in ("json", "jsonl"))
        color = False
    else:
        color = color and output_file is None and fmt in ("text", "full")
        text = render(report, fmt, color=color)
    _write(text, output_file, color)
    line = ""
    if not quiet and fmt in ("text", "full"):
        line = summary(report)
        if baselined:
            line += f" {baselined} more in the baseline."
        click.echo(line, err=True)
    return text, line


@click.command("rules", context_settings=CONTEXT)
@click.option("--format", "--output-format", "fmt", type=click.Choice(("text", "json", "markdown")),
              default="text", show_default=True)
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


@click.command("rule", context_settings=CONTEXT)
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


def _confirm_command() -> click.Command:
    from tracelint.dynamic.cli import confirm_command
    return confirm_command


@click.command("cache", context_settings=CONTEXT)
@click.argument("action", type=click.Choice(("show", "clear", "prune")), default="show")
@click.option("--cache-dir", type=click.Path(file_okay=False), help="The cache folder (default: as `check`).")
def cache_command(action: str, cache_dir: str | None) -> None:
    """Show the cache folder and its size, clear it, or prune it to its size cap."""
    from tracelint import cache as caches
    folder = cache_dir or (str(caches.default_dir()) if caches.default_dir() else None)
    if folder is None:
        _error(f"caching is off (${caches.ENV_OFF} is set)")
        sys.exit(EXIT_ERROR)
    if action == "clear":
        caches.clear(folder)
    elif action == "prune":
        caches.prune(folder, force=True)
    entries, size = caches.usage(folder)
    click.echo(f"{folder}: {entries} entries, {size / 2**20:.1f} MiB (cap {caches.max_bytes() / 2**20:.0f} MiB)")


@click.command("server", context_settings=CONTEXT)
def server_command() -> None:
    """Run the Language Server (LSP over stdio) for editors; needs `pip install "tracelint[lsp]"`."""
    try:
        from tracelint.server import main as serve
    except ImportError as e:
        _error(f"the language server needs pygls ({e}): pip install \"tracelint[lsp]\"")
        sys.exit(EXIT_ERROR)
    serve()


@click.command("daemon", context_settings=CONTEXT)
@click.argument("action", type=click.Choice(["status", "stop"]), default="status")
def daemon_command(action: str) -> None:
    """The background server of `tracelint --daemon`: is it running (status), or stop it."""
    from tracelint import daemon
    path = daemon.socket_path()
    if action == "stop":
        click.echo("tracelint: daemon stopped" if daemon.stop() else "tracelint: no daemon running")
        return
    running = bool(path) and os.path.exists(path)
    click.echo(f"tracelint: daemon {'running' if running else 'not running'} (socket {path or 'none: caching is off'})")


# name -> loader: commands are imported only when run (the dynamic checker's CLI is the heaviest).
COMMANDS = {
    "check": lambda: check_command,
    "rules": lambda: rules_command,
    "rule": lambda: rule_command,
    "confirm": _confirm_command,
    "server": lambda: server_command,
    "cache": lambda: cache_command,
    "daemon": lambda: daemon_command,
}
GROUP_OPTIONS = ("-h", "--help", "--version")


class TracelintGroup(click.Group):
    """Subcommands loaded on demand; a first argument that is not a command name means `check`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        loader = COMMANDS.get(name)
        return loader() if loader else None

    def invoke(self, ctx: click.Context):
        """Ctrl-C: one line, exit 130 (not click's "Aborted!" and exit 1, which reads as findings)."""
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\ntracelint: interrupted", err=True)
            ctx.exit(EXIT_INTERRUPTED)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in COMMANDS and args[0] not in GROUP_OPTIONS):
            args = ["check", *args]
        elif args[0] in COMMANDS and args[0] != "check" and os.path.exists(args[0]):
            # `tracelint rules` in a project that has a `rules/` folder: say how to lint it instead.
            click.echo(f"tracelint: note: `{args[0]}` is the `tracelint {args[0]}` command; to lint the "
                       f"path, run `tracelint check {args[0]}` or `tracelint ./{args[0]}`", err=True)
        return super().parse_args(ctx, args)


@click.group("tracelint", cls=TracelintGroup, context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="tracelint")
def cli() -> None:
    """Find the PyTorch code that torch.jit.trace/script, torch.export and torch.compile get wrong.

    \b
    tracelint [check] [OPTIONS] [PATHS]...   lint files and folders (default: .)
    tracelint rules                          list the rules
    tracelint rule CODE|NAME                 a rule's documentation
    tracelint confirm TARGET...              the dynamic checker (needs torch)
    tracelint server                         the language server for editors (LSP, stdio)
    tracelint cache [show|clear|prune]       the cache folder: its size, or clear it
    tracelint daemon [status|stop]           the background server of `--daemon`

    A first argument that names a command runs it; anything else is linted: `tracelint rules/`
    or `tracelint check rules` lints a folder called `rules`. `tracelint check --help` lists the
    lint options.
    """


def main(argv: list[str] | None = None) -> None:
    """The `tracelint` console script and `python -m tracelint`."""
    import warnings
    warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit.*")
    args = sys.argv[1:] if argv is None else list(argv)
    cli.main(args, prog_name="tracelint")


if __name__ == "__main__":  # pragma: no cover
    main()
