"""Command 2 of the README (and CI, through .ci/run): install torch (CPU) then tracelint with the
`dynamic` and `test` extras into .venv, and run the whole test suite.

usage: python3 .ci/test.py [--venv PATH] [PYTEST ARGS...]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from setup_env import ROOT, ensure_torch, ensure_venv, pip, say, venv_script


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venv", type=Path, default=ROOT / ".venv", help="the virtual environment (default: .venv)")
    args, pytest_args = ap.parse_known_args()
    venv = args.venv.resolve()
    python = ensure_venv(venv)
    ensure_torch(python)                       # first: the CPU wheel, so the extra's torch range adds nothing
    pip(python, "-e", f"{ROOT}[dynamic,test]")
    # a fresh interpreter must start the linter without importing torch (the tests check it too)
    subprocess.run([str(venv_script(venv, "tracelint")), "--version"], check=True)
    say("python -m pytest -q -rs " + " ".join(pytest_args))
    status = subprocess.run([str(python), "-m", "pytest", "-q", "-rs", *pytest_args], cwd=ROOT).returncode
    if status == 5:
        print("pytest collected no tests: failing the run", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
