"""An opt-in background server for runs that must start fast (pre-commit, scripts): `tracelint
--daemon FILES` hands the run to a process that already has LibCST and the rules imported and the
project index in memory, and prints exactly what `tracelint FILES` would (the same CLI code runs
there, in the client's folder and environment).

Why: a fresh process spends a fifth of a second importing LibCST before it can lint one file; a
warm server lints a changed 500-line file in a tenth of that. Like mypy's dmypy, but started on
first use and gone after `TRACELINT_DAEMON_IDLE` seconds without a request (default 900).

Safety: the socket lives in a folder of the cache directory that only the user can enter (0700),
and the server answers only its own user (peer credentials where the platform has them). A server
built from other tracelint sources (an upgrade, a local edit) or another Python refuses the
request and exits; the client then lints in its own process. Any failure to reach a server means
a normal local run, never an error.

Protocol: one request per connection, each message a 4-byte big-endian length and UTF-8 JSON.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import struct
import sys
import time

ENV_ON = "TRACELINT_DAEMON"          # "1": every `tracelint check` run goes through the server
ENV_IDLE = "TRACELINT_DAEMON_IDLE"   # seconds without a request before the server exits
DEFAULT_IDLE = 900.0
_WAKE_S = 30.0                       # how often an idle server checks whether it is still wanted
FLAG = "--daemon"
_MAX_MESSAGE = 1 << 30
# commands and arguments that stay local: other commands, stdin, help and version
_LOCAL_ARGS = {"-", "--stdin-filename", "-h", "--help", "--version", "--show-settings", "--show-files",
               "--dynamic", "--add-noqa"}
_COMMANDS = {"rules", "rule", "confirm", "server", "cache", "daemon"}


def identity(fresh: bool = False) -> str:
    """What the server must share with its client: tracelint's sources, LibCST and Python (`fresh`:
    read again, not the memoised value a long-lived server computed when it started)."""
    from tracelint.buildinfo import environment
    env = environment.__wrapped__() if fresh else environment()
    return hashlib.sha256(json.dumps(env, sort_keys=True).encode()).hexdigest()


def socket_path() -> str | None:
    """The socket for this user and this build of tracelint, or None (caching off, path too long)."""
    from tracelint.buildinfo import default_dir
    folder = default_dir()
    if folder is None:
        return None
    uid = os.getuid() if hasattr(os, "getuid") else 0
    path = os.path.join(str(folder), "daemon", f"{uid}-{identity()[:16]}.sock")
    return path if len(path.encode()) < 100 else None   # AF_UNIX paths are short on every platform


# -- client -------------------------------------------------------------------------------------
def wanted(args: list[str]) -> tuple[bool, list[str]]:
    """(does this run go to the server, the arguments without --daemon)."""
    rest = [a for a in args if a != FLAG]
    on = len(rest) != len(args) or os.environ.get(ENV_ON, "") == "1"
    if not on or not hasattr(socket, "AF_UNIX"):
        return False, rest
    if rest and rest[0] in _COMMANDS:
        return False, rest
    if any(a in _LOCAL_ARGS or a.startswith("--stdin-filename=") for a in rest):
        return False, rest
    return True, rest


def forward(args: list[str]) -> int | None:
    """Run `tracelint check ARGS` in the server and print its output; None when no server answered
    (one is started in the background for the next run, and this run goes on locally)."""
    path = socket_path()
    if path is None:
        return None
    request = {"identity": identity(), "argv": args, "cwd": os.getcwd(), "env": dict(os.environ),
               "isatty": [_isatty(sys.stdout), _isatty(sys.stderr)]}
    try:
        reply = _ask(path, request)
    except (OSError, ValueError):
        start(path)
        return None
    if not isinstance(reply, dict) or reply.get("restart") or not isinstance(reply.get("exit"), int):
        return None
    sys.stdout.write(str(reply.get("stdout", "")))
    sys.stdout.flush()
    sys.stderr.write(str(reply.get("stderr", "")))
    sys.stderr.flush()
    return reply["exit"]


def start(path: str) -> None:
    """Start a server for `path` in its own session, detached from this run's terminal."""
    import subprocess
    try:
        _private_folder(path)
        subprocess.Popen([sys.executable, "-m", "tracelint.daemon", "serve", path], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         close_fds=True, cwd=os.path.dirname(path))
    except OSError:
        pass


def stop() -> bool:
    """Ask this build's server to exit; False when none was running."""
    path = socket_path()
    if path is None:
        return False
    try:
        _ask(path, {"identity": identity(), "stop": True})
        return True
    except (OSError, ValueError):
        return False


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _private_folder(path: str) -> None:
    """The socket's folder, which only this user can enter."""
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    os.chmod(os.path.dirname(path), 0o700)


