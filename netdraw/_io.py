"""Files in and out: every file a source reads is noted, and no write may replace one of them;
every write is atomic, so no partial file is ever left behind.

The CLI runs each command inside :func:`guarding_reads`.  Frontends call :func:`note_read` on each
file they open (the model file, a factory's ``.py``, an input tensor or image, external data), and
:func:`write_atomic` refuses to write a path that names one of them, through a symlink or a hard
link too.  Outside a guard, :func:`note_read` does nothing.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import sys
import tempfile
from pathlib import Path
from typing import Iterator

from netdraw.errors import NetdrawError

__all__ = ["note_read", "guarding_reads", "check_not_read", "write_atomic", "write_with_files"]


class _Reads:
    """The files read so far: real paths, and (device, inode) of those that exist."""

    def __init__(self) -> None:
        self.paths: set[str] = set()
        self.inodes: set[tuple[int, int]] = set()

    def add(self, path: str | os.PathLike[str]) -> None:
        self.paths.add(os.path.realpath(path))
        try:
            st = os.stat(path)
        except OSError:
            return
        self.inodes.add((st.st_dev, st.st_ino))

    def holds(self, path: str | os.PathLike[str]) -> bool:
        if os.path.realpath(path) in self.paths:
            return True
        try:
            st = os.stat(path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) in self.inodes


_READS: contextvars.ContextVar[_Reads | None] = contextvars.ContextVar("netdraw_reads", default=None)


def note_read(path: str | os.PathLike[str]) -> None:
    """Record that the current command reads ``path`` (nothing outside :func:`guarding_reads`)."""
    reads = _READS.get()
    if reads is not None:
        reads.add(path)


@contextlib.contextmanager
def guarding_reads() -> Iterator[None]:
    """Within this block, :func:`write_atomic` refuses to replace a file that was read (each
    :func:`note_read`)."""
    token = _READS.set(_Reads())
    try:
        yield
    finally:
        _READS.reset(token)


def check_not_read(*outputs: str | os.PathLike[str]) -> None:
    """Raise when an output names a file the command reads (noted so far)."""
    reads = _READS.get()
    if reads is None:
        return
    for out in outputs:
        if str(out) != "-" and reads.holds(out):
            raise NetdrawError(f"{out}: refusing to overwrite the input file (netdraw reads it)")


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` (``-`` = stdout) so no partial file is ever left behind, and
    never over a file the current command reads."""
    if str(path) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    check_not_read(path)
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise NetdrawError(f"{target}: the folder {parent} does not exist")
    if target.is_dir():
        raise NetdrawError(f"{target}: is a directory")
    try:
        fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{target.name[:100]}.", suffix=".tmp")
    except OSError as exc:
        raise NetdrawError(f"{target}: cannot write ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError):
            raise NetdrawError(f"{target}: cannot write ({exc.strerror or exc})") from None
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_with_files(path: str | os.PathLike[str], data: bytes, files: dict[str, bytes]) -> None:
    """Write ``data`` to ``path`` and ``files`` (paths relative to its folder) beside it, each
    atomically; the main file goes last, so a failure never leaves it pointing at missing images."""
    parent = Path(path).parent if str(path) != "-" else Path(".")
    check_not_read(path, *(parent / rel for rel in files))
    for rel, blob in sorted(files.items()):
        target = parent / rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise NetdrawError(f"{target.parent}: cannot make the folder ({exc.strerror or exc})") from None
        write_atomic(target, blob)
    write_atomic(path, data)
