"""Progress of the dynamic checker on stderr: a live line on a terminal, plain lines in CI logs.

On a terminal one line is rewritten in place (after a few seconds, clipped to the width of the
terminal stderr is on); elsewhere (a CI log, a pipe) each example and each target it starts
gets one line, so a long run is never silent.
"""
from __future__ import annotations

import contextlib
import os
import sys
import time
from typing import Callable, Iterator, TextIO

PREFIX = "tracelint confirm: "


def _width(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 80


class Progress:
    def __init__(self, stream: TextIO, live: bool, delay: float = 3.0) -> None:
        self.stream = stream
        self.live = live
        self.delay = delay
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False
        self.previous = ""

    def __call__(self, text: str) -> None:
        if self.live:
            self._rewrite(text)
        elif text != self.previous:
            self.previous = text
            try:
                self.stream.write(PREFIX + text + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                pass

    def _rewrite(self, text: str) -> None:
        now = time.monotonic()
        if now - self.start < self.delay or now - self.last < 0.1:
            return
        self.last = now
        width = max(20, _width(self.stream) - 1)
        self.stream.write("\r\x1b[K" + (PREFIX + text)[:width])
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self.shown = False

    @classmethod
    @contextlib.contextmanager
    def for_stderr(cls, also: Callable[[str], None] | None = None,
                   enabled: bool = True) -> Iterator[Callable[[str], None]]:
        """Progress on stderr (live on a terminal whose TERM is not dumb); `also` gets every update."""
        stream = sys.stderr
        live = bool(getattr(stream, "isatty", lambda: False)()) and os.environ.get("TERM") != "dumb"
        bar = cls(stream, live) if enabled else None

        def say(text: str) -> None:
            if bar is not None:
                bar(text)
            if also is not None:
                also(text)

        try:
            yield say
        finally:
            if bar is not None:
                bar.close()
