"""Parse once, analyse once, run every selected rule in one walk; files in parallel across processes."""
from __future__ import annotations

import fnmatch
import functools
import gc
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

from tracelint import cache as caches
from tracelint import source as sources
from tracelint import suppress
from tracelint.analysis.index import FileIndex, Reach
from tracelint.config import Config
from tracelint.diagnostics import Diagnostic, Effect, Report, Severity
from tracelint.isolation import IsolatedPool, call_with_deep_stack, describe
from tracelint.paths import display_path
from tracelint.rules import resolve_selectors, selected_codes
from tracelint.serde import DecodeError, canonical, from_data, from_data_given, to_data

if TYPE_CHECKING:  # pragma: no cover - LibCST, the walker and the rules load only when a file is linted
    import libcst as cst
    from libcst._position import CodeRange

    from tracelint.analysis.context import FileContext
    from tracelint.rule import Rule

# argument kinds (tracelint.analysis.kinds.Kind values) worth a second, targeted lint of a helper
USEFUL_KINDS = ("tensor", "shape", "tensors")

# Files smaller than this many in one run are linted in-process: a pool costs more than it saves.
PARALLEL_THRESHOLD = 16


@dataclass(frozen=True)
class FileJob:
    """One file to lint, with what the project says about it. `source` and `index` are loaded only
    when the result cache misses (the key needs the content hash, not the bytes)."""

    path: str
    display: str
    sha: str                                               # content hash of `source`
    module: str
    reach: dict[str, Reach]
    module_classes: frozenset[str]
    external_params: dict[str, tuple[str, ...]]            # helpers in other files this file calls
    incoming: dict[str, dict[str, str]] | None = None      # argument kinds (Kind values) other files pass in
    source: bytes | None = None
    index: FileIndex | None = None
    aliases: dict[str, str] | None = None                  # imports re-resolved to where names are defined


@dataclass(frozen=True)
class ProjectFacts:
    """Project-wide facts every file's lint needs: sent once per worker process, not once per file.

    A file's lint sees them only through `FactView`s that record each query, so its cached result
    depends on the answers it read (its dependencies), never on the whole project.
    """

    module_classes: frozenset[str] = frozenset()   # dotted nn.Module subclasses of the project
    submodules: frozenset[str] = frozenset()       # module classes used as submodules
    tuple_outputs: frozenset[str] = frozenset()    # module classes whose forward returns a tuple
    guards: frozenset[str] = frozenset()           # "wrapper=guard": one-line guard wrappers -> the guard they return
    size_functions: frozenset[str] = frozenset()   # functions returning sizes read from a tensor
    outputs: frozenset[str] = frozenset()          # "class=kind": output classes (dataclass, dict subclass, ...)
    entries: frozenset[str] = frozenset()          # module classes captured whole even when held by another

    def views(self) -> dict[str, "FactView"]:
        return {f.name: FactView(getattr(self, f.name)) for f in fields(self)}

    def holds(self, deps: dict[str, dict[str, bool]]) -> bool:
        """True when every recorded query still gets the recorded answer."""
        names = {f.name for f in fields(self)}
        for fact, queries in deps.items():
            if fact not in names:
                return False
            items = getattr(self, fact)
            if any((q in items) != seen for q, seen in queries.items()):
                return False
        return True


class FactView:
    """A project fact seen from one file's lint: membership tests only, each one recorded."""

    __slots__ = ("_items", "seen")

    def __init__(self, items: frozenset[str]):
        self._items = items
        self.seen: dict[str, bool] = {}

    def __contains__(self, name: object) -> bool:
        hit = name in self._items
        if isinstance(name, str):
            self.seen[name] = hit
        return hit

    def __iter__(self):
        raise TypeError("project facts are queried by membership only, so that the result cache can "
                        "record what a file's lint read from other files")


_PROJECT = ProjectFacts()


def _init_worker(facts: ProjectFacts) -> None:
    global _PROJECT
    _PROJECT = facts


@dataclass
class JobResult:
    diagnostics: list[Diagnostic]
    outgoing: dict[str, dict[str, str]]    # dotted helper -> param -> kind (a Kind value) passed from this file
    deps: dict[str, dict[str, bool]] = field(default_factory=dict)  # project fact -> query -> answer


