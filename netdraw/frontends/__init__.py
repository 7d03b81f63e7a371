"""The frontend registry: each source format is a ``match``/``load`` pair."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, NamedTuple

from netdraw._io import note_read
from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.progress import step

__all__ = ["Frontend", "register", "frontends", "find", "load"]


class Frontend(NamedTuple):
    name: str
    #: ``match(path, head)`` -> bool, where ``head`` is the file's first 64 bytes.
    match: Callable[[Path, bytes], bool]
    #: ``load(source, **options)`` -> Graph; raises NetdrawError for bad input.
    load: Callable[..., Graph]
    description: str
    #: the keyword options ``load`` takes
    options: tuple[str, ...] = ()
    #: ``match_source(text)`` -> bool for sources that are not files (``file.py:factory``)
    match_source: Callable[[str], bool] | None = None


_REGISTRY: list[Frontend] = []


def register(name: str, *, match: Callable[[Path, bytes], bool], load: Callable[..., Graph],
             description: str, options: tuple[str, ...] = (),
             match_source: Callable[[str], bool] | None = None) -> None:
    """Add a frontend; frontends registered later are tried later."""
    _REGISTRY[:] = [f for f in _REGISTRY if f.name != name]
    _REGISTRY.append(Frontend(name, match, load, description, options, match_source))


def frontends() -> tuple[Frontend, ...]:
    _load_builtin()
    return tuple(_REGISTRY)


_BUILTIN_LOADED = False


def _load_builtin() -> None:
    global _BUILTIN_LOADED
    if not _BUILTIN_LOADED:
        _BUILTIN_LOADED = True
        from netdraw.frontends import (caffe, checkpoint, hf, irjson, netspec, onnx,  # noqa: F401  (register
                                       pytorch_source)                               # themselves)


def _call(fe: Frontend, source: Any, options: dict[str, Any]) -> Graph:
    unknown = sorted(set(options) - set(fe.options))
    if unknown:
        raise NetdrawError(f"option {unknown[0]!r} does not apply to {fe.description} sources")
    return fe.load(source, **options)


def find(source: str | os.PathLike[str]) -> Frontend:
    """The first frontend that recognises ``source`` (a one-line error when none does)."""
    for fe in frontends():
        if fe.match_source is not None and fe.match_source(str(source)):
            return fe
    path = Path(source)
    if not path.exists():
        raise NetdrawError(f"{path}: no such file")
    if path.is_dir():
        for fe in frontends():  # a model folder (config.json and its checkpoint)
            if fe.match(path, b""):
                return fe
        raise NetdrawError(f"{path}: is a directory with no config.json, not a model")
    note_read(path)
    step(f"reading {path.name}")
    try:
        with path.open("rb") as fh:
            head = fh.read(64)
    except OSError as exc:
        raise NetdrawError(f"{path}: cannot read ({exc.strerror or exc})") from None
    for fe in frontends():
        if fe.match(path, head):
            return fe
    known = "; ".join(f.description for f in _REGISTRY)
    raise NetdrawError(f"{path}: not a model file netdraw can read (known: {known})")


def load(source: str | os.PathLike[str], **options: Any) -> Graph:
    """Load a model through the first frontend that recognises it.

    ``options`` go to that frontend (PyTorch sources take ``inputs``, ``kwargs``, ``capture``,
    ``mode``, ``device`` and ``trust``); one that does not take them is an error.
    """
    fe = find(source)
    return _call(fe, str(source) if fe.match_source is not None and fe.match_source(str(source)) else Path(source),
                 options)
