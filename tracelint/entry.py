"""The `tracelint` console script: a run for the daemon is handed over before click, the CLI and
the rules are imported (the client side of `--daemon` costs only a socket round trip)."""
from __future__ import annotations

import os
import sys


def main() -> None:
    args = sys.argv[1:]
    if "--daemon" in args or os.environ.get("TRACELINT_DAEMON"):
        from tracelint import daemon
        go, args = daemon.wanted(args)
        if go:
            code = daemon.forward(args)
            if code is not None:
                sys.exit(code)
    from tracelint.cli import main as cli_main
    cli_main(args)
