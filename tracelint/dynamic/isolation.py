"""Run example sources in child processes: a hard deadline per example, memory cap, crash recovery.

Each source runs in its own process forked from a warm zygote, and each of its examples in a
fresh process forked from that one (see worker.py). The deadline of an example (`--timeout`)
starts when its process starts and is enforced here by killing that process by pid (after asking
for its Python stacks), whatever its descendants do. The example's results arrive incrementally
(after the eager pass, after each target), so a timeout or a crash keeps every target that
finished and names the target and variant that did not. The model's output reaches us only as
the end of its log (see zygote.py).
"""
from __future__ import annotations

import os
import re
import signal
import time
from dataclasses import dataclass
from typing import Any, Callable

from tracelint.dynamic.launch import EOF, GRACE, TIMEOUT, SpawnLauncher, make_launcher
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
    exclude_modules: tuple[str, ...] = ()


def default_memory_mb() -> int | None:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        size = os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return max(2048, int(pages * size * 0.8 / 2**20))


_FRAME = re.compile(r'File "([^"]+)", line (\d+)')


def _stack_location(log: str) -> dict[str, Any] | None:
    """The innermost model-code frame of the last faulthandler dump (most recent call first)."""
    idx = log.rfind("most recent call first")
    if idx < 0:
        return None
    for path, line in _FRAME.findall(log[idx:]):
        if is_user_file(path):
            return {"path": path, "line": int(line), "how": "stack-dump", "detail": ""}
    return None


def _tail(text: str, lines: int = 2) -> str:
    """The meaningful end of the child's output: the fatal error line, else its last lines."""
    fatal = [ln.strip() for ln in text.splitlines() if ln.startswith("Fatal Python error")]
    if fatal:
        return fatal[-1][:300]
    keep = [ln.strip() for ln in text.strip().splitlines() if ln.strip() and not ln.startswith("  File ")
            and "most recent call first" not in ln
            and not ln.startswith(("Thread 0x", "Current thread", "Extension modules"))]
    return " | ".join(_clip(ln) for ln in keep[-lines:])


