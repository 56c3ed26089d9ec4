"""Shared by .ci/quickstart.py and .ci/test.py: a virtual environment in the clone, pip in it, torch (CPU).

Standard library only: these scripts run on a machine that has nothing but python3.
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TORCH = os.environ.get("TRACELINT_TORCH", "torch==2.13.0")   # the version the catalogue was verified on
CPU_INDEX = "https://download.pytorch.org/whl/cpu"           # PyTorch's CPU-only wheels
PROBE_SECONDS = 10.0


def say(message: str) -> None:
    print(f"[setup] {message}", file=sys.stderr, flush=True)


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def venv_script(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if os.name == "nt" else "bin") / (name + (".exe" if os.name == "nt" else ""))


def ensure_venv(venv: Path) -> Path:
    """Create `venv` unless it exists; the interpreter inside it."""
    python = venv_python(venv)
    if python.exists():
        return python
    say(f"creating the virtual environment {venv}")
    proc = subprocess.run([sys.executable, "-m", "venv", str(venv)])
    if proc.returncode != 0 or not python.exists():
        sys.exit("[setup] error: `python3 -m venv` failed. On Debian/Ubuntu install the venv module first: "
                 "`apt install python3-venv`.")
    return python


def pip(python: Path, *args: str) -> None:
    cmd = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *args]
    say(" ".join(["pip install", *args]))
    proc = subprocess.run(cmd, cwd=ROOT)
    if proc.returncode != 0:
        sys.exit(f"[setup] error: `pip install {' '.join(args)}` failed (exit {proc.returncode})")


def installed_version(python: Path, dist: str) -> str | None:
    code = ("import importlib.metadata as m, sys\n"
            f"try: print(m.version({dist!r}))\nexcept m.PackageNotFoundError: sys.exit(1)")
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 else None


def reachable(url: str, seconds: float = PROBE_SECONDS) -> bool:
    """Whether `url` answers within `seconds` (DNS included: the probe runs in a thread we stop waiting for)."""
    result: list[bool] = []

    def probe() -> None:
        try:
            with urllib.request.urlopen(url, timeout=seconds):
                result.append(True)
        except Exception:  # noqa: BLE001 - any failure means "do not use it"
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(seconds)
    return bool(result and result[0])


def torch_index(probe=reachable) -> str | None:
    """The index to take torch from: PyTorch's CPU index on Linux when it answers, else None (the default).

    TRACELINT_TORCH_INDEX overrides it (an URL, or empty for the default index). On macOS and Windows
    the default index already has CPU-only wheels; on Linux it has the CUDA build (several GB).
    """
    if "TRACELINT_TORCH_INDEX" in os.environ:
        return os.environ["TRACELINT_TORCH_INDEX"] or None
    if platform.system() != "Linux":
        return None
    if probe(CPU_INDEX + "/torch/"):
        return CPU_INDEX
    say(f"PyTorch's CPU index ({CPU_INDEX}) does not answer: taking {TORCH} from the default index "
        "(a local CPU wheel where one is configured; on a plain Linux machine that is the large CUDA "
        "build: set TRACELINT_TORCH_INDEX to a mirror of the CPU index to avoid it)")
    return None


def ensure_torch(python: Path) -> None:
    """Install the pinned torch first, from the CPU index where possible, so the `dynamic` extra adds nothing."""
    wanted = TORCH.split("==", 1)[1] if "==" in TORCH else None
    have = installed_version(python, "torch")
    if have is not None and (wanted is None or have.split("+")[0] == wanted):
        say(f"torch {have} already installed")
        return
    index = torch_index()
    pip(python, TORCH, *(["--index-url", index] if index else []))
