#!/usr/bin/env python3
"""Group the scorer's misses and false claims by idiom, with counts and examples (source lines and
torch's message): the raw material of GAPS.md.

    python benchmarks/realworld/gaps.py [--results ~/.cache/tracelint-bench/score/results.json]
"""
from __future__ import annotations

import argparse
import ast
import linecache
import os
import re
import sys
from collections import defaultdict
from functools import lru_cache

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import envs  # noqa: E402
import groundtruth  # noqa: E402


def message_kind(message: str) -> str:
    """A short, stable category of torch's message."""
    m = message
    table = [
        ("Converting a tensor to a Python boolean", "tensor->bool"),
        ("Converting a tensor to a Python integer", "tensor->int"),
        ("Converting a tensor to a Python float", "tensor->float"),
        ("Converting a tensor to a Python number", "tensor->number"),
        ("Converting a tensor to a Python index", "tensor->index"),
        ("Converting a tensor to a Python list", "tensor->list"),
        ("Converting a tensor to a NumPy array", "tensor->numpy"),
        ("Iterating over a tensor", "iterating a tensor"),
        ("Using len to get tensor shape", "len(tensor)"),
        ("torch.tensor results are registered as constants", "torch.tensor constant"),
        ("torch.as_tensor results are registered as constants", "torch.as_tensor constant"),
        ("torch.from_numpy results are registered as constants", "from_numpy constant"),
        ("at the output of the tracer", "output container"),
        ("Only tensors, lists, tuples of tensors, or dictionary", "output not tensors"),
        ("eager", "divergence"),
        ("Compiled functions can't take variable number of arguments", "script: *args/**kwargs/kw-only"),
        ("keyword-arg expansion is not supported", "script: **expansion in call"),
        ("Failed to get source for", "script: attribute holding a Python object"),
        ("Unknown type annotation", "script: unknown annotation"),
        ("has no attribute or method", "script: Optional/attribute used without refinement"),
        ("Arguments for call are not valid", "script: call with wrong argument types"),
        ("Expected a default value of type", "script: default of wrong type"),
        ("is not a valid", "script: invalid construct"),
        ("Comprehension ifs are not supported", "script: comprehension if"),
        ("Only one comprehension", "script: two fors in a comprehension"),
        ("aren't supported", "script: unsupported syntax"),
        ("is not supported", "script: unsupported construct"),
        ("Python builtin", "script: unsupported builtin"),
        ("Tried to access nonexistent attribute", "script: nonexistent attribute"),
        ("Module '", "script: module attribute"),
        ("undefined value", "script: undefined name"),
        ("Unsupported annotation", "script: unsupported annotation"),
        ("Could not guard on data-dependent", "export: data-dependent guard"),
        ("Constraints violated", "export: batch specialised"),
        ("specialised the dynamic batch", "export: batch specialised"),
        ("Could not extract specialized integer", "export: data-dependent int"),
    ]
    for needle, kind in table:
        if needle in m:
            return kind
    return re.sub(r"'[^']*'|\"[^\"]*\"|\d+", "_", m)[:60]


def line_idiom(text: str) -> str:
    s = text.strip()
    if s.startswith("assert "):
        return "assert"
    if "_assert(" in s:
        return "torch._assert"
    if s.startswith(("if ", "elif ", "while ")):
        return "if/while"
    if re.search(r"\bif\b.*\belse\b", s):
        return "ternary"
    if s.startswith("for ") and "range(" in s:
        return "for over range"
    if s.startswith("for "):
        return "for loop"
    if re.search(r"\[.*\bfor\b.*\bin\b", s) or re.search(r"\(.*\bfor\b.*\bin\b", s):
        return "comprehension"
    if "torch.tensor(" in s or "torch.as_tensor(" in s or "new_tensor(" in s:
        return "torch.tensor(...)"
    if re.search(r"\b(int|float|bool)\(", s) or "math." in s:
        return "int/float/math"
    if ".item()" in s or ".tolist()" in s:
        return ".item/.tolist"
    if s.startswith("return"):
        return "return"
    if s.startswith("def ") or s.startswith(("**", "*")) or s.endswith(("):", ",")) and ":" in s:
        return "signature"
    if "f\"" in s or "f'" in s:
        return "f-string"
    if ".split(" in s or "split(" in s:
        return "split"
    if re.search(r"\b(reshape|view|expand|repeat|permute|interpolate|pad)\(", s):
        return "shape op"
    return "other"


