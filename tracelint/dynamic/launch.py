"""Start example sources in a zygote (see zygote.py) and talk to it with deadlines.

The warm launcher keeps one zygote (torch imported, captures warmed up) for every source; the
cold one starts a fresh zygote per source without warming up (TRACELINT_NO_ZYGOTE=1, or when the
warm one cannot start). Either way a handle reads the job's events with a deadline, kills an
example process by pid (after asking for its stacks), and learns how the source process ended.
"""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from typing import Any

from tracelint.dynamic.procs import alive, kill_descendants

TIMEOUT, EOF = object(), object()
GRACE = 10.0     # seconds a killed process gets to be reported gone


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"     # no __pycache__ in the user's tree
    env.pop("PYTHONFAULTHANDLER", None)
    return env


class LineReader:
    """JSON lines from a file descriptor, each read bounded by a deadline."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buf = b""
        self.eof = False

    def next(self, deadline: float):
        while b"\n" not in self.buf:
            if self.eof:
                return EOF
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return TIMEOUT
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                return TIMEOUT
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                self.eof = True
                continue
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        try:
            return json.loads(line)
        except ValueError:
            return {"event": "garbage"}


def kill_process(pid: int, dump: bool) -> None:
    """SIGKILL `pid`, after asking it for every thread's Python stack (faulthandler on SIGUSR1)."""
    if dump and hasattr(signal, "SIGUSR1"):
        try:
            os.kill(pid, signal.SIGUSR1)
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline and alive(pid):
                time.sleep(0.05)
        except OSError:
            pass
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass


class Handle:
    """One running source job in a zygote."""

    def __init__(self, zygote: "ZygoteLauncher") -> None:
        self.z = zygote
        self.pid: int | None = None       # the source process
        self.exited = False
        self.returncode: int | None = None
        self.log = ""                     # the end of the job's output

    def next(self, deadline: float):
        while True:
            msg = self.z.reader.next(deadline)
            if msg is TIMEOUT:
                return TIMEOUT
            if msg is EOF:   # the zygote itself died
                self.exited = True
                self.z.broken = True
                return EOF
            ev = msg.get("event")
            if ev == "spawned":
                self.pid = msg["pid"]
                continue
            if ev == "exit":
                self.exited = True
                self.returncode = msg.get("code")
                self.log = msg.get("log", "")
                return EOF
            return msg

    def kill_example(self, pid: int, dump: bool = True) -> None:
        if not self.exited:
            kill_process(pid, dump)

    def kill(self, dump: bool = False) -> None:
        """Stop the whole job: the source process (the zygote then kills what is left)."""
        if self.pid is not None and not self.exited:
            kill_process(self.pid, dump)

    def finish(self) -> None:
        """Wait, boundedly, for the zygote to report the job gone; a zygote that does not is
        killed with everything below it and replaced for the next job."""
        if self.exited:
            return
        deadline = time.monotonic() + GRACE
        killed = False
        while not self.exited:
            msg = self.next(deadline)
            if msg is TIMEOUT:
                if killed:
                    self.z.abandon()
                    self.exited = True
                    return
                self.kill(dump=False)
                killed = True
                deadline = time.monotonic() + GRACE


class ZygoteLauncher:
    """Jobs forked from one warm process (see zygote.py); restarted if it ever dies.

    `cold`: no warm-up, and a new zygote for every job (the slow, simple fallback)."""

    def __init__(self, targets: tuple[str, ...] = (), start_timeout: float = 120.0, cold: bool = False) -> None:
        self.targets = targets
        self.start_timeout = start_timeout
        self.cold = cold
        self.proc: subprocess.Popen | None = None
        self.reader: LineReader | None = None
        self.broken = False

    def _ensure(self) -> None:
        if self.proc is not None and not self.broken and self.proc.poll() is None:
            return
        self.close()
        cmd = [sys.executable, "-m", "tracelint.dynamic.zygote", ",".join(self.targets)]
        if self.cold:
            cmd.append("--cold")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=child_env(), start_new_session=True)
        self.reader = LineReader(self.proc.stdout.fileno())
        self.broken = False
        msg = self.reader.next(time.monotonic() + self.start_timeout)
        if not isinstance(msg, dict) or msg.get("event") != "ready":
            self.abandon()
            raise RuntimeError("the example process server did not start")

    def start(self, job: dict[str, Any]) -> Handle:
        if self.cold:
            self.close()
        self._ensure()
        self.proc.stdin.write((json.dumps({"job": job}) + "\n").encode())
        self.proc.stdin.flush()
        return Handle(self)

    def abandon(self) -> None:
        """Kill the zygote and everything below it (it stopped answering)."""
        if self.proc is None:
            return
        kill_descendants(self.proc.pid, session=self.proc.pid)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except OSError:
            pass
        self.proc.wait()
        self.proc = None
        self.broken = True

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=GRACE)
        except subprocess.TimeoutExpired:
            self.abandon()
            return
        self.proc = None


def make_launcher(targets: tuple[str, ...] = ()):
    """The warm zygote unless TRACELINT_NO_ZYGOTE is set (then one cold zygote per source).

    `targets`: the capture mechanisms the zygote warms up (all when empty)."""
    if not hasattr(os, "fork") or sys.platform == "win32":
        raise RuntimeError("the dynamic checker needs fork (Linux or macOS)")
    return ZygoteLauncher(tuple(targets), cold=bool(os.environ.get("TRACELINT_NO_ZYGOTE")))


def SpawnLauncher(targets: tuple[str, ...] = ()) -> ZygoteLauncher:  # noqa: N802 - kept name
    """A fresh, cold process server per source: slower, shares nothing between sources."""
    return ZygoteLauncher(tuple(targets), cold=True)
