"""The dynamic checker end to end: child processes, crashes, timeouts, the CLI and `--dynamic`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT

pytest.importorskip("torch")
pytestmark = pytest.mark.slow


def run_cli(*args, cwd=ROOT, env=None):
    return subprocess.run([sys.executable, "-m", "tracelint", *args], capture_output=True, text=True,
                          cwd=cwd, env={**os.environ, **(env or {})}, timeout=300)


@pytest.fixture(scope="module")
def crashes():
    from tracelint.dynamic.api import confirm_sources

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return confirm_sources(["fixtures/dynamic/hanging_model.py", "fixtures/dynamic/aborting_model.py",
                                "fixtures/dynamic/examples_raise.py", "fixtures/dynamic/out_of_memory.py"],
                               capture_targets=("trace", "script"), timeout=60.0, memory_mb=3000)
    finally:
        os.chdir(cwd)


def test_hang_abort_raise_and_oom_are_reported_at_their_lines(crashes):
    failed = {(d.path, d.line): d for d in crashes.diagnostics if d.code == "TL903"}
    assert set(failed) == {("fixtures/dynamic/hanging_model.py", 20), ("fixtures/dynamic/aborting_model.py", 15),
                           ("fixtures/dynamic/examples_raise.py", 17), ("fixtures/dynamic/out_of_memory.py", 8)}
    assert "did not finish within 60 s" in failed["fixtures/dynamic/hanging_model.py", 20].message
    assert "SIGABRT" in failed["fixtures/dynamic/aborting_model.py", 15].message
    assert "FileNotFoundError" in failed["fixtures/dynamic/examples_raise.py", 17].message
    assert "out of memory" in failed["fixtures/dynamic/out_of_memory.py", 8].message
    assert all(d.verdict == "not-checked" for d in failed.values())   # a set-up problem, not a defect
    assert len(crashes.errors) == 1 and "TL903" in crashes.errors[0]


def test_other_examples_in_the_same_file_still_run(crashes):
    tables = {t["example"]: t["rows"] for t in crashes.dynamic}
    for name in ("fixtures/dynamic/hanging_model.py::Fine", "fixtures/dynamic/aborting_model.py::Fine"):
        results = {(r["variant"], r["target"]): r["result"] for r in tables[name]}
        assert results[("example", "trace")] == "match" and results[("example", "script")] == "match"
        assert len(results) > 10
    assert tables["fixtures/dynamic/hanging_model.py::WaitsForWarmup"][0]["result"].startswith("timeout")


def test_plain_subprocess_launcher_reports_a_crash_too():
    from tracelint.dynamic.isolation import Options, run_source
    from tracelint.dynamic.launch import SpawnLauncher

    launcher = SpawnLauncher()
    out = run_source({"kind": "file", "path": str(ROOT / "fixtures/dynamic/aborting_model.py")}, "aborting",
                     Options(targets=("trace",), timeout=60), launcher=launcher)
    assert [r["status"] for r in out.examples] == ["crashed", "ok"]
    assert out.examples[0]["error"]["location"]["line"] == 15


def test_cli_json_verdicts_and_exit_codes(tmp_path):
    out = tmp_path / "r.json"
    r = run_cli("confirm", "fixtures/dynamic/list_index_tensor.py", "--target", "trace,script",
                "--format", "json", "-o", str(out))
    assert r.returncode == 1, r.stderr
    data = json.loads(out.read_text())
    d = next(f for f in data["findings"] if f["code"] == "TL205")
    assert d["verdict"] == "confirmed" and any("Tensor.__index__" in e for e in d["evidence"])
    assert data["dynamic"] and data["dynamic"][0]["example"].endswith("list_index_tensor.py::MultiTaskHead")
    clean = run_cli("confirm", "fixtures/dynamic/clean_mlp.py", "-q")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "Dynamic check:" in clean.stdout and "match" in clean.stdout
    missing = run_cli("confirm", "no/such/file.py")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    bad = run_cli("confirm", "fixtures/dynamic/clean_mlp.py", "--target", "jit")
    assert bad.returncode == 2


def test_model_output_never_reaches_machine_readable_stdout(tmp_path):
    (tmp_path / "noisy.py").write_text(textwrap.dedent('''
        import sys
        import torch
        from torch import nn

        print("importing noisy")


        class Noisy(nn.Module):
            def forward(self, x):
                print("forward", x.shape)
                print("to stderr", file=sys.stderr)
                return x * 2


        def tracelint_examples():
            print("building examples")
            return [(Noisy(), (torch.randn(2, 3),))]
        '''), encoding="utf-8")
    r = run_cli("confirm", str(tmp_path / "noisy.py"), "--format", "sarif", "--target", "trace")
    assert r.returncode == 0, r.stderr
    sarif = json.loads(r.stdout)                        # nothing but the report on stdout
    assert sarif["runs"][0]["properties"]["dynamic"][0]["rows"]
    assert "forward" not in r.stderr


def test_module_function_target(tmp_path):
    pkg = tmp_path / "zoo"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "models.py").write_text(textwrap.dedent('''
        import torch
        from torch import nn


        class Gate(nn.Module):
            def forward(self, x):
                if x.sum() > 0:
                    return x * 2
                return x


        def my_examples():
            return [(Gate(), (torch.ones(2, 3),))]
        '''), encoding="utf-8")
    r = run_cli("confirm", "zoo.models:my_examples", "--target", "trace", "--format", "jsonl", cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    gate = [x for x in lines if x.get("code") == "TL101"]
    assert gate and gate[0]["verdict"] == "confirmed" and gate[0]["line"] == 8


def test_lint_dynamic_merges_verdicts(tmp_path):
    out = tmp_path / "r.json"
    r = run_cli("--dynamic", "fixtures/dynamic/silent_range_loop.py", "fixtures/dynamic/clean_mlp.py",
                "--format", "json", "-o", str(out))
    assert r.returncode == 1, r.stderr
    data = json.loads(out.read_text())
    d = next(f for f in data["findings"] if f["code"] == "TL304")
    assert d["verdict"] == "confirmed"
    assert {t["example"] for t in data["dynamic"]} == {"fixtures/dynamic/silent_range_loop.py::DecayPool",
                                                       "fixtures/dynamic/clean_mlp.py::ResidualMLP"}


# -- issue 9, the process-level points ---------------------------------------------------------------
def _write(path, text: str) -> str:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def test_setup_problems_exit_2_with_what_to_do(tmp_path):
    plain = _write(tmp_path / "plain.py", "import torch\n")
    r = run_cli("confirm", plain)
    assert r.returncode == 2 and "tracelint_examples" in r.stderr
    r = run_cli("confirm", "no_such_pkg.models:examples", "--target", "trace")
    assert r.returncode == 2 and "no_such_pkg" in r.stdout + r.stderr
    assert not [ln for ln in r.stdout.splitlines() if "TL901" in ln or "TL902" in ln]


def test_progress_on_stderr_without_a_terminal():
    r = run_cli("confirm", "fixtures/dynamic/clean_mlp.py", "--target", "trace")
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("tracelint confirm:")]
    assert any(ln.endswith("ResidualMLP (1/1)") for ln in lines)
    assert any(ln.endswith(": trace") for ln in lines)
    assert "\r" not in r.stderr


def test_a_daemon_holding_the_pipes_neither_extends_the_deadline_nor_outlives_the_run(tmp_path):
    pidfile = tmp_path / "daemon.pid"
    src = _write(tmp_path / "daemon.py", f'''
        import os
        import time

        import torch
        from torch import nn


        class StartsDaemonAndAborts(nn.Module):
            def forward(self, x):
                if os.fork() == 0:          # a daemon: own session, every inherited pipe kept open
                    os.setsid()
                    if os.fork() == 0:
                        with open({str(pidfile)!r}, "w") as f:
                            f.write(str(os.getpid()))
                        time.sleep(600)
                    os._exit(0)
                time.sleep(1.0)
                os.abort()


        class Fine(nn.Module):
            def forward(self, x):
                return x * 2


        def tracelint_examples():
            return [(StartsDaemonAndAborts(), (torch.ones(2, 3),)), (Fine(), (torch.ones(2, 3),))]
        ''')
    from tracelint.dynamic.isolation import Options, run_source
    from tracelint.dynamic.procs import alive

    out = run_source({"kind": "file", "path": src}, "daemon", Options(targets=("trace",), timeout=120))
    first, second = out.examples
    assert first["status"] == "crashed" and "SIGABRT" in first["error"]["message"]   # not a "hang"
    assert second["status"] == "ok"
    daemon = int(pidfile.read_text())
    assert not alive(daemon)


def test_each_example_runs_in_a_fresh_process(tmp_path):
    pids = tmp_path / "pids"
    src = _write(tmp_path / "twice.py", f'''
        import os

        import torch
        from torch import nn


        class RecordsPid(nn.Module):
            def forward(self, x):
                with open({str(pids)!r}, "a") as f:
                    f.write(f"{{os.getpid()}}\\n")
                return x + 1


        def tracelint_examples():
            return [(RecordsPid(), (torch.ones(2, 3),)), (RecordsPid(), (torch.ones(4, 3),))]
        ''')
    from tracelint.dynamic.isolation import Options, run_source

    out = run_source({"kind": "file", "path": src}, "twice", Options(targets=("trace",), timeout=300))
    assert [e["status"] for e in out.examples] == ["ok", "ok"]
    assert len(set(pids.read_text().split())) == 2


def test_a_huge_log_is_read_from_its_tail_and_no_bytecode_is_written(tmp_path):
    (tmp_path / "helpers.py").write_text("def scale():\n    return 2\n", encoding="utf-8")
    src = _write(tmp_path / "loud.py", '''
        import os
        import sys

        import torch
        from torch import nn

        from helpers import scale


        class Loud(nn.Module):
            def forward(self, x):
                block = "x" * (1 << 20) + "\\n"
                for _ in range(64):          # 64 MB of output
                    sys.stdout.write(block)
                print("LAST WORDS", flush=True)
                os._exit(3)


        def tracelint_examples():
            return [(Loud(), (torch.ones(2, 3) * scale(),))]
        ''')
    from tracelint.dynamic.isolation import Options, run_source

    out = run_source({"kind": "file", "path": src}, "loud", Options(targets=("trace",), timeout=300))
    (first,) = out.examples
    assert first["status"] != "ok"
    assert len(first["error"]["message"]) < 2000 and "LAST WORDS" in first["error"]["message"]
    assert not list(tmp_path.rglob("__pycache__"))
