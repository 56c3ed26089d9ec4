"""The project model: a file is linted in the context of its whole project, however it is linted."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tracelint import cache as caches
from tracelint import engine
from tracelint import project as proj
from tracelint.api import lint_paths, lint_source
from tracelint.config import Config
from tracelint.targets import TARGETS

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "fixtures" / "project"
EVERYTHING = Config(targets=TARGETS, select=("ALL",), jobs=1)


def key(d):
    return (d.line, d.column, d.end_line, d.end_column, d.code, d.message, d.severity, d.effects)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        f = root / name
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text(textwrap.dedent(text).lstrip("\n"))
    return root


# ----------------------------------------------------------------------------------- scope

def test_scope_from_markers_packages_and_loose_folders(tmp_path, monkeypatch):
    monkeypatch.setattr(proj, "_home", lambda: str(tmp_path))
    proj.forget_folders()
    write(tmp_path, {"repo/pyproject.toml": "", "repo/src/pkg/__init__.py": "", "repo/src/pkg/sub/__init__.py": "",
                     "repo/src/pkg/sub/m.py": "", "lib/top/__init__.py": "", "lib/top/inner/__init__.py": "",
                     "lib/top/inner/x.py": "", "loose/a.py": "", "loose/b.py": "", "loose/deep/c.py": ""})
    s = proj.find_scope(str(tmp_path / "repo/src/pkg/sub/m.py"))
    assert s.root == str(tmp_path / "repo") and s.trees == (str(tmp_path / "repo"),)
    s = proj.find_scope(str(tmp_path / "lib/top/inner/x.py"))  # no marker: the top of the __init__ chain
    assert s.trees == (str(tmp_path / "lib/top"),)
    s = proj.find_scope(str(tmp_path / "loose/a.py"))  # a loose script: its own folder, not below
    assert s.flat == (str(tmp_path / "loose"),) and not s.trees
    assert proj.scope_files(s, ()) == [str(tmp_path / "loose/a.py"), str(tmp_path / "loose/b.py")]
    s = proj.find_scope(str(tmp_path / "loose/new.py"))  # a stdin name need not exist
    assert s.flat == (str(tmp_path / "loose"),)
    merged = proj.merge_scopes([proj.find_scope(str(tmp_path / "repo/src/pkg")), proj.find_scope(str(tmp_path / "repo"))])
    assert merged.trees == (str(tmp_path / "repo"),)


def test_a_marker_in_the_home_folder_is_not_a_project(tmp_path, monkeypatch):
    monkeypatch.setattr(proj, "_home", lambda: str(tmp_path))
    proj.forget_folders()
    write(tmp_path, {".git/HEAD": "", "work/model.py": ""})
    assert proj.find_root(str(tmp_path / "work")) is None
    assert proj.find_scope(str(tmp_path / "work/model.py")).flat == (str(tmp_path / "work"),)


def test_excludes_apply_to_the_project(tmp_path):
    write(tmp_path, {"pyproject.toml": "", "pkg/a.py": "", "build/b.py": "", ".venv/c.py": "", "gen/d.py": ""})
    files = proj.scope_files(proj.find_scope(str(tmp_path / "pkg/a.py")), ("build", ".venv", "gen/*"))
    assert [os.path.relpath(f, tmp_path) for f in files] == ["pkg/a.py"]


# ------------------------------------------------------ identical findings, however linted

def _lsp_findings(paths: list[Path]) -> dict[str, list]:
    pytest.importorskip("pygls")
    from test_lsp import TIMEOUT, Session  # a real LSP client over stdio
    from pygls.uris import from_fs_path

    async def scenario():
        s = Session()
        await s.start(ROOT)
        out = {}
        for p in paths:
            uri = from_fs_path(str(p))
            s.open(uri, p.read_text())
            params = await s.diagnostics(uri, 1)
            out[str(p)] = [(d.range.start.line + 1, d.range.start.character + 1, d.code) for d in params.diagnostics]
        await asyncio.wait_for(s.stop(), TIMEOUT)
        return out

    return asyncio.run(scenario())


def test_same_findings_alone_in_package_through_stdin_and_lsp(tmp_path, monkeypatch):
    """fixtures/project, every file and every rule under every target: linted as part of the
    package, alone (as pre-commit passes it), through stdin, and by the language server."""
    files = sorted(FIXTURE.rglob("*.py"))
    monkeypatch.chdir(ROOT)
    whole = lint_paths([str(FIXTURE)], EVERYTHING).diagnostics
    assert {os.path.basename(d.path) for d in whole} >= {"layers.py"}  # cross-file findings exist
    for f in files:
        display = os.path.relpath(f, ROOT)
        expected = [key(d) for d in whole if d.path == display]
        alone = lint_paths([display], EVERYTHING).diagnostics
        assert [key(d) for d in alone] == expected, display
        stdin = lint_source(f.read_bytes(), display, EVERYTHING).diagnostics
        assert [key(d) for d in stdin] == expected, display
        assert all(d.path == display for d in [*alone, *stdin])


def test_language_server_and_cli_give_the_package_findings(tmp_path):
    """fixtures/project as a project of its own, with a config selecting every rule and target:
    what the server publishes for each buffer, and what `tracelint FILE` and `tracelint - <FILE`
    print, is what `tracelint PACKAGE` reports for that file."""
    copy = tmp_path / "proj"
    shutil.copytree(FIXTURE, copy)
    (copy / "pyproject.toml").write_text('[tool.tracelint]\nselect = ["ALL"]\n'
                                         'target = ["trace", "script", "export", "compile"]\n')
    files = sorted(copy.rglob("*.py"))
    env = {**os.environ, "TRACELINT_NO_CACHE": "1"}

    def cli(*args: str, stdin: str | None = None) -> dict[str, list]:
        p = subprocess.run([sys.executable, "-m", "tracelint", *args, "--format", "json"], cwd=tmp_path,
                           capture_output=True, text=True, env=env, input=stdin)
        assert p.returncode in (0, 1), p.stderr
        out: dict[str, list] = {}
        for d in json.loads(p.stdout)["findings"]:
            out.setdefault(str(tmp_path / d["path"]), []).append((d["line"], d["column"], d["code"]))
        return out

    package = cli(str(copy))
    assert package[str(copy / "visionzoo/layers.py")]  # findings only the project context gives
    served = _lsp_findings(files)
    for f in files:
        expected = package.get(str(f), [])
        assert cli(str(f)).get(str(f), []) == expected, f
        assert cli("-", "--stdin-filename", str(f.relative_to(tmp_path)), stdin=f.read_text()).get(str(f), []) \
            == expected, f
        assert served[str(f)] == expected, f


def test_cli_stdin_takes_project_and_config_of_the_stdin_file(tmp_path):
    write(tmp_path, {
        "proj/pyproject.toml": '[tool.tracelint]\ntarget = ["export"]\n',
        "proj/pkg/__init__.py": "",
        "proj/pkg/base.py": """
            from torch import nn

            class Base(nn.Module):
                pass
            """,
        "proj/pkg/model.py": """
            from pkg.base import Base

            class Net(Base):
                def forward(self, x):
                    if x.sum() > 0:
                        return x
                    return -x
            """,
    })
    env = {**os.environ, "TRACELINT_NO_CACHE": "1"}
    model = tmp_path / "proj/pkg/model.py"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    by_path = subprocess.run([sys.executable, "-m", "tracelint", str(model)], cwd=elsewhere,
                             capture_output=True, text=True, env=env)
    by_stdin = subprocess.run([sys.executable, "-m", "tracelint", "-", "--stdin-filename", str(model)],
                              cwd=elsewhere, input=model.read_text(), capture_output=True, text=True, env=env)
    assert by_path.returncode == by_stdin.returncode == 1
    assert "TL101" in by_path.stdout and by_path.stdout == by_stdin.stdout
    # the config of the project applied (target export): the same finding under trace+script only
    default = subprocess.run([sys.executable, "-m", "tracelint", "-", "--stdin-filename", str(model),
                              "--target", "script"], cwd=elsewhere, input=model.read_text(),
                             capture_output=True, text=True, env=env)
    assert default.returncode == 0


# ------------------------------------------------ caches: right across files, cheap when warm

BASE = """
from torch import nn

