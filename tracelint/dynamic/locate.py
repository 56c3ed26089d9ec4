"""Turn a capture error into a user source line.

TorchScript prints source ranges (`File "...", line N` and a snippet with `<--- HERE`); for a
decorated method it can name the decorator's file, so the snippet is checked against the named
file and searched for in the other user files when it does not match. Export and compile errors
carry user frames in the traceback or in the message ("from user code:").
"""
from __future__ import annotations

import linecache
import re
import traceback
from typing import Any, Iterable

from tracelint.dynamic.userfiles import is_user_file

_FILE_RE = re.compile(r'File "([^"]+)", line (\d+)')
_PATH_LINE_RE = re.compile(r'(/[^\s:\'"]+\.py):(\d+)\b')   # "/path/to/file.py:21" in a message
_HERE = "<--- HERE"


def _loc(path: str, line: int, how: str, detail: str = "") -> dict[str, Any]:
    return {"path": path, "line": int(line), "how": how, "detail": detail}


def _blocks(text: str) -> list[tuple[str, int, list[str], str | None]]:
    """Each `File "X", line N` with its snippet lines and the highlighted line (before HERE)."""
    lines = text.splitlines()
    out = []
    for i, raw in enumerate(lines):
        m = _FILE_RE.search(raw)
        if not m:
            continue
        snippet: list[str] = []
        highlighted = None
        for follow in lines[i + 1:]:
            if _FILE_RE.search(follow):
                break
            if _HERE in follow:
                highlighted = snippet[-1] if snippet else None
                break
            snippet.append(follow)
        out.append((m.group(1), int(m.group(2)), snippet, highlighted))
    return out


def _find_snippet(snippet: list[str], highlighted: str, candidates: Iterable[str],
                  named_line: int = 0) -> tuple[str, int] | None:
    """The (file, line) of `highlighted` where the whole snippet appears, in any candidate file.

    TorchScript names the wrong *file* for a decorated method but the right line number, and
    sibling methods often share a snippet word for word (the same parameter list): a match whose
    highlighted line is the line torch named wins over the first match."""
    want = [s.strip() for s in snippet]
    hi = len(snippet) - 1 - snippet[::-1].index(highlighted)
    first = None
    for path in candidates:
        lines = [ln.strip() for ln in linecache.getlines(path)]
        if not lines:
            continue
        start = named_line - 1 - hi
        if start >= 0 and lines[start:start + len(want)] == want:
            return path, named_line
        if first is None:
            for start in range(0, len(lines) - len(want) + 1):
                if lines[start:start + len(want)] == want:
                    first = path, start + hi + 1
                    break
    return first


def _verified(block, candidates: Iterable[str]) -> dict[str, Any] | None:
    path, line, snippet, highlighted = block
    if highlighted is None or not highlighted.strip():
        return _loc(path, line, "torchscript") if is_user_file(path) else None
    if is_user_file(path) and linecache.getline(path, line).strip() == highlighted.strip():
        return _loc(path, line, "torchscript")
    # torch named the wrong file (decorated methods): find the snippet in the user's files
    found = _find_snippet(snippet, highlighted, [c for c in candidates if c != path] + [path], line)
    if found is not None and is_user_file(found[0]):
        note = "" if found[0] == path else f"torch named {path}:{line}; the snippet is in this file"
        return _loc(found[0], found[1], "torchscript", note)
    return None


def _traceback_frames(exc: BaseException) -> list[tuple[str, int]]:
    frames: list[tuple[str, int]] = []
    seen: set[int] = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        for fs in traceback.extract_tb(e.__traceback__):
            if is_user_file(fs.filename):
                frames.append((fs.filename, fs.lineno or 1))
        e = e.__cause__ or e.__context__
    return frames


def locate_error(exc: BaseException, candidates: Iterable[str] = (), *, skip: Iterable[str] = ()) -> dict[str, Any] | None:
    """The user line an exception points at, or None. `skip`: files that only call the model."""
    candidates = list(candidates)
    skipped = set(skip)
    text = str(exc)
    if "Traceback of TorchScript" in text:
        section = text.split("original code", 1)[-1] if "original code" in text else text
        for block in reversed(_blocks(section)):
            loc = _verified(block, candidates)
            if loc is not None and loc["path"] not in skipped:
                return loc
    elif _HERE in text:
        for block in _blocks(text):
            loc = _verified(block, candidates)
            if loc is not None and loc["path"] not in skipped:
                return loc
    if "from user code:" in text:
        tail = text.split("from user code:", 1)[1]
        frames = [(p, int(n)) for p, n in _FILE_RE.findall(tail) if is_user_file(p) and p not in skipped]
        if frames:
            return _loc(*frames[-1], "user-frame")
    frames = [f for f in _traceback_frames(exc) if f[0] not in skipped]
    if frames:
        return _loc(*frames[-1], "traceback")
    frames = [(p, int(n)) for p, n in _FILE_RE.findall(text) + _PATH_LINE_RE.findall(text)
              if is_user_file(p) and p not in skipped]
    if frames:
        return _loc(*frames[-1], "message")
    return None


def error_info(exc: BaseException, candidates: Iterable[str] = (), *, skip: Iterable[str] = ()) -> dict[str, Any]:
    """What the report says about an exception: type, a short message, where."""
    return {"type": type(exc).__name__, "message": short_message(exc),
            "location": locate_error(exc, candidates, skip=skip)}


_SCHEMA = re.compile(r"^[\w.:]+\(.*\) -> .*:$")
_NOISE = ("The following operation failed in the TorchScript interpreter",
          "Traceback of TorchScript", "For more information", "Set TORCH_LOGS", "from user code:")


def short_message(exc: BaseException, limit: int = 300) -> str:
    """One meaningful line of an exception message (TorchScript and Dynamo wrap it in boilerplate)."""
    text = str(exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    errs = [ln for ln in lines if re.match(r"^[A-Za-z_.]*(Error|Exception): ", ln)]
    if "Traceback of TorchScript" in text and errs:
        line = errs[-1]
    else:
        useful = [ln for ln in lines if not ln.startswith(_NOISE) and not _FILE_RE.search(ln)] or lines
        line = useful[0]
        if _SCHEMA.match(line) and len(useful) > 1:
            line = useful[1]   # TorchScript prints the callee's schema first, then the reason
        elif line.endswith(":") and len(useful) > 1 and _HERE not in text:
            line = f"{line} {useful[1]}"   # "backend='aot_eager' raised:" says nothing on its own
    line = re.sub(r"^[A-Za-z_.]*(Error|Exception): ", "", line) if line in errs else line
    return line if len(line) <= limit else line[: limit - 3] + "..."
