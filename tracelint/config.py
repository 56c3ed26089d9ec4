"""Configuration: `.tracelint.toml`, `tracelint.toml` or `[tool.tracelint]` in pyproject.toml; CLI flags override it.

Discovery follows ruff's: from the first linted path upwards, the closest folder holding one of
the three wins; within one folder `.tracelint.toml` beats `tracelint.toml` beats `pyproject.toml`
(a pyproject.toml counts only when it has a `[tool.tracelint]` table). In the two tracelint files
the keys are top-level (no table header).
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from tracelint.targets import DEFAULT_TARGETS, parse_targets

DEFAULT_EXCLUDE = (".git", ".hg", ".svn", ".venv", "venv", "env", "__pycache__", "build", "dist",
                   ".tox", ".nox", ".eggs", "node_modules", "site-packages", ".mypy_cache",
                   ".pytest_cache", ".ruff_cache")


class ConfigError(Exception):
    """A bad configuration value; the message names the key."""


# Files bigger than this are not parsed (TL003 says so): LibCST's tree takes ~100x a file's size in memory.
DEFAULT_MAX_FILE_SIZE = 10 * 1024 * 1024
_SIZE_UNITS = {"": 1, "B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3}


def parse_size(value: Any, key: str = "max-file-size") -> int:
    """Bytes from an integer or a string such as "10MB", "512 KB", "1GB" (0: no limit)."""
    import re
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?B?)\s*", value.upper()) if isinstance(value, str) else None
    if m is None:
        raise ConfigError(f"{key}: expected a size such as 10MB, 512KB or a number of bytes (0: no limit), got {value!r}")
    return int(float(m.group(1)) * _SIZE_UNITS[m.group(2) if m.group(2) in _SIZE_UNITS else m.group(2) + "B"])


@dataclass(frozen=True)
class Config:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDE
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    targets: tuple[str, ...] = DEFAULT_TARGETS
    module_bases: tuple[str, ...] = ()
    entry_modules: tuple[str, ...] = ()   # module classes a user captures (class names or dotted), besides the inferred ones
    jobs: int | None = None
    cache_dir: str | None = None   # per-file result cache (the CLI uses ~/.cache/tracelint)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE   # bytes; bigger files are skipped with TL003 (0: no limit)
    source: str = ""   # the file the config came from, for messages
    root: str = "."    # the folder globs in per-file-ignores are relative to

    def with_overrides(self, **values: Any) -> "Config":
        """CLI flags win over the file; None means 'not given'."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


_KEYS = {"select", "ignore", "extend-select", "exclude", "extend-exclude", "per-file-ignores",
         "target", "module-bases", "entry-modules", "max-file-size"}


CONFIG_NAMES = (".tracelint.toml", "tracelint.toml", "pyproject.toml")   # precedence within a folder


