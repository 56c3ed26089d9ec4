"""Run example sources in child processes: timeout per example, memory cap, crash recovery.

One child per source runs its examples in order (forked from a warm zygote, see launch). When an
example hangs, the child is asked for its Python stacks (faulthandler on SIGUSR1) and killed;
when it dies (abort, segfault, OOM kill), its stderr is read for the fatal stack. Either way that
example is reported and a new child resumes at the next one. The child's stdout and stderr go to
a temporary file, never to ours.
"""
from __future__ import annotations

import os
import re
import signal
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable

from tracelint.dynamic.launch import EOF, TIMEOUT, SpawnLauncher, make_launcher
from tracelint.dynamic.outcome import SourceOutcome, failed_example
from tracelint.dynamic.userfiles import is_user_file

ProgressFn = Callable[[str], None]

@dataclass(frozen=True)
class Options:
    targets: tuple[str, ...] = ("trace", "script")
    variants: int | None = None
    timeout: float = 120.0
    rtol: float | None = None
    atol: float | None = None
    seed: int = 0
    memory_mb: int | None = None        # None: 80% of physical memory; 0: no cap
    compile_backend: str = "aot_eager"


def default_memory_mb() -> int | None:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return max(2048, int(pages * size * 0.8 / 2**20))


_FRAME = re.compile(r'File "([^"]+)", line (\d+)')


def _stack_location(stderr: str) -> dict[str, Any] | None:
    """The innermost user frame of the last faulthandler dump (most recent call first)."""
    idx = stderr.rfind("most recent call first")
    if idx < 0:
        return None
    for path, line in _FRAME.findall(stderr[idx:]):
        if is_user_file(path):
            return {"path": path, "line": int(line), "how": "stack-dump", "detail": ""}
    return None


def _tail(text: str, lines: int = 2) -> str:
    """The meaningful end of the child's stderr: the fatal error line, else its last lines."""
    fatal = [ln.strip() for ln in text.splitlines() if ln.startswith("Fatal Python error")]
    if fatal:
        return fatal[-1][:300]
    keep = [ln.strip() for ln in text.strip().splitlines() if ln.strip() and not ln.startswith("  File ")
            and "most recent call first" not in ln
            and not ln.startswith(("Thread 0x", "Current thread", "Extension modules"))]
    return " | ".join(keep[-lines:])[:300]


def _failure(kind: str, returncode: int | None, stderr: str, opts: Options,
             stage: str | None) -> tuple[str, dict[str, Any]]:
    """(status, error record) for a child that timed out or died."""
    where = f" during {stage}" if stage else ""
    loc = _stack_location(stderr)
    if kind == "timeout":
        return "timeout", {"type": "Timeout", "location": loc,
                           "message": f"did not finish within {opts.timeout:g} s{where} (hang or too slow; "
                                      f"raise --timeout if it is only slow)"}
    rc = returncode
    tail = _tail(stderr)
    if rc is not None and rc < 0:
        try:
            sig = signal.Signals(-rc).name
        except ValueError:
            sig = f"signal {-rc}"
        status, extra = ("oom", " (killed: most likely out of memory)") if sig == "SIGKILL" else ("crashed", "")
        return status, {"type": sig, "location": loc,
                        "message": f"the process died with {sig}{where}{extra}" + (f": {tail}" if tail else "")}
    return "crashed", {"type": "Exit", "location": loc,
                       "message": f"the process exited with code {rc}{where}" + (f": {tail}" if tail else "")}


def run_source(target: dict[str, Any], display: str, opts: Options, progress: ProgressFn | None = None,
               launcher=None, threads: int | None = None) -> SourceOutcome:
    """Run every example of one source in child processes and collect their results."""
    own = launcher is None
    launcher = launcher or make_launcher(opts.targets)
    try:
        return _run_source(target, display, opts, progress or (lambda s: None), launcher, threads)
    finally:
        if own:
            launcher.close()


def _run_source(target, display, opts: Options, say: ProgressFn, launcher, threads) -> SourceOutcome:
    outcome = SourceOutcome(display=display)
    names: list[str] | None = None
    results: dict[int, dict[str, Any]] = {}
    start = 0
    memory = default_memory_mb() if opts.memory_mb is None else opts.memory_mb
    while True:
        job = {"target": target, "start": start, "targets": list(opts.targets), "variants": opts.variants,
               "rtol": opts.rtol, "atol": opts.atol, "seed": opts.seed, "compile_backend": opts.compile_backend,
               "memory_mb": memory, "threads": threads, "timeout": opts.timeout}
        fd, log = tempfile.mkstemp(prefix="tracelint-example-", suffix=".log")
        os.close(fd)
        try:
            try:
                handle = launcher.start(job, log)
            except RuntimeError:   # the zygote could not start: fall back to plain subprocesses
                launcher = SpawnLauncher()
                handle = launcher.start(job, log)
            current: int | None = None
            stage: str | None = "loading"
            deadline = time.monotonic() + opts.timeout
            failure: str | None = None
            try:
                while True:
                    msg = handle.next(deadline)
                    if msg is TIMEOUT:
                        failure = "timeout"
                        handle.kill(dump=True)
                        break
                    if msg is EOF:
                        failure = "died"
                        break
                    ev = msg.get("event")
                    if ev == "loaded":
                        names = msg["names"]
                        outcome.source, outcome.line = msg.get("source"), msg.get("line", 1)
                        outcome.coverage = msg.get("coverage", {})
                        outcome.import_coverage = msg.get("import_coverage", {})
                        stage = None
                    elif ev == "load-error":
                        outcome.load_error = msg["error"]
                        break
                    elif ev == "start":
                        current = msg["index"]
                        stage = "eager"
                        deadline = time.monotonic() + opts.timeout
                        say(f"{display}::{names[current] if names else current} ({current + 1}/{len(names or [])})")
                    elif ev == "stage":
                        stage = msg.get("stage")
                        if names and current is not None:
                            say(f"{display}::{names[current]} ({current + 1}/{len(names)}): {stage}")
                    elif ev == "result":
                        results[msg["index"]] = msg["result"]
                        current = None
                    elif ev == "done":
                        break
            except BaseException:   # interrupted (Ctrl-C): do not leave the example running
                handle.kill(dump=False)
                raise
            finally:
                handle.finish()
            if failure is None:
                break
            with open(log, "rb") as f:
                stderr = f.read().decode("utf-8", "replace")
        finally:
            try:
                os.unlink(log)
            except OSError:
                pass
        status, record = _failure(failure, handle.returncode, stderr, opts, stage)
        if names is None:
            record["message"] = f"while importing and calling tracelint_examples(): {record['message']}"
            outcome.load_error = record
            break
        if current is None:   # died between examples: blame the next one
            current = max([start - 1, *results]) + 1
            if current >= len(names):
                break
        results[current] = failed_example(names[current], status, record)
        start = current + 1
        if start >= len(names):
            break
    if names is not None:
        outcome.examples = [results[i] for i in sorted(results)]
    return outcome
