"""Issue 9 (the dynamic checker on real models), points 1-9, each reproduced - in this process where
it can be (the real torch, no child processes). Point 10 (isolation) and the process-level parts of
points 3, 8 and 9 are in test_dynamic_isolation.py. Tests assert codes, lines and verdicts, never
wording or speed."""
from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import ROOT

torch = pytest.importorskip("torch")

from tracelint.diagnostics import Diagnostic  # noqa: E402
from tracelint.dynamic import Example, confirm  # noqa: E402
from tracelint.dynamic.events import Event, ExampleRef  # noqa: E402
from tracelint.dynamic.example import as_examples  # noqa: E402
from tracelint.dynamic.loader import import_file  # noqa: E402
from tracelint.dynamic.outcome import SourceOutcome  # noqa: E402
from tracelint.dynamic.variants import generate  # noqa: E402
from tracelint.targets import fail  # noqa: E402

DYN = ROOT / "fixtures" / "dynamic"


def _examples(name: str) -> list[Example]:
    return as_examples(import_file(str(DYN / f"{name}.py")).tracelint_examples())


def _confirm(ex: Example, targets="all", **kw):
    return confirm(ex.module, ex.inputs, kwargs=ex.kwargs, more_kwargs=ex.more_kwargs, targets=targets, **kw)


def _at(report, name: str, line: int) -> list[Diagnostic]:
    return [d for d in report.diagnostics if d.path.endswith(name) and d.line == line]


# -- 1. verdicts only from evidence at the finding --------------------------------------------------
def _finding(path: str, line: int, code: str = "TL101") -> Diagnostic:
    return Diagnostic(path=path, line=line, column=1, end_line=line, end_column=10, code=code, name="x",
                      message="m", effects=(("trace", fail("wrong")),), source_line="        if x.sum() > 0:")


def test_an_event_without_a_line_confirms_nothing(tmp_path):
    from tracelint.dynamic.verdicts import assign

    model = tmp_path / "m.py"
    model.write_text("class A:\n    def forward(self, x):\n        if x.sum() > 0:\n            return x\n", encoding="utf-8")
    outcome = SourceOutcome(display="ex.py")
    refs = [ExampleRef(0, "ex.py::A", {str(model): {2, 3, 4}}, {"targets": [], "run_targets": ["trace"]}, outcome),
            ExampleRef(1, "ex.py::B", {}, {"targets": [], "run_targets": ["trace"]}, outcome)]
    # example B's capture error names no line; example A executed the finding
    unlocalised = Event("capture-error", "trace", "example", str(model), 2, "fallback", "", "RuntimeError: x",
                        "ex.py::B", 1)
    diags, unexplained = assign([_finding(str(model), 3)], [unlocalised], refs, ("trace",))
    assert diags[0].verdict != "confirmed"
    assert unexplained == [unlocalised]                 # it becomes its own TL902, for example B
    localised = Event("diverged", "trace", "batch=1", str(model), 3, "settrace", "", "values differ", "ex.py::A", 0)
    diags, unexplained = assign([_finding(str(model), 3)], [localised], refs, ("trace",))
    assert diags[0].verdict == "confirmed" and dict(diags[0].verdicts) == {"trace": "confirmed"}
    assert unexplained == []


# -- 2. installed packages are the model's code ----------------------------------------------------
def test_installed_packages_are_user_code_but_not_stdlib_or_torch(tmp_path):
    import jsonschema

    from tracelint.dynamic.userfiles import is_user_file

    assert is_user_file(jsonschema.__file__)           # installed in this venv's site-packages
    assert not is_user_file(os.__file__)
    assert not is_user_file(torch.nn.modules.linear.__file__)
    venv_lib = tmp_path / "venv" / "lib" / "python3.11" / "site-packages" / "zoo"
    venv_lib.mkdir(parents=True)
    (venv_lib / "layers.py").write_text("x = 1\n", encoding="utf-8")
    assert is_user_file(str(venv_lib / "layers.py"))


