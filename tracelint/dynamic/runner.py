"""Run one example in this process: eager on every variant, then each capture on every variant.

The result is plain JSON-able data (it crosses a process boundary): per-variant eager status,
per-target capture outcome and warnings, one run record per (variant, target) with the comparison
and, for anything that went wrong, the user line it is localised to; plus line coverage.
"""
from __future__ import annotations

import contextlib
import copy
import inspect
import time
import warnings
from typing import Any, Callable

from tracelint.dynamic import trees
from tracelint.dynamic.capture import capture, filter_jit_deprecations
from tracelint.dynamic.compare import compare
from tracelint.dynamic.example import Example
from tracelint.dynamic.linediff import first_difference
from tracelint.dynamic.linetrace import LineRecorder, merge_coverage
from tracelint.dynamic.locate import error_info, short_message
from tracelint.dynamic.seeding import seed_all
from tracelint.dynamic.userfiles import is_user_file
from tracelint.dynamic.variants import Variant, batch_size, generate

Stage = Callable[[str], None]


def fresh(model: Any, train: bool) -> Any:
    """A private copy in the requested mode, so runs never share state (or the user's object)."""
    try:
        m = copy.deepcopy(model)
    except Exception:  # noqa: BLE001 - some modules cannot be copied; use the original then
        m = model
    if hasattr(m, "train") and hasattr(m, "eval"):
        m.train() if train else m.eval()
    return m


def where_defined(model: Any) -> dict[str, Any] | None:
    """The `def forward` line (or the class/function) a finding falls back to when unlocalised."""
    fn = getattr(type(model), "forward", None) or (model if inspect.isfunction(model) else None)
    code = getattr(fn, "__code__", None)
    if code is not None and is_user_file(code.co_filename):
        return {"path": code.co_filename, "line": code.co_firstlineno}
    try:
        path = inspect.getsourcefile(type(model))
        line = inspect.getsourcelines(type(model))[1]
    except (TypeError, OSError):
        return None
    return {"path": path, "line": line} if path and is_user_file(path) else None


def _source_files(model: Any) -> list[str]:
    files: list[str] = []
    modules = model.modules() if hasattr(model, "modules") else [model]
    for m in modules:
        try:
            path = inspect.getsourcefile(type(m))
        except TypeError:
            continue
        if path and is_user_file(path) and path not in files:
            files.append(path)
    return files


