"""The dynamic checker's pieces, in this process with the real torch (fast: no child processes)."""
from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from collections import namedtuple
from pathlib import Path

import pytest

from conftest import ROOT

torch = pytest.importorskip("torch")

from tracelint.dynamic import Example, confirm  # noqa: E402
from tracelint.dynamic.compare import compare  # noqa: E402
from tracelint.dynamic.example import ExampleError, as_examples, example_names  # noqa: E402
from tracelint.dynamic.loader import import_file  # noqa: E402
from tracelint.dynamic.variants import generate  # noqa: E402

DYN = ROOT / "fixtures" / "dynamic"


def _fixture(name: str):
    return import_file(str(DYN / f"{name}.py"))


def test_importing_the_package_and_cli_does_not_import_torch():
    code = ("import sys, tracelint, tracelint.dynamic, tracelint.dynamic.cli; "
            "tracelint.dynamic.Example(None, ()); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


# -- examples -------------------------------------------------------------------------------------
def test_examples_accept_tuples_and_examples():
    m = torch.nn.Linear(2, 2)
    exs = as_examples([(m, (torch.ones(1, 2),)), Example(m, torch.ones(1, 2), name="one", targets="trace,export")])
    assert [type(e) for e in exs] == [Example, Example]
    assert exs[1].inputs[0].shape == (1, 2)            # a bare tensor is the one positional argument
    assert exs[1].run_targets(("trace", "script", "export")) == ("trace", "export")
    assert example_names(exs + [Example(m, ())]) == ["Linear#1", "one", "Linear#2"]
    assert len(as_examples((m, (torch.ones(1, 2),)))) == 1   # a single pair is one example
    with pytest.raises(ExampleError):
        as_examples([42])
    with pytest.raises(ExampleError):
        as_examples(None)


# -- variants -------------------------------------------------------------------------------------
def test_variants_cover_batch_lengths_and_values():
    ids = torch.randint(5, 50, (4, 12))
    mask = torch.ones(4, 12, dtype=torch.long)
    vs = generate((ids, mask), more_inputs=((ids[:2], mask[:2]),))
    names = [v.name for v in vs]
    assert names[0] == "example" and names[-1] == "more_inputs[0]"
    assert {"batch=1", "batch=8", "batch=3", "len 12->18"} <= set(names)
    assert {"random", "zeros", "ones"} <= set(names)
    for v in vs:
        (vid, vmask), _ = v.inputs
        assert vid.dtype == (torch.int32 if v.kind == "dtype" else torch.long) and vid.shape[0] == vmask.shape[0]
        if v.kind != "user":
            assert 5 <= int(vid.min()) and int(vid.max()) < 50, v.name   # token ids stay in range
    assert len({v.name for v in vs}) == len(vs)
    # negating or scaling integer inputs would leave their range: those variants are dropped as duplicates
    assert not {"neg", "x1e3", "x1e-3"} & set(names)
    assert len(generate((ids, mask), limit=2)) == 3


def test_variants_widen_a_single_observed_index():
    vs = generate((torch.randn(3, 6), torch.tensor(1)))
    idx = {int(v.inputs[0][1]) for v in vs}
    assert idx == {0, 1}


# -- comparison -----------------------------------------------------------------------------------
def test_compare_nested_and_dtype_aware():
    a = torch.randn(3, 4)
    assert compare({"x": a, "y": [a, (a,)]}, {"x": a.clone(), "y": [a, (a,)]}).match
    assert compare(a, a + 1e-6).match                                   # float32 tolerance
    assert not compare(a.double(), a.double() + 1e-4).match              # float64 is stricter
    c = compare(a, a[:2])
    assert not c.match and "shape" in c.why
    assert not compare(a, a.double()).match
    nan = a.clone()
    nan[0, 0] = float("nan")
    assert compare(nan, nan.clone()).match                               # NaN in the same place
    assert "NaN" in compare(a, nan).why
    Out = namedtuple("Out", "logits")
    # equivalent containers are compared by value; the container difference is a note (issue 9, point 4)
    same = compare(Out(a), (a,))
    assert same.match and len(same.notes) == 1
    listed = compare([a, (a, a)], (a, [a, a]))
    assert listed.match and len(listed.notes) == 2
    assert not compare([a], (a + 1,)).match                             # values still count
    assert compare({"logits": a, "hidden": a}, (a, a)).match              # ModelOutput/dict vs its tuple
    assert not compare({"logits": a}, (a, a)).match

    @dataclasses.dataclass
    class D:
        logits: torch.Tensor

    assert compare(D(a), D(a.clone())).match
    assert not compare(D(a), D(a + 1)).match
    diff = compare(a, a + 2)
    assert not diff.match and diff.max_abs_diff == pytest.approx(2.0)


# -- the whole checker, in process ----------------------------------------------------------------
def test_silent_loop_is_localised_by_settrace():
    m = _fixture("silent_range_loop")
    model, inputs = m.tracelint_examples()[0]
    report = confirm(model, inputs, targets=("trace",), lint=False)
    found = {(d.code, d.line) for d in report.diagnostics}
    assert ("TL901", 21) in found
    d = next(d for d in report.diagnostics if d.code == "TL901")
    assert d.path == "fixtures/dynamic/silent_range_loop.py" or d.path.endswith("silent_range_loop.py")
    assert "loop runs 4 times on the example and 8 times on variant batch=8" in d.message
    assert d.verdict == "confirmed" and d.evidence
    assert dict(d.effects)["trace"].outcome == "fail"
    assert d.scope == "DecayPool.forward"


def test_python_list_index_is_localised_by_settrace():
    m = _fixture("list_index_tensor")
    model, inputs = m.tracelint_examples()[0]
    report = confirm(model, inputs, targets=("trace", "script"), lint=False)
    d = next(d for d in report.diagnostics if d.code == "TL901")
    assert d.line == 18 and "Tensor.__index__ gave 1 on the example and 0 on variant" in d.message
    assert [t for t, _ in d.effects] == ["trace"]     # script keeps the index: it matched
    table = report.dynamic[0]
    assert any(r["target"] == "script" and r["result"] == "match" for r in table["rows"])


def test_static_finding_gets_a_verdict():
    m = _fixture("silent_range_loop")
    model, inputs = m.tracelint_examples()[0]
    report = confirm(model, inputs, targets=("trace", "script"))
    static = next(d for d in report.diagnostics if d.code == "TL304")
    assert static.verdict == "confirmed"
    assert any("loop runs" in e for e in static.evidence)
    assert not [d for d in report.diagnostics if d.code.startswith("TL9")]   # explained by TL304


def test_clean_model_matches_and_assert_capture_safe():
    from tracelint.dynamic.testing import CaptureUnsafe, assert_capture_safe

    m = _fixture("clean_mlp")
    model, inputs = m.tracelint_examples()[0]
    report = assert_capture_safe(model, inputs, targets=("trace", "script", "export", "compile"))
    assert not [d for d in report.diagnostics if d.verdict == "confirmed"]
    rows = report.dynamic[0]["rows"]
    assert {r["target"] for r in rows} >= {"trace", "script", "export", "compile"}
    loop = _fixture("silent_range_loop")
    with pytest.raises(CaptureUnsafe) as info:
        assert_capture_safe(*loop.tracelint_examples()[0], targets="trace")
    assert "TL304" in str(info.value) and "confirmed" in str(info.value)


def test_model_left_untouched_and_train_flag():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.5))
    model.train()
    report = confirm(model, (torch.randn(3, 4),), targets=("trace",), lint=False)
    assert model.training                                    # confirm works on copies in eval mode
    assert not [d for d in report.diagnostics if d.code.startswith("TL9")]


