"""Parse once, analyse once, run every selected rule in one walk; files in parallel across processes."""
from __future__ import annotations

import fnmatch
import gc
import io
import os
import tokenize
import traceback
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import libcst as cst
from libcst._position import CodeRange
from libcst.metadata import MetadataWrapper, PositionProvider
from libcst.metadata.position_provider import PositionProvidingCodegenState

from tracelint import suppress
from tracelint.analysis.context import FileContext
from tracelint.analysis.index import FileIndex, Reach, build_project, index_source
from tracelint.analysis.kinds import Kind, join
from tracelint.analysis.walker import Walker
from tracelint.cache import Cache
from tracelint.config import Config
from tracelint.diagnostics import Diagnostic, Report, Severity
from tracelint.paths import display_path
from tracelint.rule import Rule
from tracelint.rules import all_rules, select_rules

# Files smaller than this many in one run are linted in-process: a pool costs more than it saves.
PARALLEL_THRESHOLD = 16


@dataclass(frozen=True)
class FileJob:
    path: str
    display: str
    source: bytes
    module: str
    reach: dict[str, Reach]
    module_classes: frozenset[str]
    index: FileIndex
    external_params: dict[str, tuple[str, ...]]            # helpers in other files this file calls
    incoming: dict[str, dict[str, Kind]] | None = None     # argument kinds other files pass in
    aliases: dict[str, str] | None = None                  # imports re-resolved to where names are defined


@dataclass(frozen=True)
class ProjectFacts:
    """Project-wide facts every file's lint needs: sent once per worker process, not once per file."""

    module_classes: frozenset[str] = frozenset()   # dotted nn.Module subclasses of the project
    submodules: frozenset[str] = frozenset()       # module classes used as submodules
    tuple_outputs: frozenset[str] = frozenset()    # module classes whose forward returns a tuple
    guards: tuple[tuple[str, str], ...] = ()       # one-line guard wrappers -> the guard they return
    size_functions: frozenset[str] = frozenset()   # functions returning sizes read from a tensor

    def digest(self) -> str:
        import hashlib
        h = hashlib.sha256()
        for group in (self.module_classes, self.submodules, self.tuple_outputs, (f"{a}={b}" for a, b in self.guards),
                      self.size_functions):
            h.update("\0".join(sorted(group)).encode() + b"\1")
        return h.hexdigest()


_PROJECT = ProjectFacts()


def _init_worker(facts: ProjectFacts) -> None:
    global _PROJECT
    _PROJECT = facts


@dataclass
class JobResult:
    diagnostics: list[Diagnostic]
    outgoing: dict[str, dict[str, Kind]]   # dotted helper -> param -> kind passed from this file


def _decode(source: bytes) -> str:
    # LibCST detects PEP 263 cookies and BOMs from bytes; for our own text needs use the same rule.
    try:
        return source.decode(_encoding(source))
    except (LookupError, UnicodeDecodeError):
        return source.decode("utf-8", "replace")


def _encoding(source: bytes) -> str:
    try:
        enc, _ = tokenize.detect_encoding(io.BytesIO(source).readline)
        return enc
    except SyntaxError:
        return "utf-8"


def _tool_diag(rule: type[Rule], display: str, line: int, col: int, message: str, source_line: str = "") -> Diagnostic:
    return Diagnostic(display, line, col, line, col + 1, rule.code, rule.name, message, Severity.ERROR,
                      tuple(rule.targets.items()), "", rule.help, source_line)