class Base(nn.Module):
    pass
"""
HELPER = """
def scale(t):
    return t * 2
"""
SUB = """
from torch import nn

class Sub(nn.Module):
    def forward(self, x):
        return x
"""
MODEL = """
from pkg.base import Base
from pkg.helpers import scale
from pkg.sub import Sub

class Net(Base):
    def __init__(self):
        super().__init__()
        self.sub = Sub()

    def forward(self, x):
        y = self.sub(x)
        if y.sum() > 0:
            return scale(x)
        return x
"""


@pytest.fixture
def pkg(tmp_path):
    root = write(tmp_path / "repo", {"pyproject.toml": "", "pkg/__init__.py": "", "pkg/base.py": BASE,
                                     "pkg/helpers.py": HELPER, "pkg/sub.py": SUB, "pkg/model.py": MODEL})
    return root, Config(jobs=1, cache_dir=str(tmp_path / "cache"), targets=TARGETS)


def run_on(root: Path, cfg: Config, name: str = "pkg/model.py"):
    return sorted((os.path.basename(d.path), d.line, d.code) for d in lint_paths([str(root / name)], cfg).diagnostics)


def edit(path: Path, text: str) -> None:
    """Rewrite a file; its mtime moves on even on a coarse clock."""
    st = path.stat()
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    os.utime(path, ns=(st.st_atime_ns, max(st.st_mtime_ns + 1_000_000_000, path.stat().st_mtime_ns)))


def test_changing_a_base_class_elsewhere_changes_the_dependant(pkg):
    root, cfg = pkg
    assert run_on(root, cfg) == [("model.py", 12, "TL101")]
    edit(root / "pkg/base.py", "class Base:\n    pass\n")          # no longer an nn.Module
    assert run_on(root, cfg) == []
    edit(root / "pkg/base.py", BASE)
    assert run_on(root, cfg) == [("model.py", 12, "TL101")]


def test_changing_a_helper_elsewhere_changes_the_dependant(pkg):
    root, cfg = pkg
    assert run_on(root, cfg, "pkg/helpers.py") == []
    edit(root / "pkg/helpers.py", "def scale(t):\n    return t * t.sum().item()\n")
    assert run_on(root, cfg, "pkg/helpers.py") == [("helpers.py", 2, "TL201")]
    # and the model's helper call site: the helper's parameter was renamed (an interface change)
    edit(root / "pkg/helpers.py", "def scale(u):\n    if u.sum() > 1:\n        return u\n    return u * 2\n")
    assert run_on(root, cfg, "pkg/helpers.py") == [("helpers.py", 2, "TL101")]


def test_changing_a_submodules_return_elsewhere_changes_the_dependant(pkg):
    root, cfg = pkg
    assert run_on(root, cfg) == [("model.py", 12, "TL101")]
    edit(root / "pkg/sub.py", SUB.replace("return x", "return x, x"))   # a tuple: elements unknown
    assert [c for _, _, c in run_on(root, cfg)] == []
    edit(root / "pkg/sub.py", SUB)
    assert run_on(root, cfg) == [("model.py", 12, "TL101")]


def test_added_and_removed_files_change_the_project(pkg):
    root, cfg = pkg
    (root / "pkg/base.py").unlink()
    assert run_on(root, cfg) == []                                  # Base unknown: Net not a module
    write(root, {"pkg/base.py": BASE})
    assert run_on(root, cfg) == [("model.py", 12, "TL101")]


def test_a_body_edit_keeps_the_project_facts(pkg, monkeypatch):
    """An edit that does not change what other files see re-indexes one file, rebuilds nothing."""
    root, cfg = pkg
    run_on(root, cfg)
    builds, indexed = [], []
    real_derive, real_index = proj.derive, proj.index_source
    monkeypatch.setattr(proj, "derive", lambda *a: builds.append(1) or real_derive(*a))
    monkeypatch.setattr(proj, "index_source", lambda p, *a: indexed.append(os.path.basename(p)) or real_index(p, *a))
    edit(root / "pkg/model.py", MODEL.replace("return x\n", "return x * x.sum().item()\n"))
    assert run_on(root, cfg) == [("model.py", 12, "TL101"), ("model.py", 14, "TL201")]
    assert builds == [] and indexed == ["model.py"]
    # an interface edit (a new method call into the project) rebuilds the facts
    edit(root / "pkg/model.py", MODEL.replace("y = self.sub(x)", "y = self.sub(scale(x))"))
    run_on(root, cfg)
    assert builds == [1]


def test_warm_runs_read_no_index_and_unchanged_runs_one_summary(pkg, monkeypatch):
    root, cfg = pkg
    old = 1_600_000_000_000_000_000  # files written long ago: stat alone is trusted
    for f in root.rglob("*.py"):
        os.utime(f, ns=(old, old))
    first = run_on(root, cfg, "pkg")
    indexed = []
    real_index = proj.index_source
    monkeypatch.setattr(proj, "index_source", lambda p, *a: indexed.append(p) or real_index(p, *a))
    shutil.rmtree(Path(cfg.cache_dir) / caches.LAYOUT / "runs")
    assert run_on(root, cfg, "pkg") == first and indexed == []      # snapshot + results, nothing re-read

    def boom(*a, **k):
        raise AssertionError("the project was refreshed despite the run summary")

    monkeypatch.setattr(proj.ProjectState, "refresh", boom)
    assert run_on(root, cfg, "pkg") == first                       # one summary file read


def test_touched_but_unchanged_file_is_not_indexed_again(pkg, monkeypatch):
    root, cfg = pkg
    first = run_on(root, cfg)
    indexed = []
    real_index = proj.index_source
    monkeypatch.setattr(proj, "index_source", lambda p, *a: indexed.append(os.path.basename(p)) or real_index(p, *a))
    os.utime(root / "pkg/base.py", ns=(1, 1_700_000_000_000_000_000))   # `touch`: new mtime, same bytes
    shutil.rmtree(Path(cfg.cache_dir) / caches.LAYOUT / "runs")
    assert run_on(root, cfg) == first and indexed == []


def test_racy_files_are_checked_by_content(pkg):
    """A file rewritten within the mtime granularity, same size, same mtime: still seen."""
    root, cfg = pkg
    assert run_on(root, cfg) == [("model.py", 12, "TL101")]
    f = root / "pkg/model.py"
    st = f.stat()
    f.write_text(textwrap.dedent(MODEL).lstrip("\n").replace("y.sum() > 0", "y.sum() < 0"))  # same size
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert f.stat().st_size == st.st_size
    assert run_on(root, cfg) == [("model.py", 12, "TL101")]
    f.write_text(textwrap.dedent(MODEL).lstrip("\n").replace("y.sum() > 0", "y.numel() > 0"))
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert [c for _, _, c in run_on(root, cfg)] == ["TL301"]


@pytest.mark.parametrize("section", ["index", "projects", "facts", "runs"])
def test_damaged_index_and_snapshot_entries_are_misses(pkg, section):
    root, cfg = pkg
    expected = run_on(root, cfg)
    folder = Path(cfg.cache_dir) / caches.LAYOUT / section
    entries = list(folder.rglob("*.json"))
    assert entries
    for n, f in enumerate(entries):
        f.write_bytes([b"[]", b'{"key": 1}', b"\xff\xfe", b'{"key": "' + f.stem.encode() + b'", "value": {"state": 1}}'][n % 4])
    if section != "runs":
        shutil.rmtree(Path(cfg.cache_dir) / caches.LAYOUT / "runs")
    assert run_on(root, cfg) == expected


def test_result_entries_survive_an_unrelated_interface_change(pkg, monkeypatch):
    """Per-file dependencies across the project model: a new module class elsewhere re-lints only
    the new file, not the model."""
    root, cfg = pkg
    run_on(root, cfg, "pkg")
    seen = []
    real = engine.lint_job
    monkeypatch.setattr(engine, "lint_job", lambda job, rules: seen.append(os.path.basename(job.path)) or real(job, rules))
    write(root, {"pkg/extra.py": SUB.replace("Sub", "Extra")})
    run_on(root, cfg, "pkg")
    assert seen == ["extra.py"]


# ------------------------------------------------------------------------- folder listings

def test_module_heads_by_folder_equal_the_heads_of_every_module_name(tmp_path):
    write(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": "", "pkg/sub/__init__.py": "", "pkg/sub/b.py": "",
                     "pkg/plain/c.py": "", "loose/d.py": "", "loose/__init__.py.txt": "", "top.py": ""})
    paths = sorted(str(p) for p in tmp_path.rglob("*.py"))
    assert proj.path_heads(paths) == proj.module_heads(proj.module_of(p) for p in paths)
    assert proj.path_heads(paths) == {"pkg", "c", "d", "top"}


def test_a_long_lived_process_sees_files_added_and_removed_in_a_listed_folder(tmp_path):
    """Listings are kept between runs and re-read when the folder's mtime moves."""
    write(tmp_path, {"pkg/__init__.py": "", "pkg/a.py": ""})
    old = 1_600_000_000
    os.utime(tmp_path / "pkg", (old, old))          # old enough to be trusted by its mtime
    scope = proj.Scope(str(tmp_path), (str(tmp_path),))
    proj.forget_folders()
    assert [os.path.basename(p) for p in proj.scope_files(scope, ())] == ["__init__.py", "a.py"]
    proj.forget_folders()                            # the next request of a server
    assert [os.path.basename(p) for p in proj.scope_files(scope, ())] == ["__init__.py", "a.py"]
    (tmp_path / "pkg/b.py").write_text("")
    proj.forget_folders()
    assert [os.path.basename(p) for p in proj.scope_files(scope, ())] == ["__init__.py", "a.py", "b.py"]
    (tmp_path / "pkg/__init__.py").unlink()          # no longer a package: module names change
    proj.forget_folders()
    assert proj.module_of(str(tmp_path / "pkg/a.py")) == "a"
