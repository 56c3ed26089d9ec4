"""The project a linted file belongs to: where it is, which files it holds, and what is known about them.

mypy and pyright check the files you name in the context of the whole project; so does tracelint.
From each linted path (or the stdin file name) `find_scope` finds the project root (the nearest
folder with pyproject.toml, setup.cfg, setup.py or .git; else the top of the `__init__.py` chain;
else the file's own folder), every Python file there is indexed with the cheap `ast` phase, and the
project facts (nn.Module subclasses, entry points, reachability, helpers across files) come from all
of them. Only the files asked for are reported.

`ProjectState` is that knowledge for one project: per file its size, mtime, content hash, an
*interface digest* (the parts of its index other files can see) and, when loaded, its index; and
the facts derived from all of them. The CLI keeps it between runs in the cache (a snapshot in
`projects/`, indexes in `index/`), the language server in memory. When the files that changed keep
their interface digests, the derived facts still hold and only those files are re-indexed.
"""
from __future__ import annotations

import copy
import hashlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from tracelint import cache as caches
from tracelint import listing as listings
from tracelint import source as sources
from tracelint.analysis.index import FileIndex, ProjectIndex, Reach, build_project, index_source
from tracelint.isolation import describe
from tracelint.serde import DecodeError, canonical, from_data, to_data

MARKERS = ("pyproject.toml", "setup.cfg", "setup.py", ".git")
RACY_NS = 2_000_000_000   # a file modified this close to when it was read is re-hashed, never trusted by stat
# index fields that matter only to the file itself: they are left out of the interface digest
LOCAL_FIELDS = frozenset({"path", "starts", "class_starts", "lineno", "constants", "aliases", "syntax_error",
                          "param_uses"})
CALL_FIELDS = frozenset({"calls", "refs"})   # only names that may resolve into the project count


# --------------------------------------------------------------------------------------- scope

@dataclass(frozen=True)
class Scope:
    """The folders a project's files are collected from."""

    root: str                              # the project root (absolute)
    trees: tuple[str, ...] = ()            # folders searched recursively
    flat: tuple[str, ...] = ()             # folders whose own *.py files count (loose scripts)

    def key(self) -> dict:
        return {"root": self.root, "trees": list(self.trees), "flat": list(self.flat)}


_PACKAGE_PARTS: dict[str, tuple[str, ...]] = {}
_ROOTS: dict[str, str | None] = {}
_TOPS: dict[str, str | None] = {}     # folder -> the top of its __init__.py chain (package_top)
_REAL: dict[str, str] = {}   # absolute folder -> its realpath (thousands of files, a few hundred folders)


def module_of(path: str) -> str:
    """Dotted module name from the `__init__.py` chain (as `analysis.index.module_name`, with the
    folder lookups remembered: a project has thousands of files in a few hundred folders)."""
    folder, name = os.path.split(path)
    stem = name[:-3] if name.endswith(".py") else os.path.splitext(name)[0]
    parts = _folder_parts(folder)
    if stem == "__init__":
        return ".".join(parts) or stem
    return ".".join((*parts, stem))


def _folder_parts(folder: str) -> tuple[str, ...]:
    """The package parts of a folder's modules (its `__init__.py` chain, through its realpath)."""
    return _package_parts(_real(os.path.abspath(folder or ".")))


def _real(folder: str) -> str:
    """`os.path.realpath` of an absolute folder, from its parent's: one `lstat` per folder, not one
    per path component of every folder."""
    real = _REAL.get(folder)
    if real is None:
        parent = os.path.dirname(folder)
        if parent == folder or os.path.islink(folder):
            real = os.path.realpath(folder)
        else:
            real = os.path.join(_real(parent), os.path.basename(folder))
        _REAL[folder] = real
    return real


def _package_parts(folder: str) -> tuple[str, ...]:
    hit = _PACKAGE_PARTS.get(folder)
    if hit is None:
        parent = os.path.dirname(folder)
        if parent != folder and listings.is_package(folder):
            hit = (*_package_parts(parent), os.path.basename(folder))
        else:
            hit = ()
        _PACKAGE_PARTS[folder] = hit
    return hit


