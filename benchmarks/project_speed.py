"""Wall times of the project model and its caches, as users meet them (fresh processes).

usage: python benchmarks/project_speed.py PACKAGE [--lint models] [--repeat 5] [--work DIR] [--skip-cold]

PACKAGE is a package folder to copy (e.g. transformers from a venv's site-packages; nothing is
changed in place); `--lint` is the sub-folder linted, as a user would (`tracelint PACKAGE/models`).
Measures, each a median of `--repeat` runs:

- `tracelint empty.py` in an empty folder (start-up);
- the cold run on an empty cache (once), then the warm re-run with nothing changed;
- one changed ~500-line model file linted as pre-commit runs it (`tracelint FILE`, warm caches):
  an edit that leaves what other files see unchanged (a comment line above the code), and an edit
  that changes it (a new module-level function);
- the language server: time from `didChange` to `publishDiagnostics` for an edit of that file;
- the warm re-run and both edits again with `--daemon` (the background server already up).

Never part of the test-suite (timings are not assertions). Results: benchmarks/project_results.json.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def wall(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    global LAST_CPU
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, p


LAST_CPU = 0.0   # CPU seconds (user + system) of the last command run by `wall`
CPU: dict[str, float] = {}   # measure name -> median CPU seconds (the figure that a loaded machine does not inflate)


def median_wall(cmd, cwd, env, repeat: int, before=None, name: str = "") -> float:
    """Median wall seconds of `repeat` fresh runs; the median CPU seconds go to CPU[name]."""
    times, cpus = [], []
    for i in range(repeat):
        if before is not None:
            before(i)
        t, p = wall(cmd, cwd, env)
        if p.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} failed: {p.stderr[-2000:]}")
        times.append(t)
        cpus.append(LAST_CPU)
    CPU[name] = statistics.median(cpus)
    return statistics.median(times)


def pick_model_file(tree: Path, target_lines: int = 500) -> Path:
    """A modeling file with an nn.Module forward, closest to `target_lines` lines."""
    best = None
    for f in sorted(tree.rglob("modeling_*.py")):
        text = f.read_text(encoding="utf-8", errors="replace")
        if "def forward(" not in text or "nn.Module" not in text:
            continue
        n = text.count("\n")
        if best is None or abs(n - target_lines) < abs(best[0] - target_lines):
            best = (n, f)
    if best is None:
        raise SystemExit(f"no modeling_*.py with a forward under {tree}")
    return best[1]


async def lsp_latency(model: Path, cwd: Path, env: dict[str, str], repeat: int) -> tuple[float, float]:
    """(median seconds from didChange to publishDiagnostics for that version, first open)."""
    from lsprotocol import types as lsp
    from pygls.lsp.client import LanguageClient
    from pygls.uris import from_fs_path

    client = LanguageClient("bench", "1")
    got: dict[int, float] = {}
    waiters: dict[int, asyncio.Future] = {}

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_publish(params: lsp.PublishDiagnosticsParams) -> None:
        got[params.version] = time.perf_counter()
        fut = waiters.get(params.version)
        if fut is not None and not fut.done():
            fut.set_result(None)

    loop = asyncio.get_running_loop()
    await client.start_io(sys.executable, "-m", "tracelint", "server", env=env, cwd=str(cwd))
    await client.initialize_async(lsp.InitializeParams(process_id=os.getpid(), root_uri=from_fs_path(str(cwd)),
                                                      capabilities=lsp.ClientCapabilities()))
    client.initialized(lsp.InitializedParams())
    uri = from_fs_path(str(model))
    text = model.read_text(encoding="utf-8")
    waiters[1] = loop.create_future()
    t0 = time.perf_counter()
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text)))
    await asyncio.wait_for(waiters[1], 600)
    first_open = got[1] - t0
    latencies = []
    for i in range(repeat + 1):
        version = i + 2
        waiters[version] = loop.create_future()
        edit = lsp.TextDocumentContentChangePartial(
            range=lsp.Range(lsp.Position(0, 0), lsp.Position(0, 0)), text=f"# edit {i} {time.time_ns()}\n")
        t = time.perf_counter()
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=version), [edit]))
        await asyncio.wait_for(waiters[version], 600)
        if i:  # the first edit warms the result cache of the files around it
            latencies.append(got[version] - t)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return statistics.median(latencies), first_open


def daemon_measures(exe, lint_dir: Path, model: Path, original: str, work: Path, env, repeat: int,
                    body_edit, interface_edit, out: dict) -> None:
    """The same runs with `--daemon` (the server already up; CPU figures are the client's only)."""
    from tracelint.daemon import socket_path
    os.environ["TRACELINT_CACHE_DIR"] = env["TRACELINT_CACHE_DIR"]
    sock = socket_path()
    wall([*exe, "--daemon", str(lint_dir), "-q", "--exit-zero"], work, env)   # starts the server
    deadline = time.monotonic() + 120
    while sock and not os.path.exists(sock) and time.monotonic() < deadline:
        time.sleep(0.2)
    wall([*exe, "--daemon", str(lint_dir), "-q", "--exit-zero"], work, env)   # the server reads the project
    out["daemon_warm_unchanged_s"] = median_wall([*exe, "--daemon", str(lint_dir), "-q", "--exit-zero"], work, env,
                                                 repeat, name="daemon_warm_unchanged_s")
    print(f"--daemon: warm re-run, nothing changed  {out['daemon_warm_unchanged_s']:.3f} s")
    out["daemon_precommit_body_edit_s"] = median_wall([*exe, "--daemon", str(model), "-q", "--exit-zero"], work, env,
                                                      repeat, before=body_edit, name="daemon_precommit_body_edit_s")
    print(f"--daemon: one changed file (body)       {out['daemon_precommit_body_edit_s']:.3f} s")
    out["daemon_precommit_interface_edit_s"] = median_wall(
        [*exe, "--daemon", str(model), "-q", "--exit-zero"], work, env, repeat, before=interface_edit,
        name="daemon_precommit_interface_edit_s")
    print(f"--daemon: one changed file (interface)  {out['daemon_precommit_interface_edit_s']:.3f} s")
    model.write_text(original, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("package")
    ap.add_argument("--lint", default="models")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--work", default="/tmp/tracelint-project-bench")
    ap.add_argument("--skip-cold", action="store_true", help="reuse the copy and cache of a previous run")
    a = ap.parse_args()

    work = Path(a.work)
    src = Path(a.package).resolve()
    tree = work / src.name
    cache = work / "cache"
    if not a.skip_cold:
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        shutil.copytree(src, tree, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (work / "empty").mkdir(exist_ok=True)
    (work / "empty" / "empty.py").write_text("")
    # as installed: byte-compiled modules (a PYTHONDONTWRITEBYTECODE=1 shell would re-compile
    # tracelint's sources on every run) and the caches on
    env = {k: v for k, v in os.environ.items() if k not in ("TRACELINT_NO_CACHE", "PYTHONDONTWRITEBYTECODE")}
    env["TRACELINT_CACHE_DIR"] = str(cache)
    exe = [sys.executable, "-m", "tracelint"]
    lint_dir = tree / a.lint
    files = sorted(lint_dir.rglob("*.py"))
    lines = sum(f.read_bytes().count(b"\n") for f in files)
    out: dict[str, object] = {"tree": f"{src.name}/{a.lint}", "files": len(files), "lines": lines,
                              "repeat": a.repeat, "python": platform.python_version(),
                              "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                              "load_before": os.getloadavg()[0]}
    print(f"{len(files)} files, {lines:,} lines under {lint_dir}")

    wall([*exe, "empty.py", "-q"], work / "empty", env)   # byte-compile tracelint once, as an install does
    out["empty_py_s"] = median_wall([*exe, "empty.py", "-q"], work / "empty", env, a.repeat, name="empty_py_s")
    print(f"tracelint empty.py                      {out['empty_py_s']:.3f} s")

    if not a.skip_cold:
        t, p = wall([*exe, str(lint_dir), "-q", "--exit-zero", "--format", "json"], work, env)
        out["cold_s"] = t
        out["findings"] = len(json.loads(p.stdout)["findings"])
        print(f"cold run (empty cache)                  {t:.1f} s, {out['findings']} findings")
    out["warm_unchanged_s"] = median_wall([*exe, str(lint_dir), "-q", "--exit-zero"], work, env, a.repeat, name="warm_unchanged_s")
    print(f"warm re-run, nothing changed            {out['warm_unchanged_s']:.3f} s")

    model = pick_model_file(lint_dir)
    original = model.read_text(encoding="utf-8")
    out["changed_file"] = str(model.relative_to(tree))
    out["changed_file_lines"] = original.count("\n")
    print(f"changed file: {out['changed_file']} ({out['changed_file_lines']} lines)")
    try:
        def body_edit(i: int) -> None:
            model.write_text(f"# edit {i} {time.time()}\n" + original, encoding="utf-8")

        def interface_edit(i: int) -> None:
            model.write_text(original + f"\n\ndef _bench_helper_{i}_{int(time.time())}(x):\n    return x\n",
                             encoding="utf-8")

        wall([*exe, str(model), "-q", "--exit-zero"], work, env)  # the snapshot knows the original
        out["precommit_body_edit_s"] = median_wall([*exe, str(model), "-q", "--exit-zero"], work, env,
                                                   a.repeat, before=body_edit, name="precommit_body_edit_s")
        print(f"pre-commit, one changed file (body)     {out['precommit_body_edit_s']:.3f} s")
        out["precommit_interface_edit_s"] = median_wall([*exe, str(model), "-q", "--exit-zero"], work, env,
                                                        a.repeat, before=interface_edit, name="precommit_interface_edit_s")
        print(f"pre-commit, one changed file (interface) {out['precommit_interface_edit_s']:.3f} s")
        model.write_text(original, encoding="utf-8")
        wall([*exe, str(model), "-q", "--exit-zero"], work, env)
        try:
            latency, first = asyncio.run(lsp_latency(model, work, env, a.repeat))
            out["lsp_did_change_s"] = latency
            out["lsp_first_open_s"] = first
            print(f"LSP didChange -> diagnostics           {latency * 1000:.0f} ms (first open {first:.2f} s)")
        except ImportError:
            print("LSP: pygls not installed (pip install 'tracelint[lsp]')")
        daemon_measures(exe, lint_dir, model, original, work, env, a.repeat, body_edit, interface_edit, out)
    finally:
        subprocess.run([*exe, "daemon", "stop"], cwd=work, env=env, capture_output=True)
        model.write_text(original, encoding="utf-8")
    out["cpu_s"] = CPU
    print("CPU seconds (median):", ", ".join(f"{k} {v:.3f}" for k, v in CPU.items()))
    out["load_after"] = os.getloadavg()[0]
    (HERE / "project_results.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
