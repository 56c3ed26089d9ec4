"""Child side: load one example source and run its examples, one JSON line per event.

    python -m tracelint.dynamic.worker --fd N --job JSON      (plain subprocess launcher)

or forked from the zygote (see zygote.py), which calls `child_main` directly. Events go to file
descriptor N (never stdout, which the model may print to):
  {"event": "loaded", "names": [...], "source": path, "line": n, "coverage": {...}}
  {"event": "load-error", "error": {...}}
  {"event": "start", "index": i}     {"event": "stage", "index": i, "stage": "..."}
  {"event": "result", "index": i, "result": {...}}      {"event": "done"}
The parent enforces the per-example timeout and the memory cap, and survives our crashes.
"""
from __future__ import annotations

import argparse
import faulthandler
import json
import os
import signal
import sys
import warnings
from typing import Any


class Channel:
    def __init__(self, fd: int) -> None:
        self._f = os.fdopen(fd, "w", encoding="utf-8", buffering=1)

    def send(self, **msg: Any) -> None:
        self._f.write(json.dumps(msg, default=_jsonable) + "\n")
        self._f.flush()


def _jsonable(o: Any) -> Any:
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    return repr(o)


def setup(job: dict[str, Any]) -> None:
    """Process-wide settings for a child: crash/timeout stack dumps, warnings, memory cap, threads."""
    faulthandler.enable(file=sys.stderr, all_threads=True)   # abort/segfault: stack to stderr
    if hasattr(signal, "SIGUSR1"):
        faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)  # timeout: parent asks
    memory_mb = job.get("memory_mb")
    if memory_mb:
        try:
            import resource

            cap = int(memory_mb) * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        except (ImportError, ValueError, OSError):
            pass
    from tracelint.dynamic.capture import filter_jit_deprecations

    warnings.simplefilter("ignore", DeprecationWarning)
    filter_jit_deprecations()
    if job.get("threads"):
        import torch

        torch.set_num_threads(int(job["threads"]))


def run_job(job: dict[str, Any], chan: Channel) -> None:
    """Load the source, then run its examples from job['start'] on."""
    from tracelint.dynamic.loader import load
    from tracelint.dynamic.locate import error_info

    try:
        loaded = load(job["target"])
    except BaseException as e:  # noqa: BLE001 - SystemExit/KeyboardInterrupt in user code included
        chan.send(event="load-error", error=error_info(e))
        return
    chan.send(event="loaded", names=loaded.names, source=loaded.source, line=loaded.line,
              coverage=loaded.coverage, import_coverage=loaded.import_coverage)

    from tracelint.dynamic.runner import run_example

    for i in range(job.get("start", 0), len(loaded.examples)):
        chan.send(event="start", index=i)
        result = run_example(loaded.examples[i], loaded.names[i], targets=tuple(job["targets"]),
                             variants=job.get("variants"), rtol=job.get("rtol"), atol=job.get("atol"),
                             seed=job.get("seed", 0), compile_backend=job.get("compile_backend", "aot_eager"),
                             on_stage=lambda s, i=i: chan.send(event="stage", index=i, stage=s),
                             timeout=job.get("timeout"))
        chan.send(event="result", index=i, result=result)


def child_main(job: dict[str, Any], fd: int) -> None:
    """Everything a child does; never returns (skips interpreter teardown, which can take seconds)."""
    code = 0
    try:
        chan = Channel(fd)
        setup(job)
        run_job(job, chan)
        chan.send(event="done")
    except BaseException:  # noqa: BLE001 - report on stderr, the parent reads it
        import traceback

        traceback.print_exc()
        code = 3
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="tracelint.dynamic.worker")
    ap.add_argument("--fd", type=int, required=True)
    ap.add_argument("--job", required=True)
    args = ap.parse_args(argv)
    child_main(json.loads(args.job), args.fd)


if __name__ == "__main__":
    main()