@lru_cache(maxsize=None)
def _tree(path: str):
    try:
        with open(path, encoding="utf-8") as fh:
            return ast.parse(fh.read())
    except (OSError, SyntaxError):
        return None


def scope(path: str, line: int) -> str:
    """`Class.method` / `function` holding the line, with decorators."""
    tree = _tree(path)
    if tree is None:
        return "?"
    best = None

    def walk(node, prefix):
        nonlocal best
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                start = min([child.lineno] + [d.lineno for d in getattr(child, "decorator_list", [])])
                if start <= line <= (child.end_lineno or child.lineno):
                    name = f"{prefix}{child.name}"
                    if not isinstance(child, ast.ClassDef):
                        decos = [ast.unparse(d).split("(")[0] for d in child.decorator_list]
                        best = name + (f" @{','.join(decos)}" if decos else "")
                    walk(child, name + ".")
    walk(tree, "")
    return best or "<module>"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", default=os.path.join(envs.BENCH_HOME, "score", "results.json"))
    parser.add_argument("--data", default=os.path.join(HERE, "data"))
    parser.add_argument("--examples", type=int, default=3)
    parser.add_argument("--min-count", type=int, default=1)
    args = parser.parse_args()
    import json
    import score
    with open(args.results) as fh:
        results = json.load(fh)
    roots = {}
    for lib in results["libraries"]:
        venv = score.LIBRARY_VENV.get(lib)
        if venv is None:
            roots[lib] = score.SAMPLE_ROOT
        else:
            roots.setdefault(venv, score.site_packages(venv))
            roots[lib] = roots[venv]

    def source(lib, path, line):
        return linecache.getline(os.path.join(roots[lib], path), line).strip()

    for lib, data in results["libraries"].items():
        print(f"\n######## {lib}")
        for target in ("trace", "script", "export"):
            misses = [m for m in data["misses"] if m["target"] == target]
            groups = defaultdict(list)
            for m in misses:
                text = source(lib, m["path"], m["line"])
                key = (message_kind(m["message"]) if "divergence" not in m["kinds"] or "warning" in m["kinds"]
                       else "silent divergence", line_idiom(text))
                groups[key].append((m, text))
            print(f"\n== {target}: {len(misses)} missed lines")
            for key, items in sorted(groups.items(), key=lambda kv: -len(kv[1])):
                if len(items) < args.min_count:
                    continue
                print(f"  [{len(items)}] {key[0]} | {key[1]}")
                for m, text in items[: args.examples]:
                    where = scope(os.path.join(roots[lib], m["path"]), m["line"])
                    print(f"      {m['path']}:{m['line']} ({where}; {m['models']} models): {text[:110]}")
                    print(f"          torch: {m['message'][:150]}")
        false = defaultdict(list)
        for f in data["findings"]:
            if f["label"].startswith("false"):
                text = source(lib, f["path"], f["line"])
                false[(f["label"].split(" (")[0], f["code"], line_idiom(text))].append((f, text))
        print(f"\n== false claims: {sum(len(v) for v in false.values())}")
        for key, items in sorted(false.items(), key=lambda kv: -len(kv[1])):
            print(f"  [{len(items)}] {key[0]} {key[1]} | {key[2]}")
            for f, text in items[: args.examples]:
                where = scope(os.path.join(roots[lib], f["path"]), f["line"])
                print(f"      {f['path']}:{f['line']} ({where}): {text[:110]}")
                print(f"          tracelint: {f['message'][:150]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
