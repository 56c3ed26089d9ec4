"""Start example processes: forked from a warm zygote (fast), or one plain subprocess per job.

Both give the same handle: read the child's events with a deadline, kill it (after asking for
its stacks), and learn how it ended.
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

TIMEOUT, EOF = object(), object()


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONUNBUFFERED"] = "1"
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


def _kill_group(pid: int, dump: bool) -> None:
    if dump and hasattr(signal, "SIGUSR1"):
        try:
            os.kill(pid, signal.SIGUSR1)   # faulthandler writes every thread's stack to the log
            time.sleep(0.5)
        except OSError:
            pass
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        try:
            kill()
            return
        except OSError:
            continue


class Handle:
    """One running job."""

    returncode: int | None = None

    def next(self, deadline: float):  # pragma: no cover - interface
        raise NotImplementedError

    def kill(self, dump: bool) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def finish(self) -> None:
        """Wait for the process to be gone and `returncode` known."""


class SpawnHandle(Handle):
    def __init__(self, job: dict[str, Any], log: str) -> None:
        rfd, wfd = os.pipe()
        self._log = open(log, "wb")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tracelint.dynamic.worker", "--fd", str(wfd), "--job", json.dumps(job)],
                stdin=subprocess.DEVNULL, stdout=self._log, stderr=self._log, pass_fds=(wfd,),
                env=child_env(), start_new_session=True)
        finally:
            os.close(wfd)
        self.reader = LineReader(rfd)

    def next(self, deadline: float):
        return self.reader.next(deadline)

    def kill(self, dump: bool) -> None:
        if self.proc.poll() is None:
            _kill_group(self.proc.pid, dump)

    def finish(self) -> None:
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _kill_group(self.proc.pid, False)
            self.proc.wait()
        self.returncode = self.proc.returncode
        os.close(self.reader.fd)
        self._log.close()


class SpawnLauncher:
    """One fresh interpreter per job: slow (imports torch each time) but needs no fork."""

    def start(self, job: dict[str, Any], log: str) -> Handle:
        return SpawnHandle(job, log)

    def close(self) -> None:
        pass


class ZygoteHandle(Handle):
    def __init__(self, zygote: "ZygoteLauncher") -> None:
        self.z = zygote
        self.pid: int | None = None
        self.exited = False

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
                return EOF
            return msg

    def kill(self, dump: bool) -> None:
        if self.pid is not None and not self.exited:
            _kill_group(self.pid, dump)

    def finish(self) -> None:
        deadline = time.monotonic() + 15
        while not self.exited:
            msg = self.next(deadline)
            if msg is TIMEOUT:
                self.kill(False)
                if time.monotonic() > deadline + 15:
                    self.z.broken = True
                    return
                deadline = time.monotonic() + 5


class ZygoteLauncher:
    """Jobs forked from one warm process (see zygote.py); restarted if it ever dies."""

    def __init__(self, targets: tuple[str, ...] = (), start_timeout: float = 120.0) -> None:
        self.targets = targets
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.reader: LineReader | None = None
        self.broken = False

    def _ensure(self) -> None:
        if self.proc is not None and not self.broken and self.proc.poll() is None:
            return
        self.close()
        self.proc = subprocess.Popen([sys.executable, "-m", "tracelint.dynamic.zygote", ",".join(self.targets)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=child_env(), start_new_session=True)
        self.reader = LineReader(self.proc.stdout.fileno())
        self.broken = False
        msg = self.reader.next(time.monotonic() + self.start_timeout)
        if not isinstance(msg, dict) or msg.get("event") != "ready":
            self.close()
            raise RuntimeError("the example process server did not start")

    def start(self, job: dict[str, Any], log: str) -> Handle:
        self._ensure()
        self.proc.stdin.write((json.dumps({"job": job, "log": log}) + "\n").encode())
        self.proc.stdin.flush()
        return ZygoteHandle(self)

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _kill_group(self.proc.pid, False)
            self.proc.wait()
        self.proc = None


def make_launcher(targets: tuple[str, ...] = ()):
    """The zygote where fork exists (and TRACELINT_NO_ZYGOTE is unset), else plain subprocesses.

    `targets`: the capture mechanisms the zygote warms up (all when empty)."""
    if hasattr(os, "fork") and sys.platform != "win32" and not os.environ.get("TRACELINT_NO_ZYGOTE"):
        return ZygoteLauncher(tuple(targets))
    return SpawnLauncher()
