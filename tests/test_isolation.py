"""Every phase isolated per file: deep nesting, encodings, parser disagreements, crashes, dying workers."""
from __future__ import annotations

import os
import signal

import libcst as cst
import pytest

from tracelint import engine, project
from tracelint.analysis.index import MAX_NESTING
from tracelint.api import lint_paths, lint_source
from tracelint.config import Config
from tracelint.isolation import describe
from tracelint.rule import Rule
from tracelint.rules import all_rules
from tracelint.source import normalise
from tracelint.targets import fail

HEAD = ("import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n    def forward(self, x):\n"
        "        y = x.sum().item()\n")          # TL201 at line 7, column 13
HAZARD = HEAD + "        return x\n"


def model_with(statement: str) -> str:
    return HEAD + f"        {statement}\n        return x\n"


def codes_lines(report) -> list[tuple[str, int]]:
    return sorted((d.code, d.line) for d in report.diagnostics)


# ------------------------------------------------------------------------------------ deep nesting
CHAINS = {
    "sum": lambda n: "z = " + " + ".join(["1"] * n),
    "attribute": lambda n: "z = a" + ".b" * n,
    "not": lambda n: "z = " + "not " * n + "1",
    "lambda": lambda n: "z = " + "lambda: " * n + "1",
    "call": lambda n: "z = f" + "()" * n,
}


@pytest.mark.parametrize("kind", sorted(CHAINS))
def test_deep_chains_that_python_compiles_are_analysed(kind):
    src = model_with(CHAINS[kind](500))
    compile(src, "m.py", "exec")
    report = lint_source(src, "m.py", project=False)
    assert ("TL201", 7) in codes_lines(report)
    assert not {"TL000", "TL001", "TL003"} & {d.code for d in report.diagnostics}


def test_nesting_up_to_the_limit_is_analysed_and_deeper_is_tl003():
    near = model_with(CHAINS["sum"](MAX_NESTING - 20))
    plain = lint_source(model_with("z = 1"), "m.py", project=False)
    assert codes_lines(lint_source(near, "m.py", project=False)) == codes_lines(plain)
    deeper = model_with(CHAINS["sum"](MAX_NESTING + 10))
    compile(deeper, "m.py", "exec")  # valid Python: so never TL000
    (d,) = lint_source(deeper, "m.py", project=False).diagnostics
    assert (d.code, d.line, d.column) == ("TL003", 1, 1)


@pytest.mark.parametrize("kind", ["sum", "lambda"])
def test_nesting_python_itself_rejects_is_tl003_not_a_crash(kind):
    src = model_with(CHAINS[kind](5000))
    with pytest.raises((RecursionError, MemoryError)):
        compile(src, "m.py", "exec")
    report = lint_source(src, "m.py", project=False)
    assert [d.code for d in report.diagnostics] == ["TL003"]
    assert not report.failed


def test_a_deep_file_does_not_end_a_folder_run(tmp_path):
    (tmp_path / "table.py").write_text("T = " + " + ".join(["1"] * 3000) + "\n")
    (tmp_path / "m.py").write_text(HAZARD)
    report = lint_paths([str(tmp_path)], Config(jobs=1))
    assert sorted((os.path.basename(d.path), d.code) for d in report.diagnostics) == [
        ("m.py", "TL201"), ("table.py", "TL003")]


class NodeInError(Rule):
    code = "TL997"
    name = "node-in-error"
    summary = "raises with a CST node as the exception's argument"
    message = "never"
    help = "n/a"
    targets = {t: fail("x") for t in ("trace", "script", "export", "compile")}

    def visit_Call(self, node: cst.Call) -> None:
        raise KeyError(node)


def test_crash_handler_never_formats_nodes(tmp_path):
    deep = "        z = f(" + " + ".join(["x"] * 900) + ")\n"   # repr(node) of this call would recurse
    (tmp_path / "m.py").write_text(HEAD + deep + "        return x\n")
    report = engine.run([str(tmp_path / "m.py")], Config(jobs=1), [NodeInError, all_rules()["TL201"]])
    crash = next(d for d in report.diagnostics if d.code == "TL001")
    assert "KeyError" in crash.message and "Call(" not in crash.message
    assert ("TL201", 7) in codes_lines(report)


def test_describe_keeps_plain_arguments_only():
    node = cst.Name("x")
    assert describe(ValueError("bad", 3, node)).startswith("ValueError: bad; 3")
    assert "Name" not in describe(KeyError(node))


# ---------------------------------------------------------------------------------------- encodings
def test_latin1_byte_in_a_comment_without_cookie_is_linted_as_compile_does(tmp_path):
    data = b"# caf\xe9\n" + HAZARD.encode()
    compile(data, "m.py", "exec")     # CPython accepts it (comments are not decoded)
    report = lint_source(data, "m.py", project=False)
    assert [(d.code, d.line, d.column) for d in report.diagnostics] == [("TL201", 8, 13)]


def test_latin1_byte_in_a_string_without_cookie_is_a_syntax_error():
    data = b'x = "caf\xe9"\n' + HAZARD.encode()
    with pytest.raises(SyntaxError):
        compile(data, "m.py", "exec")
    assert [d.code for d in lint_source(data, "m.py", project=False).diagnostics] == ["TL000"]


