"""Run several example sources, each isolated (see isolation), a few at a time.

Each worker thread owns one launcher (one warm zygote) and runs sources in its queue order;
results come back in the order of `sources`, whatever finished first.
"""
from __future__ import annotations

import os
import queue
import threading
from typing import Callable

from tracelint.dynamic.discover import Source
from tracelint.dynamic.isolation import Options, run_source
from tracelint.dynamic.launch import make_launcher
from tracelint.dynamic.outcome import SourceOutcome


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def example_threads() -> int:
    """torch intra-op threads per example process: one (TRACELINT_THREADS to change it).

    Examples are small, and on small tensors OpenMP threads mostly wait for each other (measured on
    2 busy cores: a ResNet-18 forward on 2x3x64x64 costs 18x the CPU time with 2 threads); several
    sources run at once instead (-j)."""
    try:
        return max(1, int(os.environ.get("TRACELINT_THREADS") or 1))
    except ValueError:
        return 1


def run_sources(sources: list[Source], opts: Options, say: Callable[[str], None] | None = None,
                jobs: int | None = None) -> list[SourceOutcome]:
    jobs = max(1, min(jobs or default_jobs(), len(sources) or 1))
    threads = example_threads()
    todo: "queue.Queue[int]" = queue.Queue()
    for i in range(len(sources)):
        todo.put(i)
    out: list[SourceOutcome | None] = [None] * len(sources)
    lock = threading.Lock()
    done = [0]

    def report(text: str) -> None:
        if say is not None:
            with lock:
                say(f"[{done[0]}/{len(sources)} done] {text}")

    def work() -> None:
        launcher = make_launcher(opts.targets)
        try:
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                target, display = sources[i]
                out[i] = run_source(target, display, opts, report, launcher=launcher, threads=threads)
                with lock:
                    done[0] += 1
        finally:
            launcher.close()

    if jobs == 1:
        work()
    else:
        workers = [threading.Thread(target=work, daemon=True) for _ in range(jobs)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    return [o for o in out if o is not None]