def _str_list(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[tool.tracelint] {key}: expected a list of strings, got {value!r}")
    return tuple(value)


def _selectors(key: str, value: Any, source: str) -> tuple[str, ...]:
    """A list of rule selectors, each of which must match at least one rule."""
    values = _str_list(key, value)
    from tracelint.rules import resolve_selectors   # the rule registry, only when selectors are configured
    try:
        resolve_selectors(values)
    except ValueError as e:
        raise ConfigError(f"{source}: {key}: {e}") from None
    return values


def from_table(table: dict[str, Any], source: str = "", root: str = ".") -> Config:
    """Validate a `[tool.tracelint]` table."""
    if not isinstance(table, dict):
        raise ConfigError(f"[tool.tracelint] in {source}: expected a table")
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(f"[tool.tracelint] in {source}: unknown key {unknown[0]!r} "
                          f"(known: {', '.join(sorted(_KEYS))})")
    cfg: dict[str, Any] = {"source": source, "root": root}
    for key in ("select", "ignore", "extend-select"):
        if key in table:
            cfg[key.replace("-", "_")] = _selectors(key, table[key], source)
    for key in ("extend-exclude", "module-bases", "entry-modules"):
        if key in table:
            cfg[key.replace("-", "_")] = _str_list(key, table[key])
    if "exclude" in table:
        cfg["exclude"] = _str_list("exclude", table["exclude"])
    if "max-file-size" in table:
        try:
            cfg["max_file_size"] = parse_size(table["max-file-size"])
        except ConfigError as e:
            raise ConfigError(f"[tool.tracelint] in {source}: {e}") from None
    if "target" in table:
        try:
            cfg["targets"] = parse_targets(_str_list("target", table["target"]))
        except ValueError as e:
            raise ConfigError(f"[tool.tracelint] target: {e}") from None
        if not cfg["targets"]:
            raise ConfigError("[tool.tracelint] target: at least one target is needed")
    if "per-file-ignores" in table:
        pfi = table["per-file-ignores"]
        if not isinstance(pfi, dict):
            raise ConfigError("[tool.tracelint] per-file-ignores: expected a table of glob = [codes]")
        cfg["per_file_ignores"] = tuple((g, _selectors(f"per-file-ignores.{g!r}", c, source))
                                        for g, c in pfi.items())
    return Config(**cfg)


def find_config(start: Path) -> Path | None:
    """The closest config file from `start` upwards (see the module docstring for the precedence)."""
    try:
        start = start.resolve()
    except (OSError, RuntimeError):  # a symlink loop: look from where the path itself is
        start = Path(os.path.abspath(start))
    for d in [start, *start.parents] if start.is_dir() else [start.parent, *start.parent.parents]:
        for name in CONFIG_NAMES:
            candidate = d / name
            if not candidate.is_file():
                continue
            if name != "pyproject.toml":
                return candidate
            data = _read_toml(candidate)   # an invalid pyproject.toml is an error, never silently passed over
            tool = data.get("tool", {})
            if isinstance(tool, dict) and "tracelint" in tool:
                return candidate
    return None


def load(path: str | Path | None = None, start: str | Path = ".") -> Config:
    """Load the explicit config file, or the closest one above `start`; defaults if none.

    A pyproject.toml is read from its `[tool.tracelint]` table; any other file from its top level
    (or from a `[tool.tracelint]` table when it has one).
    """
    if path is None:
        found = find_config(Path(start))
        if found is None:
            return Config()
        path = found
    path = Path(path)
    data = _read_toml(path)
    table = data.get("tool", {}).get("tracelint") if "tool" in data else data
    if table is None:
        table = {}
    return from_table(table, str(path), str(path.resolve().parent))


def _read_toml(path: Path) -> dict[str, Any]:
    """A TOML file's contents; ConfigError naming the file (and the line, for invalid TOML)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot read config {path}: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 ({e.reason} at byte {e.start})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        where = "" if "line" in str(e) else f" (line {len(text.splitlines()) or 1} is the last)"
        raise ConfigError(f"{path}: invalid TOML: {e}{where}") from None


def describe(config: Config) -> str:
    """The resolved settings as TOML-like lines (`--show-settings`)."""
    import json

    def value(v: Any) -> str:
        if isinstance(v, tuple):
            if v and isinstance(v[0], tuple):   # per-file-ignores
                return "{" + ", ".join(f"{json.dumps(g)} = {json.dumps(list(cs))}" for g, cs in v) + "}"
            return json.dumps(list(v))
        return json.dumps(v) if isinstance(v, str) else ("none" if v is None else str(v))

    lines = [f"# config file: {config.source or '(none: defaults)'}"]
    for f in fields(Config):
        if f.name == "source":
            continue
        key = "target" if f.name == "targets" else f.name.replace("_", "-")
        lines.append(f"{key} = {value(getattr(config, f.name))}")
    return "\n".join(lines) + "\n"


CONFIG_FIELDS = {f.name for f in fields(Config)}
