"""A pre-warmed parent for example processes: import torch once, fork a source process per job.

Importing torch and the export/compile machinery costs seconds per process; a fork of a process
that already did it costs milliseconds. Each job (one example source) gets a source process
forked from here, which forks one process per example (see worker.py). Protocol on stdin/stdout,
JSON lines, one job at a time:
  in:  {"job": {...}}
  out: {"event": "ready"} once;  per job: {"event": "spawned", "pid": n}, the job's own events
       verbatim ("example-exit" gains "log": the end of that example's output), then
       {"event": "exit", "code": c, "log": "..."} (c < 0: killed by signal -c).
The zygote watches the source process's pid, not only its pipes: a descendant that keeps a pipe
open (a daemon in its own session) cannot hold the job open. It is a subreaper: when the job ends,
every process it left behind is killed. The jobs' output (stdout and stderr of the model) is read
from a pipe and only its end is kept, so a model that prints without end costs no memory.
Linux/macOS only (fork).
"""
from __future__ import annotations

import fcntl
import json
import os
import select
import signal
import sys
import time
import warnings

LOG_TAIL = 64 * 1024          # bytes of an example's output kept for its error report
_POLL = 0.05


def _warm_up(targets: list[str]) -> None:
    """Run each requested capture once on a tiny model: lazy imports and caches are paid for here."""
    import torch

    from tracelint.dynamic import runner  # noqa: F401 - import the checker itself too

    torch.set_num_threads(1)   # no OpenMP thread pool before forking: it would not survive fork
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

                    ep = torch.export.export(m, (x,), dynamic_shapes=({0: torch.export.Dim.AUTO},))
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


class _Tail:
    """The last bytes written to a pipe; a mark per example."""

    def __init__(self, cap: int = 4 * LOG_TAIL) -> None:
        self.cap = cap
        self.data = bytearray()
        self.dropped = 0          # bytes discarded from the front
        self.mark = 0             # absolute offset where the current example started

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > self.cap:
            cut = len(self.data) - self.cap
            del self.data[:cut]
            self.dropped += cut

    def set_mark(self) -> None:
        self.mark = self.dropped + len(self.data)

    def since_mark(self, limit: int = LOG_TAIL) -> str:
        start = max(self.mark - self.dropped, 0, len(self.data) - limit)
        return bytes(self.data[start:]).decode("utf-8", "replace")

    def end(self, limit: int = LOG_TAIL) -> str:
        return bytes(self.data[-limit:]).decode("utf-8", "replace")


def _nonblocking(fd: int) -> None:
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


def _read(fd: int) -> bytes | None:
    """What is there (b"" if nothing yet); None at end of file."""
    try:
        chunk = os.read(fd, 1 << 16)
    except BlockingIOError:
        return b""
    except OSError:
        return None
    return chunk if chunk else None


def _fork_source(job: dict) -> tuple[int, int, int]:
    from tracelint.dynamic.worker import source_main

    ev_r, ev_w = os.pipe()
    log_r, log_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the source process: its own session, its own stdio
        try:
            os.close(ev_r)
            os.close(log_r)
            os.setsid()
            devnull = os.open(os.devnull, os.O_RDONLY)
            os.dup2(devnull, 0)
            os.dup2(log_w, 1)
            os.dup2(log_w, 2)
            os.close(log_w)
            sys.stdin = open(0, closefd=False)
            sys.stdout = open(1, "w", buffering=1, closefd=False)
            sys.stderr = open(2, "w", buffering=1, closefd=False)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        except BaseException:  # noqa: BLE001
            os._exit(4)
        source_main(job, ev_w)   # never returns
    os.close(ev_w)
    os.close(log_w)
    return pid, ev_r, log_r


def _serve_one(request: dict) -> None:
    from tracelint.dynamic.procs import kill_descendants

    pid, ev_r, log_r = _fork_source(request["job"])
    _send({"event": "spawned", "pid": pid})
    for fd in (ev_r, log_r):
        _nonblocking(fd)
    tail = _Tail()
    pending = b""
    open_fds = {ev_r, log_r}
    status: int | None = None

    def drain_log() -> None:
        while log_r in open_fds:
            chunk = _read(log_r)
            if chunk is None:
                open_fds.discard(log_r)
            elif not chunk:
                return
            else:
                tail.add(chunk)

    def relay(line: bytes) -> None:
        if b'"event": "start"' in line:
            drain_log()
            tail.set_mark()
        elif b'"event": "example-exit"' in line:
            drain_log()   # the example has exited: everything it wrote is in the pipe
            try:
                msg = json.loads(line)
            except ValueError:
                return
            msg["log"] = tail.since_mark()
            _send(msg)
            return
        sys.stdout.write(line.decode("utf-8", "replace") + "\n")
        sys.stdout.flush()

    quiet_since: float | None = None
    while True:
        if status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                quiet_since = time.monotonic()
        ready = select.select(list(open_fds), [], [], _POLL)[0] if open_fds else []
        for fd in ready:
            chunk = _read(fd)
            if chunk is None:
                open_fds.discard(fd)
                continue
            if fd == log_r:
                tail.add(chunk)
                continue
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                relay(line)
        if status is not None:
            # the source process is gone: take what is already in the pipes, not what a leftover
            # descendant holding them might still write
            if not ready or not open_fds or time.monotonic() - (quiet_since or 0) > 1.0:
                break
        elif not open_fds:
            time.sleep(_POLL)
    kill_descendants()
    for fd in (ev_r, log_r):
        try:
            os.close(fd)
        except OSError:
            pass
    _send({"event": "exit", "code": os.waitstatus_to_exitcode(status), "log": tail.end()})


def main() -> None:
    from tracelint.dynamic.procs import kill_descendants, set_subreaper

    sys.dont_write_bytecode = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the parent decides when we stop
    set_subreaper()
    args = [a for a in sys.argv[1:]]
    cold = "--cold" in args
    wanted = [t for t in (args[0] if args and not args[0].startswith("--") else "").split(",") if t]
    if not cold:
        _warm_up(wanted or ["trace", "script", "export", "compile"])
    _send({"event": "ready"})
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            _serve_one(json.loads(line))
    except (BrokenPipeError, OSError):
        pass   # the parent went away
    finally:
        kill_descendants()
        os._exit(0)


if __name__ == "__main__":
    main()
