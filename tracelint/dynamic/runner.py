"""Run one example in this process: eager on every variant, then each capture on every variant.

The result is plain JSON-able data (it crosses a process boundary): per-variant eager status,
per-target capture outcome and warnings, one run record per (variant, target) with the comparison
and, for anything that went wrong, the user line it is localised to; plus line coverage.

Eager and captured run in lockstep over the same sequence of inputs, each side on its own copy
of the model, so a model that keeps state (counters, running buffers) is compared with what its
capture does to the same state.
"""
from __future__ import annotations

import contextlib
import copy
import inspect
import time
import warnings
from typing import Any, Callable

from tracelint.dynamic import trees
from tracelint.dynamic.budget import RunTimeout, per_run, time_limit
from tracelint.dynamic.capture import capture, filter_jit_deprecations
from tracelint.dynamic.compare import compare
from tracelint.dynamic.example import Example
from tracelint.dynamic.linediff import first_difference
from tracelint.dynamic.linetrace import LineRecorder, merge_coverage
from tracelint.dynamic.locate import error_info, short_message
from tracelint.dynamic.seeding import seed_all
from tracelint.dynamic.userfiles import is_user_file
from tracelint.dynamic.variants import Variant, batch_size, generate, resize_batch

Stage = Callable[[str], None]
TRACE_EVENTS = "<trace>"


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
                compile_backend: str = "aot_eager", on_stage: Stage | None = None,
                timeout: float | None = None) -> dict[str, Any]:
    """Everything about one example. `timeout` (child processes only) bounds each single call."""
    import torch

    stage = on_stage or (lambda s: None)
    start = time.perf_counter()
    result: dict[str, Any] = {
        "name": name, "status": "ok", "error": None, "where": where_defined(example.module),
        "targets": [], "runs": [], "variants": [], "coverage": {}, "calls": [], "seconds": 0.0,
        "run_targets": list(example.run_targets(targets)),
    }
    coverage: dict[str, set[int]] = {}
    calls: set[tuple] = set()
    try:
        with torch.no_grad(), warnings.catch_warnings():
            filter_jit_deprecations()
            _Run(example, result, coverage, calls, limit=variants, rtol=rtol, atol=atol, seed=seed,
                 compile_backend=compile_backend, stage=stage, timeout=timeout).run()
    except Exception as e:  # noqa: BLE001 - anything left is the example's failure, not ours
        result["status"] = "oom" if _is_oom(e) else "error"
        result["error"] = error_info(e, list(coverage))
    result["coverage"] = {p: sorted(v) for p, v in coverage.items()}
    result["calls"] = sorted(calls)
    result["seconds"] = round(time.perf_counter() - start, 3)
    return result


