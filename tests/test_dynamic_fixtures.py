"""Golden verdicts of the dynamic checker over every fixture, with the real torch.

One run of `tracelint confirm --target all` over every fixture with examples but the hanging one
(child processes, forked from a warm zygote) feeds every test here. The deadline is generous: a
loaded machine makes compiles slow, and slow is not what these tests check (the hang is in
test_dynamic_isolation.py). The goldens in tests/golden/dynamic_verdicts.json record, per finding, its
verdict and the targets the evidence names; they were reviewed by hand. Regenerate with
TRACELINT_UPDATE_GOLDENS=1 and review the diff before committing it.
"""
from __future__ import annotations

import json
import os
import re

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow

GOLDEN = ROOT / "tests" / "golden" / "dynamic_verdicts.json"
TARGETS = ("trace", "script", "export", "compile")
# examples whose point is to fail in eager mode: reported as TL903, never compared
CRASHERS = {"fixtures/dynamic/aborting_model.py::NativeCrash", "fixtures/dynamic/out_of_memory.py::Greedy",
            "fixtures/dynamic/examples_raise.py"}
CLEAN = re.compile(r"^fixtures/(clean_[^/]*\.py|dynamic/(clean_mlp|small_transformer)\.py)::")


@pytest.fixture(scope="module")
def run():
    from tracelint.dynamic.api import confirm_sources

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        sources = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "fixtures").rglob("*.py")
                         if p.name != "hanging_model.py" and "def tracelint_examples" in p.read_text(encoding="utf-8"))
        report = confirm_sources(sources, capture_targets=TARGETS, timeout=900.0, memory_mb=4096)
    finally:
        os.chdir(cwd)
    return report


def _evidence_targets(evidence) -> list[str]:
    found = set()
    for item in evidence:
        m = re.match(r"(\w+)[,:]", item)
        if m and m.group(1) in TARGETS:
            found.add(m.group(1))
    return [t for t in TARGETS if t in found]


def _snapshot(report) -> list[dict]:
    return sorted(({"path": d.path, "line": d.line, "code": d.code, "verdict": d.verdict,
                    "evidence_targets": _evidence_targets(d.evidence)} for d in report.diagnostics),
                  key=lambda x: (x["path"], x["line"], x["code"], x["verdict"] or "", x["evidence_targets"]))


def test_no_tool_errors(run):
    # the examples that cannot run are set-up problems (exit 2), summed up in one error
    assert len(run.errors) == 1 and "TL903" in run.errors[0]
    assert not any(d.code == "TL001" for d in run.diagnostics)


def test_golden_verdicts(run):
    got = _snapshot(run)
    if os.environ.get("TRACELINT_UPDATE_GOLDENS"):
        GOLDEN.write_text(json.dumps(got, indent=1) + "\n", encoding="utf-8")
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert got == want


def test_every_finding_has_a_verdict(run):
    assert all(d.verdict in ("confirmed", "not-reproduced", "not-reached", "not-checked") for d in run.diagnostics)


def test_clean_fixtures_match_everywhere(run):
    clean = [t for t in run.dynamic if CLEAN.match(t["example"])]
    assert len(clean) >= 6
    for table in clean:
        bad = [r for r in table["rows"] if not (r["result"] == "match" or r["result"].startswith(("n/a", "rejected")))]
        assert bad == [], table["example"]
        assert {r["target"] for r in table["rows"]} >= set(TARGETS), table["example"]
    clean_files = {t["example"].split("::")[0] for t in clean}
    assert not [d for d in run.diagnostics if d.code.startswith("TL9") and d.path in clean_files]


def test_crashing_examples_reported_and_neighbours_checked(run):
    failed = {d.message.split(": ")[0] for d in run.diagnostics if d.code == "TL903"}
    assert CRASHERS <= failed
    by_name = {t["example"]: t for t in run.dynamic}
    for neighbour in ("fixtures/dynamic/aborting_model.py::Fine",):
        rows = by_name[neighbour]["rows"]
        assert rows and all(r["result"] == "match" or r["result"].startswith(("n/a", "rejected")) for r in rows)


def test_silent_cases_localised_by_settrace(run):
    def find(path, code):
        return next(d for d in run.diagnostics if d.path == path and d.code == code)

    loop = find("fixtures/dynamic/silent_range_loop.py", "TL304")
    assert loop.line == 21 and loop.verdict == "confirmed"
    assert any(e.startswith("trace,") and "loop runs 4 times on the example" in e for e in loop.evidence)
    index = find("fixtures/dynamic/list_index_tensor.py", "TL205")
    assert index.line == 18 and index.verdict == "confirmed"
    assert any(e.startswith("trace,") and "Tensor.__index__ gave 1 on the example" in e for e in index.evidence)
    # no TracerWarning was involved: the evidence is the divergence and the settrace localisation
    assert not any("TracerWarning" in e for e in loop.evidence + index.evidence)