def _ask(path: str, message: dict):
    """One request, one reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        _send(s, message)
        return _receive(s)


def _send(s: socket.socket, message: dict) -> None:
    data = json.dumps(message).encode("utf-8")
    s.sendall(struct.pack(">I", len(data)) + data)


def _receive(s: socket.socket):
    head = _exactly(s, 4)
    (n,) = struct.unpack(">I", head)
    if n > _MAX_MESSAGE:
        raise ValueError("message too big")
    return json.loads(_exactly(s, n).decode("utf-8"))


def _exactly(s: socket.socket, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = s.recv(min(n - got, 1 << 20))
        if not chunk:
            raise ValueError("connection closed")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


# -- server -------------------------------------------------------------------------------------
class _Stream(io.StringIO):
    """Captured output that answers isatty() as the client's terminal would (colour: auto)."""

    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def _same_user(conn: socket.socket) -> bool:
    so_peercred = getattr(socket, "SO_PEERCRED", None)
    if so_peercred is None:
        return True   # the 0700 folder is the guard
    try:
        _, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, so_peercred, struct.calcsize("3i")))
    except OSError:
        return False
    return uid == os.getuid()


def run_request(request: dict) -> dict:
    """One CLI run as the client asked for it: its folder, environment and terminal."""
    import warnings

    from tracelint import cli
    from tracelint.project import forget_folders
    forget_folders()   # folder lookups are remembered per run: markers and packages may have changed since
    argv = [str(a) for a in request.get("argv", [])]
    tty = request.get("isatty") or [False, False]
    out, err = _Stream(bool(tty[0])), _Stream(bool(tty[1]))
    saved_env, saved_cwd = dict(os.environ), os.getcwd()
    saved_streams = sys.stdout, sys.stderr
    code = 0
    try:
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in (request.get("env") or {}).items()})
        os.environ.pop(ENV_ON, None)
        os.chdir(str(request.get("cwd") or "/"))
        sys.stdout, sys.stderr = out, err
        with warnings.catch_warnings():
            try:
                cli.cli.main(argv, prog_name="tracelint", standalone_mode=True)
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
                if isinstance(e.code, str):
                    err.write(e.code + "\n")
    except Exception as e:  # noqa: BLE001 - the server survives any run; the client sees the error
        err.write(f"tracelint: error: the daemon failed on this run ({type(e).__name__}: {e})\n")
        code = 2
    finally:
        sys.stdout, sys.stderr = saved_streams
        os.environ.clear()
        os.environ.update(saved_env)
        try:
            os.chdir(saved_cwd)
        except OSError:
            os.chdir("/")
    return {"stdout": out.getvalue(), "stderr": err.getvalue(), "exit": code}


def serve(path: str, idle: float | None = None) -> None:
    """Answer requests on `path` until idle for `idle` seconds, asked to stop, or outdated."""
    from tracelint import engine
    if idle is None:
        try:
            idle = float(os.environ.get(ENV_IDLE, DEFAULT_IDLE))
        except ValueError:
            idle = DEFAULT_IDLE
    me = identity()
    engine.LIVE_STATES = {}          # project states stay in memory between runs
    import libcst  # noqa: F401 - imported once, here, so that no run pays for it
    from tracelint.rules import all_rules
    all_rules()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    bound = None
    try:
        bound = _bind(sock, path)
        if bound is None:
            return
        sock.listen(8)
        sock.settimeout(min(idle, _WAKE_S))
        last = time.monotonic()
        while True:
            try:
                conn, _ = sock.accept()
            except socket.timeout:
                # idle long enough, or tracelint was upgraded / edited (clients now look elsewhere)
                if time.monotonic() - last >= idle or identity(fresh=True) != me:
                    break
                continue
            last = time.monotonic()
            with conn:
                conn.settimeout(60)
                try:
                    request = _receive(conn)
                    if not isinstance(request, dict) or not _same_user(conn):
                        continue
                    if request.get("identity") != me:
                        _send(conn, {"restart": True})
                        break
                    if request.get("stop"):
                        _send(conn, {"stopped": True})
                        break
                    _send(conn, run_request(request))
                except (OSError, ValueError):
                    continue
            if not os.path.exists(path):   # removed (cache cleared): nobody can reach us any more
                break
    finally:
        sock.close()
        try:   # remove our socket, not one a newer server bound at the same path since
            if bound is not None and _inode(path) == bound:
                os.unlink(path)
        except OSError:
            pass


def _inode(path: str) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def _bind(sock: socket.socket, path: str) -> tuple[int, int] | None:
    """Bind to `path` unless a live server already answers there (then this one is not needed);
    the bound socket file's identity, or None."""
    _private_folder(path)
    if os.path.exists(path):
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(path)
            return None            # another server is up
        except OSError:
            os.unlink(path)        # a stale socket of a server that died
        finally:
            probe.close()
    try:
        sock.bind(path)
    except OSError:
        return None
    return _inode(path)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "serve":
        serve(args[1])
        return
    sys.exit("usage: python -m tracelint.daemon serve SOCKET")


if __name__ == "__main__":
    main()
