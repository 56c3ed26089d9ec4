"""Smoke test of the real-world accuracy harness (benchmarks/realworld) on its small in-repo
library: collect the ground truth with the real torch, then score tracelint against it."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

RUN = Path(__file__).resolve().parents[1] / "benchmarks" / "realworld" / "run.py"


def _lines(truth: dict, target: str) -> dict[int, dict]:
    return {g["line"]: g for g in truth["lines"] if g["target"] == target and g["path"] == "rwsample/models.py"}


@pytest.mark.slow
def test_ground_truth_and_score(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    subprocess.run([sys.executable, str(RUN), "collect", "--zoo", "sample", "--runs", str(runs), "--jobs", "2",
                    "--timeout", "600"], check=True, capture_output=True, text=True)
    truth = json.loads((runs / "data" / "ground_truth.json").read_text())
    assert sorted(truth["model_ids"]) == ["sample/Composite", "sample/PerSample", "sample/ShapeGate"]

    trace = _lines(truth, "trace")
    # `if x.size(0) > 2:` warns (innermost library frame) and the trace diverges on batch 3 there
    assert {"warning", "divergence"} <= set(trace[18]["kinds"])
    # `for row in x.unbind(0):` is silent: localised by the loop count of the eager runs
    assert trace[33]["kinds"] == ["divergence"] and "loop-count" in trace[33]["how"]

    # the comprehension `if` of a decorated forward: TorchScript names wrappers.py, relocated to models.py
    script = _lines(truth, "script")
    assert set(script) == {45} and "script-relocated" in script[45]["how"]
    classes = truth["script_classes"]
    assert classes["rwsample/models.py::rwsample.models.Clean"]["outcome"] == "ok"
    assert classes["rwsample/models.py::rwsample.models.Clean"]["methods"] == [["rwsample/models.py", 54, 55, "forward"]]
    assert classes["rwsample/models.py::rwsample.models.Head"]["outcome"] == "error"

    # export with a dynamic batch: both specialisations are located
    assert {18, 33} <= set(_lines(truth, "export"))

    coverage = json.loads((runs / "data" / "coverage.json").read_text())
    executed = set()
    for part in coverage["rwsample/models.py"].split(","):
        first, _, last = part.partition("-")
        executed.update(range(int(first), int(last or first) + 1))
    assert {17, 18, 20, 33} <= executed and 19 not in executed   # the example (batch 2) skips line 19

    results = tmp_path / "results.json"
    tool = f"{sys.executable} -m tracelint"
    subprocess.run([sys.executable, str(RUN), "score", "--data", str(runs / "data"), "--tracelint", tool,
                    "--library", "rwsample", "-o", str(results)], check=True, capture_output=True, text=True)
    scored = json.loads(results.read_text())
    metrics = scored["libraries"]["rwsample"]["metrics"]
    for target in ("trace", "script", "export"):
        m = metrics[target]
        assert m["lines"] == len(_lines(truth, target))
        assert m["recall"] == round(m["hit"] / m["lines"], 4)
    assert scored["models"]["rwsample"] == {"listed": 3, "ran": 3}

    diff = subprocess.run([sys.executable, str(RUN), "score", "--data", str(runs / "data"), "--tracelint", tool,
                           "--library", "rwsample", "-o", str(tmp_path / "again.json"), "--baseline", str(results)],
                          check=True, capture_output=True, text=True).stdout
    assert "rwsample: 0 findings appeared, 0 vanished" in diff
