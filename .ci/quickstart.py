"""Command 1 of the README: install the static linter (libcst + click, no torch) into .venv and lint
the shipped fixtures. Exits with tracelint's status: 1, with the expected findings.

usage: python3 .ci/quickstart.py [--venv PATH]
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from setup_env import ROOT, ensure_venv, pip, say, venv_script


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--venv", type=Path, default=ROOT / ".venv", help="the virtual environment (default: .venv)")
    args = ap.parse_args()
    python = ensure_venv(args.venv.resolve())
    pip(python, "-e", str(ROOT))
    say("tracelint fixtures/")
    return subprocess.run([str(venv_script(args.venv.resolve(), "tracelint")), "fixtures/"], cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
