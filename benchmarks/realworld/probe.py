"""Run one model through eager, trace, script (whole model and every submodule class) and export,
and record what torch says, line by line. Runs inside a library venv (torch + the model library);
`worker.py` calls it in a fresh process per model.
"""
from __future__ import annotations

import contextlib
import inspect
import json
import logging
import os
import re
import signal
import sys
import time
import traceback
import warnings
from typing import Any, Callable

import torch

import locate
from envs import PROBE_VERSION
from groundtruth import ranges
from linetrace import LineRecorder, decision_differences
from spec import Inputs, ModelSpec, compare, flatten

MAX_SITES = 100          # localised decision lines kept per diverging variant
MAX_WARNINGS = 2000


class StepTimeout(Exception):
    pass


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise StepTimeout in the main thread after `seconds` (interrupts Python code; a long C++
    call is interrupted when it returns). Nests: an inner limit never extends an outer one."""
    def on_alarm(signum, frame):
        raise StepTimeout(f"step took longer than {seconds:.0f}s")
    outer_left = signal.getitimer(signal.ITIMER_REAL)[0]
    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, on_alarm)
    limit = max(1.0, seconds)
    if outer_left > 0:
        limit = min(limit, outer_left)
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_left > 0:
            signal.setitimer(signal.ITIMER_REAL, max(0.01, outer_left - (time.monotonic() - started)))



class Probe:
    def __init__(self, spec: ModelSpec, is_library: Callable[[str], bool], relpath: Callable[[str], str],
                 out_path: str, step_seconds: float = 600.0) -> None:
        self.spec = spec
        self.is_library = is_library
        self.relpath = relpath
        self.out_path = out_path
        self.step_seconds = step_seconds
        self.record: dict[str, Any] = {"id": spec.id, "family": spec.family, "note": spec.note,
                                       "probe_version": PROBE_VERSION,
                                       "torch": torch.__version__, "steps": {}, "times": {}}
        self.model: torch.nn.Module | None = None
        self.example_rec: LineRecorder | None = None
        self.reference = None
        self._eager_cache: dict[str, Any] = {}
        self.candidates: list[str] = []
        self.trace_warning_lines: set[tuple[str, int]] = set()

    # ------------------------------------------------------------------ plumbing
    def dump(self) -> None:
        tmp = self.out_path + ".tmp"
        with open(tmp, "w") as fh:
            json.dump(self.record, fh, indent=None, separators=(",", ":"), default=str)
        os.replace(tmp, self.out_path)

    def loc(self, where: dict | None) -> dict | None:
        if not where:
            return None
        out = dict(where)
        out["path"] = self.relpath(where["path"])
        return {k: v for k, v in out.items() if v is not None}

    def step(self, name: str, fn: Callable[[], None], seconds: float | None = None) -> bool:
        start = time.monotonic()
        self.record["steps"][name] = "running"
        self.dump()
        ok = True
        try:
            with time_limit(seconds or self.step_seconds):
                fn()
            self.record["steps"][name] = "done"
        except StepTimeout as exc:
            self.record["steps"][name] = f"timeout: {exc}"
            ok = False
        except Exception as exc:  # noqa: BLE001 - the harness records and goes on
            self.record["steps"][name] = f"harness error: {locate.short_message(exc)}"
            self.record.setdefault("harness_errors", []).append(traceback.format_exc(limit=8)[-3000:])
            ok = False
        self.record["times"][name] = round(time.monotonic() - start, 2)
        self.dump()
        return ok

    # ------------------------------------------------------------------ steps
    def run(self) -> dict:
        torch.manual_seed(0)
        if not self.step("build", self.build):
            return self.record
        if not self.step("eager", self.eager):
            return self.record
        self.step("trace", self.trace)
        self.step("script", self.script_whole)
        self.step("script_classes", self.script_classes)
        self.step("export", self.export)
        return self.record

    def build(self) -> None:
        model = self.spec.build()
        model.eval()
        self.model = model
        files = set()
        for module in model.modules():
            for cls in type(module).__mro__:
                try:
                    path = inspect.getsourcefile(cls)
                except (TypeError, OSError):
                    continue
                if path and self.is_library(path):
                    files.add(path)
        self.candidates = sorted(files)
        self.record["parameters"] = sum(p.numel() for p in model.parameters())
        self.record["root_class"] = f"{type(model).__module__}.{type(model).__qualname__}"

    def _forward_code(self):
        forward = inspect.unwrap(type(self.model).forward)
        return getattr(forward, "__code__", None)

    def eager(self) -> None:
        with torch.no_grad():
            with LineRecorder(self.is_library) as warm:
                self.spec.example.call(self.model)           # first call: lazy caches are filled here
            with LineRecorder(self.is_library, self._forward_code()) as rec:
                self.reference = self.spec.example.call(self.model)
        self.example_rec = rec
        coverage: dict[str, set[int]] = {}
        for recorder in (warm, rec):
            for path, lines in recorder.lines.items():
                coverage.setdefault(self.relpath(path), set()).update(lines)
        self.record["coverage"] = {path: ranges(lines) for path, lines in sorted(coverage.items())}
        self.record["top_returns"] = sorted(rec.top_returns)
        self.record["top_forward"] = self.loc({"path": rec.top_code.co_filename,
                                               "line": rec.top_code.co_firstlineno}) if rec.top_code else None

    def eager_on(self, name: str, inputs: Inputs):
        if name not in self._eager_cache:
            try:
                with torch.no_grad():
                    self._eager_cache[name] = ("ok", inputs.call(self.model))
            except Exception as exc:  # noqa: BLE001
                self._eager_cache[name] = ("error", locate.short_message(exc))
        return self._eager_cache[name]

    def localise(self, inputs: Inputs) -> list[dict]:
        """Lines where eager on `inputs` took another Python decision than eager on the example."""
        with torch.no_grad(), LineRecorder(self.is_library) as rec:
            inputs.call(self.model)
        sites = decision_differences(self.example_rec, rec)
        out = []
        for site in sites[:MAX_SITES]:
            site = self.loc(site)
            site["warned"] = any((site["path"], site["line"] + d) in self.trace_warning_lines for d in (-1, 0, 1))
            out.append(site)
        return out

    def compare_variants(self, captured: Callable[[Inputs], Any], names: list[str] | None,
                         localise: bool, error_location: Callable[[BaseException], dict | None]) -> dict:
        results: dict[str, Any] = {}
        for name, inputs in self.spec.variants.items():
            if names is not None and name not in names:
                continue
            state, eager_out = self.eager_on(name, inputs)
            if state != "ok":
                results[name] = {"result": "eager-rejects", "message": eager_out}
                continue
            try:
                # the profiling executor re-optimises for every new input shape: slow, and no
                # different in what it computes
                with torch.no_grad(), torch.jit.optimized_execution(False):
                    out = captured(inputs)
            except StepTimeout:
                raise
            except Exception as exc:  # noqa: BLE001
                entry = {"result": "error", "message": locate.short_message(exc),
                         "location": self.loc(error_location(exc))}
            else:
                same, detail = compare(eager_out, out)
                entry = {"result": "match" if same else "diverge", "detail": detail}
            if entry["result"] != "match" and localise:
                entry["sites"] = self.localise(inputs)
            results[name] = entry
        return results

    def trace(self) -> None:
        spec, model = self.spec, self.model
        out: dict[str, Any] = {"warnings": []}
        self.record["trace"] = out
        seen: set[tuple] = set()
        is_library = self.is_library

        def hook(message, category, filename, lineno, file=None, line=None):
            stack, via = locate.warning_origin(is_library, ("warnings.py", "realworld/probe.py"))
            where = stack[0][:2] if stack else None
            text = str(message).split("\n")[0][:300]
            key = (category.__name__, text, where)
            if key in seen or len(out["warnings"]) >= MAX_WARNINGS:
                return
            seen.add(key)
            entry = {"category": category.__name__, "message": text,
                     "location": self.loc({"path": where[0], "line": where[1]}) if where else None}
            if via:
                entry["via"] = via          # raised inside torch on behalf of the library line
            if len(stack) > 1:              # the library callers, for reachability questions
                entry["callers"] = [f"{self.relpath(p)}:{n}:{fn}" for p, n, fn in stack[1:]]
            out["warnings"].append(entry)

        def do_trace(strict: bool):
            with warnings.catch_warnings():
                warnings.simplefilter("always")
                warnings.showwarning = hook
                with torch.no_grad():
                    if spec.example.kwargs:
                        return torch.jit.trace(model, example_kwarg_inputs=spec.example.kwargs,
                                               strict=strict, check_trace=False)
                    return torch.jit.trace(model, spec.example.args, strict=strict, check_trace=False)

        traced = None
        try:
            traced = do_trace(strict=True)
            out["outcome"] = "ok"
        except StepTimeout:
            raise
        except Exception as exc:  # noqa: BLE001
            message = locate.short_message(exc)
            where = locate.traceback_location(exc, self.is_library)
            if where is None and "output" in str(exc).lower() and self.record.get("top_returns"):
                fwd = self.record.get("top_forward") or {}
                out["error"] = {"message": message, "location": {
                    "path": fwd.get("path"), "line": self.record["top_returns"][-1], "how": "boundary-output"}}
            else:
                out["error"] = {"message": message, "location": self.loc(where)}
            out["outcome"] = "error"
            try:
                hook_count = len(out["warnings"])
                traced = do_trace(strict=False)
                out["non_strict"] = "ok"
                del out["warnings"][hook_count:]   # the same warnings again
            except StepTimeout:
                raise
            except Exception as exc2:  # noqa: BLE001
                out["non_strict"] = locate.short_message(exc2)
            if traced is None:
                # the outputs cannot leave a trace: capture a wrapper returning their tensors, as
                # users do, so that the variants can still be compared
                try:
                    hook_count = len(out["warnings"])
                    wrapper = FlatOutputs(model)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        with torch.no_grad():
                            if spec.example.kwargs:
                                traced = torch.jit.trace(wrapper, example_kwarg_inputs=spec.example.kwargs,
                                                         check_trace=False)
                            else:
                                traced = torch.jit.trace(wrapper, spec.example.args, check_trace=False)
                    out["wrapped"] = "ok"
                except StepTimeout:
                    raise
                except Exception as exc3:  # noqa: BLE001
                    out["wrapped"] = locate.short_message(exc3)
        tracer_lines = {(w["location"]["path"], w["location"]["line"]) for w in out["warnings"]
                        if w["category"] == "TracerWarning" and w["location"]}
        self.trace_warning_lines = tracer_lines
        if out["outcome"] == "ok" and any(w["category"] == "TracerWarning" for w in out["warnings"]):
            out["outcome"] = "warn"
        self.dump()
        if traced is None:
            return

        def error_location(exc):
            text = str(exc)
            return locate.script_error_location(text, self.is_library, self.candidates) \
                or locate.message_location(text, self.is_library)

        out["variants"] = self.compare_variants(lambda inputs: inputs.call(traced), None, True, error_location)
        if any(v["result"] in ("diverge", "error") for v in out["variants"].values()) and out["outcome"] != "error":
            out["outcome"] = "diverge"

    def script_whole(self) -> None:
        out: dict[str, Any] = {}
        self.record["script"] = out
        try:
            scripted = torch.jit.script(self.model)
        except StepTimeout:
            raise
        except Exception as exc:  # noqa: BLE001
            text = str(exc)
            out["outcome"] = "error"
            out["error"] = {"message": locate.script_message(text),
                            "location": self.loc(locate.script_error_location(text, self.is_library, self.candidates)
                                                 or locate.traceback_location(exc, self.is_library))}
            return
        out["outcome"] = "ok"

        def error_location(exc):
            return locate.script_error_location(str(exc), self.is_library, self.candidates)

        out["variants"] = self.compare_variants(lambda inputs: inputs.call(scripted), None, False, error_location)
        with torch.no_grad(), torch.jit.optimized_execution(False):
            example_ok = compare(self.reference, self.spec.example.call(scripted))
        out["example"] = {"result": "match" if example_ok[0] else "diverge", "detail": example_ok[1]}
        if any(v["result"] in ("diverge", "error") for v in out["variants"].values()) or not example_ok[0]:
            out["outcome"] = "diverge"

    def _method_ranges(self, cls: type, names: list[str]) -> list[dict]:
        methods = []
        for name in names:
            fn = inspect.getattr_static(cls, name, None)
            fn = getattr(fn, "__func__", fn)
            if fn is None:
                continue
            try:
                fn = inspect.unwrap(fn)
                source, start = inspect.getsourcelines(fn)
                path = inspect.getsourcefile(fn)
            except (TypeError, OSError):
                continue
            if path and self.is_library(path):
                methods.append({"name": name, "path": self.relpath(path), "start": start,
                                "end": start + len(source) - 1})
        return methods

    def script_classes(self) -> None:
        out: dict[str, Any] = {}
        self.record["script_classes"] = out
        instances: dict[type, tuple[str, torch.nn.Module]] = {}
        for name, module in self.model.named_modules():
            instances.setdefault(type(module), (name, module))
        for cls, (name, module) in instances.items():
            try:
                path = inspect.getsourcefile(cls)
                source, start = inspect.getsourcelines(cls)
            except (TypeError, OSError):
                continue
            if not path or not self.is_library(path):
                continue
            key = f"{cls.__module__}.{cls.__qualname__}"
            entry: dict[str, Any] = {"path": self.relpath(path), "start": start, "end": start + len(source) - 1,
                                     "instance": name or "<root>"}
            out[key] = entry
            begin = time.monotonic()
            try:
                with time_limit(min(120.0, self.step_seconds)):
                    scripted = torch.jit.script(module)
            except StepTimeout as exc:
                entry["outcome"] = "timeout"
                entry["message"] = str(exc)
            except Exception as exc:  # noqa: BLE001
                text = str(exc)
                entry["outcome"] = "error"
                entry["message"] = locate.script_message(text)
                entry["location"] = self.loc(locate.script_error_location(text, self.is_library, self.candidates)
                                             or locate.traceback_location(exc, self.is_library))
            else:
                entry["outcome"] = "ok"
                try:
                    names = list(scripted._c._method_names())
                except Exception:  # noqa: BLE001
                    names = ["forward"]
                entry["methods"] = self._method_ranges(cls, names)
            entry["seconds"] = round(time.monotonic() - begin, 2)

    def _dynamic_shapes(self, batch):
        example = self.spec.example
        if not self.spec.dynamic_batch:
            return None
        if example.kwargs:
            return {k: ({0: batch} if isinstance(v, torch.Tensor) and v.dim() > 0 else None)
                    for k, v in example.kwargs.items()}
        specs = tuple({0: batch} if isinstance(v, torch.Tensor) and v.dim() > 0 else None for v in example.args)
        return specs if any(s is not None for s in specs) else None

    def export(self) -> None:
        out: dict[str, Any] = {}
        self.record["export"] = out
        example = self.spec.example
        batch = torch.export.Dim("batch")
        dynamic = self._dynamic_shapes(batch)
        out["dynamic_batch"] = dynamic is not None
        sites = ShapeSites(self.is_library)
        try:
            with sites, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                program = torch.export.export(self.model, example.args, dict(example.kwargs), dynamic_shapes=dynamic)
        except StepTimeout:
            raise
        except Exception as exc:  # noqa: BLE001
            text = str(exc)
            where = (locate.traceback_location(exc, self.is_library) or locate.message_location(text, self.is_library))
            how_specialised = None
            if where is None and sites.specialised:
                where = sites.specialised[0]
                how_specialised = "specialisation"
            if where is None and sites.range_guards():
                where = sites.range_guards()[0]
                how_specialised = "range-guard"
            out["outcome"] = "error"
            out["error"] = {"message": locate.short_message(exc), "location": self.loc(where),
                            "type": type(exc).__name__}
            if how_specialised or "specializ" in text or "Constraints violated" in text:
                out["specialised"] = [self.loc(s) for s in (sites.specialised or sites.range_guards())[:20]]
                out["guards"] = [self.loc(s) for s in sites.guards[:20]]
            return
        out["outcome"] = "ok"
        out["guards"] = [self.loc(s) for s in sites.guards[:20]]
        module = program.module()
        names = [n for n in self.spec.variants if n.startswith("batch") or n == "values"] if dynamic else ["values"]

        def error_location(exc):
            return locate.traceback_location(exc, self.is_library)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out["variants"] = self.compare_variants(lambda inputs: inputs.call(module), names, False, error_location)
        if any(v["result"] in ("diverge", "error") for v in out["variants"].values()):
            out["outcome"] = "diverge"


class FlatOutputs(torch.nn.Module):
    """Returns the tensors of the wrapped model's output as a flat tuple."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, *args, **kwargs):
        return tuple(t for t in flatten(self.model(*args, **kwargs)) if isinstance(t, torch.Tensor))


