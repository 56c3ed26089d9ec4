"""One visit per file: keep the shared analysis state and dispatch each node to the rules."""
from __future__ import annotations

from collections import defaultdict

import libcst as cst

from tracelint.analysis.context import (
    SCRIPT_EXEMPT_DECORATORS, SCRIPTED_WHEN_TRACED, ClassState, FileContext, class_state, guard_targets)
from tracelint.analysis.kinds import Kind, join
from tracelint.analysis.nodes import child_fields, subclass_of
from tracelint.rule import ANYWHERE, INIT, REACHABLE, Rule

_TERMINAL = (cst.Return, cst.Raise, cst.Continue, cst.Break)

def _terminates(block: cst.BaseSuite) -> bool:
    """Does the block always leave (return/raise/continue/break as its last statement)?"""
    body = block.body if isinstance(block, cst.IndentedBlock) else [block]
    if not body:
        return False
    last = body[-1]
    if isinstance(last, cst.SimpleStatementLine):
        return any(isinstance(s, _TERMINAL) for s in last.body)
    return isinstance(last, cst.SimpleStatementSuite) and any(isinstance(s, _TERMINAL) for s in last.body)


class Walker(cst.CSTVisitor):
    def __init__(self, ctx: FileContext, rules: list[Rule]):
        super().__init__()
        self.ctx = ctx
        self.tables: dict[str, dict[str, list]] = {REACHABLE: defaultdict(list), INIT: defaultdict(list)}
        self.leave_tables: dict[str, dict[str, list]] = {REACHABLE: defaultdict(list), INIT: defaultdict(list)}
        for rule in rules:
            scopes = (REACHABLE, INIT) if rule.scope == ANYWHERE else (rule.scope,)
            for attr in dir(type(rule)):
                if attr.startswith("visit_"):
                    for s in scopes:
                        self.tables[s][attr[6:]].append(getattr(rule, attr))
                elif attr.startswith("leave_"):
                    for s in scopes:
                        self.leave_tables[s][attr[6:]].append(getattr(rule, attr))
        self.regions: dict[int, tuple[frozenset[str], str]] = {}
        self.on_crash = None  # callback(rule, exception): a crashing rule is reported and switched off
        self.undo: list[tuple[int, int, int, int]] = []   # per node: frames, classes, excluded, stmts

    def _scope(self) -> str | None:
        ctx = self.ctx
        if ctx.analysed:
            return REACHABLE
        if ctx.in_init or (ctx.cls is not None and ctx.cls.is_module and not ctx.frames):
            return INIT
        return None

    # ------------------------------------------------------------------ walk
    def walk(self, node: cst.CSTNode) -> None:
        """Pre-order walk over semantic children only (LibCST's own `visit` rebuilds every node), with
        an explicit stack: deeply nested expressions cost no Python recursion here."""
        stack: list[tuple[cst.CSTNode, bool]] = [(node, False)]
        pop, push = stack.pop, stack.append
        while stack:
            current, leaving = pop()
            if leaving:
                self.on_leave(current)
                continue
            push((current, True))
            if self.on_visit(current):
                kids: list[cst.CSTNode] = []
                for name in child_fields(type(current)):
                    value = getattr(current, name)
                    if isinstance(value, cst.CSTNode):
                        kids.append(value)
                    elif isinstance(value, (tuple, list)):
                        kids.extend(item for item in value if isinstance(item, cst.CSTNode))
                stack.extend((kid, False) for kid in reversed(kids))

    # ------------------------------------------------------------------ order
    def _visit_module(self, module: cst.Module) -> None:
        """Visit class shells, then functions in reachability order (entry points first), so that
        argument kinds seen at call sites are known when a helper's parameters are bound."""
        ctx = self.ctx
        rank = {q: i for i, q in enumerate(ctx.reach)}
        late = len(rank)
        work: list[tuple[int, int, ClassState | None, cst.FunctionDef]] = []
        for pos, stmt in enumerate(module.body):
            if isinstance(stmt, cst.ClassDef):
                state = class_state(stmt, stmt.name.value in ctx.module_class_names, ctx)
                ctx.classes.append(state)
                ctx.top = (stmt, None)
                self._dispatch(stmt, leave=False)
                for inner in (stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else ()):
                    if isinstance(inner, cst.FunctionDef):
                        q = f"{state.name}.{inner.name.value}"
                        if q in rank:
                            work.append((rank[q], pos, state, inner))
                        elif state.is_module and inner.name.value == "__init__":
                            work.append((late, pos, state, inner))
                    elif state.is_module:
                        self.walk(inner)
                self._dispatch(stmt, leave=True)
                ctx.classes.pop()
            elif isinstance(stmt, cst.FunctionDef) and stmt.name.value in rank:
                work.append((rank[stmt.name.value], pos, None, stmt))
        depth = _holder_depth([w[2] for w in work if w[2] is not None], ctx.index.module)
        late_fn = len(depth) + 1
        # parents before the submodules they hold (their calls pass argument kinds down), functions last
        work.sort(key=lambda w: (depth.get(w[2].name, 0) if w[2] is not None else late_fn, w[0], w[1]))
        for _, _, state, fn in work:
            if state is not None:
                ctx.classes.append(state)
            ctx.top = (fn, state.node if state is not None else None)
            self.walk(fn)
            if state is not None:
                ctx.classes.pop()

    def _dispatch(self, node: cst.CSTNode, leave: bool) -> None:
        scope = self._scope()
        if scope is None:
            return
        tables = self.leave_tables if leave else self.tables
        for fn in tables[scope].get(type(node).__name__, ()):
            try:
                fn(node)
            except Exception as exc:  # noqa: BLE001 - isolate the rule, keep the others running
                self._crashed(fn, exc)

    # ------------------------------------------------------------------ visit
    def on_visit(self, node: cst.CSTNode) -> bool:
        ctx = self.ctx
        mark = (len(ctx.frames), len(ctx.classes), len(ctx.excluded), len(ctx.stmts))
        t = type(node)   # exact type tests: a negative isinstance on LibCST's ABC-based nodes is slow
        if t is cst.Module:
            self.undo.append(mark)
            self._visit_module(node)
            return False
        region = self.regions.pop(id(node), None)
        if region:
            ctx.excluded.append(region)
        if t is cst.ClassDef:
            self.undo.append(mark)
            return False  # classes nested in functions or classes are not analysed
        elif t is cst.FunctionDef:
            frame = ctx.enter_function(node)
            if frame is None:
                del ctx.excluded[mark[2]:]
                self.undo.append(mark)
                return False
            for d in node.decorators:
                name = ctx.qualified(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
                if name in SCRIPT_EXEMPT_DECORATORS:
                    ctx.excluded.append((frozenset({"script"}), f"@{name.rsplit('.', 2)[-2]}.{name.rsplit('.', 1)[-1]}"))
                elif name in SCRIPTED_WHEN_TRACED:
                    ctx.excluded.append((frozenset({"trace"}), f"@{name}: scripted while tracing"))
        elif t is cst.SimpleStatementLine or subclass_of(t, cst.BaseCompoundStatement):
            if not ctx.frames and ctx.cls is None and t is cst.SimpleStatementLine:
                self.undo.append(mark)
                return False  # module-level statements: nothing to check there
            ctx.stmts.append(node)
        self._regions_for(node)
        self._bind_before(node)
        self.undo.append(mark)
        if t is cst.Call and ctx.analysed:
            ctx.record_call(node)
        self._dispatch(node, leave=False)
        return True

    def on_leave(self, node: cst.CSTNode) -> None:
        ctx = self.ctx
        self._dispatch(node, leave=True)
        self._bind_after(node)
        frames, classes, excluded, stmts = self.undo.pop()
        del ctx.frames[frames:]
        del ctx.classes[classes:]
        del ctx.stmts[stmts:]
        if type(node) is cst.If:
            g = guard_targets(node.test, ctx)
            if g and g[1] and _terminates(node.body) and node.orelse is None:
                # `if is_scripting(): return ...` -> the rest of the block runs only when the guard is False
                del ctx.excluded[excluded:]
                ctx.excluded.append((g[1], self._reason(node.test, else_branch=True)))
                return
        del ctx.excluded[excluded:]

    def _crashed(self, fn, exc: Exception) -> None:
        rule = fn.__self__
        for tables in (self.tables, self.leave_tables):
            for table in tables.values():
                for name, fns in table.items():
                    table[name] = [f for f in fns if getattr(f, "__self__", None) is not rule]
        if self.on_crash is not None:
            self.on_crash(rule, exc)

    # ------------------------------------------------------------------ guards
    def _reason(self, test: cst.CSTNode, else_branch: bool) -> str:
        code = cst.Module([]).code_for_node(test)
        if code == "self.training" and not else_branch:
            return "training mode only: capture in eval mode"
        return f"{'not ' if else_branch else ''}{code}" if len(code) < 60 else "guarded"

    def _regions_for(self, node: cst.CSTNode) -> None:
        ctx = self.ctx
        if not ctx.frames:
            return
        t = type(node)
        if t is cst.If or t is cst.While:
            g = guard_targets(node.test, ctx)
            if g:
                if g[0]:
                    self.regions[id(node.body)] = (g[0], self._reason(node.test, False))
                if g[1] and node.orelse is not None:
                    self.regions[id(node.orelse)] = (g[1], self._reason(node.test, True))
        elif t is cst.IfExp:
            g = guard_targets(node.test, ctx)
            if g:
                if g[0]:
                    self.regions[id(node.body)] = (g[0], self._reason(node.test, False))
                if g[1]:
                    self.regions[id(node.orelse)] = (g[1], self._reason(node.test, True))
        elif t is cst.BooleanOperation:
            g = guard_targets(node.left, ctx)
            if g:
                if isinstance(node.operator, cst.And) and g[0]:
                    self.regions[id(node.right)] = (g[0], self._reason(node.left, False))
                elif isinstance(node.operator, cst.Or) and g[1]:
                    self.regions[id(node.right)] = (g[1], self._reason(node.left, True))

    # ------------------------------------------------------------------ kinds
    def _bind_before(self, node: cst.CSTNode) -> None:
        ctx = self.ctx
        if not ctx.frames:
            return
        t = type(node)
        if t is cst.For or t is cst.CompFor:
            ctx.bind(node.target, ctx.loop_target_kind(node.iter))
        elif t is cst.WithItem and node.asname is not None:
            ctx.bind(node.asname.name, Kind.UNKNOWN)
        elif t is cst.ExceptHandler and node.name is not None:
            ctx.bind(node.name.name, Kind.UNKNOWN)

    def _bind_after(self, node: cst.CSTNode) -> None:
        ctx = self.ctx
        if not ctx.frames:
            return
        t = type(node)
        if t is cst.Assign:
            k = ctx.kind(node.value)
            for target in node.targets:
                ctx.bind(target.target, k, node.value)
        elif t is cst.AnnAssign and node.value is not None:
            ctx.bind(node.target, ctx.kind(node.value), node.value)
        elif t is cst.AugAssign and type(node.target) is cst.Name:
            old = ctx.name_kind(node.target.value)
            ctx.bind(node.target, join([old, ctx.kind(node.value)]))
        elif t is cst.NamedExpr:
            ctx.bind(node.target, ctx.kind(node.value))


def _holder_depth(states: list[ClassState], module: str) -> dict[str, int]:
    """Local module class -> how deep it sits in the local tree of submodules (0: held by no local
    class), from the `self.x = Cls(...)` assignments of each class's `__init__`."""
    names = {st.name for st in states}
    prefix = f"{module}."
    held: dict[str, set[str]] = {}
    for st in {id(s): s for s in states}.values():
        for fact in st.attrs.values():
            for ctor in (fact.ctor, *getattr(fact, "alternatives", ())):
                if ctor.startswith(prefix) and ctor[len(prefix):] in names and ctor[len(prefix):] != st.name:
                    held.setdefault(ctor[len(prefix):], set()).add(st.name)
    depth = {n: 0 for n in names}
    for _ in range(min(len(names), 8)):
        changed = False
        for child, parents in held.items():
            d = max(depth[p] for p in parents) + 1
            if d > depth[child] and d <= 8:
                depth[child] = d
                changed = True
        if not changed:
            break
    return depth
