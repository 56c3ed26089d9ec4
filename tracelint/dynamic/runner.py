"""Run one example in this process: eager on every variant, then each capture on every variant.

The result is plain JSON-able data (it crosses a process boundary): per-variant eager status,
per-target capture outcome and warnings, one run record per (variant, target) with the comparison
and, for anything that went wrong, the line it is localised to; plus the lines the model's
forward executed (eager on the example, and the tracing run). `emit` receives the result after
the eager pass and after each target, so a run cut short by the example's deadline keeps what
finished.

Eager runs once per variant; its outputs are reused for every target when the model keeps no
state (no parameter or buffer written in place, no plain attribute changed by the eager pass).
A model that does keep state runs eager again in lockstep with each capture over the same
sequence of inputs, each side on its own copy, so it is compared with what its capture does to
the same state. No capture has a time limit of its own: compiling for a new shape can take long
and is not a failure; only the example's deadline (in the parent) stops a run. The one exception
is eager on an input tracelint made up (a generated variant): a model may never finish on it (an
iteration that converges only for positive inputs), so such a run is stopped after
`max(GENERATED_MIN_S, GENERATED_FACTOR x the example's eager time)` and the variant is rejected,
as if eager had raised: the model does not accept that input, which says nothing about it.
"""
from __future__ import annotations

import contextlib
import copy
import inspect
import re
import time
import warnings
from typing import Any, Callable

from tracelint.dynamic import trees
from tracelint.dynamic.capture import capture, export_sources, filter_jit_deprecations, tile_unit_dims
from tracelint.dynamic.compare import compare
from tracelint.dynamic.example import Example
from tracelint.dynamic.linediff import first_difference
from tracelint.dynamic.linetrace import LineRecorder, merge_coverage
from tracelint.dynamic.locate import error_info, short_message
from tracelint.dynamic.scopes import function_at
from tracelint.dynamic.seeding import seed_all
from tracelint.dynamic.userfiles import is_user_file
from tracelint.dynamic.variants import Variant, changed_dims, generate, parameter_names

Stage = Callable[..., None]
Emit = Callable[[dict], None]

GENERATED_MIN_S = 30.0
GENERATED_FACTOR = 50.0


class _EagerTooSlow(Exception):
    """Eager did not finish on a generated variant in its allowance."""


@contextlib.contextmanager
def _allowance(seconds: float | None):
    """Raise _EagerTooSlow in this (main) thread after `seconds`; no-op when None or unavailable."""
    import signal
    import threading

    if seconds is None or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def ring(signum, frame):
        raise _EagerTooSlow(f"eager did not finish within {seconds:.0f} s on this generated input")

    old = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)

# capture errors that name no line but are about forward's outputs or its inputs
_ABOUT_OUTPUT = re.compile(r"\boutput", re.I)
_ABOUT_INPUT = re.compile(r"cannot be traced|\binputs?\b|\bargument|example_kwarg_inputs|keyword", re.I)


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
    try:
        fn = inspect.unwrap(fn) if fn is not None else None   # decorated forwards: the model's own def
    except ValueError:
        pass
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


_SIMPLE = (int, float, bool, str, type(None))


def state_signature(model: Any) -> Any:
    """What a forward call could change: in-place writes to parameters and buffers (their version
    counters) and the plain attributes of every submodule."""
    if not hasattr(model, "modules"):
        return None
    sig: list[Any] = []
    for m in model.modules():
        for name, t in list(m._parameters.items()) + list(m._buffers.items()):
            if t is not None:
                sig.append((name, t._version, t.data_ptr(), tuple(t.shape)))
        attrs = []
        for k, v in m.__dict__.items():
            if k.startswith("_"):
                continue
            if isinstance(v, _SIMPLE):
                attrs.append((k, v))
            elif isinstance(v, (list, dict, set)):
                attrs.append((k, type(v).__name__, len(v)))
        sig.append(tuple(attrs))
    return sig


