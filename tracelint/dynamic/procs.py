"""Process-tree housekeeping for the example processes: adopt orphans, find and kill descendants.

A process marked as a *child subreaper* (Linux `prctl(PR_SET_CHILD_SUBREAPER)`) becomes the parent
of every orphaned descendant, even one that started its own session (`setsid` daemons), instead
of init. The zygote and each source process are subreapers, so after an example everything it
started is still in their process tree, found through /proc and killed. Elsewhere (no /proc, no
prctl) the session's process group is killed, which is the best POSIX offers.
"""
from __future__ import annotations

import errno
import os
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def set_subreaper() -> bool:
    """Adopt orphaned descendants (Linux only); True when it worked."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _parents() -> dict[int, int] | None:
    """pid -> parent pid of every process, from /proc; None without /proc."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    out: dict[int, int] = {}
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        rest = data[data.rfind(b")") + 2:].split()
        if len(rest) >= 2:
            out[int(name)] = int(rest[1])
    return out


def descendants(pid: int) -> list[int] | None:
    """Every descendant of `pid` (children first); None when they cannot be listed."""
    parents = _parents()
    if parents is None:
        return None
    children: dict[int, list[int]] = {}
    for p, pp in parents.items():
        children.setdefault(pp, []).append(p)
    out: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        p = todo.pop(0)
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def reap() -> None:
    """Collect every exited child (a subreaper inherits zombies it must wait for)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        except OSError as e:
            if e.errno == errno.EINTR:
                continue
            return
        if pid == 0:
            return


def kill_descendants(pid: int | None = None, *, session: int | None = None, rounds: int = 50) -> None:
    """SIGKILL everything below `pid` (default: this process), repeatedly, until nothing is left:
    a process killed while forking leaves children that get adopted in turn."""
    pid = os.getpid() if pid is None else pid
    for _ in range(rounds):
        found = descendants(pid)
        if found is None:
            if session is not None:
                _kill(lambda: os.killpg(session, signal.SIGKILL))
            reap()
            return
        if not found:
            break
        for p in found:
            _kill(lambda p=p: os.kill(p, signal.SIGKILL))
        if pid == os.getpid():
            reap()
        time.sleep(0.01)
    if pid == os.getpid():
        reap()


def _kill(fn) -> None:
    try:
        fn()
    except OSError:
        pass


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:   # a zombie is not alive
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
        return data[data.rfind(b")") + 2:][:1] != b"Z"
    except OSError:
        return True