def test_a_model_from_an_installed_package_is_linted_localised_and_confirmed(tmp_path, monkeypatch):
    site = tmp_path / "lib" / "python3.11" / "site-packages"
    (site / "gatelib").mkdir(parents=True)
    (site / "gatelib" / "__init__.py").write_text("", encoding="utf-8")
    (site / "gatelib" / "layers.py").write_text(textwrap.dedent('''
        from torch import nn


        class Gate(nn.Module):
            def forward(self, x):
                if x.sum() > 0:
                    return x * 2
                return x
        '''), encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    from gatelib.layers import Gate

    report = confirm(Gate(), (torch.ones(2, 3),), targets="trace")
    gate = [d for d in report.diagnostics if d.path.endswith("gatelib/layers.py")]
    assert [(d.line, d.code, d.verdict) for d in gate] == [(7, "TL101", "confirmed")]


# -- 3. no per-call time limit: slow is not wrong --------------------------------------------------
def test_no_call_runs_under_a_time_limit():
    import signal

    class CheckNoTimer(torch.nn.Module):
        def forward(self, x):
            # only a capture is checked: eager on a made-up input has an allowance (it may never end)
            if torch.jit.is_tracing() and signal.getitimer(signal.ITIMER_REAL)[0] != 0.0:
                raise RuntimeError("a per-call timer is armed")
            return x * 2

    report = confirm(CheckNoTimer(), (torch.randn(2, 3),), targets=("trace", "compile"), lint=False)
    assert not [d for d in report.diagnostics if d.code.startswith("TL9")]
    rows = report.dynamic[0]["rows"]
    assert {r["target"] for r in rows} >= {"trace", "compile"}
    assert all(r["result"] == "match" for r in rows if r["target"] in ("trace", "compile"))


def test_eager_that_never_ends_on_a_generated_input_rejects_that_input(monkeypatch):
    import tracelint.dynamic.runner as runner

    monkeypatch.setattr(runner, "GENERATED_MIN_S", 2.0)

    class Newton(torch.nn.Module):          # converges for positive inputs only
        def forward(self, a):
            x = torch.ones_like(a)
            while ((x * x - a).abs() > 1e-4).any():
                x = 0.5 * (x + a / x)
            return x

    report = confirm(Newton(), (torch.rand(2, 3) + 0.5,), targets="trace", lint=False)
    rows = report.dynamic[0]["rows"]
    assert any(r["variant"] == "neg" and r["target"] == "eager" and r["result"].startswith("rejected") for r in rows)
    assert not [d for d in report.diagnostics if d.code == "TL903"]


# -- 4. equivalent containers are compared by value, the difference noted once -----------------------
def test_list_in_eager_tuple_in_script_is_compared_by_value():
    (ex,) = _examples("script_list_output")
    report = _confirm(ex, targets=("trace", "script"))
    assert not [d for d in report.diagnostics if d.code.startswith("TL9")]
    rows = report.dynamic[0]["rows"]
    notes = [r for r in rows if r["variant"] == "note"]
    assert [r["target"] for r in notes] == ["script"]
    assert all(r["result"] == "match" for r in rows if r["target"] == "script" and r["variant"] != "note")


def test_a_scripted_losses_detections_tuple_is_compared_with_the_eager_detections():
    """torchvision's detection models return `(losses, detections)` when scripted, `detections` in
    eager mode (by design): the detections are compared, the wrapping is a note, not a TL901."""
    from tracelint.dynamic.compare import compare

    dets = [{"boxes": torch.ones(2, 4), "scores": torch.ones(2)} for _ in range(2)]
    same = compare(dets, ({}, [{k: v.clone() for k, v in d.items()} for d in dets]))
    assert same.match and same.notes
    moved = compare(dets, ({}, [{"boxes": d["boxes"] + 1, "scores": d["scores"]} for d in dets]))
    assert not moved.match
    assert not compare(dets, ({}, dets[:1])).match                   # one image lost: a divergence
    pair = (torch.ones(2), torch.zeros(2))                            # outputs that line up item by item
    assert not compare(pair, (torch.ones(2), torch.ones(2))).match


# -- 5. variants: list lengths, keyword inputs, masks, dtypes, export lengths ----------------------
def test_list_of_images_varies_the_number_of_images():
    images = [torch.rand(3, 16, 16), torch.rand(3, 16, 16)]
    names = {v.name: v for v in generate(((images,), {}))}
    assert {"batch=1", "batch=4", "batch=3"} <= set(names)
    assert len(names["batch=3"].inputs[0][0]) == 3 and names["batch=3"].inputs[0][0][0].shape == (3, 16, 16)
    assert not any(n.startswith("len 3->") for n in names)          # the channels are not a length


def test_a_stacked_list_traced_for_two_images_fails_on_three():
    (ex,) = _examples("list_of_images")
    report = _confirm(ex, targets=("trace", "script"))
    failed = [d for d in report.diagnostics if d.code == "TL902"]
    assert failed and dict(failed[0].verdicts).get("trace") == "confirmed"
    assert "script" not in dict(failed[0].verdicts)


def test_keyword_inputs_and_more_kwargs():
    masked, gated = _examples("keyword_inputs")
    clean = _confirm(masked, targets="all")
    assert not [d for d in clean.diagnostics if d.verdict == "confirmed"]
    assert {r["target"] for r in clean.dynamic[0]["rows"]} >= {"trace", "script", "export", "compile"}
    report = _confirm(gated, targets="trace")
    (branch,) = _at(report, "keyword_inputs.py", 26)
    assert branch.code == "TL101" and dict(branch.verdicts) == {"trace": "confirmed"}
    with pytest.raises(Exception):
        Example(masked.module, kwargs={0: torch.ones(1)})


def test_attention_masks_keep_their_padding():
    ids = torch.randint(5, 50, (2, 6))
    mask = torch.ones(2, 6, dtype=torch.long)
    mask[1, 4:] = 0
    for v in generate(((), {"input_ids": ids, "attention_mask": mask})):
        m = v.inputs[1]["attention_mask"]
        assert set(m.unique().tolist()) <= {0, 1}, v.name
        if v.kind == "value":
            assert torch.equal(m, mask), v.name                      # values are not varied
        if v.kind == "length":
            assert m[0].all() and not m[1, 4:].any() and m[1, :4].all(), v.name   # padding stays at the end


def test_dtype_variant_finds_a_baked_dtype():
    (ex,) = _examples("dtype_baked")
    report = _confirm(ex, targets="trace")
    (d,) = [d for d in report.diagnostics if d.code == "TL901"]
    assert d.line == 7 and any("float64" in e for e in d.evidence)


def test_export_declares_changed_lengths_dynamic():
    (ex,) = _examples("length_branch")
    report = _confirm(ex, targets=("trace", "export"))
    (branch,) = _at(report, "length_branch.py", 8)
    assert branch.code == "TL301" and dict(branch.verdicts) == {"trace": "confirmed", "export": "confirmed"}


# -- 6. localisation: a helper called in a condition is not the culprit ------------------------------
def test_condition_line_is_blamed_not_the_helper_it_calls():
    (ex,) = _examples("helper_in_condition")
    report = _confirm(ex, targets=("trace", "export"))
    (cond,) = _at(report, "helper_in_condition.py", 14)
    assert cond.code == "TL301" and dict(cond.verdicts) == {"trace": "confirmed", "export": "confirmed"}
    assert not [d for d in report.diagnostics if d.code.startswith("TL9")]   # nothing at the helper


# -- 7. noise: warnings alone confirm nothing; torch's filter does not hide other packages' warnings -
def test_a_tracer_warning_alone_confirms_nothing():
    (ex,) = _examples("tracer_warning_only")
    report = _confirm(ex, targets="trace")
    (d,) = _at(report, "tracer_warning_only.py", 9)
    assert d.code == "TL202" and d.verdict == "not-reproduced"
    assert any("TracerWarning" in e for e in d.evidence)


def test_tracer_warnings_of_torch_named_packages_are_recorded(tmp_path, monkeypatch):
    pkg = tmp_path / "torchfakevision"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("", encoding="utf-8")
    (pkg / "gate.py").write_text(textwrap.dedent('''
        from torch import nn


        class Gate(nn.Module):
            def forward(self, x):
                if x.sum() > 0:
                    return x * 2
                return x
        '''), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    from torchfakevision.gate import Gate

    from tracelint.dynamic.runner import run_example

    result = run_example(Example(Gate(), (torch.ones(2, 3),)), "gate", targets=("trace",))
    (entry,) = result["targets"]
    assert [(Path(w["path"]).name, w["line"]) for w in entry["warnings"] if w["category"] == "TracerWarning"] \
        == [("gate.py", 7)]


# -- 8. progress on stderr, sized by stderr ---------------------------------------------------------
def test_progress_lines_without_a_terminal_and_width_from_stderr():
    import io
    import pty

    from tracelint.dynamic.progress import Progress

    log = io.StringIO()
    bar = Progress(log, live=False)
    for text in ("a.py::Net (1/1)", "a.py::Net (1/1)", "a.py::Net (1/1): trace"):
        bar(text)
    assert log.getvalue().splitlines() == ["tracelint confirm: a.py::Net (1/1)",
                                           "tracelint confirm: a.py::Net (1/1): trace"]
    master, slave = pty.openpty()
    try:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 30, 0, 0))
        with os.fdopen(os.dup(slave), "w") as tty:
            live = Progress(tty, live=True, delay=0)
            live("x" * 100)
        out = os.read(master, 4096).decode()
        assert out.startswith("\r\x1b[K") and len(out[len("\r\x1b[K"):]) == 29
    finally:
        os.close(master)
        os.close(slave)


