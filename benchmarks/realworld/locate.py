"""Turn a torch error or warning into the library line it is about.

- Warnings: the innermost frame of the live stack that is in a library file (a TracerWarning raised
  inside torch on behalf of a library line counts for that line).
- TorchScript errors print `File "X", line N` blocks with a source snippet and `~~~ <--- HERE`
  under the offending range; the first block is the error, the following ones are its callers
  ("is being compiled since it was called from"). For decorated methods TorchScript can name the
  decorator's file and line, so the highlighted snippet is checked against the named file and,
  when it does not match, searched for in the candidate files (the class's file first, then every
  library file) and relocated.
- Other errors (export, run time): the innermost library frame of the traceback chain, else the
  last library `File "X", line N` in the message.
"""
from __future__ import annotations

import linecache
import re
import sys
import traceback
from typing import Callable, Iterable

FILE_LINE = re.compile(r'File "([^"]+)", line (\d+)')
HERE = "<--- HERE"


def innermost_library_frame(is_library: Callable[[str], bool], depth: int = 1):
    """(file, line) of the innermost library frame on the current stack, or None."""
    frame = sys._getframe(depth)
    while frame is not None:
        if is_library(frame.f_code.co_filename):
            return frame.f_code.co_filename, frame.f_lineno
        frame = frame.f_back
    return None


def warning_origin(is_library: Callable[[str], bool], skip: tuple[str, ...], limit: int = 4):
    """Where a warning being shown comes from: the innermost frame that is not the warnings
    machinery (`skip`: files to pass over), whether it is torch code working for a library line
    (`via`: "torch/nn/functional.py:group_norm") and the library frames, innermost first."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.endswith(skip):
        frame = frame.f_back
    origin = frame
    library = []
    while frame is not None and len(library) < limit:
        if is_library(frame.f_code.co_filename):
            library.append((frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name))
        frame = frame.f_back
    via = None
    if origin is not None and not is_library(origin.f_code.co_filename):
        name = origin.f_code.co_filename
        # Tensor dunders (`__len__`, `__iter__`, `__index__`) are the library's own syntax
        if not name.endswith(("torch/_tensor.py", "torch/overrides.py")):
            short = name.split("site-packages/")[-1]
            via = f"{short}:{origin.f_code.co_name}"
    return library, via


def _script_blocks(text: str):
    """Each `File "X", line N` block: (file, line, snippet lines, index of the first marked line)."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        m = FILE_LINE.search(lines[i])
        if not m:
            i += 1
            continue
        snippet: list[str] = []
        marked: int | None = None
        j = i + 1
        while j < len(lines) and not FILE_LINE.search(lines[j]):
            raw = lines[j]
            stripped = raw.strip()
            if stripped and set(stripped.replace(HERE, "").strip()) <= {"~"} and ("~" in stripped):
                # a marker line underlines the previous source line
                if marked is None and snippet:
                    marked = len(snippet) - 1
                if HERE in raw:
                    j += 1
                    break
            elif stripped.startswith("'") and "is being compiled since it was called from" in stripped:
                break
            else:
                snippet.append(raw)
            j += 1
        blocks.append((m.group(1), int(m.group(2)), snippet, marked))
        i = j
    return blocks


def _file_lines(path: str) -> list[str]:
    return [ln.strip() for ln in linecache.getlines(path)]


def _find_snippet(snippet: list[str], candidates: Iterable[str], line: int | None = None):
    """(file, first line) where the whole snippet (non-empty lines, stripped) appears; among several
    occurrences (identical `def forward(...)` headers), the one that contains `line`."""
    want = [s.strip() for s in snippet if s.strip()]
    if not want:
        return None
    first = None
    for path in candidates:
        lines = _file_lines(path)
        for start in range(0, len(lines) - len(want) + 1):
            if lines[start] == want[0] and lines[start:start + len(want)] == want:
                if line is None or start + 1 <= line <= start + len(want) + 8:
                    return path, start + 1
                first = first or (path, start + 1)
    return first


