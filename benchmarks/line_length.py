"""How long the default (text) lines are on a real tree: the issue's "readable at ~120 columns".

usage: python benchmarks/line_length.py PATH [--target trace,script] [--json]

Lints PATH with the default settings from PATH's parent folder (so paths print as
`torchvision/models/...`, as a user linting an installed package would see them), renders the
text format and prints the number of lines, their median, 90th percentile and maximum length, and
the same for the full `message` that the JSON format keeps. Not a test: figures for the README.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tracelint.api import lint_paths  # noqa: E402
from tracelint.config import load  # noqa: E402
from tracelint.reporters import render  # noqa: E402
from tracelint.targets import parse_targets  # noqa: E402


def describe(lengths: list[int]) -> dict[str, float]:
    lengths = sorted(lengths)
    if not lengths:
        return {"lines": 0}
    return {"lines": len(lengths), "median": statistics.median(lengths),
            "p90": lengths[int(0.9 * (len(lengths) - 1))], "max": lengths[-1]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path")
    ap.add_argument("--target", default=None, help="targets (default: the config's, else trace,script)")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = ap.parse_args()
    root = Path(args.path).resolve()
    os.chdir(root.parent)
    config = load(start=root)
    if args.target:
        from dataclasses import replace
        config = replace(config, targets=parse_targets([args.target]))
    report = lint_paths([root.name], config)
    text_lines = render(report, "text").splitlines()
    figures = {"path": str(root), "targets": list(config.targets),
               "text": describe([len(line) for line in text_lines]),
               "message": describe([len(d.message) for d in report.diagnostics])}
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    t, m = figures["text"], figures["message"]
    print(f"{root}: {t['lines']} findings ({', '.join(config.targets)})")
    if t["lines"]:
        print(f"  text line:    median {t['median']:.0f}, p90 {t['p90']}, max {t['max']} characters")
        print(f"  full message: median {m['median']:.0f}, p90 {m['p90']}, max {m['max']} characters (json `message`)")


if __name__ == "__main__":
    main()