# -- 9. set-up problems are usage errors (exit 2) ---------------------------------------------------
def test_missing_torch_is_a_usage_error(monkeypatch):
    import importlib.util

    from click.testing import CliRunner

    from tracelint.dynamic.cli import confirm_command

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    result = CliRunner().invoke(confirm_command, [str(DYN / "clean_mlp.py")])
    assert result.exit_code == 2
    assert "needs torch" in result.output


def test_a_file_without_examples_is_a_usage_error(tmp_path):
    from tracelint.dynamic.discover import resolve

    plain = tmp_path / "model.py"
    plain.write_text("import torch\n\n\nclass Net(torch.nn.Module):\n    pass\n", encoding="utf-8")
    sources, errors = resolve([str(plain), "no_such.module:fn", str(DYN / "clean_mlp.py")])
    assert [s[0]["kind"] for s in sources] == ["module", "file"]   # a module is checked when imported
    assert len(errors) == 1 and "model.py" in errors[0]


# -- 6. a decorated method's script error at its own line, not at a sibling with the same snippet ---
def test_script_error_named_in_the_decorators_file_goes_to_the_line_torch_gave(tmp_path, monkeypatch):
    """TorchScript names the decorator's file for a decorated forward, with the right line number;
    two forwards with the same parameter list print the same snippet, so the line decides."""
    from tracelint.dynamic.locate import locate_error

    (tmp_path / "twins_deco.py").write_text(textwrap.dedent("""\
        import functools


        def renamed(fn):
            @functools.wraps(fn)
            def inner(*args, **kwargs):
                return fn(*args, **kwargs)
            return inner
        """), encoding="utf-8")
    signature = "    @renamed\n    def forward(\n        self,\n        x,\n        **kwargs,\n    ):\n"
    model = tmp_path / "twins.py"
    model.write_text("from torch import nn\nfrom twins_deco import renamed\n\n\n"
                     "class Inner(nn.Module):\n" + signature + "        return x + 1\n\n\n"
                     "class Outer(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                     "        self.inner = Inner()\n\n" + signature + "        return self.inner(x) * 2\n",
                     encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "twins_deco", raising=False)
    twins = import_file(str(model))
    kwargs_lines = [i for i, ln in enumerate(model.read_text().splitlines(), 1) if ln.strip() == "**kwargs,"]
    assert len(kwargs_lines) == 2
    for cls, line in ((twins.Inner, kwargs_lines[0]), (twins.Outer, kwargs_lines[1])):
        with pytest.raises(Exception) as info:
            torch.jit.script(cls())
        assert "twins_deco.py" in str(info.value)      # torch names the decorator's file
        loc = locate_error(info.value, [str(model), str(tmp_path / "twins_deco.py")])
        assert (loc["path"], loc["line"]) == (str(model), line)
