"""Static-path speed against the floor: the bare LibCST parse of the same files.

usage: python benchmarks/static_speed.py PATH [--jobs N] [--limit N]

Prints CPU seconds for: reading + `ast.parse` (the index phase's floor), the bare `libcst.parse_module`
of every file, and a full `tracelint` run (serial, so CPU time is comparable), plus the wall time of a
parallel run. Run it on a large real tree (e.g. transformers' models/: `pip download --no-deps
transformers`, unzip the wheel). Never part of the test-suite: timings are not assertions.
"""
from __future__ import annotations

import argparse
import ast
import gc
import os
import resource
import sys
import time
from pathlib import Path

import libcst as cst

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracelint.api import lint_paths  # noqa: E402
from tracelint.config import Config  # noqa: E402
from tracelint.targets import TARGETS  # noqa: E402


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime + c.ru_utime + c.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--limit", type=int, default=0, help="only the first N files")
    a = ap.parse_args()
    files = sorted(str(p) for p in Path(a.path).rglob("*.py"))
    if a.limit:
        files = files[: a.limit]
    lines = sum(Path(f).read_bytes().count(b"\n") for f in files)
    print(f"{len(files)} files, {lines:,} lines")

    gc.disable()
    t = cpu()
    for f in files:
        ast.parse(Path(f).read_bytes())
    ast_s = cpu() - t
    t = cpu()
    for f in files:
        cst.parse_module(Path(f).read_bytes())
    parse_s = cpu() - t
    gc.enable()

    config = Config(targets=TARGETS, jobs=1)
    t = cpu()
    report = lint_paths(files, config)
    serial_s = cpu() - t
    t0 = time.perf_counter()
    report2 = lint_paths(files, Config(targets=TARGETS, jobs=a.jobs))
    wall = time.perf_counter() - t0
    assert len(report.diagnostics) == len(report2.diagnostics)
    print(f"ast.parse (index floor)   {ast_s:8.1f} cpu-s  {ast_s / parse_s:5.2f}x the LibCST parse")
    print(f"libcst.parse_module       {parse_s:8.1f} cpu-s  1.00x")
    print(f"tracelint, 1 job          {serial_s:8.1f} cpu-s  {serial_s / parse_s:5.2f}x the LibCST parse")
    print(f"tracelint, {a.jobs} jobs         {wall:8.1f} wall-s")
    print(f"findings: {len(report.diagnostics)}; tool errors: {len(report.errors)}")


if __name__ == "__main__":
    main()