_decode = sources.decode   # the text compile() reads (declared or default encoding)


def _tool_diag(rule: type[Rule], display: str, line: int, col: int, message: str, source_line: str = "",
               short: str = "") -> Diagnostic:
    """A tool finding (TL000-TL002): its message is already one short line unless `short` says otherwise."""
    return Diagnostic(display, line, col, line, col + 1, rule.code, rule.name, message, Severity.ERROR,
                      tuple(rule.targets.items()), "", rule.help, source_line, short=short or message)


def _not_analysed(display: str, reason: str) -> Diagnostic:
    """TL003: valid Python (or a file skipped on purpose) that tracelint did not analyse, and why."""
    from tracelint.rules import all_rules
    return _tool_diag(all_rules()["TL003"], display, 1, 1, f"not analysed: {reason}")


def lint_job(job: FileJob, rule_classes: tuple[type[Rule], ...]) -> JobResult:
    """Phase 3, in a worker: LibCST parse, one walk with every rule, positions only for findings."""
    from tracelint.analysis.context import FileContext
    from tracelint.analysis.kinds import Kind
    from tracelint.analysis.walker import Walker
    rule_codes = tuple(r.code for r in rule_classes)
    text = _decode(job.source)
    if suppress.might_have_comments(text) and suppress.skip_file(text):
        return JobResult([], {})
    gc_was = gc.isenabled()
    gc.disable()
    try:
        try:
            parsed = sources.parse(job.source)
        except sources.Unreadable as e:  # CPython compiled it (the index phase): not a syntax error
            return JobResult([_not_analysed(job.display, f"the file is valid Python that LibCST's parser "
                                                         f"cannot read ({e})")], {})
        module, text = parsed.module, parsed.text
        views = _PROJECT.views()
        ctx = FileContext(job.path, module, job.index, job.reach, set(job.module_classes),
                          views["module_classes"])
        ctx.external_params = job.external_params
        ctx.text = text
        ctx.incoming = {q: {p: Kind(k) for p, k in ps.items()} for q, ps in (job.incoming or {}).items()}
        ctx.project_submodules = views["submodules"]
        ctx.tuple_output_classes = views["tuple_outputs"]
        ctx.guard_functions = views["guards"]
        ctx.size_functions = views["size_functions"]
        ctx.output_classes = views["outputs"]
        ctx.project_entries = views["entries"]
        if job.aliases:
            ctx.aliases = {**ctx.aliases, **job.aliases}
        active = [r for r in rule_classes if not getattr(r, "tool", False) and not getattr(r, "dynamic_only", False)]
        rules = [r(ctx) for r in active]
        walker = Walker(ctx, rules)
        crashes: list[Diagnostic] = []
        walker.on_crash = lambda rule, exc: crashes.append(_crash(exc, job.display, rule))
        walker.walk(module)
        found = [(d, (d.line, d.line)) for d in crashes] + _positions(ctx, module, job.display, text)
        if parsed.shifts:
            found = [(_shifted(d, parsed.shifts), span) for d, span in found]
    finally:
        if gc_was:
            gc.enable()
    deps = {name: view.seen for name, view in views.items() if view.seen}
    outgoing = {q: {p: k.value for p, k in ps.items()} for q, ps in ctx.outgoing.items()}
    return JobResult(_apply_suppressions(found, text, rule_codes, job.display), outgoing, deps)


def _shifted(d: Diagnostic, shifts: dict[int, int]) -> Diagnostic:
    """A finding from a normalised parse, with the columns of the original lines."""
    return replace(d, column=d.column + shifts.get(d.line, 0), end_column=d.end_column + shifts.get(d.end_line, 0))


def _crash(exc: BaseException, display: str, rule: Rule | None = None, phase: str = "") -> Diagnostic:
    """TL001 for a rule (or, with no rule, the parser, walker or a phase) that raised on a file. The
    text comes from `describe`: never from formatting a node (a deep node's repr recurses again)."""
    who = f"{rule.code} {rule.name}" if rule is not None else (phase or "tracelint")
    from tracelint.rules import all_rules
    return _tool_diag(all_rules()["TL001"], display, 1, 1, f"internal error in {who} on {display}: {describe(exc)}",
                      short=f"internal error in {who}: {type(exc).__name__}")


