"""Child side: a source process loads one example source, then forks one fresh process per example.

Forked from the zygote (see zygote.py), the source process imports the source and calls its
examples function once, then for each example forks a process that runs only that example
(the models are already built, nothing is imported again) and waits for it. One example's
capture can therefore never affect another's (TorchScript's class cache, Dynamo's caches, a
monkey-patch); whatever an example process leaves behind (a daemon in its own session) is
adopted by the source process (a subreaper) and killed before the next example starts.

Events go to file descriptor `fd` as JSON lines (never stdout, which the model may print to):
  source:  {"event": "loaded", "names": [...], "source": path, "line": n}
           {"event": "load-error", "error": {...}}        (error["setup"]: a usage problem)
           {"event": "example-exit", "index": i, "code": c}      {"event": "done"}
  example: {"event": "start", "index": i, "pid": p}
           {"event": "stage", "index": i, "stage": "...", "target": t, "variant": v}
           {"event": "partial", "index": i, "result": {...}}  (after the eager pass, after each target)
           {"event": "result", "index": i, "result": {...}}
The parent enforces each example's deadline by killing the example process, whose pid it learns
from "start"; the source process notices through waitpid and goes on with the next example.
"""
from __future__ import annotations

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
    """Process-wide settings for a source process (inherited by its example processes): crash and
    timeout stack dumps, no bytecode written, warnings, memory cap, adopting orphans."""
    sys.dont_write_bytecode = True   # never write __pycache__ into the user's tree
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
    from tracelint.dynamic.procs import set_subreaper
    from tracelint.dynamic.userfiles import exclude_modules

    exclude_modules(tuple(job.get("exclude_modules") or ()))
    warnings.simplefilter("ignore", DeprecationWarning)
    filter_jit_deprecations()
    set_subreaper()
    try:
        import torch

        torch.set_num_threads(1)   # no OpenMP pool before forking the examples: it would not survive fork
    except ImportError:
        pass


def source_main(job: dict[str, Any], fd: int) -> None:
    """Everything a source process does; never returns (skips interpreter teardown)."""
    code = 0
    try:
        chan = Channel(fd)
        setup(job)
        _run_source(job, chan)
        chan.send(event="done")
    except BaseException:  # noqa: BLE001 - report on stderr, the parent reads its tail
        import traceback

        traceback.print_exc()
        code = 3
    finally:
        _exit(code)


def _run_source(job: dict[str, Any], chan: Channel) -> None:
    from tracelint.dynamic.loader import SetupError, load
    from tracelint.dynamic.locate import error_info
    from tracelint.dynamic.procs import kill_descendants

    try:
        loaded = load(job["target"])
    except BaseException as e:  # noqa: BLE001 - SystemExit/KeyboardInterrupt in user code included
        info = error_info(e)
        if isinstance(e, SetupError):
            info.update(setup=True, message=str(e))
        chan.send(event="load-error", error=info)
        return
    chan.send(event="loaded", names=loaded.names, source=loaded.source, line=loaded.line)
    for i in range(job.get("start", 0), len(loaded.examples)):
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _example_main(job, loaded, i, chan)   # never returns
        status = _wait(pid)
        kill_descendants()   # what the example left behind, adopted by us
        chan.send(event="example-exit", index=i, code=os.waitstatus_to_exitcode(status))


def _wait(pid: int) -> int:
    while True:
        try:
            return os.waitpid(pid, 0)[1]
        except InterruptedError:
            continue


def _example_main(job: dict[str, Any], loaded, index: int, chan: Channel) -> None:
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        import torch

        torch.set_num_threads(int(job.get("threads") or os.cpu_count() or 1))
        chan.send(event="start", index=index, pid=os.getpid())
        from tracelint.dynamic.runner import run_example

        def stage(text: str, target: str | None = None, variant: str | None = None) -> None:
            chan.send(event="stage", index=index, stage=text, target=target, variant=variant)

        result = run_example(loaded.examples[index], loaded.names[index], targets=tuple(job["targets"]),
                             variants=job.get("variants"), rtol=job.get("rtol"), atol=job.get("atol"),
                             seed=job.get("seed", 0), compile_backend=job.get("compile_backend", "aot_eager"),
                             on_stage=stage, emit=lambda r: chan.send(event="partial", index=index, result=r))
        chan.send(event="result", index=index, result=result)
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        code = 3
    finally:
        _exit(code)


def _exit(code: int) -> None:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)