def test_export_specialisation_is_localised():
    m = _fixture("silent_range_loop")
    model, inputs = m.tracelint_examples()[0]
    report = confirm(model, inputs, targets=("export",), lint=False)
    d = next(d for d in report.diagnostics if d.code == "TL902")
    # Dim.AUTO: export specialises the batch at the range() line, the program rejects other batches
    assert d.line == 21 and dict(d.verdicts) == {"export": "confirmed"}


def test_export_batch_one_example_is_captured_at_batch_two():
    model = torch.nn.Linear(3, 2)
    report = confirm(model, (torch.randn(1, 3),), targets=("export",), lint=False)
    assert not [d for d in report.diagnostics if d.code.startswith("TL9")]


def test_torchscript_error_in_decorated_method_points_at_the_right_file(tmp_path, monkeypatch):
    (tmp_path / "deco.py").write_text(textwrap.dedent('''
        import functools

        def deco(f):
            @functools.wraps(f)
            def inner(*a, **k):
                return f(*a, **k)
            return inner
        '''), encoding="utf-8")
    (tmp_path / "net.py").write_text(textwrap.dedent('''
        import torch
        from torch import nn
        from deco import deco


        class Net(nn.Module):
            def forward(self, x):
                return self.helper(x)

            @deco
            def helper(self, x):
                y = x * 2
                try:
                    y = y + 1
                except RuntimeError:
                    pass
                return y
        '''), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    net = import_file(str(tmp_path / "net.py"))
    report = confirm(net.Net(), (torch.randn(2, 3),), targets=("script",), lint=False)
    d = next(d for d in report.diagnostics if d.code == "TL902")
    assert Path(d.path).name == "net.py" and d.line == 14          # torch names deco.py:14
    assert d.source_line.strip() == "try:"
