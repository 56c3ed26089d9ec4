"""`tracelint --daemon`: the background server prints exactly what a local run prints, follows edits
across files, stays out of runs it cannot serve, and goes away when outdated, idle or asked to."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tracelint import daemon

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "fixtures" / "project"
pytestmark = pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="the daemon needs Unix sockets")


@pytest.fixture
def env(tmp_path):
    """A private cache folder (so a private socket) and a copy of the fixture project."""
    cache = tmp_path / "c"      # short: AF_UNIX paths are limited to ~100 bytes
    e = {k: v for k, v in os.environ.items() if k not in ("TRACELINT_NO_CACHE", "TRACELINT_DAEMON")}
    e["TRACELINT_CACHE_DIR"] = str(cache)
    e["TRACELINT_DAEMON_IDLE"] = "120"
    project = tmp_path / "p"
    shutil.copytree(FIXTURE, project)
    yield e, project
    subprocess.run([sys.executable, "-m", "tracelint", "daemon", "stop"], env=e, capture_output=True)


def tracelint(args, env, cwd):
    return subprocess.run([sys.executable, "-m", "tracelint", *args], env=env, cwd=cwd, capture_output=True,
                          text=True)


def socket_of(env) -> str:
    return subprocess.run([sys.executable, "-c", "from tracelint import daemon; print(daemon.socket_path())"],
                          env=env, capture_output=True, text=True, check=True).stdout.strip()


def wait_for(predicate, limit=120.0) -> bool:
    """A guard against waiting forever, not a speed assertion."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_runs_through_the_daemon_print_what_local_runs_print(env):
    e, project = env
    path = socket_of(e)
    first = tracelint(["--daemon", "."], e, project)          # no server yet: local, and one is started
    assert wait_for(lambda: os.path.exists(path))
    for args in (["."], ["--format", "json", "--no-cache", "."], ["visionzoo/"], ["--select", "TL1", "train.py"]):
        local = tracelint(args, e, project)
        served = tracelint(["--daemon", *args], e, project)
        assert (served.returncode, served.stdout) == (local.returncode, local.stdout), args
    assert first.stdout == tracelint(["."], e, project).stdout
    assert first.returncode == 1
    assert "stopped" in tracelint(["daemon", "stop"], e, project).stdout   # it was up and serving


def test_the_daemon_follows_edits_in_other_files(env, tmp_path):
    e, project = env
    pkg = tmp_path / "q"
    (pkg / "pkg").mkdir(parents=True)
    (pkg / "pyproject.toml").write_text("[project]\nname = 'q'\n")
    (pkg / "pkg" / "__init__.py").write_text("")
    (pkg / "pkg" / "base.py").write_text("class Base:\n    pass\n")
    model = pkg / "pkg" / "model.py"
    model.write_text("from pkg.base import Base\n\n\nclass M(Base):\n    def forward(self, x):\n"
                     "        if x.sum() > 0:\n            return x\n        return -x\n")
    path = socket_of(e)
    tracelint(["--daemon", "pkg/model.py"], e, pkg)
    assert wait_for(lambda: os.path.exists(path))
    before = tracelint(["--daemon", "pkg/model.py"], e, pkg)
    assert before.returncode == 0 and "TL101" not in before.stdout      # Base is not an nn.Module
    (pkg / "pkg" / "base.py").write_text("import torch.nn as nn\n\n\nclass Base(nn.Module):\n    pass\n")
    after = tracelint(["--daemon", "pkg/model.py"], e, pkg)
    assert after.returncode == 1 and "model.py:6:12: TL101" in after.stdout
    assert after.stdout == tracelint(["pkg/model.py"], e, pkg).stdout


@pytest.mark.parametrize("args, served", [
    (["--daemon", "src"], (True, ["src"])),
    (["src"], (False, ["src"])),
    (["--daemon", "-", "--stdin-filename", "m.py"], (False, ["-", "--stdin-filename", "m.py"])),
    (["--daemon", "rules"], (False, ["rules"])),
    (["--daemon", "--dynamic", "src"], (False, ["--dynamic", "src"])),
    (["--daemon", "--help"], (False, ["--help"])),
])
def test_which_runs_go_to_the_daemon(args, served, monkeypatch):
    monkeypatch.delenv("TRACELINT_DAEMON", raising=False)
    assert daemon.wanted(args) == served


def test_the_environment_variable_turns_it_on(monkeypatch):
    monkeypatch.setenv("TRACELINT_DAEMON", "1")
    assert daemon.wanted(["src"]) == (True, ["src"])


def _server(e, path):
    return subprocess.Popen([sys.executable, "-m", "tracelint.daemon", "serve", path], env=e,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_server_of_another_build_refuses_and_exits(env):
    e, _ = env
    path = socket_of(e)
    proc = _server(e, path)
    try:
        assert wait_for(lambda: os.path.exists(path))
        assert daemon._ask(path, {"identity": "another build", "argv": ["."], "cwd": "/"}) == {"restart": True}
        proc.wait(timeout=120)
        assert not os.path.exists(path)
    finally:
        proc.kill()


def test_an_idle_server_exits_and_stop_stops_one(env):
    e, project = env
    path = socket_of(e)
    proc = _server({**e, "TRACELINT_DAEMON_IDLE": "1"}, path)
    try:
        proc.wait(timeout=120)
    finally:
        proc.kill()
    assert not os.path.exists(path)
    proc = _server(e, path)
    try:
        assert wait_for(lambda: os.path.exists(path))
        out = tracelint(["daemon", "stop"], e, project)
        assert out.returncode == 0 and "stopped" in out.stdout
        proc.wait(timeout=120)
    finally:
        proc.kill()
    assert tracelint(["daemon", "status"], e, project).stdout.count("not running") == 1


def test_no_server_means_a_local_run(env, monkeypatch, tmp_path):
    e, project = env
    e = {**e, "TRACELINT_CACHE_DIR": str(tmp_path / "nowhere" / ("x" * 120))}   # no socket can live there
    local = tracelint(["."], e, project)
    served = tracelint(["--daemon", "."], e, project)
    assert (served.returncode, served.stdout) == (local.returncode, local.stdout)
