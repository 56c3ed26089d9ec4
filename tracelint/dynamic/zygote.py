"""A pre-warmed parent for example processes: import torch once, fork a fresh child per job.

Importing torch and the export/compile machinery costs seconds per process; a fork of a process
that already did it costs milliseconds, and every job still gets its own process (memory cap,
timeout, crash isolation). Protocol on stdin/stdout, JSON lines, one job at a time:
  in:  {"job": {...}, "log": "/path/for/child/stdout+stderr"}
  out: {"event": "ready"} once;  per job: {"event": "spawned", "pid": n}, the child's own events
       verbatim, then {"event": "exit", "code": c} (c < 0: killed by signal -c).
Linux/macOS only (fork); the launcher falls back to one subprocess per job elsewhere.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import warnings


def _warm_up(targets: list[str]) -> None:
    """Run each requested capture once on a tiny model: lazy imports and caches are paid for here."""
    import torch

    from tracelint.dynamic import runner  # noqa: F401 - import the checker itself too

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = torch.nn.Linear(2, 2).eval()
        x = torch.randn(3, 2)
        with torch.no_grad():
            try:
                if "trace" in targets:
                    torch.jit.trace(m, (x,), check_trace=False)
                if "script" in targets:
                    torch.jit.script(m)
                if "export" in targets:
                    import torch.export

                    ep = torch.export.export(m, (x,), dynamic_shapes=({0: torch.export.Dim.DYNAMIC},))
                    ep.module()(torch.randn(4, 2))
                if "compile" in targets:
                    import torch._dynamo

                    torch.compile(m, fullgraph=True, backend="aot_eager")(x)
                    torch._dynamo.reset()
            except Exception:  # noqa: BLE001 - warm-up is an optimisation only
                pass


def _send(msg: dict) -> None:
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def _serve_one(request: dict) -> None:
    from tracelint.dynamic.worker import child_main

    r, w = os.pipe()
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    pid = os.fork()
    if pid == 0:  # the child: its own session (killable as a group), its own stdio
        try:
            os.close(r)
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(log, 1)
            os.dup2(log, 2)
            sys.stdin = open(0, closefd=False)
            sys.stdout = open(1, "w", buffering=1, closefd=False)
            sys.stderr = open(2, "w", buffering=1, closefd=False)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        except BaseException:  # noqa: BLE001
            os._exit(4)
        child_main(request["job"], w)   # never returns
    os.close(w)
    os.close(log)
    _send({"event": "spawned", "pid": pid})
    with os.fdopen(r, "rb") as events:
        for raw in events:
            sys.stdout.write(raw.decode("utf-8", "replace"))
            sys.stdout.flush()
            if b'"event": "done"' in raw:
                break
    _, status = os.waitpid(pid, 0)
    try:
        os.killpg(pid, signal.SIGKILL)   # leftovers the model started (compile workers...)
    except OSError:
        pass
    _send({"event": "exit", "code": os.waitstatus_to_exitcode(status)})


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the parent decides when we stop
    wanted = [t for t in (sys.argv[1] if len(sys.argv) > 1 else "").split(",") if t]
    _warm_up(wanted or ["trace", "script", "export", "compile"])
    _send({"event": "ready"})
    for line in sys.stdin:
        if not line.strip():
            continue
        _serve_one(json.loads(line))
    os._exit(0)


if __name__ == "__main__":
    main()