class _Positions:
    """Stands in for PositionProvider: LibCST's position codegen records into `_computed`."""

    def __init__(self) -> None:
        self._computed: dict[cst.CSTNode, CodeRange] = {}


def _starts(body, lines: list[int], out: dict[int, int]) -> None:
    """First line of each LibCST statement in `body`, from the index's ast statement lines."""
    import libcst as cst
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
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider
    from libcst.metadata.position_provider import PositionProvidingCodegenState
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
    import libcst as cst
    return sum(len(s.body) if isinstance(s, cst.SimpleStatementLine) else 1 for s in body[:pos])


def _positions(ctx: FileContext, module: cst.Module, display: str,
               text: str) -> list[tuple[Diagnostic, tuple[int, int]]]:
    """Diagnostics with 1-based positions, each with the line span of its statement (for suppressions)."""
    if not ctx.findings:
        return []
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider
    tops = {id(f[7][0]): f[7] for f in ctx.findings if f[7] is not None}
    if all(f[7] is not None for f in ctx.findings):
        positions = positions_for(module, list(tops.values()), ctx.index)
    else:
        positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    lines = text.splitlines()
    out = []
    for rule, node, message, effects, help, scope, stmt, _top, short in ctx.findings:
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
                               tuple(effects.items()), scope, help, src, rule.confidence, short=short),
                    (min(srange.start.line, start_line), max(header_end, start_line))))
    return out


def _apply_suppressions(found: list[tuple[Diagnostic, tuple[int, int]]], text: str, rule_codes,
                        display: str) -> list[Diagnostic]:
    """Drop findings with a matching comment on any line of their statement; report unused comments."""
    sups = suppress.parse(text)
    whole_file = suppress.file_level(text)
    kept = []
    for d, (lo, hi) in found:
        lines = [d.line, *(ln for ln in range(lo, hi + 1) if ln != d.line)]   # its own line first
        hit = next((sups[ln] for ln in lines if ln in sups and sups[ln].matches(d.code, d.name)), None)
        if hit is None:
            hit = next((s for s in whole_file if s.matches(d.code, d.name)), None)
        if hit is not None:
            hit.used.add(d.code)
            continue
        kept.append(d)
    if "TL002" in rule_codes:
        from tracelint.rules import all_rules
        r = all_rules()["TL002"]
        lines = text.splitlines()
        for s in [*sups.values(), *whole_file]:
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
            codes |= resolve_selectors(cs)
    return codes


LIVE_STATES: dict[str, object] | None = None   # the daemon's project states, kept between runs


