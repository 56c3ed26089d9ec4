"""Run every model of the selected zoos, each in its own process (time limit, memory cap), and keep
one JSON record per model in the runs folder. A finished record is reused unless --force: the
collection can be interrupted and resumed."""
from __future__ import annotations

import fnmatch
import json
import os
import queue
import re
import select
import subprocess
import sys
import threading
import time

from envs import HERE, PROBE_VERSION, python_for

WORKER = os.path.join(HERE, "worker.py")


def list_models(zoo: str) -> list[str]:
    out = subprocess.run([python_for(zoo), WORKER, "--zoo", zoo, "--list"], capture_output=True, text=True,
                         cwd=HERE)
    if out.returncode != 0:
        raise SystemExit(f"cannot list zoo {zoo}: {out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def record_path(runs: str, zoo: str, model: str) -> str:
    return os.path.join(runs, zoo, re.sub(r"[^\w.-]", "_", model) + ".json")


def _env(runs: str) -> dict:
    return dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", REALWORLD_THREADS="1",
                HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", PYTHONDONTWRITEBYTECODE="1",
                TORCH_HOME=os.path.join(runs, "torch-home-empty"))


class Server:
    """A `worker.py --serve` process of one zoo: torch and the library imported once, one forked
    child per model (the server enforces the time limit and the memory cap on the child)."""

    def __init__(self, zoo: str, runs: str, slot: int) -> None:
        os.makedirs(os.path.join(runs, zoo), exist_ok=True)
        self.log = open(os.path.join(runs, zoo, f"server-{slot}.log"), "a")
        self.proc = subprocess.Popen([python_for(zoo), WORKER, "--zoo", zoo, "--serve"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.log, cwd=HERE, env=_env(runs))
        reply = self._read(600)
        if not reply or not reply.get("ready"):
            self.close()
            raise RuntimeError(f"the {zoo} server did not start (see {self.log.name})")

    def _read(self, timeout: float) -> dict | None:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            return None
        line = self.proc.stdout.readline()
        return json.loads(line) if line.strip() else None

    def run(self, request: dict) -> dict | None:
        try:
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        return self._read(request["timeout"] + 300)

    def close(self) -> None:
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def finish(zoo: str, model: str, runs: str, reply: dict | None) -> dict:
    """Complete a model's record with how its process ended."""
    out = record_path(runs, zoo, model)
    try:
        with open(out) as fh:
            record = json.load(fh)
    except (OSError, ValueError):
        record = {"id": f"{zoo}/{model}", "family": zoo, "steps": {}}
    reply = reply or {"killed": "the server stopped answering", "exit_code": None}
    record["zoo"] = zoo
    record["wall_seconds"] = reply.get("seconds")
    record["peak_rss_mb"] = reply.get("peak_rss_mb")
    record["exit_code"] = reply.get("exit_code")
    if reply.get("killed"):
        record["killed"] = reply["killed"]
        for step, value in record.get("steps", {}).items():
            if value == "running":
                record["steps"][step] = f"killed: {reply['killed']}"
    elif not record.get("finished"):
        try:
            with open(out[:-5] + ".log") as fh:
                tail = fh.read()[-1500:]
        except OSError:
            tail = ""
        record["crashed"] = f"exit code {reply.get('exit_code')}: {tail.strip()[-600:]}"
    record["finished_any"] = True
    with open(out, "w") as fh:
        json.dump(record, fh, separators=(",", ":"), default=str)
    return record


def model_patterns(text: str) -> list[str]:
    """`--models` globs, comma-separated; `@FILE` reads one glob per line (`#` comments allowed)."""
    out: list[str] = []
    for part in text.split(","):
        part = part.strip()
        if part.startswith("@"):
            with open(part[1:]) as fh:
                out += [line.split("#")[0].strip() for line in fh if line.split("#")[0].strip()]
        elif part:
            out.append(part)
    return out


def matches(zoo: str, name: str, pattern: str) -> bool:
    """A glob with a `/` matches `zoo/name` (exact per zoo), one without matches the name in any zoo."""
    return any(fnmatch.fnmatch(f"{zoo}/{name}" if "/" in p else name, p) for p in model_patterns(pattern))


def collect(zoos: list[str], runs: str, *, pattern: str | None = None, jobs: int = 2, timeout: float = 1200,
            memory_mb: int = 8000, step_seconds: float = 600, force: bool = False, log=print) -> dict:
    todo = []
    for zoo in zoos:
        names = list_models(zoo)
        if pattern:
            names = [n for n in names if matches(zoo, n, pattern)]
        for name in names:
            path = record_path(runs, zoo, name)
            if not force and os.path.exists(path):
                try:
                    with open(path) as fh:
                        old = json.load(fh)
                    if old.get("finished_any") and old.get("probe_version", 1) >= PROBE_VERSION:
                        continue
                except ValueError:
                    pass
            todo.append((zoo, name))
    log(f"collect: {len(todo)} models to run ({jobs} at a time) into {runs}")
    start = time.monotonic()
    lock = threading.Lock()
    done = [0]
    for zoo in zoos:
        pending: queue.Queue = queue.Queue()
        for item in todo:
            if item[0] == zoo:
                pending.put(item[1])
        if pending.empty():
            continue

        def slot(number: int, zoo: str = zoo, pending: queue.Queue = pending) -> None:
            server = None
            while True:
                try:
                    name = pending.get_nowait()
                except queue.Empty:
                    break
                if server is None:
                    server = Server(zoo, runs, number)
                out = record_path(runs, zoo, name)
                if os.path.exists(out):
                    os.remove(out)
                request = {"model": name, "out": out, "log": out[:-5] + ".log", "timeout": timeout,
                           "memory_mb": memory_mb, "step_seconds": step_seconds}
                reply = server.run(request)
                if reply is None:       # the server died or hung: start a new one for the next model
                    server.close()
                    server = None
                record = finish(zoo, name, runs, reply)
                with lock:
                    done[0] += 1
                    status = record.get("killed") or record.get("crashed", "")[:80] or "ok"
                    outcomes = " ".join(f"{t}={(record.get(t) or {}).get('outcome', '-')}"
                                        for t in ("trace", "script", "export"))
                    log(f"[{done[0]}/{len(todo)}] {zoo}/{name}: {record['wall_seconds']}s {outcomes} {status}")
            if server is not None:
                server.close()

        threads = [threading.Thread(target=slot, args=(i,)) for i in range(max(1, jobs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    wall = round(time.monotonic() - start, 1)
    log(f"collect: {len(todo)} models in {wall}s")
    return {"models_run": len(todo), "wall_seconds": wall}