class ShapeSites(logging.Handler):
    """During export: the library line on the stack when the shape environment adds a guard or
    replaces a dynamic size by a constant (the line that specialised the batch)."""

    _REPLACE = re.compile(r"^set_replacement \S+ = -?\d+")

    def __init__(self, is_library: Callable[[str], bool]) -> None:
        super().__init__(logging.INFO)
        self.is_library = is_library
        self.specialised: list[dict] = []
        self.guards: list[dict] = []
        self._state = None

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
            if "[guard added]" in text:
                target = self.guards
            elif self._REPLACE.match(text):
                target = self.specialised
            else:
                return
            where = locate.innermost_library_frame(self.is_library, depth=2)
            if where and len(target) < 200:
                target.append({"path": where[0], "line": where[1], "how": "shape-env",
                               "detail": text.split(" at ")[0][:160]})
        except Exception:  # noqa: BLE001 - logging must not break export
            pass

    def range_guards(self) -> list[dict]:
        """Guards that bound a single dynamic size by a constant (`s0 < 64`, `Eq(s0, 2)`): what a
        "Constraints violated" error with no specialisation is about."""
        out = []
        for site in self.guards:
            expr = site["detail"].split(" [guard added]")[0].removeprefix("eval ").strip()
            symbols = set(re.findall(r"\b[su]\d+\b", expr))
            if len(symbols) == 1 and re.search(r"(?<![su\d])\d+", expr):
                out.append(site)
        return out

    def __enter__(self):
        logger = logging.getLogger("torch.fx.experimental.symbolic_shapes")
        self._state = (logger.level, logger.propagate)
        logger.addHandler(self)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        return self

    def __exit__(self, *exc):
        logger = logging.getLogger("torch.fx.experimental.symbolic_shapes")
        logger.removeHandler(self)
        logger.setLevel(self._state[0])
        logger.propagate = self._state[1]
        return False
