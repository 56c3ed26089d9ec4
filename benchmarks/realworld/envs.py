"""The benchmark venvs: which interpreter runs which zoo, and how to create them from scratch.

Two venvs because of one machine constraint: the torchvision wheel on PyPI (0.29.1) only imports
beside torch 2.14.1 (its C++ ops are built against it), while this project's reference torch is
2.13.0 (the CPU wheel). timm imports torchvision, so it lives with it. transformers and diffusers
do not need torchvision and run on the reference torch 2.13.0.
"""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE_VERSION = 2   # records of an older probe are re-run (2: warnings say when torch raised them for the library)
BENCH_HOME = os.environ.get("TRACELINT_BENCH_HOME", os.path.expanduser("~/.cache/tracelint-bench"))


@dataclass(frozen=True)
class Venv:
    name: str
    pins: tuple[tuple[str, ...], ...]   # pip install rounds, in order (torch first)
    zoos: tuple[str, ...]

    @property
    def path(self) -> str:
        return os.path.join(BENCH_HOME, f"venv-{self.name}")

    @property
    def python(self) -> str:
        return os.path.join(self.path, "bin", "python")


VENVS = {
    "tv": Venv("tv", (("torch==2.14.1",), ("torchvision==0.29.1", "timm==1.0.31")), ("torchvision", "timm")),
    "hf": Venv("hf", (("torch==2.13.0",), ("transformers==5.24.0", "diffusers==0.42.1")),
               ("transformers", "diffusers")),
}

ZOO_VENV = {zoo: venv for venv in VENVS.values() for zoo in venv.zoos}


def python_for(zoo: str) -> str:
    """The interpreter that runs a zoo (the smoke zoo runs in the current one)."""
    if zoo == "sample":
        return sys.executable
    return ZOO_VENV[zoo].python


def _pinned_ok(venv: Venv) -> bool:
    if not os.path.exists(venv.python):
        return False
    wanted = [p for round_ in venv.pins for p in round_]
    code = ("import importlib.metadata as m, sys\n"
            "bad=[p for p in sys.argv[1:] if m.version(p.split('==')[0]) != p.split('==')[1].split('+')[0]"
            " and not m.version(p.split('==')[0]).startswith(p.split('==')[1]+'+')]\n"
            "sys.exit(1 if bad else 0)")
    try:
        return subprocess.run([venv.python, "-c", code, *wanted], capture_output=True).returncode == 0
    except OSError:
        return False


def setup(names: list[str] | None = None, log=print) -> None:
    """Create (or reuse) each venv with its pins; reuse when every pin is already installed."""
    for name in names or list(VENVS):
        venv = VENVS[name]
        if _pinned_ok(venv):
            log(f"venv-{name}: reused ({venv.path}): {', '.join(p for r in venv.pins for p in r)}")
            continue
        log(f"venv-{name}: creating {venv.path}")
        os.makedirs(BENCH_HOME, exist_ok=True)
        if not os.path.exists(venv.python):
            subprocess.run([sys.executable, "-m", "venv", venv.path], check=True)
        for round_ in venv.pins:
            subprocess.run([venv.python, "-m", "pip", "install", "-q", *round_], check=True)
        if not _pinned_ok(venv):
            raise SystemExit(f"venv-{name}: the pins did not install: {venv.pins}")
        log(f"venv-{name}: ready")