def run_example(example: Example, name: str, *, targets: tuple[str, ...], variants: int | None = None,
                rtol: float | None = None, atol: float | None = None, seed: int = 0,
                compile_backend: str = "aot_eager", on_stage: Stage | None = None,
                emit: Emit | None = None) -> dict[str, Any]:
    """Everything about one example (see the module docstring)."""
    import torch

    stage = on_stage or (lambda *a, **k: None)
    run = _Run(example, name, targets, limit=variants, rtol=rtol, atol=atol, seed=seed,
               compile_backend=compile_backend, stage=stage, emit=emit)
    try:
        with torch.no_grad(), warnings.catch_warnings():
            filter_jit_deprecations()
            run.run()
    except Exception as e:  # noqa: BLE001 - anything left is the example's failure, not ours
        run.result["status"] = "oom" if _is_oom(e) else "error"
        run.result["error"] = error_info(e, list(run.coverage))
    return run.finish()


class _Run:
    """One example's run; the steps share the variants, eager outputs and recorded events."""

    def __init__(self, example: Example, name: str, targets: tuple[str, ...], *, limit, rtol, atol,
                 seed: int, compile_backend: str, stage: Stage, emit: Emit | None) -> None:
        self.ex = example
        self.limit, self.rtol, self.atol, self.seed = limit, rtol, atol, seed
        self.compile_backend = compile_backend
        self.stage = stage
        self.emit = emit
        self.start = time.perf_counter()
        self.result: dict[str, Any] = {
            "name": name, "status": "ok", "error": None, "where": where_defined(example.module),
            "targets": [], "runs": [], "variants": [], "coverage": {}, "calls": [], "seconds": 0.0,
            "run_targets": list(example.run_targets(targets)), "stateful": False, "timeout": None,
        }
        self.coverage: dict[str, set[int]] = {}
        self.calls: set[tuple] = set()
        self.events: dict[str, list] = {}
        self.rejected: set[str] = set()
        self.outputs: dict[str, Any] = {}
        self.stateful = False
        self.variants: list[Variant] = []
        self.files: list[str] = []
        self.inputs: tuple = (tuple(example.inputs), dict(example.kwargs or {}))

    # -- bookkeeping ----------------------------------------------------------------------------
    def finish(self) -> dict[str, Any]:
        self.result["coverage"] = {p: sorted(v) for p, v in self.coverage.items()}
        self.result["calls"] = sorted(self.calls)
        self.result["seconds"] = round(time.perf_counter() - self.start, 3)
        return self.result

    def publish(self) -> None:
        if self.emit is not None:
            self.emit(self.finish())

    def call(self, fn, inputs):
        """One forward call: seeded, on fresh copies of the inputs."""
        seed_all(self.seed)
        return trees.call(fn, trees.clone(inputs))

    def run(self) -> None:
        self.stage("variants")
        args, kwargs = self.inputs
        self.variants = generate(self.inputs, tuple(self.ex.more_inputs), self.limit, self.seed,
                                 more_kwargs=tuple(self.ex.more_kwargs or ()),
                                 arg_names=parameter_names(self.ex.module, len(args)))
        if not self.eager_pass():
            return
        self.files = _source_files(self.ex.module)
        self.files += [p for p in self.coverage if p not in self.files]
        self.publish()
        for target in self.result["run_targets"]:
            self.target(target)
            self.publish()

    # -- eager: which variants eager accepts, what it returns, what Python did on the example ----
    def eager_pass(self) -> bool:
        self.stage("eager")
        eager = fresh(self.ex.module, self.ex.train)
        before = state_signature(eager)
        example_seconds: float | None = None
        for v in self.variants:
            self.stage(f"eager on {v.name}", variant=v.name)
            rec = LineRecorder(events=True) if v.kind == "example" else contextlib.nullcontext()
            allowance = None
            if v.kind not in ("example", "user") and example_seconds is not None:
                allowance = max(GENERATED_MIN_S, GENERATED_FACTOR * example_seconds)
            began = time.perf_counter()
            try:
                with rec, _allowance(allowance):
                    out = self.call(eager, v.inputs)
            except Exception as e:  # noqa: BLE001
                if isinstance(rec, LineRecorder):
                    merge_coverage(self.coverage, rec.coverage)
                if v.kind == "example":
                    self.result["status"] = "oom" if _is_oom(e) else "error"
                    self.result["error"] = error_info(e, list(self.coverage))
                    self.result["error"]["stage"] = "eager run on the example"
                    return False
                self.rejected.add(v.name)
                self.result["variants"].append({"name": v.name, "inputs": trees.describe(v.inputs),
                                                "status": "rejected",
                                                "error": f"{type(e).__name__}: {short_message(e)}"})
                continue
            if v.kind == "example":
                example_seconds = time.perf_counter() - began
            if isinstance(rec, LineRecorder):
                merge_coverage(self.coverage, rec.coverage)
                self.calls.update(rec.calls)
                self.events[v.name] = rec.events
            self.outputs[v.name] = out
            self.result["variants"].append({"name": v.name, "inputs": trees.describe(v.inputs),
                                            "status": "ok", "error": None})
        self.stateful = state_signature(eager) != before
        self.result["stateful"] = self.stateful
        if self.stateful:
            self.outputs.clear()   # the lockstep runs eager again, state and all
        return True

    def variant_events(self, v: Variant) -> list | None:
        """What Python did on a variant: recorded on demand (only a failure needs it)."""
        if v.name not in self.events:
            rec = LineRecorder(events=True)
            try:
                with rec:
                    self.call(fresh(self.ex.module, self.ex.train), v.inputs)
            except Exception:  # noqa: BLE001 - eager accepted it before; keep what was recorded
                pass
            merge_coverage(self.coverage, rec.coverage)
            self.calls.update(rec.calls)
            self.events[v.name] = rec.events
        return self.events[v.name]

    # -- one capture mechanism ------------------------------------------------------------------
    def target(self, target: str) -> None:
        self.stage(f"capture ({target})", target=target)
        accepted = [v for v in self.variants if v.name not in self.rejected]
        dims = changed_dims(accepted) if target == "export" else {}
        inputs, note = self.inputs, ""
        if target == "export":
            inputs, tiled = tile_unit_dims(self.inputs, dims)
            if tiled:   # a size-1 dim cannot be dynamic (0/1 specialisation)
                note = "captured on the example with its size-1 dynamic dims tiled to 2"
        m = fresh(self.ex.module, self.ex.train)
        # trace and (non-strict) export run forward as Python once while capturing: what that run
        # decided is what the capture keeps, so it is recorded to compare with eager runs later
        recorded = target in ("trace", "export")
        recorder = LineRecorder(events=True, hooks=False) if recorded else contextlib.nullcontext()
        # trace and export run Python once while capturing: with a seed of its own, Python/NumPy
        # randomness baked in then differs from what eager draws at run time, as in deployment.
        # compile's capturing call is also its first run, so it gets the run seed.
        capture_seed = self.seed if target == "compile" else self.seed + 1
        with recorder:
            cap = capture(target, m, inputs, reseed=lambda: seed_all(capture_seed),
                          compile_backend=self.compile_backend, dims=dims)
        if isinstance(recorder, LineRecorder):
            if target == "trace":
                merge_coverage(self.coverage, recorder.coverage)
            self.events[f"<{target}>"] = recorder.events
        entry = {"target": target, "status": "ok" if cap.error is None else "error", "error": None,
                 "errors": [], "warnings": cap.warnings, "note": note, "notes": [],
                 "seconds": round(cap.seconds, 3)}
        if cap.error is not None:
            entry["error"] = self.capture_error(cap.error, cap)
            seen = {_loc_key(entry["error"]["location"])}
            for e in cap.more_errors:
                info = error_info(e, self.files)
                key = _loc_key(info["location"])
                if info["location"] is not None and key not in seen:
                    seen.add(key)
                    entry["errors"].append(info)
        self.result["targets"].append(entry)
        if cap.error is None:
            self.lockstep(target, cap, entry)

    def capture_error(self, exc: BaseException, cap) -> dict[str, Any]:
        """Where a capture error points: its own frames, else what it is about (forward's output:
        the return line forward executed; its inputs: forward's signature), else export's hint."""
        info = error_info(exc, self.files)
        if info["location"] is None and cap.hint is not None:
            info["location"] = cap.hint
        if info["location"] is None:
            text = str(exc)
            if _ABOUT_OUTPUT.search(text):
                info["location"] = self.return_line()
            elif _ABOUT_INPUT.search(text) and self.result["where"]:
                info["location"] = {**self.result["where"], "how": "signature",
                                    "detail": "the error is about forward's inputs"}
        return info

    def return_line(self) -> dict[str, Any] | None:
        """The last line of the model's own forward that ran on the example: its return."""
        where = self.result["where"]
        if not where:
            return None
        body = function_at(where["path"], where["line"])
        for e in reversed(self.events.get("example", [])):
            if e[0] == "L" and e[1] == where["path"] and e[2] in body:
                return {"path": e[1], "line": e[2], "how": "output",
                        "detail": "the error is about forward's output, returned here"}
        return None

    def lockstep(self, target: str, cap, entry: dict[str, Any]) -> None:
        """Compare the capture with eager on every variant eager accepted.

        Variants eager rejected are run by neither side, so a stateful model's two copies stay in step.
        """
        eager = None
        if self.stateful:
            eager = fresh(self.ex.module, self.ex.train)
            if target == "trace":   # tracing ran forward once on the module the traced graph shares state with
                with contextlib.suppress(Exception):
                    self.call(eager, self.inputs)
        for v in self.variants:
            if v.name in self.rejected:   # neither side runs it: eager cannot, and state stays in step
                continue
            run = {"variant": v.name, "target": target, "status": "match", "max_abs_diff": None,
                   "detail": "", "error": None, "location": None}
            if target == "export" and v.kind == "dtype":
                run.update(status="skipped", detail="export fixes the input dtypes by design")
                self.result["runs"].append(run)
                continue
            self.stage(f"{target} on {v.name}", target=target, variant=v.name)
            eager_error = None
            if eager is None:
                expected = self.outputs.get(v.name)
            else:
                try:
                    expected = self.call(eager, v.inputs)
                except Exception as e:  # noqa: BLE001
                    expected, eager_error = None, e
            try:
                if v.kind == "example" and cap.has_first_output:
                    got, error = cap.first_output, None
                else:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        got, error = self.call(cap.fn, v.inputs), None
            except Exception as e:  # noqa: BLE001 - the captured artefact raising is a finding
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
                for n in cmp.notes:
                    if n not in entry["notes"]:
                        entry["notes"].append(n)
                if not cmp.match:
                    run.update(status="diverged", detail=cmp.why)
                    run["location"] = self.localise(target, v, cap, None)
            self.result["runs"].append(run)

    def localise(self, target: str, v: Variant, cap, err_loc) -> dict[str, Any] | None:
        """Where a failure on a variant comes from.

        A trace fails to generalise because of what it baked in, so for trace the line whose outcome
        changed (settrace) wins over the line where the traced graph raised; for the other targets the
        error's own location is the cause. An exported program rejecting a variant is blamed on the
        first guard export put on a dimension the variant changed. Python-level outcomes are compared
        between the eager runs of the example and the variant, and, for trace, between the tracing
        run and the variant.
        """
        if target == "export" and err_loc is None and cap.sites is not None:
            changed = changed_dims([self.variants[0], v])
            wanted = [(cap.sources.get(p, ""), d) for p, ds in changed.items() for d in ds]
            err_loc = cap.sites.site_for(wanted)
        diffs = []
        ev = self.events
        if v.kind != "example" and "example" in ev:
            diffs.append(first_difference(ev["example"], self.variant_events(v), v.name))
        capturing = ev.get(f"<{target}>")
        if capturing:
            diffs.append(first_difference(capturing, self.variant_events(v), v.name, values=False,
                                          reference=f"the {target} capture's run"))
        diff = next((d for d in diffs if d is not None), None)
        order = [diff, err_loc] if target == "trace" else [err_loc, diff]
        for loc in order:
            if loc is not None:
                return loc
        tracer = [w for w in cap.warnings if w["category"] == "TracerWarning" and w.get("path")]
        if tracer:
            w = tracer[0]
            return {"path": w["path"], "line": w["line"], "how": "tracer-warning", "detail": w["message"]}
        return None


def _loc_key(loc: dict[str, Any] | None) -> tuple:
    return (loc.get("path"), loc.get("line")) if loc else (None, None)


__all__ = ["run_example", "where_defined", "fresh", "state_signature", "export_sources"]
