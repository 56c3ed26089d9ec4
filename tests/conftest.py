"""Shared helpers for the tests: lint a snippet or a file with every target, return (line, col, code)."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from tracelint.api import lint_paths, lint_source
from tracelint.config import Config
from tracelint.targets import TARGETS

ROOT = Path(__file__).resolve().parents[1]
# The CLI caches results in ~/.cache/tracelint; tests run fresh (test_cache.py turns it on itself).
os.environ["TRACELINT_NO_CACHE"] = "1"
ALL_TARGETS = Config(targets=TARGETS, select=("ALL",))  # opt-in rules included


def lint_snippet(code: str, select: tuple[str, ...] = (), targets=TARGETS, filename: str = "snippet.py"):
    config = Config(targets=tuple(targets), select=tuple(select))
    return lint_source(textwrap.dedent(code).lstrip("\n"), filename, config, project=False).diagnostics


def findings(code: str, select: tuple[str, ...] = (), targets=TARGETS) -> list[tuple[int, int, str]]:
    return [(d.line, d.column, d.code) for d in lint_snippet(code, select, targets)]


@pytest.fixture
def lint():
    return lint_snippet
