"""Finding fingerprints that survive unrelated edits: SARIF's partialFingerprints and the baseline use these.

A fingerprint hashes the rule, the file and the stripped text of the finding's line, plus the
occurrence number among identical (rule, file, text) triples, so inserting or deleting lines
elsewhere in the file changes nothing while a new hazard gets a new fingerprint.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from typing import Callable, Iterable

from tracelint.diagnostics import Diagnostic


def line_hash(code: str, path: str, source_line: str) -> str:
    """Stable across edits elsewhere in the file: only the rule, the file and the line's own text count."""
    data = "\0".join((code, path, source_line.strip()))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:32]


def fingerprints(diagnostics: Iterable[Diagnostic],
                 path_of: Callable[[Diagnostic], str] = lambda d: d.path) -> list[str]:
    """`<line hash>:<occurrence>` per finding, in the given (sorted) order; occurrences count from 1."""
    seen: Counter[str] = Counter()
    out = []
    for d in diagnostics:
        digest = line_hash(d.code, path_of(d), d.source_line)
        seen[digest] += 1
        out.append(f"{digest}:{seen[digest]}")
    return out
