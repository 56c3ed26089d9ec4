"""A one-line progress display on a terminal, only for runs longer than a few seconds."""
from __future__ import annotations

import contextlib
import os
import shutil
import sys
import time
from typing import Callable, Iterator, TextIO


class Progress:
    def __init__(self, stream: TextIO, enabled: bool, delay: float = 3.0) -> None:
        self.stream = stream
        self.enabled = enabled
        self.delay = delay
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False

    def __call__(self, text: str) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.start < self.delay or now - self.last < 0.1:
            return
        self.last = now
        width = max(20, shutil.get_terminal_size((80, 20)).columns - 1)
        line = f"tracelint confirm: {text}"
        self.stream.write("\r\x1b[K" + line[:width])
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    @classmethod
    @contextlib.contextmanager
    def for_stderr(cls, also: Callable[[str], None] | None = None) -> Iterator[Callable[[str], None]]:
        """Progress on stderr when it is a terminal (and TERM is not dumb); `also` gets every update."""
        stream = sys.stderr
        enabled = bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"
        bar = cls(stream, enabled)

        def say(text: str) -> None:
            bar(text)
            if also is not None:
                also(text)

        try:
            yield say
        finally:
            bar.close()
