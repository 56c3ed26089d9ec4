"""The content-hash cache: hits give the same result, any input change misses, nothing in the tree."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tracelint import engine
from tracelint.api import lint_paths
from tracelint.config import Config

HAZARD = ("import torch\nfrom torch import nn\n\n\nclass Net(nn.Module):\n"
          "    def forward(self, x):\n        return x * x.sum().item()\n")


def test_hit_is_identical_and_skips_linting(tmp_path, monkeypatch):
    src = tmp_path / "src"
    src.mkdir()
    (src / "m.py").write_text(HAZARD)
    cfg = Config(jobs=1, cache_dir=str(tmp_path / "cache"))
    first = lint_paths([str(src)], cfg).diagnostics
    assert [d.code for d in first] == ["TL201"]

    def boom(*a, **k):
        raise AssertionError("linted again despite the cache")

    monkeypatch.setattr(engine, "lint_job", boom)
    assert lint_paths([str(src)], cfg).diagnostics == first


def test_changes_miss(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "m.py").write_text(HAZARD)
    cfg = Config(jobs=1, cache_dir=str(tmp_path / "cache"))
    assert len(lint_paths([str(src)], cfg).diagnostics) == 1
    (src / "m.py").write_text(HAZARD.replace(".item()", ".mean()"))
    assert lint_paths([str(src)], cfg).diagnostics == []
    (src / "m.py").write_text(HAZARD)
    assert lint_paths([str(src)], Config(jobs=1, cache_dir=cfg.cache_dir, ignore=("TL201",))).diagnostics == []


def test_cli_cache_lives_outside_the_tree(tmp_path):
    (tmp_path / "m.py").write_text(HAZARD)
    env = {k: v for k, v in os.environ.items() if k != "TRACELINT_NO_CACHE"}
    env["TRACELINT_CACHE_DIR"] = str(tmp_path.parent / f"{tmp_path.name}-cache")
    for _ in range(2):
        p = subprocess.run([sys.executable, "-m", "tracelint", "m.py"], cwd=tmp_path, env=env,
                           capture_output=True, text=True)
        assert p.returncode == 1 and "TL201" in p.stdout
    assert sorted(os.listdir(tmp_path)) == ["m.py"]
    assert os.listdir(env["TRACELINT_CACHE_DIR"])


# --- the redesigned cache: data only, canonical keys, versions, per-file dependencies, cap ----------

import json  # noqa: E402
import pickle  # noqa: E402
import stat  # noqa: E402
import threading  # noqa: E402

import pytest  # noqa: E402

from tracelint import cache as caches  # noqa: E402
from tracelint.diagnostics import Diagnostic  # noqa: E402
from tracelint.serde import DecodeError, from_data, to_data  # noqa: E402

BLOCKS = "from torch import nn\n\n\nclass Block(nn.Module):\n    def forward(self, x):\n        return x\n"
MODEL = ("from torch import nn\nfrom blocks import Block\n\n\nclass Net(nn.Module):\n"
         "    def __init__(self):\n        super().__init__()\n        self.block = Block()\n\n"
         "    def forward(self, x):\n        y = self.block(x)\n        return x * y.sum().item()\n")


def _forget_runs(cfg) -> None:
    """Drop the run summaries, so that a re-run goes to the per-file result cache."""
    import shutil
    shutil.rmtree(os.path.join(cfg.cache_dir, caches.LAYOUT, "runs"), ignore_errors=True)


def _counting(monkeypatch) -> list[str]:
    """Record which files are really linted (not served by the cache)."""
    seen: list[str] = []
    real = engine.lint_job

    def counted(job, rules):
        seen.append(os.path.basename(job.path))
        return real(job, rules)

    monkeypatch.setattr(engine, "lint_job", counted)
    return seen


def _entries(folder) -> list[str]:
    out = []
    for dirpath, _, names in os.walk(os.path.join(folder, caches.LAYOUT, "results")):
        out += [os.path.join(dirpath, n) for n in names if n.endswith(".json")]
    return out


def _project(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "blocks.py").write_text(BLOCKS)
    (src / "model.py").write_text(MODEL)
    return src, Config(jobs=1, cache_dir=str(tmp_path / "cache"))


def _codes(report):
    return [(os.path.basename(d.path), d.line, d.code) for d in report.diagnostics]


def test_entries_are_plain_json_not_pickle(tmp_path):
    src, cfg = _project(tmp_path)
    lint_paths([str(src)], cfg)
    files = _entries(cfg.cache_dir)
    assert files
    for f in files:
        entry = json.loads(open(f, "rb").read())
        assert set(entry) == {"key", "value"} and entry["key"] == os.path.basename(f)[:-5]


def test_planted_pickle_entry_is_a_miss_and_never_runs(tmp_path):
    """Whoever can write the cache folder must not run code in the next lint."""
    src, cfg = _project(tmp_path)
    expected = _codes(lint_paths([str(src)], cfg))
    assert expected == [("model.py", 12, "TL201")]
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    payload = pickle.dumps(Exploit(), protocol=4)
    for f in _entries(cfg.cache_dir):
        with open(f, "wb") as fh:
            fh.write(payload)
    _forget_runs(cfg)
    assert _codes(lint_paths([str(src)], cfg)) == expected
    assert not marker.exists()
    pickle.loads(payload)  # the plant is real: the old pickle cache would have run it
    assert marker.exists()


@pytest.mark.parametrize("damage", ["flip", "truncate", "list", "wrong-key", "wrong-shape", "wrong-type",
                                    "deep", "empty", "huge-int"])
def test_damaged_entries_are_misses(tmp_path, monkeypatch, damage):
    src, cfg = _project(tmp_path)
    expected = _codes(lint_paths([str(src)], cfg))
    for f in _entries(cfg.cache_dir):
        raw = open(f, "rb").read()
        entry = json.loads(raw)
        if damage == "flip":
            raw = bytes(b ^ 0xFF if i % 7 == 0 else b for i, b in enumerate(raw))
        elif damage == "truncate":
            raw = raw[: len(raw) // 2]
        elif damage == "list":
            raw = b"[1, 2, 3]"
        elif damage == "wrong-key":
            entry["key"] = "0" * 64
            raw = json.dumps(entry).encode()
        elif damage == "wrong-shape":
            entry["value"] = {"diagnostics": [], "outgoing": {}}  # deps missing
            raw = json.dumps(entry).encode()
        elif damage == "wrong-type":
            entry["value"]["diagnostics"] = [{"path": 1}]
            raw = json.dumps(entry).encode()
        elif damage == "deep":
            raw = b"[" * 100000 + b"]" * 100000
        elif damage == "empty":
            raw = b""
        elif damage == "huge-int":
            raw = b'{"key": ' + b"9" * 100000 + b"}"
        open(f, "wb").write(raw)
    _forget_runs(cfg)
    seen = _counting(monkeypatch)
    assert _codes(lint_paths([str(src)], cfg)) == expected
    assert "model.py" in seen  # a miss: linted again


def test_a_planted_empty_result_is_not_served_under_another_key(tmp_path, monkeypatch):
    """An entry copied to another key's name names its own key: a miss, not a wrong result."""
    src, cfg = _project(tmp_path)
    lint_paths([str(src)], cfg)
    files = _entries(cfg.cache_dir)
    clean = {"key": None, "value": {"diagnostics": [], "outgoing": {}, "deps": {}}}
    for f in files:
        clean["key"] = "f" * 64
        open(f, "w").write(json.dumps(clean))
    _forget_runs(cfg)
    assert _codes(lint_paths([str(src)], cfg)) == [("model.py", 12, "TL201")]