def forget_folders() -> None:
    """Drop the remembered lookups of project markers and `__init__.py` chains (a long-lived server,
    before each run: files may have been added or removed). Folder realpaths are kept: a folder
    becoming a symlink under a running server is not worth a realpath per folder per keystroke."""
    _PACKAGE_PARTS.clear()
    _ROOTS.clear()
    _TOPS.clear()
    listings.new_run()


def _home() -> str:
    return os.path.abspath(os.path.expanduser("~"))


def find_root(start: str) -> str | None:
    """The nearest folder at or above `start` holding a project marker; never the home folder or /."""
    d = os.path.abspath(start)
    if d in _ROOTS:
        return _ROOTS[d]
    if d == _home() or os.path.dirname(d) == d:
        found = None
    elif any(os.path.exists(os.path.join(d, m)) for m in MARKERS):
        found = d
    else:
        found = find_root(os.path.dirname(d))
    _ROOTS[d] = found
    return found


def package_top(folder: str) -> str | None:
    """The topmost package folder of the `__init__.py` chain `folder` is in, or None."""
    chain: list[str] = []          # package folders below the first remembered or non-package one
    d = os.path.abspath(folder)
    while d not in _TOPS and os.path.dirname(d) != d and listings.is_package(d):
        chain.append(d)
        d = os.path.dirname(d)
    top = _TOPS.get(d)
    if top is None and chain:
        top = chain[-1]
    for c in chain:
        _TOPS[c] = top
    if not chain:
        _TOPS.setdefault(d, top)
    return top


def find_scope(path: str) -> Scope:
    """The project `path` (a file, a folder, or a stdin file name that need not exist) belongs to."""
    p = os.path.abspath(path)
    is_dir = os.path.isdir(p)
    start = p if is_dir else os.path.dirname(p)
    root = find_root(start)
    top = package_top(start)
    if root is not None:
        trees = [root]
        if top is not None and not _within(top, root):
            trees.append(top)
        return Scope(root, tuple(trees))
    if top is not None:
        return Scope(os.path.dirname(top), (top,))
    if is_dir:
        return Scope(p, (p,))
    return Scope(start, (), (start,))


def merge_scopes(scopes: Iterable[Scope]) -> Scope:
    """One scope for several linted paths (the union of their folders)."""
    scopes = list(scopes)
    trees: list[str] = []
    for t in sorted({t for s in scopes for t in s.trees}, key=len):
        if not any(_within(t, o) for o in trees):
            trees.append(t)
    flat = sorted({f for s in scopes for f in s.flat if not any(_within(f, t) for t in trees)})
    roots = sorted({s.root for s in scopes})
    return Scope(roots[0] if len(roots) == 1 else os.path.commonpath(roots), tuple(sorted(trees)), tuple(flat))


