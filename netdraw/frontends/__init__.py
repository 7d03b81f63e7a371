"""The frontend registry: each source format is a ``match``/``load`` pair."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, NamedTuple

from netdraw.errors import NetdrawError
from netdraw.ir import Graph

__all__ = ["Frontend", "register", "frontends", "load"]


class Frontend(NamedTuple):
    name: str
    #: ``match(path, head)`` -> bool, where ``head`` is the file's first 64 bytes.
    match: Callable[[Path, bytes], bool]
    #: ``load(path, **options)`` -> Graph; raises NetdrawError for bad input.
    load: Callable[..., Graph]
    description: str


_REGISTRY: list[Frontend] = []


def register(name: str, *, match: Callable[[Path, bytes], bool], load: Callable[..., Graph],
             description: str) -> None:
    """Add a frontend; frontends registered later are tried later."""
    _REGISTRY[:] = [f for f in _REGISTRY if f.name != name]
    _REGISTRY.append(Frontend(name, match, load, description))


def frontends() -> tuple[Frontend, ...]:
    _load_builtin()
    return tuple(_REGISTRY)


_BUILTIN_LOADED = False


def _load_builtin() -> None:
    global _BUILTIN_LOADED
    if not _BUILTIN_LOADED:
        _BUILTIN_LOADED = True
        from netdraw.frontends import irjson, onnx  # noqa: F401  (register themselves)


def load(source: str | os.PathLike[str], **options: Any) -> Graph:
    """Load a model file through the first frontend that recognises it."""
    path = Path(source)
    if not path.exists():
        raise NetdrawError(f"{path}: no such file")
    if path.is_dir():
        raise NetdrawError(f"{path}: is a directory, not a model file")
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        raise NetdrawError(f"{path}: cannot read ({exc.strerror or exc})") from None
    for fe in frontends():
        if fe.match(path, head):
            return fe.load(path, **options)
    known = "; ".join(f.description for f in _REGISTRY)
    raise NetdrawError(f"{path}: not a model file netdraw can read (known: {known})")
