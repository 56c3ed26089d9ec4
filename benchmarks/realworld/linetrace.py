"""Line coverage and per-line branch signatures of library code, with `sys.settrace`.

Only frames whose file belongs to a model library are line-traced (the global trace function
returns None for every other frame, so torch and the harness run at full speed). For each traced
line we count its successors within the same frame; the successor distribution of a line is its
*branch signature*: an `if` that goes the other way gains a successor, a loop that runs another
number of times changes the ratio between "back into the body" and "out of the loop". Two eager
runs of the same model (the example and an input on which the traced model diverged) that differ
in a line's signature took a different Python decision there, and `torch.jit.trace` froze the
example's decision: that line is where the unfaithful trace comes from.
"""
from __future__ import annotations

import sys
import threading
from collections import Counter, defaultdict
from typing import Callable

RETURN = -1  # successor marker: the frame returned after this line


class LineRecorder:
    """Context manager: records executed lines and successor counts of library frames."""

    def __init__(self, is_library: Callable[[str], bool], top_code=None) -> None:
        self._is_library = is_library
        self._cache: dict[str, bool] = {}
        self.lines: dict[str, set[int]] = defaultdict(set)
        self.edges: Counter[tuple[str, int, int]] = Counter()
        self.top_code = top_code          # code object of the captured forward, if known
        self.top_returns: set[int] = set()  # lines where that forward returned
        self._saved = None

    def _library(self, filename: str) -> bool:
        known = self._cache.get(filename)
        if known is None:
            known = self._cache[filename] = bool(self._is_library(filename))
        return known

    def _call(self, frame, event, arg):
        if event != "call":
            return None
        filename = frame.f_code.co_filename
        if not self._library(filename):
            return None
        lines = self.lines[filename]
        edges = self.edges
        previous = [None]
        is_top = frame.f_code is self.top_code
        top_returns = self.top_returns

        def local(frame, event, arg):
            if event == "line":
                line = frame.f_lineno
                lines.add(line)
                if previous[0] is not None:
                    edges[(filename, previous[0], line)] += 1
                previous[0] = line
            elif event == "return":
                if previous[0] is not None:
                    edges[(filename, previous[0], RETURN)] += 1
                if is_top:
                    top_returns.add(frame.f_lineno)
            return local

        return local

    def __enter__(self) -> "LineRecorder":
        self._saved = sys.gettrace()
        threading.settrace(self._call)
        sys.settrace(self._call)
        return self

    def __exit__(self, *exc) -> None:
        sys.settrace(self._saved)
        threading.settrace(None)

    def signatures(self) -> dict[tuple[str, int], Counter]:
        """line -> Counter of successors."""
        out: dict[tuple[str, int], Counter] = defaultdict(Counter)
        for (filename, line, succ), n in self.edges.items():
            out[(filename, line)][succ] += n
        return out


def _shares(counter: Counter) -> dict[int, float]:
    total = sum(counter.values())
    return {k: v / total for k, v in counter.items()}


def decision_differences(example: LineRecorder, other: LineRecorder) -> list[dict]:
    """Lines run by both inputs whose branch signature differs (other successors or loop counts).

    A line run by only one of the two inputs is not a decision of its own (the decision is the
    line before it that branched), so only lines present in both runs are compared.
    """
    a, b = example.signatures(), other.signatures()
    found = []
    for key in sorted(set(a) & set(b), key=lambda k: (k[0], k[1])):
        sa, sb = a[key], b[key]
        if set(sa) != set(sb):
            how = "branch"
            detail = (f"successor lines {sorted(_fmt(s) for s in sa)} on the example, "
                      f"{sorted(_fmt(s) for s in sb)} on the variant")
        else:
            pa, pb = _shares(sa), _shares(sb)
            if all(abs(pa[k] - pb[k]) < 1e-9 for k in pa):
                continue
            how = "loop-count"
            detail = (f"successor counts {dict(sorted((_fmt(k), v) for k, v in sa.items()))} on the example, "
                      f"{dict(sorted((_fmt(k), v) for k, v in sb.items()))} on the variant")
        found.append({"path": key[0], "line": key[1], "how": how, "detail": detail})
    return found


def _fmt(succ: int) -> str:
    return "return" if succ == RETURN else str(succ)