def _within(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


_KEPT: dict[tuple[str, tuple[str, ...]], tuple[listings.Listing, list[str]]] = {}   # (folder, exclude) -> its files


def scope_files(scope: Scope, exclude: tuple[str, ...]) -> list[str]:
    """Every Python file of the scope (absolute paths, sorted), excluded folders and files skipped."""
    from tracelint.discovery import _excluded
    out: set[str] = set()
    for tree in scope.trees:
        for folder, found in listings.walk(tree, lambda d: _excluded(d, exclude)):
            memo = _KEPT.get((folder, exclude))
            if memo is None or memo[0] is not found:   # the folder was listed again: filter again
                memo = _KEPT[(folder, exclude)] = (found, [f for name in found.py
                                                           if not _excluded(f := os.path.join(folder, name), exclude)])
            out.update(memo[1])
    for folder in scope.flat:
        try:
            found = listings.listing(folder)
        except OSError:
            continue
        for name in found.py:
            f = os.path.join(folder, name)
            if name not in found.odd and not _excluded(Path(f), exclude):
                out.add(f)
    return sorted(out)


# ------------------------------------------------------------------------------ per-file state

@dataclass
class FileState:
    """What is known about one file of the project."""

    size: int
    mtime_ns: int                 # 0 for an editor's buffer
    sha: str                      # content hash
    iface: str = ""               # interface digest: what other files can see of it
    verified_ns: int = 0          # when the content was last read and hashed
    index: FileIndex | None = None
    data: bytes | None = None     # the bytes, when read during this run
    stored: object = None         # the index as plain data (from the index cache), decoded on use

    def same_stat(self, st: os.stat_result) -> bool:
        """Unchanged by size and mtime, unless it was modified too close to when it was read (a
        change within the file system's mtime granularity would not show)."""
        return (self.mtime_ns != 0 and st.st_size == self.size and st.st_mtime_ns == self.mtime_ns
                and self.mtime_ns < self.verified_ns - RACY_NS)


def heads_tag(heads: frozenset[str]) -> str:
    return hashlib.sha256("\0".join(sorted(heads)).encode()).hexdigest()[:16]


def interface_digest(ix: FileIndex, heads: frozenset[str]) -> str:
    """Digest of the index minus what only the file itself uses (positions, line numbers, its own
    aliases and constants), calls kept only when they may name something in the project (`heads`:
    the first parts of the project's module names). Two versions of a file with the same digest give
    every *other* file the same project facts. Generic over the index's fields: a field added to
    the index counts unless it is listed in LOCAL_FIELDS."""
    def strip(value):
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if k in LOCAL_FIELDS:
                    continue
                if k in CALL_FIELDS and isinstance(v, list):
                    v = [c for c in v if not isinstance(c, str) or _may_be_project(c, heads)]
                out[k] = strip(v)
            return out
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value
    digest = hashlib.sha256(canonical(strip(to_data(ix))).encode()).hexdigest()
    return f"{heads_tag(heads)}:{digest}"


def _may_be_project(name: str, heads: frozenset[str]) -> bool:
    head = name.split(".", 1)[0]
    return head in ("self", "super") or head in heads


def module_heads(modules: Iterable[str]) -> frozenset[str]:
    return frozenset(m.split(".", 1)[0] for m in modules)


def path_heads(paths: Iterable[str]) -> frozenset[str]:
    """`module_heads` of the paths' module names, one lookup per package folder (not per file)."""
    heads: set[str] = set()
    by_folder: dict[str, str | None] = {}
    for p in paths:
        folder = os.path.dirname(p)
        head = by_folder.get(folder, "")
        if head == "":
            parts = _folder_parts(folder)
            head = by_folder[folder] = parts[0] if parts else None
        heads.add(head if head is not None else module_of(p).split(".", 1)[0])
    return frozenset(heads)


# --------------------------------------------------------------------------- derived facts

@dataclass(frozen=True)
class FileFacts:
    """What the project says about one file that has something to lint."""

    module: str                                   # its module name (made unique if two files clash)
    reach: tuple[Reach, ...]                      # in reachability order (the walker's order)
    module_classes: tuple[str, ...]
    external_params: dict[str, tuple[str, ...]]   # helpers in other files it calls -> their params
    aliases: dict[str, str] = field(default_factory=dict)   # imports re-resolved to where names are defined


@dataclass
class Derived:
    """The project facts, from every file's index; kept in the snapshot."""

    module_classes: frozenset[str] = frozenset()
    submodules: frozenset[str] = frozenset()
    tuple_outputs: frozenset[str] = frozenset()
    guards: frozenset[str] = frozenset()            # "wrapper=guard" for one-line guard wrappers
    size_functions: frozenset[str] = frozenset()    # functions returning sizes read from a tensor
    outputs: frozenset[str] = frozenset()           # "class=kind" for output classes (dataclass, dict, ...)
    entries: frozenset[str] = frozenset()           # module classes captured whole even when held by another
    files: dict[str, FileFacts] = field(default_factory=dict)       # path -> facts (lintable files)
    callers: dict[str, list[str]] = field(default_factory=dict)     # path -> files calling its helpers
    helpers: dict[str, tuple[str, str]] = field(default_factory=dict)  # dotted helper -> (path, qualname)
    syntax_errors: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    not_analysed: dict[str, str] = field(default_factory=dict)   # path -> why (TL003)
    crashed: dict[str, str] = field(default_factory=dict)        # path -> internal error in index/build (TL001)


def derive(indexes: dict[str, FileIndex], module_bases: tuple[str, ...],
           entry_modules: tuple[str, ...] = ()) -> Derived:
    """Build the project (resolves bases, entry points, reach) and keep what linting needs."""
    from tracelint.engine import external_params
    taken: dict[str, str] = {}
    prepared: dict[str, FileIndex] = {}
    for path, ix in indexes.items():
        # build_project renames a module whose name another file already has, in place: give it a copy
        prepared[path] = ix if taken.setdefault(ix.module, path) == path else copy.deepcopy(ix)
    crashed = {p: ix.crashed for p, ix in prepared.items() if ix.crashed is not None}
    usable = {p: ix for p, ix in prepared.items() if ix.crashed is None}
    project, broken = build_isolated(usable, module_bases, entry_modules)
    crashed.update(broken)
    out = Derived(frozenset(project.module_classes), frozenset(project.submodule_classes),
                  frozenset(project.tuple_output_classes),
                  frozenset(f"{w}={g}" for w, gs in project.guard_functions.items() for g in gs),
                  frozenset(project.size_functions),
                  frozenset(f"{c}={k}" for c, k in project.output_classes.items()),
                  frozenset(project.entry_classes), crashed=crashed)
    for path, ix in prepared.items():
        if ix.syntax_error is not None:
            out.syntax_errors[path] = ix.syntax_error
            continue
        if ix.not_analysed is not None:
            out.not_analysed[path] = ix.not_analysed
            continue
        if path in crashed or path not in project.files:
            continue
        reach = project.file_reach(path)
        mcs = project.module_classes_in(path)
        if not reach and not mcs:
            continue
        ext = external_params(ix, reach, project)
        out.files[path] = FileFacts(ix.module, tuple(reach.values()), tuple(sorted(mcs)), ext,
                                    dict(project.alias_overrides.get(path, {})))
        for dotted in ext:
            hix, fn = project.functions[dotted]
            out.helpers[dotted] = (hix.path, fn.qualname)
            callers = out.callers.setdefault(hix.path, [])
            if path not in callers:
                callers.append(path)
    return out


def build_isolated(files: dict[str, FileIndex], module_bases=(), entry_modules=()) -> tuple[ProjectIndex, dict[str, str]]:
    """build_project, with a file that makes it raise left out (its path -> the error, for TL001)
    rather than ending the run. Culprits are looked for only after a failure, by building each file
    alone; if only the combination fails, every file gets its own facts only."""
    if not files:
        return ProjectIndex({}), {}
    try:
        return build_project(files, module_bases, entry_modules), {}
    except Exception as first:  # noqa: BLE001 - find the file, keep the others
        culprits: dict[str, str] = {}
        for path, ix in files.items():
            try:
                build_project({path: copy.deepcopy(ix)}, module_bases, entry_modules)
            except Exception as e:  # noqa: BLE001
                culprits[path] = f"internal error building the project on {_display(path)}: {describe(e)}"
        if culprits:
            project, more = build_isolated({p: ix for p, ix in files.items() if p not in culprits},
                                           module_bases, entry_modules)
            return project, {**more, **culprits}
        project = ProjectIndex(files)
        for path, ix in files.items():   # no fact crosses a file boundary
            alone = build_project({path: ix}, module_bases, entry_modules)
            project.module_classes |= alone.module_classes
            project.functions.update(alone.functions)
            project.reach.update(alone.reach)
            project.submodule_classes |= alone.submodule_classes
            project.tuple_output_classes |= alone.tuple_output_classes
            project.entry_classes |= alone.entry_classes
            project.size_functions |= alone.size_functions
            project.output_classes.update(alone.output_classes)
            for wrapper, guards in alone.guard_functions.items():
                project.guard_functions.setdefault(wrapper, guards)
        path = next(iter(files))
        return project, {path: f"internal error building the project (files linted without cross-file "
                               f"facts): {describe(first)}"}


def index_safely(path: str, data: bytes, module: str) -> FileIndex:
    """index_source, with an exception tied to this file recorded in its index (TL001), not raised."""
    import gc
    gc_was = gc.isenabled()
    gc.disable()
    try:
        return index_source(path, data, module)
    except Exception as e:  # noqa: BLE001 - isolate the file
        ix = FileIndex(path=path, module=module)
        ix.crashed = f"internal error in the index phase on {_display(path)}: {describe(e)}"
        return ix
    finally:
        if gc_was:
            gc.enable()


def too_big_index(path: str, size: int, limit: int) -> FileIndex:
    ix = FileIndex(path=path, module=module_of(path))
    ix.not_analysed = (f"the file is {sources.size_text(size)}, over max-file-size ({sources.size_text(limit)}); "
                       "raise max-file-size to analyse it")
    return ix


def not_regular(path: str, mode: int) -> str:
    return f"{_display(path)}: {sources.file_kind(mode)}, not a regular file: skipped"


# ------------------------------------------------------------------------------- the project

@dataclass
class ProjectState:
    """One project's files and facts. `refresh` brings it up to date with the disk (and buffers)."""

    scope: Scope
    settings: dict                                   # what the facts depend on besides the files
    files: dict[str, FileState] = field(default_factory=dict)
    heads: frozenset[str] = frozenset()
    derived: Derived | None = None
    overrides: dict[str, bytes] = field(default_factory=dict)   # unsaved buffers standing for files
    dirty: bool = False                              # differs from the snapshot it was loaded from
    rebuilt: bool = False                            # the last refresh rebuilt the project facts
    facts_key: str | None = None                     # digest of `derived` as stored (None: not stored)
    paths: list[str] = field(default_factory=list)   # the files of the last refresh, and their module heads
    paths_heads: frozenset[str] = frozenset()

    def refresh(self, paths: list[str], index_store: "IndexStore | None" = None, jobs: int = 1) -> dict[str, str]:
        """Bring the state up to date with `paths` (the project's files now); returns path -> read
        error for files that cannot be read (left out of the project).

        A file whose size and mtime match is not read; one that differs is read and hashed; one
        whose hash differs is indexed again (or its index taken from the index cache). The project
        facts are kept when every changed file keeps its interface digest; else they are rebuilt.
        """
        errors: dict[str, str] = {}
        if paths != self.paths:   # the same files as last time: the same module heads (an __init__.py added or removed is a new path)
            self.paths, self.paths_heads = list(paths), path_heads(paths)
        heads = self.paths_heads
        old_files = self.files
        structural = self.derived is None or heads != self.heads
        fresh: dict[str, FileState] = {}
        changed: list[str] = []
        to_index: list[str] = []
        for p in paths:
            old = old_files.get(p)
            if p in self.overrides:
                data = self.overrides[p]
                sha = caches.content_hash(data)
                if old is not None and old.sha == sha:
                    fresh[p] = old
                else:
                    fresh[p] = FileState(len(data), 0, sha, "", time.time_ns(), index_safely(p, data, module_of(p)), data)
                    changed.append(p)
                continue
            try:
                st = os.stat(p)
            except OSError as e:
                errors[p] = f"{_display(p)}: cannot read: {e.strerror}"
                continue
            if not stat.S_ISREG(st.st_mode):  # a FIFO would block, /dev/zero never end: never read
                errors[p] = not_regular(p, st.st_mode)
                continue
            if old is not None and old.same_stat(st):
                fresh[p] = old
                continue
            entry = index_store.entry(p) if index_store is not None else None
            if entry is not None and entry.same_stat(st):
                fresh[p] = entry
                if old is None or entry.sha != old.sha:
                    changed.append(p)
                continue
            known = [s_ for s_ in (old, entry) if s_ is not None]
            if known:  # touched, or modified too recently to trust its mtime: the content decides
                state = _rehash(p, known)
                if state is not None:
                    fresh[p] = state
                    if index_store is not None and state is entry:
                        index_store.put(p, state)
                    if old is None or state.sha != old.sha:
                        changed.append(p)
                    continue
            to_index.append(p)
        for p, state, err in _index_many(to_index, heads, jobs, self.max_bytes):
            if err:
                errors[p] = err
                continue
            if index_store is not None:
                index_store.put(p, state)
            old = old_files.get(p)
            fresh[p] = state
            if old is None or old.sha != state.sha:
                changed.append(p)
        if fresh.keys() != old_files.keys():
            structural = True  # files added or removed
        tag = heads_tag(heads)
        for p in changed:
            state = fresh[p]
            if not state.iface.startswith(tag):
                state.iface = interface_digest(self._index(p, state, index_store), heads)
            old = old_files.get(p)
            if old is None or old.iface != state.iface:
                structural = True
        self.files = fresh
        self.rebuilt = structural
        if structural:
            self.heads = heads
            for p, state in fresh.items():
                if not state.iface.startswith(tag):
                    state.iface = interface_digest(self._index(p, state, index_store), heads)
            self.derived = derive({p: self._index(p, s, index_store) for p, s in fresh.items()},
                                  tuple(self.settings.get("module_bases", ())),
                                  tuple(self.settings.get("entry_modules", ())))
            self.facts_key = None
        if structural or changed or any(fresh[p] is not old_files.get(p) for p in fresh):
            self.dirty = True
        return errors

    def _index(self, path: str, state: FileState, index_store: "IndexStore | None") -> FileIndex:
        """The file's index: in memory, from the index cache, or made now."""
        if state.index is None and state.stored is not None:
            try:
                ix = from_data(FileIndex, state.stored)
                state.index = ix if ix.path == path else None
            except DecodeError:
                pass
            state.stored = None
        if state.index is None and index_store is not None:
            state.index = index_store.load_index(path, state)
        if state.index is None:
            try:
                data = self.read(path)
            except OSError as e:  # gone or swapped for a special file since it was hashed
                ix = FileIndex(path=path, module=module_of(path))
                ix.not_analysed = f"the file cannot be read any more ({e.strerror or e})"
                state.index, state.mtime_ns = ix, 0
                return ix
            if isinstance(data, int):
                state.index = too_big_index(path, data, self.max_bytes or 0)
                return state.index
            state.index = index_safely(path, data, module_of(path))
            if caches.content_hash(data) != state.sha:  # changed since it was hashed: next run sees it
                state.mtime_ns = 0
        return state.index

    def lint_index(self, path: str, index_store: "IndexStore | None") -> FileIndex:
        """The index to lint with: its module renamed as the project build did (on a copy)."""
        from tracelint.analysis.index import _rename_module
        ix = self._index(path, self.files[path], index_store)
        facts = self.derived.files.get(path) if self.derived else None
        if facts is not None and ix.module != facts.module:
            ix = copy.deepcopy(ix)
            _rename_module(ix, facts.module)
        return ix

    @property
    def max_bytes(self) -> int | None:
        return self.settings.get("max_file_size")

    def read(self, path: str) -> bytes:
        """The file's bytes (regular files only: OSError else); b"" for one over max-file-size."""
        if path in self.overrides:
            return self.overrides[path]
        state = self.files.get(path)
        if state is not None and state.data is not None:
            return state.data
        data, _ = sources.read_regular(path, self.max_bytes)
        return b"" if isinstance(data, int) else data

    def drop_bytes(self) -> None:
        """Forget file contents read during a run (a long-lived server keeps only the indexes)."""
        for state in self.files.values():
            state.data = None



class SnapshotStore:
    """A project's state between runs, in two entries: the per-file part (`projects/`: size, mtime,
    hash and interface digest of every file; rewritten when a file changed) and the derived facts
    (`facts/`, addressed by their own digest; written only when they were rebuilt). Any entry of
    the wrong shape is a miss: the project is then rebuilt from the index cache."""

    def __init__(self, folder: str):
        self.projects = caches.Store(folder, "projects")
        self.facts = caches.Store(folder, "facts")

    @staticmethod
    def _key(scope: Scope, settings: dict) -> str:
        return caches.key("project", {"scope": scope.key(), "settings": settings})

    def load(self, scope: Scope, settings: dict) -> ProjectState | None:
        data = self.projects.get(self._key(scope, settings))
        try:
            if not isinstance(data, dict) or data.keys() != {"files", "heads", "facts"}:
                return None
            files = from_data(dict[str, tuple[int, int, str, str, int]], data["files"])
            heads = from_data(frozenset[str], data["heads"])
            facts_key = from_data(str, data["facts"])
            derived = from_data(Derived, self.facts.get(facts_key))
        except DecodeError:
            return None
        state = ProjectState(scope, settings, {p: FileState(*v) for p, v in files.items()}, heads, derived)
        state.facts_key = facts_key
        return state

    def save(self, state: ProjectState) -> None:
        if state.facts_key is None:
            data = to_data(state.derived or Derived())
            state.facts_key = hashlib.sha256(canonical(data).encode()).hexdigest()
            self.facts.put(state.facts_key, data)
        self.projects.put(self._key(state.scope, state.settings), {
            "files": {p: [s.size, s.mtime_ns, s.sha, s.iface, s.verified_ns] for p, s in state.files.items()},
            "heads": sorted(state.heads), "facts": state.facts_key})
        state.dirty = False


def _display(path: str) -> str:
    from tracelint.paths import display_path
    return display_path(path)


# ------------------------------------------------------------------------------ index cache

class IndexStore:
    """The persistent index cache: one entry per file path with its size, mtime, content hash,
    interface digest and `ast` index. An entry serves only while size and mtime match (and the file
    was not modified within two seconds of being read); a file that was touched but not changed is
    recognised by its content hash."""

    def __init__(self, folder: str):
        self.store = caches.Store(folder, "index")

    def _key(self, path: str) -> str:
        return caches.key("index", {"path": path, "module": module_of(path)})

    def _entry(self, path: str) -> FileState | None:
        value = self.store.get(self._key(path))
        if not isinstance(value, dict) or value.keys() != {"state", "index"}:
            return None
        try:
            size, mtime, sha, iface, verified = from_data(tuple[int, int, str, str, int], value["state"])
        except DecodeError:
            return None
        return FileState(size, mtime, sha, iface, verified, stored=value["index"])

    def entry(self, path: str) -> FileState | None:
        """The cached state of the file (its index decoded on use), whatever the file is now."""
        return self._entry(path)

    def load_index(self, path: str, state: FileState) -> FileIndex | None:
        """The cached index of exactly this content (by hash), or None."""
        entry = self._entry(path)
        if entry is None or entry.sha != state.sha:
            return None
        try:
            ix = from_data(FileIndex, entry.stored)
        except DecodeError:
            return None
        return ix if ix.path == path else None

    def put(self, path: str, state: FileState) -> None:
        if state.mtime_ns == 0 or (state.index is None and state.stored is None):
            return
        self.store.put(self._key(path), {
            "state": [state.size, state.mtime_ns, state.sha, state.iface, state.verified_ns],
            "index": to_data(state.index) if state.index is not None else state.stored})


def _rehash(path: str, known: list[FileState]) -> FileState | None:
    """Read and hash a file whose stat changed: the known state with the same content, brought up
    to date (new size, mtime, read time), or None when the content is new."""
    try:
        data, st = sources.read_regular(path)
    except OSError:
        return None
    sha = caches.content_hash(data)
    for state in known:
        if state.sha == sha:
            state.size, state.mtime_ns, state.verified_ns, state.data = len(data), st.st_mtime_ns, time.time_ns(), data
            return state
    return None


def _index_one(path: str, heads: frozenset[str] = frozenset(), keep_bytes: bool = True,
               max_bytes: int | None = None) -> tuple[str, FileState | None, str | None]:
    """Read, hash and index one file, with its interface digest (in a worker for big runs). Only a
    regular file is read; one over `max_bytes` is not (its index says why); a crash in the index
    phase is recorded in the index (TL001), never raised."""
    try:
        data, st = sources.read_regular(path, max_bytes)
    except sources.NotRegular as e:
        return path, None, f"{_display(path)}: {e.strerror}"
    except OSError as e:
        return path, None, f"{_display(path)}: cannot read: {e.strerror or e}"
    now = time.time_ns()
    if isinstance(data, int):   # over max-file-size: a stand-in hash from size and mtime
        ix = too_big_index(path, data, max_bytes or 0)
        sha = caches.content_hash(f"too big:{data}:{st.st_mtime_ns}".encode())
        return path, FileState(data, st.st_mtime_ns, sha, interface_digest(ix, heads), now, ix, b""), None
    ix = index_safely(path, data, module_of(path))
    try:
        iface = interface_digest(ix, heads)
    except Exception as e:  # noqa: BLE001 - isolate the file
        ix = FileIndex(path=path, module=module_of(path))
        ix.crashed = f"internal error in the index phase on {_display(path)}: {describe(e)}"
        iface = interface_digest(ix, heads)
    return path, FileState(len(data), st.st_mtime_ns, caches.content_hash(data), iface, now, ix,
                           data if keep_bytes else None), None


PARALLEL_INDEX = 64   # fewer files than this are indexed in-process


def _index_died(path: str) -> tuple[str, FileState | None, str | None]:
    return path, None, f"{_display(path)}: not analysed: the process indexing it died (a crash in a native library, or killed)"


def _index_many(paths: list[str], heads: frozenset[str], jobs: int, max_bytes: int | None = None):
    if jobs > 1 and len(paths) >= PARALLEL_INDEX:
        from functools import partial

        from tracelint.isolation import IsolatedPool
        with IsolatedPool(jobs) as pool:
            yield from pool.map(partial(_index_one, heads=heads, keep_bytes=False, max_bytes=max_bytes), paths,
                                on_death=_index_died, chunksize=16)
    else:
        for p in paths:
            yield _index_one(p, heads, max_bytes=max_bytes)


# ------------------------------------------------------------------------ the language server

def state_key(scope: Scope, settings: dict) -> str:
    """Which in-memory project state serves a run (the language server's and the daemon's)."""
    return canonical({"scope": scope.key(), "settings": settings})


class Workspace:
    """The language server's projects, kept in memory between edits: a buffer is linted in its
    project with the disk's other files (re-read only when their size or mtime changes) and the
    other open buffers; project facts are rebuilt only when an edit changes a file's interface."""

    def __init__(self, cache_dir: str | None = None, use_cache: bool = True):
        if use_cache and cache_dir is None:
            folder = caches.default_dir()
            cache_dir = str(folder) if folder else None
        self.cache_dir = cache_dir if use_cache else None
        self.states: dict[str, ProjectState] = {}
        self.buffers: dict[str, bytes] = {}

    def lint_buffer(self, path: str, text: str | bytes):
        """The report for one buffer, as `tracelint PATH` would give for the file with this text."""
        from tracelint import engine
        from tracelint.config import load
        from tracelint.diagnostics import Report
        from tracelint.rules import selected_codes
        path = os.path.abspath(path)
        forget_folders()   # a long-lived server: project markers and packages may have come and gone
        self.buffers[path] = text.encode("utf-8") if isinstance(text, str) else text
        config = load(start=os.path.dirname(path))
        codes = selected_codes(config.select, config.ignore, config.extend_select)
        exclude = config.exclude + config.extend_exclude
        scope = find_scope(path)
        settings = {"module_bases": list(config.module_bases), "exclude": list(exclude),
                    "entry_modules": list(config.entry_modules), "max_file_size": config.max_file_size or None}
        key = state_key(scope, settings)
        state = self.states.get(key)
        index_store = IndexStore(self.cache_dir) if self.cache_dir else None
        if state is None:
            if self.cache_dir:
                state = SnapshotStore(self.cache_dir).load(scope, settings)
            state = state or ProjectState(scope, settings)
            self.states[key] = state
        paths = sorted(set(scope_files(scope, exclude)) | {path})
        state.overrides = {p: b for p, b in self.buffers.items() if p in set(paths)}
        errors = [e for p, e in state.refresh(paths, index_store, jobs=1).items() if p == path]
        store = caches.Store(self.cache_dir, "results") if self.cache_dir else None
        display = _display(path)
        diags = engine.lint_requested(state, [path], {path: display}, codes, None, store, index_store, 1)
        state.drop_bytes()
        report = Report(targets=config.targets, errors=errors, files_checked=1)
        report.diagnostics = engine.selected_findings(diags, config)
        return report.sort()

    def saved(self, path: str | None) -> None:
        """The file on disk now holds the buffer: nothing to forget (its stat is re-read next time)."""

    def closed(self, path: str | None) -> None:
        """The buffer is gone: the file on disk stands for it again."""
        if path is not None:
            self.buffers.pop(os.path.abspath(path), None)
