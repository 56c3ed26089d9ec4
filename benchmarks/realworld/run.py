#!/usr/bin/env python3
"""tracelint's real-world accuracy benchmark: what torch says about real model libraries, line by
line, against what tracelint says about the same installed code.

    python benchmarks/realworld/run.py all          # setup + collect + score (an hour or more on 2 cores)
    python benchmarks/realworld/run.py setup        # create or reuse the pinned venvs
    python benchmarks/realworld/run.py collect      # run every model; --write-data updates the committed ground truth
    python benchmarks/realworld/run.py score        # lint the installed libraries and score (about a minute)
    python benchmarks/realworld/run.py score --baseline benchmarks/realworld/data/baseline.json   # diff mode

Nothing is written into the repository unless asked (`--write-data`, `--save-baseline`).
See benchmarks/realworld/README.md.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import envs  # noqa: E402

DATA = os.path.join(HERE, "data")
ALL_ZOOS = ["torchvision", "timm", "transformers", "diffusers"]


def _zoos(text: str) -> list[str]:
    zoos = [z.strip() for z in text.split(",") if z.strip()]
    unknown = [z for z in zoos if z not in ALL_ZOOS + ["sample"]]
    if unknown:
        raise SystemExit(f"unknown zoo(s): {', '.join(unknown)} (known: {', '.join(ALL_ZOOS)}, sample)")
    return zoos


def cmd_setup(args) -> None:
    envs.setup(args.venv.split(",") if args.venv else None)


def cmd_collect(args) -> None:
    import collect
    import groundtruth
    result = collect.collect(_zoos(args.zoo), args.runs, pattern=args.models, jobs=args.jobs, timeout=args.timeout,
                             memory_mb=args.memory_mb, step_seconds=args.step_seconds, force=args.force)
    previous = {}
    stamp = os.path.join(args.runs, "collection.json")
    if os.path.exists(stamp):
        with open(stamp) as fh:
            previous = json.load(fh)
    total = {"wall_seconds": round(previous.get("wall_seconds", 0) + result["wall_seconds"], 1),
             "models_run": previous.get("models_run", 0) + result["models_run"],
             "jobs": args.jobs, "timeout_seconds": args.timeout, "memory_mb": args.memory_mb,
             "date": time.strftime("%Y-%m-%d")}
    with open(stamp, "w") as fh:
        json.dump(total, fh)
    _write_ground_truth(groundtruth, args, total)


def _write_ground_truth(groundtruth, args, total: dict) -> None:
    """Build the ground truth from the kept per-model records and write it (data/ or --out)."""
    truth, cov = groundtruth.build(args.runs, total)
    out = DATA if args.write_data else (args.out or os.path.join(args.runs, "data"))
    groundtruth.write(truth, cov, out)
    print(f"ground truth: {len(truth['lines'])} lines, {len(truth['script_classes'])} classes, "
          f"{len(truth['models'])} models -> {out}")


def cmd_aggregate(args) -> None:
    import groundtruth
    stamp = os.path.join(args.runs, "collection.json")
    total = json.load(open(stamp)) if os.path.exists(stamp) else {}
    _write_ground_truth(groundtruth, args, total)


def cmd_score(args) -> int:
    import score
    return score.main(args)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    runs_default = os.path.join(envs.BENCH_HOME, "runs")

    p = sub.add_parser("setup", help="create or reuse the pinned venvs")
    p.add_argument("--venv", help="tv,hf (default: both)")

    def collect_options(p):
        p.add_argument("--zoo", default=",".join(ALL_ZOOS), help="zoos to run (default: all four)")
        p.add_argument("--models", help="only models matching these globs (comma-separated; `zoo/name` globs match "
                       "one zoo; @FILE reads one glob per line, e.g. @benchmarks/realworld/data/subset.txt)")
        p.add_argument("--runs", default=runs_default, help="per-model records (default: %(default)s)")
        p.add_argument("--jobs", "-j", type=int, default=2)
        p.add_argument("--timeout", type=float, default=1500, help="seconds per model (default: %(default)s)")
        p.add_argument("--step-seconds", type=float, default=600, help="seconds per step inside a model")
        p.add_argument("--memory-mb", type=int, default=8000, help="resident memory cap per model")
        p.add_argument("--force", action="store_true", help="re-run models that already have a record")
        p.add_argument("--write-data", action="store_true",
                       help=f"write the ground truth into the repository ({DATA})")
        p.add_argument("--out", help="where to write the ground truth otherwise (default: RUNS/data)")

    collect_options(sub.add_parser("collect", help="run the models and build the ground truth"))
    p = sub.add_parser("aggregate", help="rebuild the ground truth from the records without running models")
    p.add_argument("--runs", default=runs_default)
    p.add_argument("--write-data", action="store_true")
    p.add_argument("--out")

    def score_options(p):
        p.add_argument("--data", default=DATA, help="ground truth folder (default: the committed one)")
        p.add_argument("--tracelint", default="tracelint",
                       help="the command to run (default: `tracelint` on PATH; e.g. 'python -m tracelint')")
        p.add_argument("--tracelint-args", default="--no-cache",
                       help="extra arguments (default: %(default)s)")
        p.add_argument("--library", help="only these libraries (comma-separated)")
        p.add_argument("--output", "-o", default=os.path.join(envs.BENCH_HOME, "score", "results.json"),
                       help="where to save the results (default: %(default)s)")
        p.add_argument("--save-baseline", action="store_true",
                       help=f"also write the results to {os.path.join(DATA, 'baseline.json')}")
        p.add_argument("--baseline", help="a previous results.json: print what appeared and vanished")
        p.add_argument("--diff-limit", type=int, default=40, help="findings listed per group in diff mode")
        p.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
        p.add_argument("--lint-jobs", type=int, default=1, help="libraries linted at once (default: %(default)s)")
        p.add_argument("--reuse-lint", action="store_true",
                       help="reuse the lint reports of the same committed tracelint and paths (re-score a new "
                            "ground truth without linting again)")

    score_options(sub.add_parser("score", help="run tracelint on the installed libraries and score it"))
    p = sub.add_parser("all", help="setup, collect, score")
    collect_options(p)
    score_options(p)
    args = parser.parse_args(argv)
    if args.command == "setup":
        cmd_setup(args)
    elif args.command == "collect":
        cmd_collect(args)
    elif args.command == "aggregate":
        cmd_aggregate(args)
    elif args.command == "score":
        return cmd_score(args)
    elif args.command == "all":
        args.venv = None
        cmd_setup(args)
        cmd_collect(args)
        if not args.write_data:
            args.data = args.out or os.path.join(args.runs, "data")
        return cmd_score(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
