"""One model in one process: `python worker.py --zoo torchvision --model resnet18 --out r.json`.

Run by `collect.py` with the library venv's interpreter; `--list` prints the zoo's model ids.
Needs only torch and the model library (never tracelint: the ground truth must not depend on the
tool it scores).
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import resource
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def library_roots(packages: list[str]) -> dict[str, str]:
    """package folder -> the folder paths are made relative to (its site-packages)."""
    roots = {}
    for name in packages:
        found = importlib.util.find_spec(name)
        if found is None or not found.submodule_search_locations:
            raise SystemExit(f"library {name} is not importable here ({sys.executable})")
        folder = os.path.realpath(list(found.submodule_search_locations)[0])
        roots[folder + os.sep] = os.path.dirname(folder)
    return roots


def make_probe_env(zoo):
    roots = library_roots(zoo.LIBRARIES)
    cache: dict[str, str | None] = {}

    def owner(path: str) -> str | None:
        if path not in cache:
            real = os.path.realpath(path) if path and not path.startswith("<") else ""
            cache[path] = next((base for folder, base in roots.items() if real.startswith(folder)), None)
        return cache[path]

    def is_library(path: str) -> bool:
        return owner(path) is not None

    def relpath(path: str) -> str:
        base = owner(path)
        return os.path.relpath(os.path.realpath(path), base).replace(os.sep, "/") if base else path

    return is_library, relpath


def run_model(zoo, model: str, out: str, step_seconds: float) -> None:
    from probe import Probe
    is_library, relpath = make_probe_env(zoo)
    spec = zoo.spec(model)
    probe = Probe(spec, is_library, relpath, out, step_seconds=step_seconds)
    probe.record["versions"] = zoo.versions() if hasattr(zoo, "versions") else {}
    probe.run()
    probe.record["finished"] = True
    probe.dump()


def _rss_mb(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def serve(zoo) -> int:
    """Fork server: torch and the libraries are imported once; each request (a JSON line on stdin:
    model, out, log, timeout, memory_mb, step_seconds) runs in a forked child with its own session,
    output file, time limit and memory cap; the reply is a JSON line on stdout."""
    import time

    import torch
    import torch.export  # noqa: F401 - imported once here rather than in every child
    import torch._dynamo  # noqa: F401
    import probe  # noqa: F401
    for name in zoo.LIBRARIES:
        importlib.import_module(name)
    if hasattr(zoo, "prewarm"):
        zoo.prewarm()
    torch.set_num_threads(int(os.environ.get("REALWORLD_THREADS", "1")))
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child: one model
            code = 0
            try:
                os.setsid()
                fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                if request.get("address_space_mb"):
                    cap = request["address_space_mb"] * 1024 * 1024
                    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
                run_model(zoo, request["model"], request["out"], request["step_seconds"])
            except BaseException:  # noqa: BLE001 - report and leave
                import traceback
                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        killed = None
        peak = 0.0
        status = 0
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.25)
            rss = _rss_mb(pid)
            peak = max(peak, rss)
            if time.monotonic() - start > request["timeout"]:
                killed = f"timeout after {request['timeout']:.0f}s"
            elif request.get("memory_mb") and rss > request["memory_mb"]:
                killed = f"memory: {rss:.0f} MB > {request['memory_mb']} MB"
            if killed:
                try:
                    os.killpg(pid, 9)
                except ProcessLookupError:
                    pass
                os.waitpid(pid, 0)
                break
        code = os.waitstatus_to_exitcode(status) if not killed else -9
        print(json.dumps({"model": request["model"], "exit_code": code, "killed": killed, "peak_rss_mb": round(peak),
                          "seconds": round(time.monotonic() - start, 1)}), flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--zoo", required=True)
    parser.add_argument("--model")
    parser.add_argument("--out")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--serve", action="store_true", help="fork server (see serve())")
    parser.add_argument("--memory-mb", type=int, default=0, help="address-space cap (0: none)")
    parser.add_argument("--step-seconds", type=float, default=600.0)
    args = parser.parse_args()

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    zoo = importlib.import_module(f"zoo_{args.zoo}")
    if args.list:
        print(json.dumps(zoo.ids()))
        return 0
    if args.serve:
        return serve(zoo)
    if args.memory_mb:
        cap = args.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    import torch
    torch.set_num_threads(int(os.environ.get("REALWORLD_THREADS", "1")))
    run_model(zoo, args.model, args.out, args.step_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
