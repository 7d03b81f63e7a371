"""netdraw's own IR as JSON (what ``netdraw render -o x.json`` writes) read back."""

from __future__ import annotations

from pathlib import Path

from netdraw.errors import NetdrawError
from netdraw.frontends import register
from netdraw.ir import FORMAT, Graph, IRError

__all__ = ["match", "load"]


def match(path: Path, head: bytes) -> bool:
    return path.suffix.lower() == ".json" and FORMAT.encode() in head


def load(path: Path) -> Graph:
    try:
        return Graph.from_json(Path(path).read_text(encoding="utf-8"))
    except (IRError, UnicodeDecodeError) as exc:
        raise NetdrawError(f"{path}: not a valid {FORMAT} file ({exc})") from None


register("netdraw-json", match=match, load=load, description=".json (netdraw IR)")
