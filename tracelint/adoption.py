"""Adopting tracelint on an existing codebase: a baseline of known findings, and `--add-noqa`.

The baseline stores one fingerprint per finding (`tracelint.fingerprint`, the same ones SARIF
uploads), with paths relative to the baseline file's folder, so it keeps matching when lines move
and whichever folder tracelint runs from.
"""
from __future__ import annotations

import io
import json
import os
import re
import tokenize
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from tracelint.diagnostics import Diagnostic
from tracelint.fingerprint import fingerprints
from tracelint.suppress import _IGNORE, _NOQA, _comments

BASELINE_VERSION = 1
NOT_SUPPRESSIBLE = ("TL000", "TL001", "TL002")   # a syntax error, a crash, an unused comment


class BaselineError(Exception):
    """An unreadable or malformed baseline file."""


def _relative_to(folder: Path):
    def path_of(d: Diagnostic) -> str:
        return Path(os.path.relpath(os.path.abspath(d.path), folder)).as_posix()
    return path_of


def baseline_fingerprints(diagnostics: list[Diagnostic], baseline_file: str | Path) -> list[str]:
    folder = Path(baseline_file).resolve().parent
    return fingerprints(diagnostics, _relative_to(folder))


def write_baseline(diagnostics: list[Diagnostic], baseline_file: str | Path) -> int:
    """Record every finding; returns how many. Sorted entries, so the file diffs well under review."""
    folder = Path(baseline_file).resolve().parent
    path_of = _relative_to(folder)
    entries = [{"fingerprint": fp, "code": d.code, "path": path_of(d), "line": d.line}
               for d, fp in zip(diagnostics, baseline_fingerprints(diagnostics, baseline_file))]
    entries.sort(key=lambda e: (e["path"], e["line"], e["code"], e["fingerprint"]))
    data = {"tool": "tracelint", "version": BASELINE_VERSION, "findings": entries}
    Path(baseline_file).write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return len(entries)


def read_baseline(baseline_file: str | Path) -> Counter[str]:
    """Fingerprint -> how many findings the baseline holds with it."""
    try:
        data = json.loads(Path(baseline_file).read_text(encoding="utf-8"))
    except OSError as e:
        raise BaselineError(f"cannot read baseline {baseline_file}: {e.strerror}") from None
    except ValueError as e:
        raise BaselineError(f"{baseline_file}: not a tracelint baseline (invalid JSON: {e})") from None
    if not isinstance(data, dict) or data.get("tool") != "tracelint" or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{baseline_file}: not a tracelint baseline (write one with --write-baseline)")
    if data.get("version") != BASELINE_VERSION:
        raise BaselineError(f"{baseline_file}: baseline version {data.get('version')!r} is not supported "
                            f"(expected {BASELINE_VERSION}); write it again with --write-baseline")
    try:
        return Counter(str(e["fingerprint"]) for e in data["findings"])
    except (TypeError, KeyError):
        raise BaselineError(f"{baseline_file}: a finding without a fingerprint") from None


def filter_baseline(diagnostics: list[Diagnostic], baseline_file: str | Path) -> tuple[list[Diagnostic], int]:
    """(findings not in the baseline, how many were in it). Tool failures (TL001) are never hidden."""
    known = read_baseline(baseline_file)
    kept, hidden = [], 0
    for d, fp in zip(diagnostics, baseline_fingerprints(diagnostics, baseline_file)):
        if known[fp] > 0 and d.code != "TL001":
            known[fp] -= 1
            hidden += 1
        else:
            kept.append(d)
    return kept, hidden


@dataclass(frozen=True)
class NoqaResult:
    added: int        # suppression comments written or extended
    files: int        # files changed
    skipped: int      # findings that cannot take a comment (syntax errors, crashes)


def add_noqa(diagnostics: list[Diagnostic]) -> NoqaResult:
    """Write `# tracelint: ignore[CODE]` on the line of each finding, keeping the comments already there.

    An existing `# tracelint: ignore[...]` or `# noqa: TL...` on that line gets the code added; any
    other comment is kept and the directive follows it. A line inside a multi-line string or ending
    in a backslash cannot hold a comment: the next line of the statement that can is used (a
    suppression anywhere on a statement's lines counts).
    """
    by_file: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    skipped = 0
    for d in diagnostics:
        if d.code in NOT_SUPPRESSIBLE or not Path(d.path).is_file():
            skipped += 1
            continue
        by_file[d.path][d.line].add(d.code)
    added = files = 0
    for path, lines in sorted(by_file.items()):
        n = _add_to_file(Path(path), lines)
        if n:
            added += n
            files += 1
    return NoqaResult(added, files, skipped)


def _add_to_file(path: Path, wanted: dict[int, set[str]]) -> int:
    raw = path.read_bytes()
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    except SyntaxError:
        encoding = "utf-8"
    text = raw.decode(encoding)
    lines = text.splitlines(keepends=True)
    blocked = _lines_without_comment_room(text)
    comment_at = {line: col for line, col, _ in _comments(text)}
    merged: dict[int, set[str]] = defaultdict(set)
    for line, codes in wanted.items():
        target = line
        while target in blocked and target < len(lines):
            target += 1
        merged[target] |= codes
    changed = 0
    for line, codes in merged.items():
        if not 0 < line <= len(lines):
            continue
        body = lines[line - 1]
        content = body.rstrip("\r\n")
        new = _with_codes(content, comment_at.get(line), sorted(codes))
        if new != content:
            lines[line - 1] = new + body[len(content):]
            changed += 1
    if changed:
        path.write_bytes("".join(lines).encode(encoding))
    return changed


def _lines_without_comment_room(text: str) -> set[int]:
    """Lines that end inside a multi-line string or with a backslash continuation."""
    blocked: set[int] = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.STRING or tok.type == getattr(tokenize, "FSTRING_MIDDLE", -1):
                blocked.update(range(tok.start[0], tok.end[0]))
    except (tokenize.TokenError, SyntaxError):
        pass
    for i, line in enumerate(text.splitlines(), 1):
        if line.rstrip().endswith("\\") and "#" not in line:
            blocked.add(i)
    return blocked


def _with_codes(content: str, start: int | None, codes: list[str]) -> str:
    """`content` (whose comment starts at column `start`) with a suppression for `codes`: an existing
    tracelint directive extended, else one appended after the line's code and comment."""
    if start is not None and start < len(content):
        comment = content[start:]
        m = _IGNORE.search(comment)
        if m and m.group("codes") is not None:
            have = [c.strip() for c in re.split(r"[\s,]+", m.group("codes")) if c.strip()]
            new = have + [c for c in codes if c not in have]
            a, b = start + m.start("codes"), start + m.end("codes")
            return content[:a] + ", ".join(new) + content[b:]
        if m:   # a bare `# tracelint: ignore` already covers every code
            return content
        m = _NOQA.search(comment)
        if m and m.group("codes") and any(c.upper().startswith("TL") for c in re.split(r"[\s,]+", m.group("codes"))):
            have = [c.strip() for c in re.split(r"[\s,]+", m.group("codes")) if c.strip()]
            new = have + [c for c in codes if c not in have]
            a, b = start + m.start("codes"), start + m.end("codes")
            return content[:a] + ", ".join(new) + content[b:]
    return f"{content.rstrip()}  # tracelint: ignore[{', '.join(codes)}]"
