"""A time limit for one forward call, so a variant that makes eager (or a capture) spin forever is
dropped or reported instead of eating the whole example's timeout.

Uses SIGALRM, so it is active only in the main thread of our own child processes.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator


class RunTimeout(BaseException):
    """BaseException, so `except Exception` in user code cannot swallow it."""


@contextlib.contextmanager
def time_limit(seconds: float | None) -> Iterator[None]:
    if (not seconds or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()):
        yield
        return

    def expired(signum, frame):
        raise RunTimeout(f"did not finish within {seconds:.3g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def per_run(example_seconds: float, total: float | None) -> float | None:
    """Budget for one call: generous against the example's own eager time, a quarter of the total."""
    if total is None:
        return None
    return max(0.5, min(max(10.0, 20.0 * example_seconds), total / 4))
