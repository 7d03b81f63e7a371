"""Rendering entry points: options checked against a fixed set, files written atomically."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from netdraw.errors import NetdrawError, check_choice
from netdraw.ir import Graph
from netdraw.passes.collapse import DEFAULT_MAX_NODES, auto_depth, collapse, max_depth
from netdraw.render import engine as _engine
from netdraw.render.dot import RANKDIRS, to_dot
from netdraw.render.theme import THEMES

__all__ = ["FORMATS", "OPTIONS", "render", "render_bytes", "format_for", "parse_depth", "write_atomic"]

FORMATS = ("svg", "png", "pdf", "dot", "json")
_SUFFIXES = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot", ".json": "json"}

#: every option ``render`` takes, with its default
OPTIONS: dict[str, Any] = {
    "format": None,
    "depth": "auto",
    "engine": "auto",
    "rankdir": "TB",
    "max_nodes": DEFAULT_MAX_NODES,
    "theme": "paper",
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


def parse_depth(depth: Any) -> int | str | None:
    """``"auto"``, ``"max"``/``None`` (every op) or an int >= 1."""
    if depth is None or depth == "max":
        return None
    if depth == "auto":
        return "auto"
    try:
        d = int(depth)
    except (TypeError, ValueError):
        raise NetdrawError(f"invalid depth {depth!r}; valid: auto, max or an integer >= 1") from None
    if d < 1 or str(d) != str(depth).strip():
        raise NetdrawError(f"invalid depth {depth!r}; valid: auto, max or an integer >= 1")
    return d


def _options(options: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise NetdrawError(f"unknown option {unknown[0]!r}; valid: {', '.join(OPTIONS)}")
    opts = {**OPTIONS, **options}
    check_choice("engine", opts["engine"], _engine.ENGINES)
    check_choice("rankdir", opts["rankdir"], RANKDIRS)
    check_choice("theme", opts["theme"], THEMES)
    mn = opts["max_nodes"]
    if isinstance(mn, bool) or not isinstance(mn, int) or mn < 1:
        raise NetdrawError(f"invalid max_nodes {mn!r}; valid: an integer >= 1")
    opts["depth"] = parse_depth(opts["depth"])
    return opts


def prepare(graph: Graph, **options: Any) -> Graph:
    """The graph as it will be drawn, collapsed to the chosen (or automatic) depth.

    Returns ``graph`` itself, unchanged, when every op is drawn; else a new graph whose
    ``meta["collapse"]`` says the depth used.
    """
    opts = _options(options)
    depth = opts["depth"]
    if depth == "auto":
        depth = auto_depth(graph, opts["max_nodes"])
    elif depth is not None and depth > max_depth(graph):
        depth = None
    if depth is None:
        return graph
    out = collapse(graph, depth)
    out.meta["collapse"] = {"depth": depth, "auto": opts["depth"] == "auto"}
    return out


def render_bytes(graph: Graph, fmt: str, **options: Any) -> bytes:
    """The bytes of ``graph`` rendered in ``fmt`` (svg, png, pdf, dot or json)."""
    check_choice("format", fmt, FORMATS)
    opts = _options(options)
    if fmt == "json":  # the IR itself, lossless, whatever the depth
        return graph.to_json().encode("utf-8")
    drawn = prepare(graph, **{k: opts[k] for k in ("depth", "max_nodes")})
    source = to_dot(drawn, rankdir=opts["rankdir"], theme=opts["theme"])
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