def run(files: list[str], config: Config, rule_classes: list[type[Rule]] | None = None,
        stdin: tuple[str, bytes] | None = None, *, project: bool = True, output: str | None = None) -> Report:
    """Lint `files` (already discovered) or one stdin buffer; findings filtered to config.targets.

    With `project` (the default), each file is linted in the context of its whole project (see
    `tracelint.project`) and only the files asked for are reported; without it, the files given are
    the whole world (snippets, tests).
    """
    from tracelint import listing
    from tracelint import project as proj
    listing.new_run()   # folders listed before (by discover, or an earlier run) are checked again
    codes = selected_codes(config.select, config.ignore, config.extend_select) if rule_classes is None \
        else tuple(r.code for r in rule_classes)
    report = Report(targets=config.targets)
    jobs = config.jobs or os.cpu_count() or 1
    exclude = config.exclude + config.extend_exclude

    if stdin is not None:
        name, data = stdin
        requested = [os.path.abspath(name)]
        displays = {requested[0]: Path(name).as_posix()}
    else:
        requested = list(dict.fromkeys(os.path.abspath(f) for f in files))
        displays = {os.path.abspath(f): display_path(f) for f in files}
    if not requested:
        return report
    if project:
        scope = proj.merge_scopes(proj.find_scope(d) for d in dict.fromkeys(
            p if os.path.isdir(p) else os.path.dirname(p) for p in requested))
        paths = sorted(set(proj.scope_files(scope, exclude)) | set(requested))
    else:
        scope = proj.Scope(os.getcwd(), (), ())
        paths = sorted(set(requested))
    settings = {"module_bases": list(config.module_bases), "exclude": list(exclude),
                "entry_modules": list(config.entry_modules), "max_file_size": config.max_file_size or None}

    persist = project and config.cache_dir is not None
    summary_key = None
    if persist and stdin is None:
        summary_key = _run_key(config, codes, paths, requested, displays)
        if summary_key is not None and output is not None:
            shown = cached_output(config, summary_key, output)
            if shown is not None:
                return Report(targets=config.targets, output=shown)
        cached = _run_summary(config, summary_key) if summary_key is not None else None
        if cached is not None:
            return cached
    state = None
    live_key = proj.state_key(scope, settings) if LIVE_STATES is not None else None
    if live_key is not None:
        state = LIVE_STATES.get(live_key)
    if persist and state is None:
        snapshots = proj.SnapshotStore(config.cache_dir)
        state = snapshots.load(scope, settings)
    if state is None:
        state = proj.ProjectState(scope, settings)
    state.overrides = {requested[0]: stdin[1]} if stdin is not None else {}
    index_store = proj.IndexStore(config.cache_dir) if persist else None
    errors = state.refresh(paths, index_store, jobs)
    if live_key is not None:
        LIVE_STATES[live_key] = state      # the daemon keeps it; refresh() re-reads what changed
    elif persist and state.dirty:
        snapshots.save(state)
    # a file that cannot be read is an error when it was asked for; elsewhere it is just not known
    report.errors.extend(e for p, e in errors.items() if p in displays)
    store = caches.Store(config.cache_dir, "results") if config.cache_dir else None
    diags = lint_requested(state, requested, displays, codes, rule_classes, store, index_store, jobs)
    report.files_checked = sum(1 for p in requested if p in state.files)
    if live_key is not None:
        state.drop_bytes()                 # kept between runs: facts and digests, not file contents

    report.diagnostics = selected_findings(diags, config)
    report.sort()
    if summary_key is not None and not any(d.code == "TL001" for d in report.diagnostics):
        _store_summary(config, summary_key, report, state, paths)
    for s in (store, index_store.store if index_store else None):
        if s is not None and s.wrote:
            caches.prune(config.cache_dir)
            break
    return report


def selected_findings(diags: list[Diagnostic], config: Config) -> list[Diagnostic]:
    """Per-file ignores applied, and only findings that matter under the selected targets."""
    out = []
    for d in diags:
        ignored = _per_file_ignored(d.path, config) if config.per_file_ignores else set()
        if d.code in ignored:
            continue
        if d.applies_to(config.targets):
            out.append(d.restricted_to(config.targets))
    return out


def lint_requested(state, requested: list[str], displays: dict[str, str], codes: tuple[str, ...],
                   rule_classes, store: caches.Store | None, index_store, jobs: int) -> list[Diagnostic]:
    """Findings for the requested files, linted with the project's facts: files whose helpers they
    call are not linted, but files calling *their* helpers are (their argument kinds count), exactly
    as in a run over the whole project."""
    derived = state.derived
    facts = ProjectFacts(derived.module_classes, derived.submodules, derived.tuple_outputs, derived.guards,
                         derived.size_functions, derived.outputs, derived.entries)
    diags: list[Diagnostic] = []
    for p in requested:
        display = displays.get(p) or display_path(p)
        if p in derived.syntax_errors and "TL000" in codes:
            diags.extend(_syntax_error(p, display, derived.syntax_errors[p], state))
        elif p in derived.crashed:
            diags.append(_crash_text(display, derived.crashed[p]))
        elif p in derived.not_analysed and "TL003" in codes and not _skipped_file(p, state):
            diags.append(_not_analysed(display, derived.not_analysed[p]))
    wanted = [p for p in requested if p in derived.files]
    chosen = set(wanted)
    callers = [c for p in wanted for c in derived.callers.get(p, ()) if c not in chosen]
    callers = list(dict.fromkeys(callers))

    def job(p: str) -> FileJob:
        f = derived.files[p]
        return FileJob(p, displays.get(p) or display_path(p), state.files[p].sha, f.module,
                       {r.qualname: r for r in f.reach}, frozenset(f.module_classes), f.external_params,
                       aliases=f.aliases or None)

    def load(j: FileJob) -> FileJob:
        return replace(j, source=state.read(j.path), index=state.lint_index(j.path, index_store))

    with _Pools(jobs, facts) as pools:
        first = [job(p) for p in [*wanted, *callers]]
        results = lint_jobs(first, codes, rule_classes, store, facts, load, pools)
        incoming = _incoming(results, derived.helpers)
        by_path = dict(zip((j.path for j in first), results))
        again = [replace(j, incoming=incoming[j.path]) for j in first[:len(wanted)] if j.path in incoming]
        if again:
            by_path.update(zip((j.path for j in again), lint_jobs(again, codes, rule_classes, store, facts, load, pools)))
    for p in wanted:
        diags.extend(by_path[p].diagnostics)
    return diags