class _Run:
    """One example's run; the steps share the variants, eager outputs and recorded events."""

    def __init__(self, example: Example, result: dict[str, Any], coverage: dict[str, set[int]],
                 calls: set[tuple], *, limit,
                 rtol, atol, seed: int, compile_backend: str, stage: Stage, timeout: float | None) -> None:
        self.ex = example
        self.result = result
        self.coverage = coverage
        self.calls = calls
        self.limit, self.rtol, self.atol, self.seed = limit, rtol, atol, seed
        self.compile_backend = compile_backend
        self.stage = stage
        self.timeout = timeout
        self.budget: float | None = None
        self.events: dict[str, list] = {}
        self.rejected: set[str] = set()
        self.variants: list[Variant] = []
        self.files: list[str] = []

    def call(self, fn, inputs):
        """One forward call: seeded, on fresh copies of the inputs, within the per-call budget."""
        seed_all(self.seed)
        with time_limit(self.budget):
            return fn(*trees.clone(inputs))

    def run(self) -> None:
        self.stage("variants")
        self.variants = generate(self.ex.inputs, tuple(self.ex.more_inputs), self.limit, self.seed)
        if not self.eager_pass():
            return
        self.files = _source_files(self.ex.module)
        self.files += [p for p in self.coverage if p not in self.files]
        for target in self.result["run_targets"]:
            self.target(target)

    # -- eager: which variants eager accepts, and what Python did on each ---------------------
    def eager_pass(self) -> bool:
        self.stage("eager")
        eager = fresh(self.ex.module, self.ex.train)
        for v in self.variants:
            rec = LineRecorder(events=True)
            t0 = time.perf_counter()
            try:
                with rec:
                    self.call(eager, v.inputs)
            except (Exception, RunTimeout) as e:  # noqa: BLE001
                merge_coverage(self.coverage, rec.coverage)
                if v.kind == "example":
                    self.result["status"] = "oom" if _is_oom(e) else "error"
                    self.result["error"] = error_info(e, list(self.coverage))
                    self.result["error"]["stage"] = "eager run on the example"
                    return False
                self.rejected.add(v.name)
                why = "did not finish in time" if isinstance(e, RunTimeout) else f"{type(e).__name__}: {short_message(e)}"
                self.result["variants"].append({"name": v.name, "inputs": trees.describe(v.inputs),
                                                "status": "rejected", "error": why})
                continue
            if v.kind == "example":
                self.budget = per_run(time.perf_counter() - t0, self.timeout)
            merge_coverage(self.coverage, rec.coverage)
            self.calls.update(rec.calls)
            self.events[v.name] = rec.events
            self.result["variants"].append({"name": v.name, "inputs": trees.describe(v.inputs),
                                            "status": "ok", "error": None})
        return True

    # -- one capture mechanism ------------------------------------------------------------------
    def target(self, target: str) -> None:
        self.stage(f"capture ({target})")
        batch = batch_size(self.ex.inputs)
        inputs, note = self.ex.inputs, ""
        if target == "export" and batch == 1:
            # a size-1 dim cannot be declared dynamic (0/1 specialisation): capture on batch 2
            inputs, batch, note = resize_batch(self.ex.inputs, 1, 2), 2, "captured on the example tiled to batch 2"
        m = fresh(self.ex.module, self.ex.train)
        recorder = LineRecorder(events=True, hooks=False) if target == "trace" else contextlib.nullcontext()
        # trace and export run Python once while capturing: with a seed of its own, Python/NumPy
        # randomness baked in then differs from what eager draws at run time, as in deployment.
        # compile's capturing call is also its first run, so it gets the run seed.
        capture_seed = self.seed if target == "compile" else self.seed + 1
        with recorder:
            cap = capture(target, m, inputs, batch=batch, reseed=lambda: seed_all(capture_seed),
                          compile_backend=self.compile_backend)
        if isinstance(recorder, LineRecorder):
            merge_coverage(self.coverage, recorder.coverage)
            self.events[TRACE_EVENTS] = recorder.events
        error = None
        if cap.error is not None:
            error = error_info(cap.error, self.files)
            if error["location"] is None and cap.hint is not None:
                error["location"] = cap.hint
        self.result["targets"].append({"target": target, "status": "ok" if cap.error is None else "error",
                                       "error": error, "warnings": cap.warnings, "note": note,
                                       "seconds": round(cap.seconds, 3)})
        if cap.error is None:
            self.lockstep(target, cap)

    def lockstep(self, target: str, cap) -> None:
        """Eager and captured see the same calls in the same order; compare where eager succeeded.

        Variants eager rejected are run by neither side, so a stateful model's two copies stay in step.
        """
        eager = fresh(self.ex.module, self.ex.train)
        if target == "trace":   # tracing ran forward once on the module the traced graph shares state with
            with contextlib.suppress(Exception, RunTimeout):
                self.call(eager, self.ex.inputs)
        for v in self.variants:
            if v.name in self.rejected:   # neither side runs it: eager cannot, and state stays in step
                continue
            run = {"variant": v.name, "target": target, "status": "match", "max_abs_diff": None,
                   "detail": "", "error": None, "location": None}
            if target == "export" and v.static_dims_changed:
                run.update(status="skipped", detail="a dimension export declares static changed")
                self.result["runs"].append(run)
                continue
            self.stage(f"{target} on {v.name}")
            try:
                expected, eager_error = self.call(eager, v.inputs), None
            except (Exception, RunTimeout) as e:  # noqa: BLE001
                expected, eager_error = None, e
            try:
                if v.kind == "example" and cap.has_first_output:
                    got, error = cap.first_output, None
                else:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        got, error = self.call(cap.fn, v.inputs), None
            except (Exception, RunTimeout) as e:  # noqa: BLE001 - the captured artefact raising is a finding
                got, error = None, e
            if eager_error is not None:
                run.update(status="skipped", detail=f"eager raised here: {type(eager_error).__name__}")
            elif error is not None:
                info = error_info(error, self.files)
                run.update(status="error", error=info, detail=f"{type(error).__name__}: {info['message']}")
                run["location"] = self.localise(target, v, cap, info["location"])
            else:
                cmp = compare(expected, got, self.rtol, self.atol)
                run["max_abs_diff"] = cmp.max_abs_diff
                if not cmp.match:
                    run.update(status="diverged", detail=cmp.why)
                    run["location"] = self.localise(target, v, cap, None)
            self.result["runs"].append(run)

    def localise(self, target: str, v: Variant, cap, err_loc) -> dict[str, Any] | None:
        """Where a failure on a variant comes from.

        A trace fails to generalise because of what it baked in, so for trace the line whose outcome
        changed (settrace) wins over the line where the traced graph raised; for the other targets the
        error's own location is the cause. Python-level outcomes are compared between the eager runs
        of the example and the variant, and, for trace, between the tracing run and the variant.
        """
        diffs = []
        ev = self.events
        if v.kind != "example" and "example" in ev and v.name in ev:
            diffs.append(first_difference(ev["example"], ev[v.name], v.name))
        if target == "trace" and TRACE_EVENTS in ev and v.name in ev:
            diffs.append(first_difference(ev[TRACE_EVENTS], ev[v.name], v.name, values=False,
                                          reference="the tracing run"))
        diff = next((d for d in diffs if d is not None), None)
        order = [diff, err_loc] if target == "trace" else [err_loc, diff]
        for loc in order:
            if loc is not None:
                return loc
        tracer = [w for w in cap.warnings if w["category"] == "TracerWarning"]
        if tracer:
            w = tracer[0]
            return {"path": w["path"], "line": w["line"], "how": "tracer-warning", "detail": w["message"]}
        return None
