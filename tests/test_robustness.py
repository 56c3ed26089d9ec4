"""The seeded slice of the robustness harness (benchmarks/robustness/): hypothesmith programs in
the four places the rules look, deep nesting, encodings. Every file: no exception escapes, no TL001,
no hang, TL000 exactly when CPython's compile() rejects the file, and TL003 only past the documented
limits."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks" / "robustness"))
import cases  # noqa: E402
from run import check as _check  # noqa: E402

from tracelint.analysis.index import MAX_NESTING, nesting_exceeds  # noqa: E402


def check(name: str, data: bytes) -> dict:
    """The harness's check with its CPU timer only as a guard against an endless loop (tests assert
    behaviour, not speed: the benchmark's 10 CPU-s "hang" limit belongs to the benchmark)."""
    return _check(name, data, hang_cpu_s=600.0)


def assert_sound(row: dict, data: bytes, unreadable_ok: bool = False) -> None:
    assert "crash" not in row, row
    assert not row.get("hang"), row
    assert not row["tl001"], row
    assert not row["false_tl000"] and not row["missed_tl000"], row
    if row["tl003"] and row["compile"] == "ok":   # valid Python not analysed: only past the nesting limit
        import ast
        unreadable = unreadable_ok and all("LibCST's parser cannot read" in m for m in row["tl003"])
        assert unreadable or nesting_exceeds(ast.parse(data), MAX_NESTING), row


@pytest.mark.slow
@pytest.mark.parametrize("strategy, count", [("grammar", 150), ("node", 60)])
def test_hypothesmith_programs(strategy, count):
    programs = cases.hypothesmith_programs(count, seed=1, strategy=strategy)
    assert len(programs) >= 5   # hypothesis may repeat itself (how often depends on its state): a sanity check
    for i, src in enumerate(programs):
        for how in cases.WRAPS:
            data = cases.wrap(src, how).encode("utf-8", "surrogatepass")
            assert_sound(check(f"p{i}_{how}", data), data)


@pytest.mark.parametrize("name, data", list(cases.deep_cases(depths=(490, 500, 1000, 2900, 5000))),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_deep_nesting(name, data):
    row = check(name, data)
    # 5,000 implicitly concatenated strings in a function: LibCST's parser gives up (a plain TL003)
    assert_sound(row, data, unreadable_ok="concat_5000" in name)
    if row["compile"] == "ok" and name.endswith("_forward") and not row["tl003"]:
        assert "TL201" in row["codes"]          # the hazard next to the deep expression is found
    if row["compile"] == "ok" and any(f"_{n}_" in name for n in (490, 500)) and "boolop" not in name:
        assert not row["tl003"], row            # the depths of the issue are analysed


@pytest.mark.parametrize("name, data", list(cases.encoding_cases()), ids=lambda v: v if isinstance(v, str) else "")
def test_encodings_and_parser_disagreements(name, data):
    row = check(name, data)
    assert_sound(row, data)
    assert not row["tl003"], row                # every file compile() reads, LibCST reads (after normalising)
    if row["compile"] == "ok" and b"item()" in data:
        assert "TL201" in row["codes"], row