def test_oversized_entry_is_a_miss(tmp_path, monkeypatch):
    src, cfg = _project(tmp_path)
    expected = _codes(lint_paths([str(src)], cfg))
    monkeypatch.setattr(caches, "MAX_ENTRY_BYTES", 16)
    _forget_runs(cfg)
    seen = _counting(monkeypatch)
    assert _codes(lint_paths([str(src)], cfg)) == expected
    assert "model.py" in seen


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
def test_fifo_and_symlink_in_the_cache_never_hang(tmp_path):
    src, cfg = _project(tmp_path)
    expected = _codes(lint_paths([str(src)], cfg))
    files = _entries(cfg.cache_dir)
    os.unlink(files[0])
    os.mkfifo(files[0])
    for f in files[1:]:
        os.unlink(f)
        os.symlink("/dev/zero", f)
    _forget_runs(cfg)
    out: list = []
    t = threading.Thread(target=lambda: out.append(_codes(lint_paths([str(src)], cfg))), daemon=True)
    t.start()
    t.join(120)
    if t.is_alive():  # unblock the reader so the test process can end
        fd = os.open(files[0], os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        pytest.fail("a FIFO in the cache folder hung the run")
    assert out == [expected]
    assert stat.S_ISREG(os.lstat(files[0]).st_mode)  # the miss was linted and written again


def test_keys_are_canonical_json():
    a = caches.key("result", {"x": [1, 2], "y": {"b": 1, "a": 2}})
    b = caches.key("result", {"y": {"a": 2, "b": 1}, "x": [1, 2]})
    assert a == b and len(a) == 64
    assert caches.key("result", {"x": [2, 1]}) != caches.key("result", {"x": [1, 2]})
    assert caches.key("index", {"x": 1}) != caches.key("result", {"x": 1})


def test_parallel_then_serial_run_hits_every_entry(tmp_path, monkeypatch):
    """Keys do not depend on how objects were built (pickle's memo made equal inputs miss)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "blocks.py").write_text(BLOCKS)
    for i in range(20):
        (src / f"m{i}.py").write_text(MODEL)
    cache_dir = str(tmp_path / "cache")
    first = lint_paths([str(src)], Config(jobs=2, cache_dir=cache_dir))
    assert len(first.diagnostics) == 20
    _forget_runs(Config(cache_dir=cache_dir))
    seen = _counting(monkeypatch)
    again = lint_paths([str(src)], Config(jobs=1, cache_dir=cache_dir))
    assert seen == [] and again.diagnostics == first.diagnostics


def test_key_holds_tracelint_libcst_and_python_versions(tmp_path, monkeypatch):
    env = caches.environment()
    assert {"tracelint", "tracelint_files", "libcst", "python"} <= set(env)
    import libcst
    assert env["libcst"] == getattr(libcst, "__version__", env["libcst"])
    src, cfg = _project(tmp_path)
    lint_paths([str(src)], cfg)
    for field_name, value in [("libcst", "0.0.1"), ("python", "cpython-399"), ("tracelint", "9.9")]:
        monkeypatch.setattr(caches, "environment", lambda f=field_name, v=value: {**env, f: v})
        seen = _counting(monkeypatch)
        lint_paths([str(src)], cfg)
        assert "model.py" in seen, field_name
        monkeypatch.undo()


def test_an_unrelated_new_module_class_relints_nothing(tmp_path, monkeypatch):
    """Per-file dependencies: a new nn.Module elsewhere does not touch other files' entries."""
    src, cfg = _project(tmp_path)
    lint_paths([str(src)], cfg)
    (src / "extra.py").write_text("from torch import nn\n\n\nclass Extra(nn.Module):\n"
                                  "    def forward(self, x):\n        return x\n")
    seen = _counting(monkeypatch)
    assert _codes(lint_paths([str(src)], cfg)) == [("model.py", 12, "TL201")]
    assert sorted(seen) == ["extra.py"]


def test_a_fact_the_lint_read_changing_is_a_miss(tmp_path, monkeypatch):
    """model.py's finding depends on Block (another file) being an nn.Module."""
    src, cfg = _project(tmp_path)
    assert _codes(lint_paths([str(src)], cfg)) == [("model.py", 12, "TL201")]
    (src / "blocks.py").write_text(BLOCKS.replace("class Block(nn.Module)", "class Block")
                                   .replace("from torch import nn\n", ""))
    seen = _counting(monkeypatch)
    assert _codes(lint_paths([str(src)], cfg)) == []
    assert "model.py" in seen
    (src / "blocks.py").write_text(BLOCKS)
    assert _codes(lint_paths([str(src)], cfg)) == [("model.py", 12, "TL201")]


def test_prune_keeps_the_cache_under_its_cap(tmp_path):
    store = caches.Store(tmp_path, "results")
    keys = [caches.key("t", i) for i in range(40)]
    for n, k in enumerate(keys):
        assert store.put(k, {"blob": "x" * 1000})
        os.utime(store.path(k), (1000 + n, 1000 + n))  # oldest first
    (store.path(keys[0]).parent / ".tmp-dead.json").write_text("x")
    os.utime(store.path(keys[0]).parent / ".tmp-dead.json", (1, 1))
    cap = 20 * 1100
    assert caches.prune(tmp_path, cap=cap, force=True) > 0
    left = [k for k in keys if store.path(k).exists()]
    total = sum(store.path(k).stat().st_size for k in left)
    assert total <= cap * caches.PRUNE_TO
    assert left == keys[len(keys) - len(left):]  # the newest survive
    assert not (store.path(keys[0]).parent / ".tmp-dead.json").exists()
    # a second prune within the hour does not scan again
    assert caches.prune(tmp_path, cap=1) == 0


def test_store_rejects_bad_keys_and_unwritable_folders(tmp_path):
    store = caches.Store(tmp_path / "c", "results")
    assert not store.put("../../etc/passwd", {}) and store.get("../x") is None
    (tmp_path / "ro").write_text("a file, not a folder")
    assert not caches.Store(tmp_path / "ro", "results").put(caches.key("t", 1), {})


def test_serde_round_trips_and_rejects_wrong_shapes():
    from tracelint.analysis.index import index_source, FileIndex
    from tracelint.targets import fail
    ix = index_source("m.py", MODEL.encode())
    assert from_data(FileIndex, json.loads(json.dumps(to_data(ix)))) == ix
    d = Diagnostic("m.py", 1, 2, 1, 3, "TL201", "tensor-to-python", "msg", effects=(("trace", fail("x")),))
    assert from_data(Diagnostic, json.loads(json.dumps(to_data(d)))) == d
    bad = to_data(d)
    bad["line"] = "1"
    with pytest.raises(DecodeError):
        from_data(Diagnostic, bad)
    with pytest.raises(DecodeError):
        from_data(Diagnostic, {**to_data(d), "extra": 1})


def test_cache_command_shows_and_clears(tmp_path):
    src, cfg = _project(tmp_path)
    lint_paths([str(src)], cfg)
    env = {**os.environ, "TRACELINT_CACHE_DIR": cfg.cache_dir}
    env.pop("TRACELINT_NO_CACHE", None)
    shown = subprocess.run([sys.executable, "-m", "tracelint", "cache"], env=env, capture_output=True, text=True)
    assert shown.returncode == 0 and cfg.cache_dir in shown.stdout and " 0 entries" not in shown.stdout
    cleared = subprocess.run([sys.executable, "-m", "tracelint", "cache", "clear"], env=env,
                             capture_output=True, text=True)
    assert cleared.returncode == 0 and " 0 entries" in cleared.stdout
    assert caches.usage(cfg.cache_dir) == (0, 0)


def test_run_summary_round_trips_findings_and_rejects_bad_effect_indexes():
    from tracelint import engine
    from tracelint.api import lint_source

    found = lint_source("import torch\nclass M(torch.nn.Module):\n    def forward(self, x):\n"
                        "        if x.sum() > 0:\n            return x.item()\n        return x\n", "m.py").diagnostics
    assert len(found) >= 2
    summary = engine._Summary(list(found), 1, ["an error"])
    data = json.loads(json.dumps(engine._encode_summary(summary)))
    assert len(data["effects_table"]) < len(found) + 1
    assert engine._decode_summary(data) == summary
    data["diagnostics"][0]["effects"] = len(data["effects_table"])
    with pytest.raises(DecodeError):
        engine._decode_summary(data)
    with pytest.raises(DecodeError):
        engine._decode_summary({"diagnostics": [], "files_checked": 1})


def test_a_warm_run_replays_its_output_and_never_a_stale_one(tmp_path):
    """An unchanged warm run prints what the run printed (from the `outputs` section, exit status
    included); an edit, a damaged entry or other options are never served the old text."""
    cache = tmp_path / "cache"
    proj = tmp_path / "p"
    proj.mkdir()
    model = proj / "m.py"
    model.write_text("import torch.nn as nn\n\n\nclass M(nn.Module):\n    def forward(self, x):\n"
                     "        if x.sum() > 0:\n            return x\n        return -x\n")
    env = {**os.environ, "TRACELINT_CACHE_DIR": str(cache)}
    env.pop("TRACELINT_NO_CACHE", None)

    def run(*args):
        p = subprocess.run([sys.executable, "-m", "tracelint", *args], cwd=proj, env=env, capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr

    first = run(".")
    assert first[0] == 1 and "m.py:6:12: TL101" in first[1]
    assert run(".") == first
    outputs = [f for f in cache.rglob("*") if f.is_file() and "outputs" in f.parts]
    assert outputs                                             # the replayed text came from there
    assert run(".") == first
    assert run(".", "--exit-zero")[0] == 0                     # the exit status follows today's options
    assert run(".", "--format", "json")[1].lstrip().startswith("{")
    for f in outputs:                                          # damaged: a miss, the real report again
        f.write_bytes(b'{"racy": {}, "text": 1}')
    assert run(".") == first
    model.write_text(model.read_text().replace("if x.sum() > 0:", "if x.shape[0] > 0:"))
    edited = run(".")
    assert "TL101" not in edited[1] and edited != first
