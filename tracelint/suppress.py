"""Suppression comments: `# tracelint: ignore[TL201]`, `# noqa: TL201`, `# tracelint: skip-file`."""
from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

_IGNORE = re.compile(r"#\s*tracelint\s*:\s*ignore(?!-)(?:\[(?P<codes>[^\]]*)\])?", re.I)
_IGNORE_FILE = re.compile(r"#\s*tracelint\s*:\s*ignore-file\[(?P<codes>[^\]]*)\]", re.I)
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]*(?:[\s,]+[A-Z]+[0-9]*)*))?", re.I)
_SKIP_FILE = re.compile(r"#\s*tracelint\s*:\s*skip-file\b", re.I)


@dataclass
class Suppression:
    line: int
    column: int
    codes: tuple[str, ...] | None   # None: every code
    ours: bool                      # names tracelint explicitly (reportable when unused)
    used: set[str] = field(default_factory=set)

    def matches(self, code: str, name: str) -> bool:
        if self.codes is None:
            return True
        return any(code.startswith(c.upper()) or c == name for c in self.codes)


def _comments(text: str) -> list[tuple[int, int, str]]:
    """(line, 0-based column, text) of every comment; real comments only, not '#' inside strings."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                out.append((tok.start[0], tok.start[1], tok.string))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        for i, line in enumerate(text.splitlines(), 1):  # fall back to a text scan
            pos = line.find("#")
            if pos >= 0:
                out.append((i, pos, line[pos:]))
    return out


def might_have_comments(text: str) -> bool:
    return "noqa" in text or "tracelint" in text


def skip_file(text: str) -> bool:
    return bool(_SKIP_FILE.search(text)) and any(_SKIP_FILE.search(c) for _, _, c in _comments(text))


def file_level(text: str) -> list[Suppression]:
    """`# tracelint: ignore-file[TL201, ...]` comments (anywhere): these codes, everywhere in the file."""
    if "ignore-file" not in text:
        return []
    out = []
    for line, col, comment in _comments(text):
        m = _IGNORE_FILE.search(comment)
        if m:
            codes = tuple(c.strip() for c in re.split(r"[\s,]+", m.group("codes")) if c.strip())
            if codes:
                out.append(Suppression(line, col + 1, codes, ours=True))
    return out


def parse(text: str) -> dict[int, Suppression]:
    """line -> suppression on that line."""
    found: dict[int, Suppression] = {}
    if not might_have_comments(text):
        return found
    for line, col, comment in _comments(text):
        m = _IGNORE.search(comment)
        if m:
            codes = m.group("codes")
            parsed = tuple(c.strip() for c in re.split(r"[\s,]+", codes) if c.strip()) if codes else None
            found[line] = Suppression(line, col + 1, parsed, ours=True)
            continue
        m = _NOQA.search(comment)
        if m:
            codes = m.group("codes")
            if codes:
                parsed = tuple(c.strip().upper() for c in re.split(r"[\s,]+", codes) if c.strip())
                ours = tuple(c for c in parsed if c.startswith("TL"))
                if not ours:
                    continue  # another tool's codes only
                found[line] = Suppression(line, col + 1, ours, ours=True)
            else:
                found[line] = Suppression(line, col + 1, None, ours=False)
    return found
