"""Progress on stderr for long work, only when stderr is a terminal.

Two kinds: :class:`Bar`, a tqdm bar for counted work (ops recorded, occluded positions), and
:func:`step`, a one-line status for a command's stages (reading, shape inference, capture,
preparing, layout).  A command runs inside :func:`reporting`; a status line appears only once the
command has run for :data:`DELAY` seconds (``NETDRAW_PROGRESS_DELAY`` overrides it), shows the
current stage and the time so far, and is erased when the command ends.  Outside
:func:`reporting`, or when stderr is not a terminal, :func:`step` does nothing.

This module imports nothing of netdraw's: every layer may report.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from typing import IO, Iterator

__all__ = ["Bar", "step", "reporting", "DELAY"]

#: seconds a command runs before its status line appears
DELAY = 2.0
_REFRESH = 0.25


class Bar:
    """A tqdm bar on stderr that appears only if the work takes more than a second."""

    def __init__(self, desc: str, total: int | None, unit: str, enabled: bool | None) -> None:
        self.bar = None
        if enabled is False:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            return
        self.bar = tqdm(total=total, desc=desc, unit=unit, delay=1.0, leave=False, file=sys.stderr,
                        disable=None if enabled is None else not enabled, dynamic_ncols=True)

    def update(self, n: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


class _Status:
    """The status line of one command: a daemon thread redraws it while the command runs."""

    def __init__(self, stream: IO[str], delay: float) -> None:
        self.stream = stream
        self.delay = delay
        self.start = time.monotonic()
        self.text = "starting"
        self.shown = 0  # width of what is on the line now
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.run, name="netdraw-progress", daemon=True)
        self.thread.start()

    def run(self) -> None:
        while not self.done.wait(_REFRESH):
            if time.monotonic() - self.start >= self.delay:
                self.draw()

    def draw(self) -> None:
        with self.lock:
            if self.done.is_set():
                return
            line = f"netdraw: {self.text} ({time.monotonic() - self.start:.0f} s)"
            width = _columns() - 1
            line = line if len(line) <= width else line[: width - 1] + "…"
            self.stream.write("\r" + line + " " * max(0, self.shown - len(line)))
            self.stream.flush()
            self.shown = len(line)

    def close(self) -> None:
        with self.lock:
            self.done.set()
            if self.shown:
                self.stream.write("\r" + " " * self.shown + "\r")
                self.stream.flush()
        self.thread.join()


def _columns() -> int:
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        columns = 0
    return columns if columns >= 20 else 80


_current: _Status | None = None


def step(text: str) -> None:
    """Say what the current command is doing now (``"laying out 412 nodes"``)."""
    status = _current
    if status is not None:
        status.text = text
        if time.monotonic() - status.start >= status.delay:
            status.draw()  # at once: a short step between two refreshes is still seen


@contextlib.contextmanager
def reporting(stream: IO[str] | None = None) -> Iterator[None]:
    """Report :func:`step`\\ s on ``stream`` (stderr) within this block, when it is a terminal."""
    global _current
    stream = stream or sys.stderr
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):
        tty = False
    if not tty or _current is not None:
        yield
        return
    try:
        delay = float(os.environ.get("NETDRAW_PROGRESS_DELAY", DELAY))
    except ValueError:
        delay = DELAY
    status = _Status(stream, delay)
    _current = status
    try:
        yield
    finally:
        _current = None
        status.close()
