"""Keep one bad file from ending a run: deep-stack threads, safe exception text, pools that survive
a dying worker, and workers that leave Ctrl-C to the main process."""
from __future__ import annotations

import signal
import sys
import threading
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypeVar

if TYPE_CHECKING:  # pragma: no cover - the pool machinery loads only when a pool is started
    from concurrent.futures import ProcessPoolExecutor

T = TypeVar("T")
R = TypeVar("R")

# LibCST's parser, position codegen and our rules recurse once or more per nesting level. A thread
# with this much stack (virtual memory: only the pages touched are used) and this recursion limit
# analyses every expression CPython compiles at its default recursion limit (~2,980 levels in 3.11).
DEEP_STACK_BYTES = 512 * 1024 * 1024
DEEP_RECURSION_LIMIT = 80_000

_limit_lock = threading.Lock()
_limit_users = 0
_limit_saved = 0


def _raise_recursion_limit() -> None:
    global _limit_users, _limit_saved
    with _limit_lock:
        if _limit_users == 0:
            _limit_saved = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_limit_saved, DEEP_RECURSION_LIMIT))
        _limit_users += 1


def _restore_recursion_limit() -> None:
    global _limit_users
    with _limit_lock:
        _limit_users -= 1
        if _limit_users == 0:
            sys.setrecursionlimit(_limit_saved)


def call_with_deep_stack(fn: Callable[..., R], *args: Any) -> R:
    """`fn(*args)` in a thread with a big stack and a raised recursion limit; its exception re-raised."""
    outcome: list = []

    def body() -> None:
        try:
            outcome.append((True, fn(*args)))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            outcome.append((False, exc))

    _raise_recursion_limit()
    try:
        with _limit_lock:  # stack_size() is process-wide: set it only for the thread made here
            old = threading.stack_size(DEEP_STACK_BYTES)
            try:
                worker = threading.Thread(target=body, name="tracelint-deep", daemon=True)
                worker.start()
            finally:
                threading.stack_size(old)
        worker.join()
    finally:
        _restore_recursion_limit()
    ok, value = outcome[0]
    if ok:
        return value
    raise value


def describe(exc: BaseException, limit: int = 300) -> str:
    """`Type: message at file:line`, built only from plain-text and number arguments: never formats a
    CST node (its repr walks the whole tree, and recurses again on a deep one)."""
    parts = [str(a) for a in exc.args if isinstance(a, (str, int, float))]
    text = "; ".join(parts)
    if len(text) > limit:
        text = text[:limit] + "..."
    where = ""
    tb = exc.__traceback__
    if tb is not None:
        while tb.tb_next is not None:
            tb = tb.tb_next
        filename = tb.tb_frame.f_code.co_filename.replace("\\", "/").rsplit("/", 1)[-1]
        where = f" at {filename}:{tb.tb_lineno}"
    return f"{type(exc).__name__}{': ' + text if text else ''}{where}"


# ---------------------------------------------------------------------------------------- pools
def _worker_start(initializer: Callable[..., None] | None, initargs: tuple) -> None:
    """Workers ignore Ctrl-C: the main process stops them, so no worker prints a traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if initializer is not None:
        initializer(*initargs)


def _run_chunk(fn: Callable[[T], R], items: list[T]) -> list[R]:
    return [fn(item) for item in items]


class IsolatedPool:
    """A process pool whose `map` survives a worker that dies (segfault, out-of-memory kill): the
    work in flight is retried one item at a time in a fresh one-worker pool, and only the item that
    kills its worker again gets `on_death(item)` as its result."""

    def __init__(self, workers: int, initializer: Callable[..., None] | None = None, initargs: tuple = ()):
        self.workers = workers
        self.initializer = initializer
        self.initargs = initargs
        self._pool: ProcessPoolExecutor | None = None

    def _new(self, workers: int) -> "ProcessPoolExecutor":
        from concurrent.futures import ProcessPoolExecutor
        return ProcessPoolExecutor(workers, initializer=_worker_start, initargs=(self.initializer, self.initargs))

    def _current(self) -> "ProcessPoolExecutor":
        if self._pool is None:
            self._pool = self._new(self.workers)
        return self._pool

    def map(self, fn: Callable[[T], R], items: Sequence[T], on_death: Callable[[T], R],
            chunksize: int = 4) -> list[R]:
        """`[fn(x) for x in items]`, computed in the pool; order kept."""
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool
        results: list[Any] = [None] * len(items)
        pending = deque(list(range(i, min(i + chunksize, len(items)))) for i in range(0, len(items), chunksize))
        suspects: list[int] = []
        while pending:
            pool = self._current()
            inflight: dict = {}
            broken = False
            while (pending or inflight) and not broken:
                while pending and len(inflight) < 2 * self.workers:
                    idxs = pending.popleft()
                    inflight[pool.submit(_run_chunk, fn, [items[i] for i in idxs])] = idxs
                finished, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in finished:
                    idxs = inflight.pop(fut)
                    try:
                        for i, r in zip(idxs, fut.result()):
                            results[i] = r
                    except BrokenProcessPool:
                        broken = True
                        suspects.extend(idxs)
            if broken:  # everything still in flight died with the pool: retry it item by item
                for idxs in inflight.values():
                    suspects.extend(idxs)
                self._discard()
        for i in sorted(suspects):
            results[i] = self._alone(fn, items[i], on_death)
        return results

    def _alone(self, fn: Callable[[T], R], item: T, on_death: Callable[[T], R]) -> R:
        from concurrent.futures.process import BrokenProcessPool
        pool = self._new(1)
        try:
            return pool.submit(fn, item).result()
        except BrokenProcessPool:
            return on_death(item)
        finally:
            pool.shutdown(wait=True)

    def _discard(self) -> None:
        if self._pool is not None:
            _stop(self._pool)
            self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def terminate(self) -> None:
        """Stop at once (Ctrl-C): pending work cancelled, running workers killed."""
        self._discard()

    def __enter__(self) -> "IsolatedPool":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.terminate()


def _stop(pool: "ProcessPoolExecutor") -> None:
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        if p.is_alive():
            p.terminate()
    for p in processes:
        p.join(timeout=5)
