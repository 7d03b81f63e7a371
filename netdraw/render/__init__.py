"""Rendering entry points: options checked against a fixed set, files written atomically."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from netdraw.errors import NetdrawError, check_choice
from netdraw.ir import Graph
from netdraw.passes.pipeline import PREPARE_OPTIONS, parse_depth
from netdraw.passes.pipeline import prepare as _prepare
from netdraw.render import engine as _engine
from netdraw.render.dot import DEFAULT_LABEL, RANKDIRS, parse_label, to_dot
from netdraw.render.theme import THEMES

__all__ = ["FORMATS", "OPTIONS", "render", "render_bytes", "format_for", "parse_depth", "prepare",
           "write_atomic"]

FORMATS = ("svg", "png", "pdf", "dot", "json")
_SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot", ".json": "json"}

#: every option ``render`` takes, with its default (see :func:`netdraw.passes.pipeline.prepare`
#: for the ones that shape the graph)
OPTIONS: dict[str, Any] = {
    "format": None,
    **PREPARE_OPTIONS,
    "engine": "auto",
    "rankdir": "TB",
    "theme": "paper",
    "label": DEFAULT_LABEL,
}


def format_for(path: str | os.PathLike[str], fmt: str | None) -> str:
    """The output format: ``fmt`` if given, else from the file suffix (``svg`` for stdout)."""
    if fmt is not None:
        check_choice("format", fmt, FORMATS)
        return fmt
    if str(path) == "-":
        return "svg"
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise NetdrawError(f"cannot tell the format from {str(path)!r}; use --format "
                           f"({', '.join(FORMATS)}) or one of the suffixes {', '.join(_SUFFIXES)}")
    return _SUFFIXES[suffix]


def _options(options: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise NetdrawError(f"unknown option {unknown[0]!r}; valid: {', '.join(OPTIONS)}")
    opts = {**OPTIONS, **options}
    check_choice("engine", opts["engine"], _engine.ENGINES)
    check_choice("rankdir", opts["rankdir"], RANKDIRS)
    check_choice("theme", opts["theme"], THEMES)
    opts["label"] = parse_label(opts["label"])
    return opts


def prepare(graph: Graph, **options: Any) -> Graph:
    """The graph as it will be drawn (see :func:`netdraw.passes.pipeline.prepare`)."""
    return _prepare(graph, **options)


def render_bytes(graph: Graph, fmt: str, **options: Any) -> bytes:
    """The bytes of ``graph`` rendered in ``fmt`` (svg, png, pdf, dot or json)."""
    check_choice("format", fmt, FORMATS)
    opts = _options(options)
    if fmt == "json":  # the IR itself, lossless, whatever the depth
        return graph.to_json().encode("utf-8")
    drawn = _prepare(graph, **{k: opts[k] for k in PREPARE_OPTIONS})
    source = to_dot(drawn, rankdir=opts["rankdir"], theme=opts["theme"], label=opts["label"])
    if fmt == "dot":
        return source.encode("utf-8")
    return _engine.layout(source, fmt, opts["engine"])


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` (``-`` = stdout) so no partial file is ever left behind."""
    if str(path) == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise NetdrawError(f"{target}: the folder {parent} does not exist")
    if target.is_dir():
        raise NetdrawError(f"{target}: is a directory")
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def render(graph: Graph, path: str | os.PathLike[str], **options: Any) -> Path | None:
    """Render ``graph`` to ``path`` (``-`` = stdout); the format comes from the suffix or ``format=``."""
    fmt = format_for(path, options.pop("format", None))
    data = render_bytes(graph, fmt, **options)
    write_atomic(path, data)
    return None if str(path) == "-" else Path(path)