def _crash_text(display: str, text: str) -> Diagnostic:
    """TL001 for a crash recorded earlier (index phase, project building) as text."""
    from tracelint.rules import all_rules
    return _tool_diag(all_rules()["TL001"], display, 1, 1, text, short=text.split(" on ", 1)[0])


def _skipped_file(path: str, state) -> bool:
    """The file says `# tracelint: skip-file` (read only when small enough to have been read)."""
    try:
        data = state.read(path)
    except OSError:
        return False
    return bool(data) and suppress.skip_file(_decode(data))


def _syntax_error(path: str, display: str, err: tuple[int, int, str], state) -> list[Diagnostic]:
    try:
        text = _decode(state.read(path))
    except OSError:
        text = ""
    if suppress.skip_file(text):
        return []
    from tracelint.rules import all_rules
    line, col, msg = err
    src = text.splitlines()
    return [_tool_diag(all_rules()["TL000"], display, line, max(col, 1), f"syntax error: {msg}",
                       src[line - 1] if 0 < line <= len(src) else "")]


class _Pools:
    """A process pool for linting, started on first need and shared by both rounds of a run."""

    def __init__(self, jobs: int, facts: "ProjectFacts"):
        self.jobs, self.facts, self.pool = jobs, facts, None

    def get(self, n: int) -> IsolatedPool | None:
        if self.pool is None and self.jobs > 1 and n >= max(2, PARALLEL_THRESHOLD // 2):
            self.pool = IsolatedPool(self.jobs, initializer=_init_worker, initargs=(self.facts,))
        return self.pool

    def __enter__(self) -> "_Pools":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.pool is not None:
            self.pool.__exit__(exc_type, exc, tb)   # on Ctrl-C: workers stopped at once


def lint_jobs(jobs: list[FileJob], codes: tuple[str, ...], rule_classes, store: caches.Store | None,
              facts: "ProjectFacts", load, pools: _Pools) -> list[JobResult]:
    """Results in job order: from the result cache when it holds them (and the project facts they
    read still hold), else linted (in the pool for many files) and stored."""
    results: list[JobResult | None] = [None] * len(jobs)
    keys: list[str] = []
    if store is not None:
        for i, j in enumerate(jobs):
            k = result_key(j, codes)
            keys.append(k)
            results[i] = cached_result(store, k, facts)
    todo = [i for i, r in enumerate(results) if r is None]
    if todo:
        if rule_classes is None:
            from tracelint.rules import all_rules
            rules = all_rules()
            rule_classes = [rules[c] for c in codes]
        rule_classes = tuple(rule_classes)
        _init_worker(facts)  # for in-process linting
        loaded = [load(jobs[i]) for i in todo]
        pool = pools.get(len(loaded)) if len(loaded) >= 2 else None
        lint = functools.partial(_lint_job_safe, rule_classes=rule_classes)
        if pool is not None:
            fresh = pool.map(lint, loaded, on_death=_worker_died, chunksize=4)
        else:
            fresh = [lint(j) for j in loaded]
        for i, r in zip(todo, fresh):
            results[i] = r
            if store is not None and not any(d.code in ("TL001", "TL003") for d in r.diagnostics):
                store.put(keys[i], to_data(r))
    return results  # type: ignore[return-value]


def result_key(job: FileJob, codes: tuple[str, ...]) -> str:
    """A file's own inputs: its content hash, where it is, the rules, and what the project index says
    about it (entry points and reach, its module classes, helpers it calls in other files and the
    argument kinds other files pass in). Project-wide facts are not in the key: the entry records the
    ones the lint read (`JobResult.deps`), checked on every hit."""
    return caches.key("result", {
        "source": job.sha, "path": job.path, "display": job.display, "module": job.module,
        "rules": list(codes), "reach": [to_data(r) for r in job.reach.values()],  # in order: the walk's order
        "module_classes": sorted(job.module_classes),
        "external_params": to_data(job.external_params), "incoming": to_data(job.incoming or {}),
        "aliases": to_data(job.aliases or {}),
    })


def cached_result(store: caches.Store, k: str, facts: ProjectFacts) -> JobResult | None:
    """The stored result, if it is well-formed and every project fact it read still holds."""
    data = store.get(k)
    if data is None:
        return None
    try:
        result = from_data(JobResult, data)
    except DecodeError:
        return None
    return result if facts.holds(result.deps) else None


def external_params(ix: FileIndex, reach: dict[str, Reach], project) -> dict[str, tuple[str, ...]]:
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


def _incoming(results: list[JobResult], helpers: dict[str, tuple[str, str]]) -> dict[str, dict[str, dict[str, str]]]:
    """path -> helper qualname -> param -> kind, for helpers that got tensor or shape arguments."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for r in results:
        for dotted, params in r.outgoing.items():
            hit = helpers.get(dotted)
            if hit is None:
                continue
            path, qualname = hit
            useful = {p: k for p, k in params.items() if k in USEFUL_KINDS}
            if useful:
                slot = out.setdefault(path, {}).setdefault(qualname, {})
                for p, k in useful.items():
                    slot[p] = _join(slot[p], k) if p in slot else k
    return out


def _join(a: str, b: str) -> str:
    """The join of two kinds (by value), as the kind analysis defines it."""
    if a == b:
        return a
    from tracelint.analysis.kinds import Kind, join
    return join([Kind(a), Kind(b)]).value


# ------------------------------------------------------------------ the run summary (warm runs)

def _summary_config(config: Config) -> dict:
    data = to_data(config)
    for k in ("jobs", "cache_dir"):
        data.pop(k, None)
    return data


def _run_key(config: Config, codes, paths: list[str], requested: list[str], displays: dict[str, str]) -> str | None:
    """The key of a run over exactly these files as they are now (by size and mtime)."""
    listing = []
    for p in paths:
        try:
            st = os.stat(p)
        except OSError:
            return None
        listing.append((p, st.st_size, st.st_mtime_ns))
    return caches.key("run", {"config": _summary_config(config), "codes": list(codes), "files": listing,
                              "requested": [[p, displays.get(p, "")] for p in requested]})


def _racy_unchanged(racy) -> bool:
    """Files modified within two seconds of the cached run are checked by content hash."""
    try:
        racy = from_data(dict[str, str], racy)
    except DecodeError:
        return False
    for p, sha in racy.items():
        try:
            with open(p, "rb") as f:
                if caches.content_hash(f.read()) != sha:
                    return False
        except OSError:
            return False
    return True


def _run_summary(config: Config, k: str) -> Report | None:
    """The report of the run with key `k`, if cached and its racy files are unchanged."""
    value = caches.Store(config.cache_dir, "runs").get(k)
    if not isinstance(value, dict) or value.keys() != {"report", "racy"} or not _racy_unchanged(value["racy"]):
        return None
    try:
        rep = _decode_summary(value["report"])
    except DecodeError:
        return None
    return Report(diagnostics=list(rep.diagnostics), files_checked=rep.files_checked,
                  errors=list(rep.errors), targets=config.targets, run_key=(k, value["racy"]))


_OUTPUT_SHAPE = {"racy": dict, "text": str, "line": str, "failed": bool, "findings": int}


def cached_output(config: Config, run_key: str, output: str) -> dict | None:
    """What the CLI printed for the run `run_key` with the output options `output` (a warm run with
    nothing changed prints it again without decoding or rendering tens of thousands of findings)."""
    value = caches.Store(config.cache_dir, "outputs").get(caches.key("output", {"run": run_key, "output": output}))
    if not isinstance(value, dict) or value.keys() != _OUTPUT_SHAPE.keys() or any(
            type(value[k]) is not t for k, t in _OUTPUT_SHAPE.items()) or not _racy_unchanged(value["racy"]):
        return None
    return value


def store_output(config: Config, report: Report, output: str, text: str, line: str) -> None:
    """Keep what the CLI printed for `report` (a run whose summary was cached: `report.run_key`)."""
    if config.cache_dir is None or report.run_key is None or report.errors or report.skipped:
        return
    run_key, racy = report.run_key
    caches.Store(config.cache_dir, "outputs").put(caches.key("output", {"run": run_key, "output": output}), {
        "racy": racy, "text": text, "line": line, "failed": report.failed, "findings": len(report.diagnostics)})


@dataclass
class _Summary:
    diagnostics: list[Diagnostic]
    files_checked: int
    errors: list[str]


_EFFECTS = tuple[tuple[str, Effect], ...]


def _encode_summary(summary: _Summary) -> dict:
    """`_Summary` as data, each distinct `effects` value stored once (a warm run over a big tree
    decodes tens of thousands of findings that share a few dozen effect tables)."""
    data = to_data(summary)
    table: list = []
    seen: dict[str, int] = {}
    for d in data["diagnostics"]:
        i = seen.setdefault(canonical(d["effects"]), len(table))
        if i == len(table):
            table.append(d["effects"])
        d["effects"] = i
    data["effects_table"] = table
    return data


def _decode_summary(data) -> _Summary:
    """The inverse of `_encode_summary`; DecodeError for any wrong shape."""
    if not isinstance(data, dict) or not isinstance(data.get("effects_table"), list) \
            or not isinstance(data.get("diagnostics"), list):
        raise DecodeError("run summary: wrong shape")
    table = [from_data(_EFFECTS, e) for e in data["effects_table"]]
    diagnostics = []
    for d in data["diagnostics"]:
        i = d.get("effects") if isinstance(d, dict) else None
        if type(i) is not int or not 0 <= i < len(table):
            raise DecodeError("run summary: bad effects index")
        diagnostics.append(from_data_given(Diagnostic, {k: v for k, v in d.items() if k != "effects"},
                                           effects=table[i]))
    rest = from_data(_Summary, {"diagnostics": [], "files_checked": data.get("files_checked"),
                                "errors": data.get("errors")})
    return _Summary(diagnostics, rest.files_checked, rest.errors)


def _store_summary(config: Config, k: str, report: Report, state, paths: list[str]) -> None:
    import time
    now = time.time_ns()
    racy = {p: s.sha for p, s in state.files.items() if s.mtime_ns == 0 or s.mtime_ns >= now - 2_000_000_000}
    if any(p not in state.files for p in paths):
        return
    caches.Store(config.cache_dir, "runs").put(k, {
        "report": _encode_summary(_Summary(report.diagnostics, report.files_checked, report.errors)),
        "racy": racy})
    report.run_key = (k, racy)


def _lint_job_safe(job: FileJob, rule_classes: tuple[type[Rule], ...]) -> JobResult:
    """Lint one file in a deep-stack thread (LibCST recurses once or more per nesting level); a crash
    outside any single rule (parser, walker, positions) is still this file's finding, never fatal."""
    try:
        return call_with_deep_stack(lint_job, job, rule_classes)
    except RecursionError:
        return JobResult([_not_analysed(job.display, "nesting deeper than tracelint analyses (even with a "
                                                     "raised recursion limit)")], {})
    except MemoryError:
        return JobResult([_not_analysed(job.display, "out of memory while analysing the file")], {})
    except Exception as e:  # noqa: BLE001 - isolate the file, keep the run going
        return JobResult([_crash(e, job.display)], {})


def _worker_died(job: FileJob) -> JobResult:
    return JobResult([_not_analysed(job.display, "the process analysing this file died (a crash in a native "
                                                 "library, or killed, e.g. out of memory)")], {})