def _clip(line: str, width: int = 150) -> str:
    """One log line, its middle elided when long (the last line must survive a huge one before it)."""
    return line if len(line) <= width else line[:width // 2 - 2] + " .. " + line[-(width // 2 - 2):]


@dataclass
class Stage:
    text: str = "loading"
    target: str | None = None
    variant: str | None = None

    def describe(self) -> str:
        if self.target and self.variant:
            return f"{self.target} on variant {self.variant}"
        if self.target:
            return f"the {self.target} capture"
        if self.variant:
            return f"eager on variant {self.variant}"
        return {"loading": "importing the source and calling tracelint_examples()"}.get(self.text, self.text)


def interruption(kind: str, code: int | None, log: str, opts: Options, stage: Stage) -> dict[str, Any]:
    """The record of an example (or a load) that did not finish: timeout, crash or OOM kill."""
    loc = _stack_location(log)
    base = {"target": stage.target, "variant": stage.variant, "stage": stage.text, "location": loc}
    where = stage.describe()
    if kind == "timeout":
        return {**base, "kind": "timeout", "type": "Timeout",
                "message": f"{where} did not finish within {opts.timeout:g} s (slow or hung; if it is only "
                           f"slow, raise --timeout)"}
    tail = _tail(log)
    if code is not None and code < 0:
        try:
            sig = signal.Signals(-code).name
        except ValueError:
            sig = f"signal {-code}"
        if sig == "SIGKILL":
            return {**base, "kind": "oom", "type": sig,
                    "message": f"the process was killed during {where} (most likely out of memory; see "
                               f"--memory-limit)" + (f": {tail}" if tail else "")}
        return {**base, "kind": "crashed", "type": sig,
                "message": f"the process died with {sig} during {where}" + (f": {tail}" if tail else "")}
    return {**base, "kind": "crashed", "type": "Exit",
            "message": f"the process exited with code {code} during {where}" + (f": {tail}" if tail else "")}


def run_source(target: dict[str, Any], display: str, opts: Options, progress: ProgressFn | None = None,
               launcher=None, threads: int | None = None) -> SourceOutcome:
    """Run every example of one source in child processes and collect their results."""
    own = launcher is None
    launcher = launcher or make_launcher(opts.targets)
    try:
        return _SourceRun(target, display, opts, progress or (lambda s: None), threads).run(launcher)
    finally:
        if own:
            launcher.close()


class _SourceRun:
    def __init__(self, target, display: str, opts: Options, say: ProgressFn, threads: int | None) -> None:
        self.target, self.display, self.opts, self.say, self.threads = target, display, opts, say, threads
        self.outcome = SourceOutcome(display=display)
        self.names: list[str] | None = None
        self.results: dict[int, dict[str, Any]] = {}
        self.finished: set[int] = set()
        self.memory = default_memory_mb() if opts.memory_mb is None else opts.memory_mb

    def job(self, start: int) -> dict[str, Any]:
        o = self.opts
        return {"target": self.target, "start": start, "targets": list(o.targets), "variants": o.variants,
                "rtol": o.rtol, "atol": o.atol, "seed": o.seed, "compile_backend": o.compile_backend,
                "memory_mb": self.memory, "threads": self.threads, "exclude_modules": list(o.exclude_modules)}

    def run(self, launcher) -> SourceOutcome:
        start = 0
        while True:
            try:
                handle = launcher.start(self.job(start))
            except RuntimeError:   # the warm zygote could not start: a cold one per source
                launcher = SpawnLauncher(self.opts.targets)
                handle = launcher.start(self.job(start))
            before = len(self.finished)
            current = self.one_process(handle)
            if self.outcome.load_error is not None or self.names is None:
                break
            if current is None and len(self.finished) == before:   # died again before any example ran
                current = next((i for i in range(start, len(self.names)) if i not in self.finished), None)
            if current is not None and current not in self.finished:   # the source process itself died
                self.close_example(current, "died", handle.returncode, handle.log, Stage("running the example"))
            remaining = [i for i in range(len(self.names)) if i not in self.finished]
            if not remaining:
                break
            start = remaining[0]
        if self.names is not None:
            self.outcome.examples = [self.results[i] for i in sorted(self.results)]
        return self.outcome

    def one_process(self, handle) -> int | None:
        """Read one source process's events until it is gone; the example it was running, if any."""
        timeout = self.opts.timeout
        deadline = time.monotonic() + timeout
        current: int | None = None
        pid: int | None = None
        stage = Stage()
        timed_out: dict[int, Stage] = {}
        killing = False
        load_timeout = False
        try:
            while True:
                msg = handle.next(deadline)
                if msg is TIMEOUT:
                    if killing:          # killed, and still no word: give up on this process
                        handle.kill(dump=False)
                        break
                    if current is not None and pid is not None:
                        timed_out[current] = Stage(stage.text, stage.target, stage.variant)
                        handle.kill_example(pid, dump=True)
                    else:
                        load_timeout = self.names is None
                        handle.kill(dump=True)
                    killing = True
                    deadline = time.monotonic() + GRACE
                    continue
                if msg is EOF:
                    break
                ev = msg.get("event")
                if ev == "loaded":
                    self.names = msg["names"]
                    self.outcome.source, self.outcome.line = msg.get("source"), msg.get("line", 1)
                    deadline = time.monotonic() + timeout
                elif ev == "load-error":
                    self.outcome.load_error = msg["error"]
                elif ev == "start":
                    current, pid = msg["index"], msg.get("pid")
                    stage = Stage("eager")
                    killing = False
                    deadline = time.monotonic() + timeout
                    self.say(self.label(current))
                elif ev == "stage" and msg.get("index") == current:
                    new = Stage(msg.get("stage") or "", msg.get("target"), msg.get("variant"))
                    if new.target and new.target != stage.target and current is not None:
                        self.say(f"{self.label(current)}: {new.target}")
                    stage = new
                elif ev in ("partial", "result"):
                    self.results[msg["index"]] = msg["result"]
                    if ev == "result":
                        self.finished.add(msg["index"])
                elif ev == "example-exit":
                    i = msg["index"]
                    if i not in self.finished:
                        kind = "timeout" if i in timed_out else "died"
                        self.close_example(i, kind, msg.get("code"), msg.get("log", ""), timed_out.get(i, stage))
                    current, pid, killing = None, None, False
                    deadline = time.monotonic() + timeout
        except BaseException:   # interrupted (Ctrl-C): do not leave the example running
            if pid is not None:
                handle.kill_example(pid, dump=False)
            handle.kill(dump=False)
            raise
        finally:
            handle.finish()
        if self.names is None and self.outcome.load_error is None:
            kind = "timeout" if load_timeout else "died"
            record = interruption(kind, handle.returncode, handle.log, self.opts, Stage())
            record["message"] = f"while importing the source and calling tracelint_examples(): {record['message']}"
            self.outcome.load_error = record
        return current

    def label(self, i: int) -> str:
        name = self.names[i] if self.names and i < len(self.names) else str(i)
        return f"{self.display}::{name} ({i + 1}/{len(self.names or [])})"

    def close_example(self, i: int, kind: str, code: int | None, log: str, stage: Stage) -> None:
        """Record an example that did not finish; keep whatever part of it did."""
        record = interruption("timeout" if kind == "timeout" else "died", code, log, self.opts, stage)
        name = self.names[i] if self.names else str(i)
        partial = self.results.get(i)
        if partial is not None and partial.get("status") == "ok":
            partial["interrupted"] = record
        else:
            self.results[i] = failed_example(name, record["kind"], record)
        self.finished.add(i)