def index_file(path: str) -> tuple[FileIndex | None, bytes | None, str | None]:
    """Phase 1, in a worker: read the bytes once and index them. Returns (index, bytes, read error)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        return None, None, f"{display_path(path)}: cannot read: {e.strerror}"
    gc_was = gc.isenabled()
    gc.disable()
    try:
        return index_source(path, data), data, None
    finally:
        if gc_was:
            gc.enable()


def lint_job(job: FileJob, rule_classes: tuple[type[Rule], ...]) -> JobResult:
    """Phase 3, in a worker: LibCST parse, one walk with every rule, positions only for findings."""
    rules_by_code = all_rules()
    rule_codes = tuple(r.code for r in rule_classes)
    text = _decode(job.source)
    if suppress.might_have_comments(text) and suppress.skip_file(text):
        return JobResult([], {})
    gc_was = gc.isenabled()
    gc.disable()
    try:
        try:
            module = cst.parse_module(job.source)
        except cst.ParserSyntaxError as e:
            return JobResult([_tool_diag(rules_by_code["TL000"], job.display, e.raw_line, e.raw_column + 1,
                                         f"syntax error: {e.message}")], {})
        ctx = FileContext(job.path, module, job.index, job.reach, set(job.module_classes),
                          _PROJECT.module_classes)
        ctx.external_params = job.external_params
        ctx.text = text
        ctx.incoming = job.incoming or {}
        ctx.project_submodules = _PROJECT.submodules
        ctx.tuple_output_classes = _PROJECT.tuple_outputs
        ctx.guard_functions = dict(_PROJECT.guards)
        ctx.size_functions = _PROJECT.size_functions
        if job.aliases:
            ctx.aliases = {**ctx.aliases, **job.aliases}
        active = [r for r in rule_classes if not getattr(r, "tool", False) and not getattr(r, "dynamic_only", False)]
        rules = [r(ctx) for r in active]
        walker = Walker(ctx, rules)
        crashes: list[Diagnostic] = []
        walker.on_crash = lambda rule, exc: crashes.append(_crash(exc, job.display, rule))
        walker.walk(module)
        found = [(d, (d.line, d.line)) for d in crashes] + _positions(ctx, module, job.display, text)
    finally:
        if gc_was:
            gc.enable()
    return JobResult(_apply_suppressions(found, text, rule_codes, job.display), ctx.outgoing)


def _crash(exc: BaseException, display: str, rule: Rule | None = None) -> Diagnostic:
    """TL001 for a rule (or, with no rule, the parser or walker) that raised on a file."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" at {Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
    who = f"{rule.code} {rule.name}" if rule is not None else "tracelint"
    return _tool_diag(all_rules()["TL001"], display, 1, 1,
                      f"internal error in {who} on {display}: {type(exc).__name__}: {exc}{where}")


class _Positions:
    """Stands in for PositionProvider: LibCST's position codegen records into `_computed`."""

    def __init__(self) -> None:
        self._computed: dict[cst.CSTNode, CodeRange] = {}


def _starts(body, lines: list[int], out: dict[int, int]) -> None:
    """First line of each LibCST statement in `body`, from the index's ast statement lines."""
    i = 0
    for stmt in body:
        if i >= len(lines):
            break
        out[id(stmt)] = lines[i] - len(stmt.leading_lines)
        i += len(stmt.body) if isinstance(stmt, cst.SimpleStatementLine) else 1


def positions_for(module: cst.Module, tops, ix: FileIndex) -> dict[cst.CSTNode, CodeRange]:
    """Positions of the nodes in the given statements only: LibCST's position codegen, run on just
    those, starting at the lines the index phase recorded. `tops` are (top-level statement, None)
    or (method, its top-level class)."""
    starts: dict[int, int] = {}
    _starts(module.body, ix.starts, starts)
    prov = _Positions()
    for stmt, cls in tops:
        indent: list[str] = []
        if cls is not None:
            pos = next((k for k, s in enumerate(module.body) if s is cls), None)
            lines = ix.class_starts.get(_ast_index(module.body, pos)) if pos is not None else None
            if lines is not None and isinstance(cls.body, cst.IndentedBlock):
                _starts(cls.body.body, lines, starts)
                indent = [cls.body.indent if cls.body.indent is not None else module.default_indent]
        start = starts.get(id(stmt))
        if start is None:  # fall back to the whole module
            return MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        state = PositionProvidingCodegenState(default_indent=module.default_indent,
                                              default_newline=module.default_newline,
                                              provider=prov, line=start, column=0, indent_tokens=indent)
        stmt._codegen(state)
    return prov._computed


def _ast_index(body, pos: int) -> int:
    """Index in the ast body of the LibCST statement at `pos` (`a; b` lines are several ast statements)."""
    return sum(len(s.body) if isinstance(s, cst.SimpleStatementLine) else 1 for s in body[:pos])


def _positions(ctx: FileContext, module: cst.Module, display: str,
               text: str) -> list[tuple[Diagnostic, tuple[int, int]]]:
    """Diagnostics with 1-based positions, each with the line span of its statement (for suppressions)."""
    if not ctx.findings:
        return []
    tops = {id(f[7][0]): f[7] for f in ctx.findings if f[7] is not None}
    if all(f[7] is not None for f in ctx.findings):
        positions = positions_for(module, list(tops.values()), ctx.index)
    else:
        positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    lines = text.splitlines()
    out = []
    for rule, node, message, effects, help, scope, stmt, _top in ctx.findings:
        rng = positions[node]
        srange = positions.get(stmt, rng)
        start_line = rng.start.line
        header_end = srange.end.line
        body = getattr(stmt, "body", None)
        if isinstance(body, cst.BaseSuite) and body in positions:
            header_end = max(srange.start.line, positions[body].start.line - (0 if isinstance(body, cst.SimpleStatementSuite) else 1))
        src = lines[start_line - 1] if 0 < start_line <= len(lines) else ""
        out.append((Diagnostic(display, start_line, rng.start.column + 1, rng.end.line, rng.end.column + 1,
                               rule.code, rule.name, message, Severity.ERROR,
                               tuple(effects.items()), scope, help, src, rule.confidence),
                    (min(srange.start.line, start_line), max(header_end, start_line))))
    return out


def _apply_suppressions(found: list[tuple[Diagnostic, tuple[int, int]]], text: str, rule_codes,
                        display: str) -> list[Diagnostic]:
    """Drop findings with a matching comment on any line of their statement; report unused comments."""
    sups = suppress.parse(text)
    kept = []
    for d, (lo, hi) in found:
        lines = sorted({d.line, *range(lo, hi + 1)})
        hit = next((sups[ln] for ln in lines if ln in sups and sups[ln].matches(d.code, d.name)), None)
        if hit is not None:
            hit.used.add(d.code)
            continue
        kept.append(d)
    if "TL002" in rule_codes:
        r = all_rules()["TL002"]
        lines = text.splitlines()
        for s in sups.values():
            if not s.ours:
                continue
            unused = [c for c in s.codes] if s.codes else []
            unused = [c for c in unused if not any(u.startswith(c.upper()) for u in s.used)]
            if (s.codes is None and not s.used) or unused:
                codes = ", ".join(unused) if unused else "all codes"
                src = lines[s.line - 1] if s.line <= len(lines) else ""
                kept.append(_tool_diag(r, display, s.line, s.column, f"unused suppression: {codes}", src))
    return kept


def _per_file_ignored(display: str, config: Config) -> set[str]:
    codes: set[str] = set()
    for glob, cs in config.per_file_ignores:
        if fnmatch.fnmatch(display, glob) or fnmatch.fnmatch(Path(display).name, glob) \
                or fnmatch.fnmatch(os.path.relpath(os.path.abspath(display), config.root), glob):
            codes |= {c.upper() for c in cs}
    return codes


def run(files: list[str], config: Config, rule_classes: list[type[Rule]] | None = None,
        stdin: tuple[str, bytes] | None = None) -> Report:
    """Lint `files` (already discovered) or one stdin buffer; findings filtered to config.targets."""
    if rule_classes is None:
        rule_classes = select_rules(config.select, config.ignore, config.extend_select)
    codes = tuple(r.code for r in rule_classes)
    report = Report(targets=config.targets, rules={c: r.info() for c, r in all_rules().items()})
    jobs = config.jobs or os.cpu_count() or 1

    # phase 1: index (ast), in parallel for big runs
    indexed: dict[str, tuple[FileIndex, bytes]] = {}
    if stdin is not None:
        name, data = stdin
        indexed[name] = (index_source(name, data), data)
        files = [name]
    pool = ProcessPoolExecutor(jobs) if jobs > 1 and len(files) >= PARALLEL_THRESHOLD else None
    try:
        if stdin is None:
            results = pool.map(index_file, files, chunksize=8) if pool else map(index_file, files)
            for path, (ix, data, err) in zip(files, results):
                if err:
                    report.errors.append(err)
                else:
                    indexed[path] = (ix, data)
        report.files_checked = len(indexed)

        # phase 2: project-wide classes, entry points, reachability
        project = build_project({p: ix for p, (ix, _) in indexed.items()}, config.module_bases,
                                getattr(config, "entry_modules", ()))
        if pool:
            pool.shutdown()
            pool = None
        facts = ProjectFacts(frozenset(project.module_classes), frozenset(project.submodule_classes),
                             frozenset(project.tuple_output_classes),
                             tuple(sorted(project.guard_functions.items())),
                             frozenset(project.size_functions))
        _init_worker(facts)  # for in-process linting
        jobs_list: list[FileJob] = []
        diags: list[Diagnostic] = []
        for path, (ix, data) in indexed.items():
            display = display_path(path) if stdin is None else Path(path).as_posix()
            if ix.syntax_error is not None:
                if "TL000" in codes and not suppress.skip_file(_decode(data)):
                    line, col, msg = ix.syntax_error
                    src = _decode(data).splitlines()
                    diags.append(_tool_diag(all_rules()["TL000"], display, line, max(col, 1),
                                            f"syntax error: {msg}", src[line - 1] if 0 < line <= len(src) else ""))
                continue
            reach = project.file_reach(path)
            mcs = project.module_classes_in(path)
            if not reach and not mcs:
                continue  # nothing reachable from a capture entry point in this file
            jobs_list.append(FileJob(path, display, data, ix.module, reach, frozenset(mcs), ix,
                                     _external_params(ix, reach, project), None,
                                     project.alias_overrides.get(path)))

        # phase 3: lint; then once more for files whose helpers other files call with tensors/shapes
        cache = Cache(Path(config.cache_dir)) if config.cache_dir else None
        if jobs > 1 and len(jobs_list) >= max(2, PARALLEL_THRESHOLD // 2):
            pool = ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(facts,))
        results = _lint_all(jobs_list, tuple(rule_classes), pool, cache, facts)
        incoming = _incoming(jobs_list, results, project)
        again = [replace(j, incoming=incoming[j.path]) for j in jobs_list if j.path in incoming]
        if again:
            redone = dict(zip((j.path for j in again), _lint_all(again, tuple(rule_classes), pool, cache, facts)))
            results = [redone.get(j.path, r) for j, r in zip(jobs_list, results)]
        for r in results:
            diags.extend(r.diagnostics)
    finally:
        if pool:
            pool.shutdown()

    for d in diags:
        ignored = _per_file_ignored(d.path, config) if config.per_file_ignores else set()
        if any(d.code.startswith(c) for c in ignored):
            continue
        if d.applies_to(config.targets):
            report.diagnostics.append(d.restricted_to(config.targets))
    return report.sort()


def _lint_all(jobs: list[FileJob], rule_classes: tuple[type[Rule], ...], pool,
              cache: Cache | None = None, facts: ProjectFacts = ProjectFacts()) -> list[JobResult]:
    """Lint the jobs (cache hits skipped), in the pool when there is one; results in job order."""
    results: list[JobResult | None] = [None] * len(jobs)
    keys: list[str] = []
    if cache is not None:
        codes = tuple(f"{r.__module__}.{r.__qualname__}" for r in rule_classes)
        digest = facts.digest()
        for i, j in enumerate(jobs):
            k = cache_key(j, codes, digest)
            keys.append(k)
            results[i] = cache.get(k)
    todo = [i for i, r in enumerate(results) if r is None]
    todo_jobs = [jobs[i] for i in todo]
    if pool and len(todo_jobs) >= 2:
        fresh = list(pool.map(_lint_job_safe, todo_jobs, [rule_classes] * len(todo_jobs), chunksize=4))
    else:
        fresh = [_lint_job_safe(j, rule_classes) for j in todo_jobs]
    for i, r in zip(todo, fresh):
        results[i] = r
        if cache is not None and not any(d.code == "TL001" for d in r.diagnostics):
            cache.put(keys[i], r)
    return results  # type: ignore[return-value]


def cache_key(job: FileJob, codes: tuple[str, ...], project_digest: str) -> str:
    """Everything a file's result depends on: bytes, display path, rules and the project's facts."""
    return cache_key_parts(job.source, job.display, codes, sorted(job.reach.items()),
                           sorted(job.module_classes), project_digest,
                           sorted(job.external_params.items()),
                           sorted((q, sorted(p.items(), key=lambda kv: kv[0])) for q, p in (job.incoming or {}).items()),
                           job.index.module, sorted((job.aliases or {}).items()))


def cache_key_parts(*parts) -> str:
    from tracelint.cache import key
    return key(*parts)


def _external_params(ix: FileIndex, reach: dict[str, Reach], project) -> dict[str, tuple[str, ...]]:
    """Helpers in other project files that this file's reachable code calls, with their parameter names."""
    out: dict[str, tuple[str, ...]] = {}
    funcs = project.functions
    for fn in [*ix.functions.values(), *(m for c in ix.classes.values() for m in c.methods.values())]:
        if fn.qualname not in reach:
            continue
        for call in [*fn.calls, *fn.values]:
            call = project.canonical(call) if project.canonical else call
            hit = funcs.get(call)
            if hit is not None and hit[0] is not ix:
                out[call] = tuple(p.name for p in hit[1].params if p.kind == "positional")
    return out


def _incoming(jobs: list[FileJob], results: list[JobResult], project) -> dict[str, dict[str, dict[str, Kind]]]:
    """path -> helper qualname -> param -> kind, for helpers that got tensor or shape arguments."""
    out: dict[str, dict[str, dict[str, Kind]]] = {}
    for r in results:
        for dotted, params in r.outgoing.items():
            hit = project.functions.get(dotted)
            if hit is None:
                continue
            ix, fn = hit
            useful = {p: k for p, k in params.items() if k in (Kind.TENSOR, Kind.SHAPE, Kind.TENSORS)}
            if useful:
                slot = out.setdefault(ix.path, {}).setdefault(fn.qualname, {})
                for p, k in useful.items():
                    slot[p] = join([slot[p], k]) if p in slot else k
    return out


def _lint_job_safe(job: FileJob, rule_classes: tuple[type[Rule], ...]) -> JobResult:
    """A crash outside any single rule (parser, walker) is still reported, never fatal."""
    try:
        return lint_job(job, rule_classes)
    except RecursionError as e:
        return JobResult([_tool_diag(all_rules()["TL001"], job.display, 1, 1,
                                     f"internal error in the walker on {job.display}: nesting too deep ({e})")], {})
    except Exception as e:  # noqa: BLE001 - isolate the file, keep the run going
        return JobResult([_crash(e, job.display)], {})

