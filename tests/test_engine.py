"""The engine on bad input: crashing rules, odd encodings, unreadable files, parallel runs."""
from __future__ import annotations

import os
import sys

import libcst as cst
import pytest

from tracelint import engine
from tracelint.analysis.index import index_source
from tracelint.api import lint_paths, lint_source
from tracelint.config import Config
from tracelint.rule import Rule
from tracelint.rules import all_rules
from tracelint.targets import fail

HAZARD = ("import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n"
          "    def forward(self, x):\n        return x * x.sum().item()\n")


class Exploding(Rule):
    code = "TL998"
    name = "exploding"
    summary = "raises on every call"
    message = "never"
    help = "n/a"
    targets = {t: fail("x") for t in ("trace", "script", "export", "compile")}

    def visit_Call(self, node: cst.Call) -> None:
        raise ZeroDivisionError("boom")


def test_crashing_rule_is_reported_and_isolated(tmp_path):
    (tmp_path / "m.py").write_text(HAZARD)
    rules = [Exploding, all_rules()["TL201"], all_rules()["TL001"]]
    report = engine.run([str(tmp_path / "m.py")], Config(jobs=1), rules)
    codes = sorted(d.code for d in report.diagnostics)
    assert codes == ["TL001", "TL201"]  # the other rule still ran on the same file
    crash = next(d for d in report.diagnostics if d.code == "TL001")
    assert "TL998" in crash.message and "ZeroDivisionError" in crash.message
    assert report.failed  # exit status 2


def test_encodings_bom_crlf_and_cookie(tmp_path):
    (tmp_path / "bom.py").write_bytes(b"\xef\xbb\xbf" + HAZARD.encode())
    (tmp_path / "crlf.py").write_bytes(HAZARD.replace("\n", "\r\n").encode())
    latin = "# -*- coding: latin-1 -*-\n# caf\xe9\n" + HAZARD
    (tmp_path / "latin.py").write_bytes(latin.encode("latin-1"))
    report = lint_paths([str(tmp_path)], Config())
    got = sorted((os.path.basename(d.path), d.line, d.column, d.code) for d in report.diagnostics)
    assert got == [("bom.py", 7, 20, "TL201"), ("crlf.py", 7, 20, "TL201"), ("latin.py", 9, 20, "TL201")]
    assert not report.errors


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads every file")
def test_unreadable_file_is_an_error_and_the_run_goes_on(tmp_path):
    bad = tmp_path / "secret.py"
    bad.write_text(HAZARD)
    bad.chmod(0)
    (tmp_path / "m.py").write_text(HAZARD)
    report = lint_paths([str(tmp_path)], Config())
    assert any("secret.py" in e for e in report.errors)
    assert [d.code for d in report.diagnostics] == ["TL201"]


def test_unreadable_file_as_root(tmp_path, monkeypatch):
    (tmp_path / "m.py").write_text(HAZARD)
    (tmp_path / "gone.py").write_text(HAZARD)
    import builtins

    from tracelint import project

    def deny(file, *args, **kwargs):
        if str(file).endswith("gone.py"):
            raise PermissionError(13, "Permission denied", str(file))
        return builtins.open(file, *args, **kwargs)

    monkeypatch.setattr(project, "open", deny, raising=False)
    report = lint_paths([str(tmp_path)], Config(jobs=1))
    assert any("gone.py" in e and "Permission denied" in e for e in report.errors)
    assert [os.path.basename(d.path) for d in report.diagnostics] == ["m.py"]


def test_libcst_only_syntax_error_and_nul_bytes():
    assert [d.code for d in lint_source(b"x = 1\x00\n").diagnostics] == ["TL000"]
    (d,) = lint_source("def f(:\n    pass\n").diagnostics
    assert (d.code, d.line) == ("TL000", 1)


def test_files_without_module_code_are_not_parsed_by_libcst(tmp_path, monkeypatch):
    (tmp_path / "train.py").write_text("def train(x):\n    return x.sum().item()\n")
    calls = []
    real = cst.parse_module
    monkeypatch.setattr(cst, "parse_module", lambda src: calls.append(1) or real(src))
    assert lint_paths([str(tmp_path)], Config(jobs=1)).diagnostics == []
    assert calls == []


def test_parallel_run_matches_serial(tmp_path):
    for i in range(40):
        (tmp_path / f"m{i}.py").write_text(HAZARD if i % 3 else "def f():\n    return 1\n")
    serial = lint_paths([str(tmp_path)], Config(jobs=1)).diagnostics
    parallel = lint_paths([str(tmp_path)], Config(jobs=2)).diagnostics
    assert serial == parallel and len(serial) == 26


TRICKY = '''#!/usr/bin/env python
# header comment
"""Docstring."""
import torch; import math


# a comment before a decorated class
@some.decorator(
    arg=1,
)
# between decorator and class
class A:  # trailing
    x = 1

    @staticmethod

    def f(a, b):
        if a:
            return a.item()  # c
        return [
            b.item(),
        ]
def g(): return torch.ones(2).item()
if True:
    def h():
        pass
class B(object):
  # two-space indent, comment before a method
  def m(self, x):   # c
    return x.sum().item()
  @property
  def p(self): return 1
'''


def test_partial_positions_match_libcst_position_provider():
    from libcst.metadata import MetadataWrapper, PositionProvider
    module = cst.parse_module(TRICKY)
    full = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    ix = index_source("tricky.py", TRICKY.encode())
    tops = [(s, None) for s in module.body if not isinstance(s, cst.SimpleStatementLine)]
    for cls in (s for s in module.body if isinstance(s, cst.ClassDef)):
        for method in (s for s in cls.body.body if isinstance(s, cst.FunctionDef)):
            only_method = engine.positions_for(module, [(method, cls)], ix)
            assert only_method and all(full[n] == r for n, r in only_method.items())
            assert method in only_method and cls not in only_method
    partial = engine.positions_for(module, tops, ix)
    checked = 0
    for node, rng in partial.items():
        assert full[node] == rng, node
        checked += 1
    assert checked > 50