def test_declared_encoding_decodes_the_file():
    text = "# -*- coding: cp1252 -*-\nNAME = '\u20ac'\n" + HAZARD
    report = lint_source(text.encode("cp1252"), "m.py", project=False)
    assert [(d.code, d.line) for d in report.diagnostics] == [("TL201", 9)]


# ------------------------------------------------------------------------------ parser disagreements
LONE_BACKSLASH = HEAD.replace("        y = x.sum().item()\n", "\\\n        y = x.sum().item()\n") + "        return x\n"


def test_lone_backslash_line_in_a_block_is_parsed_with_original_positions():
    compile(LONE_BACKSLASH, "m.py", "exec")
    with pytest.raises(cst.ParserSyntaxError):
        cst.parse_module(LONE_BACKSLASH)
    report = lint_source(LONE_BACKSLASH, "m.py", project=False)
    assert [(d.code, d.line, d.column) for d in report.diagnostics] == [("TL201", 8, 13)]


def test_backslash_line_sets_the_indentation_of_the_next_line():
    src = HEAD.replace("        y = x.sum().item()\n", "        \\\n    y = x.sum().item()\n") + "        return x\n"
    compile(src, "m.py", "exec")      # CPython takes the indentation from the `\` line
    report = lint_source(src, "m.py", project=False)
    assert [(d.code, d.line, d.column) for d in report.diagnostics] == [("TL201", 8, 9)]


def test_normalise_keeps_lines_and_maps_columns():
    text = "if x:\n  \f    y = 1\n\\\n    z = 2\n"
    out, shifts = normalise(text)
    assert out.count("\n") == text.count("\n")
    assert out.splitlines()[1] == "    y = 1" and shifts == {2: 3}
    assert out.splitlines()[2] == ""


def test_valid_python_libcst_cannot_read_is_tl003(monkeypatch):
    def refuse(text):
        raise cst.ParserSyntaxError("tokenizer disagrees", lines=["x"], raw_line=1, raw_column=0)

    monkeypatch.setattr("tracelint.source._parse_text", refuse)
    (d,) = lint_source(HAZARD, "m.py", project=False).diagnostics
    assert (d.code, d.line) == ("TL003", 1) and "valid Python" in d.message


# -------------------------------------------------------------------------------- phase isolation
def test_index_phase_crash_is_that_files_tl001(tmp_path, monkeypatch):
    real = project.index_source

    def index(path, data, module=None):
        if path.endswith("bad.py"):
            raise IndexError("index bug")
        return real(path, data, module)

    monkeypatch.setattr(project, "index_source", index)
    (tmp_path / "bad.py").write_text(HAZARD)
    (tmp_path / "m.py").write_text(HAZARD)
    report = lint_paths([str(tmp_path)], Config(jobs=1))
    assert sorted((os.path.basename(d.path), d.code) for d in report.diagnostics) == [
        ("bad.py", "TL001"), ("m.py", "TL201")]


def test_project_phase_crash_is_that_files_tl001(tmp_path, monkeypatch):
    real = project.build_project

    def build(files, *settings):
        if any(p.endswith("bad.py") for p in files):
            raise TypeError("project bug")
        return real(files, *settings)

    monkeypatch.setattr(project, "build_project", build)
    (tmp_path / "bad.py").write_text(HAZARD)
    (tmp_path / "m.py").write_text(HAZARD)
    report = lint_paths([str(tmp_path)], Config(jobs=1))
    assert sorted((os.path.basename(d.path), d.code) for d in report.diagnostics) == [
        ("bad.py", "TL001"), ("m.py", "TL201")]


def test_positions_crash_is_that_files_tl001(tmp_path, monkeypatch):
    real = engine._positions

    def positions(ctx, module, display, text):
        if display.endswith("bad.py"):
            raise RuntimeError("positions bug")
        return real(ctx, module, display, text)

    monkeypatch.setattr(engine, "_positions", positions)
    (tmp_path / "bad.py").write_text(HAZARD)
    (tmp_path / "m.py").write_text(HAZARD)
    report = lint_paths([str(tmp_path)], Config(jobs=1))
    assert sorted((os.path.basename(d.path), d.code) for d in report.diagnostics) == [
        ("bad.py", "TL001"), ("m.py", "TL201")]


class Segfault(Rule):
    """Kills its own process on one file, as a native crash or the OOM killer would."""

    code = "TL996"
    name = "segfault"
    summary = "kills the worker on kill.py"
    message = "never"
    help = "n/a"
    targets = {t: fail("x") for t in ("trace", "script", "export", "compile")}

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.path.endswith("kill.py"):
            os.kill(os.getpid(), signal.SIGKILL)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="POSIX signals")
def test_a_dying_worker_is_replaced_and_its_file_reported(tmp_path):
    for i in range(24):
        (tmp_path / f"m{i:02d}.py").write_text(HAZARD)
    (tmp_path / "kill.py").write_text(HAZARD)
    report = engine.run(sorted(str(p) for p in tmp_path.iterdir()), Config(jobs=2),
                        [Segfault, all_rules()["TL201"]])
    got = sorted((os.path.basename(d.path), d.code) for d in report.diagnostics)
    assert got == [("kill.py", "TL003")] + [(f"m{i:02d}.py", "TL201") for i in range(24)]