def _is_oom(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or "can't allocate memory" in str(exc) \
        or "not enough memory" in str(exc)


def run_example(example: Example, name: str, *, targets: tuple[str, ...], variants: int | None = None,
                rtol: float | None = None, atol: float | None = None, seed: int = 0,
                compile_backend: str = "aot_eager", on_stage: Stage | None = None) -> dict[str, Any]:
    import torch

    stage = on_stage or (lambda s: None)
    start = time.perf_counter()
    model = example.module
    result: dict[str, Any] = {
        "name": name, "status": "ok", "error": None, "where": where_defined(model),
        "targets": [], "runs": [], "variants": [], "coverage": {}, "seconds": 0.0,
        "run_targets": list(example.run_targets(targets)),
    }
    coverage: dict[str, set[int]] = {}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            filter_jit_deprecations()
            _run(example, result, coverage, targets=result["run_targets"], limit=variants, rtol=rtol,
                 atol=atol, seed=seed, compile_backend=compile_backend, stage=stage)
    except Exception as e:  # noqa: BLE001 - anything left is the example's failure, not ours
        result["status"] = "oom" if _is_oom(e) else "error"
        result["error"] = error_info(e, list(coverage))
    result["coverage"] = {p: sorted(v) for p, v in coverage.items()}
    result["seconds"] = round(time.perf_counter() - start, 3)
    return result


def _run(example: Example, result: dict[str, Any], coverage: dict[str, set[int]], *, targets, limit,
         rtol, atol, seed, compile_backend, stage: Stage) -> None:
    model = example.module
    train = example.train
    stage("variants")
    variants = generate(example.inputs, tuple(example.more_inputs), limit, seed)
    batch = batch_size(example.inputs)

    # eager on every variant, recording Python-level outcomes for localisation
    stage("eager")
    eager = fresh(model, train)
    outputs: dict[str, Any] = {}
    events: dict[str, list] = {}
    for v in variants:
        rec = LineRecorder(events=True)
        seed_all(seed)
        try:
            with rec:
                out = eager(*trees.clone(v.inputs))
        except Exception as e:  # noqa: BLE001
            merge_coverage(coverage, rec.coverage)
            if v.kind == "example":
                result["status"] = "oom" if _is_oom(e) else "error"
                result["error"] = error_info(e, list(coverage))
                result["error"]["stage"] = "eager run on the example"
                return
            result["variants"].append({"name": v.name, "inputs": trees.describe(v.inputs),
                                       "status": "rejected", "error": f"{type(e).__name__}: {short_message(e)}"})
            continue
        merge_coverage(coverage, rec.coverage)
        outputs[v.name] = out
        events[v.name] = rec.events
        result["variants"].append({"name": v.name, "inputs": trees.describe(v.inputs), "status": "ok",
                                   "error": None})
    accepted = [v for v in variants if v.name in outputs]
    candidates = _source_files(model)

    for target in targets:
        stage(f"capture ({target})")
        m = fresh(model, train)
        recorder = LineRecorder(events=False) if target == "trace" else contextlib.nullcontext()
        with recorder:
            cap = capture(target, m, example.inputs, batch=batch, reseed=lambda: seed_all(seed),
                          compile_backend=compile_backend)
        if isinstance(recorder, LineRecorder):
            merge_coverage(coverage, recorder.coverage)
        files = candidates + [p for p in coverage if p not in candidates]
        error = None
        if cap.error is not None:
            error = error_info(cap.error, files)
            if error["location"] is None and cap.hint is not None:
                error["location"] = cap.hint
        entry: dict[str, Any] = {"target": target, "status": "ok" if cap.error is None else "error",
                                 "error": error, "warnings": cap.warnings, "seconds": round(cap.seconds, 3)}
        result["targets"].append(entry)
        if cap.error is not None:
            continue
        for v in accepted:
            result["runs"].append(_run_variant(target, cap, v, outputs, events, files, rtol, atol, seed, stage))


def _run_variant(target: str, cap, v: Variant, outputs, events, files, rtol, atol, seed, stage: Stage) -> dict[str, Any]:
    run: dict[str, Any] = {"variant": v.name, "target": target, "status": "match", "max_abs_diff": None,
                           "detail": "", "error": None, "location": None}
    if target == "export" and v.static_dims_changed:
        run.update(status="skipped", detail="a dimension export declares static changed")
        return run
    stage(f"{target} on {v.name}")
    err_loc = None
    if v.kind == "example" and cap.has_first_output:
        out = cap.first_output
    else:
        seed_all(seed)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = cap.fn(*trees.clone(v.inputs))
        except Exception as e:  # noqa: BLE001 - the captured artefact raising is a finding
            info = error_info(e, files)
            run.update(status="error", error=info, detail=f"{type(e).__name__}: {info['message']}")
            err_loc = info["location"]
            run["location"] = _localise(target, v, cap, events, err_loc, error=True)
            return run
    cmp = compare(outputs[v.name], out, rtol, atol)
    run["max_abs_diff"] = cmp.max_abs_diff
    if not cmp.match:
        run.update(status="diverged", detail=cmp.why)
        run["location"] = _localise(target, v, cap, events, None, error=False)
    return run


def _localise(target: str, v: Variant, cap, events, err_loc, *, error: bool) -> dict[str, Any] | None:
    """Where a failure on a variant comes from.

    A trace fails to generalise because of what it baked in, so for trace the line whose outcome
    changed (settrace) wins over the line where the traced graph raised; for the other targets the
    error's own location is the cause.
    """
    diff = None
    if v.kind != "example" and "example" in events and v.name in events:
        diff = first_difference(events["example"], events[v.name], v.name)
    order = [diff, err_loc] if target == "trace" else [err_loc, diff]
    for loc in order:
        if loc is not None:
            return loc
    tracer = [w for w in cap.warnings if w["category"] == "TracerWarning"]
    if tracer:
        w = tracer[0]
        return {"path": w["path"], "line": w["line"], "how": "tracer-warning", "detail": w["message"]}
    return None
