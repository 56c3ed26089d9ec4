"""Per-example tables (variant x target: match / max |diff| / error) for `report.dynamic`."""
from __future__ import annotations

from typing import Any

from tracelint.dynamic.outcome import SourceOutcome


def _clip(text: str, n: int = 90) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 3] + "..."


def _err(error: dict[str, Any] | None) -> str:
    if not error:
        return "unknown error"
    return f"{error.get('type', 'Error')}: {error.get('message', '')}"


def run_result(run: dict[str, Any]) -> str:
    status = run["status"]
    if status == "match":
        return "match"
    if status == "skipped":
        return f"n/a ({run.get('detail', 'skipped')})"
    if status == "error":
        return _clip("error: " + _err(run.get("error")))
    diff = run.get("max_abs_diff")
    why = run.get("detail", "")
    if diff is not None and "values differ" in why:
        return f"max |diff| {diff:.3g}"
    return _clip(why.split(": ", 1)[-1] if why.startswith("output") else why)


def tables(outcomes: list[SourceOutcome]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for o in outcomes:
        if o.load_error is not None:
            out.append({"example": o.display, "rows": [
                {"variant": "-", "target": "-", "result": _clip("tracelint_examples failed: " + _err(o.load_error))}]})
            continue
        for r in o.examples:
            rows: list[dict[str, str]] = []
            if r.get("status", "ok") != "ok":
                rows.append({"variant": "example", "target": "eager",
                             "result": _clip(f"{r['status']}: {(r.get('error') or {}).get('message', '')}")})
            for v in r.get("variants", []):
                if v["status"] == "rejected":
                    rows.append({"variant": v["name"], "target": "eager",
                                 "result": _clip(f"rejected by eager (dropped): {v.get('error', '')}")})
            for t in r.get("targets", []):
                if t["status"] == "error":
                    rows.append({"variant": "example", "target": t["target"],
                                 "result": _clip("capture failed: " + _err(t.get("error")))})
                    for more in t.get("errors", []):
                        rows.append({"variant": "example", "target": t["target"],
                                     "result": _clip("also fails: " + _err(more))})
            for run in r.get("runs", []):
                rows.append({"variant": run["variant"], "target": run["target"], "result": run_result(run)})
            for t in r.get("targets", []):
                for note in t.get("notes", []):
                    rows.append({"variant": "note", "target": t["target"], "result": _clip(note, 120)})
            stop = r.get("interrupted")
            if stop:
                rows.append({"variant": stop.get("variant") or "-", "target": stop.get("target") or "-",
                             "result": _clip(f"not checked: {stop.get('message', '')}")})
            out.append({"example": f"{o.display}::{r['name']}", "rows": rows})
    return out