def _snippet_fits(path: str, line: int, snippet: list[str], marked: int | None) -> bool:
    """Does the named file really hold the snippet with its marked line (or any line) at `line`?"""
    target = linecache.getline(path, line).strip()
    if not target:
        return False
    if marked is not None:
        return target == snippet[marked].strip()
    return target in {s.strip() for s in snippet if s.strip()}


def script_error_location(text: str, is_library: Callable[[str], bool],
                          candidates: Iterable[str] = ()) -> dict | None:
    """The library line a TorchScript compile error points at, walking from the error outwards to
    its callers until one is in a library. When the named file does not hold the printed snippet
    (decorated methods: torch names the decorator's file with the right line number), the snippet
    is searched for in the candidate files and the line is relocated there."""
    candidates = list(candidates)
    for path, line, snippet, marked in _script_blocks(text):
        if is_library(path) and _snippet_fits(path, line, snippet, marked):
            return {"path": path, "line": line, "how": "script-snippet"}
        found = _find_snippet(snippet, [c for c in candidates if c != path], line)
        if found is None:
            continue
        where, start = found
        if not is_library(where):
            continue
        width = len([s for s in snippet if s.strip()])
        if marked is not None:
            nonempty_before = sum(1 for s in snippet[:marked] if s.strip())
            relocated = start + nonempty_before
        elif start <= line <= start + width + 8:
            relocated = line          # torch kept the line number, only the file was wrong
        else:
            relocated = start
        return {"path": where, "line": relocated, "how": "script-relocated", "named": f"{path}:{line}"}
    return None


def traceback_location(exc: BaseException, is_library: Callable[[str], bool]) -> dict | None:
    """Innermost library frame of the exception's traceback (following causes and contexts)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = [f for f in traceback.extract_tb(current.__traceback__) if is_library(f.filename)]
        if frames:
            return {"path": frames[-1].filename, "line": frames[-1].lineno, "how": "traceback"}
        current = current.__cause__ or current.__context__
    return None


def message_location(text: str, is_library: Callable[[str], bool]) -> dict | None:
    """The last library `File "X", line N` mentioned in an error message (Dynamo user stacks)."""
    hits = [(p, int(n)) for p, n in FILE_LINE.findall(text) if is_library(p)]
    if hits:
        return {"path": hits[-1][0], "line": hits[-1][1], "how": "message"}
    return None


def short_message(exc: BaseException | str, limit: int = 400) -> str:
    """The first meaningful line of an error message (torch wraps them in boilerplate)."""
    text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    if "The following operation failed in the TorchScript interpreter" in text:
        errors = [ln.strip() for ln in text.splitlines() if re.match(r"^\s*[\w.]*(Error|Exception): \S", ln)]
        if errors:
            text = errors[-1]
    skip = ("Traceback of TorchScript", "The following operation failed", "For more information",
            "Set TORCH_LOGS", "from user code:", "Exception raised from")
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(skip) or FILE_LINE.search(line) or set(line) <= {"~", " "}:
            continue
        if line in ("RuntimeError:", "torch.jit.frontend.NotSupportedError:"):
            continue
        return line if len(line) <= limit else line[: limit - 3] + "..."
    return text[:limit]


def script_message(text: str, limit: int = 300) -> str:
    """TorchScript's reason in one line: the text before the first source block (for an invalid
    call, its first line plus the first complaint about an argument)."""
    head = text.split('File "', 1)[0]
    lines = [ln.strip() for ln in head.splitlines() if ln.strip()]
    lines = [re.sub(r"^(RuntimeError|[\w.]*Error):\s*", "", ln) for ln in lines]
    lines = [ln for ln in lines if ln]
    if not lines:
        return short_message(text, limit)
    words = lines[0]
    if words.startswith("Arguments for call are not valid"):
        complaint = next((ln for ln in lines if ln.startswith(("Expected", "Could not", "Unknown"))), "")
        words = f"{words} {complaint}".strip()
    elif words.endswith(":") and len(lines) > 1 and not lines[1].startswith("aten::"):
        words = f"{words} {lines[1]}"
    words = words.rstrip(":").strip()
    return words if len(words) <= limit else words[: limit - 3] + "..."
