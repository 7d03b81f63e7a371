"""Mermaid flowchart text from the IR, for GitHub, GitLab and MkDocs, which draw it natively."""

from __future__ import annotations

import re

from typing import Sequence

from netdraw.errors import check_choice
from netdraw.ir import Graph
from netdraw.renderers.escape import mermaid_id, mermaid_text
from netdraw.renderers.scene import DEFAULT_LABEL, RANKDIRS, Box, Cluster, build_scene
from netdraw.renderers.theme import THEMES, Theme

__all__ = ["to_mermaid"]


def _id(raw: str) -> str:
    """``n:layer1/0`` -> ``n_layer1_2f_0``: the scene's prefix kept readable, the rest escaped."""
    prefix, _, rest = raw.partition(":")
    return f"{prefix[:1]}_{mermaid_id(rest)}"


def _label(lines: list[str]) -> str:
    return '"' + "<br>".join(mermaid_text(x) for x in lines) + '"'


class _Writer:
    def __init__(self, theme: Theme) -> None:
        self.t = theme
        self.lines: list[str] = []
        self.used: set[str] = set()

    def box(self, b: Box, ind: str) -> None:
        self.used.add(b.category)
        left, right = ("[", "]") if b.kind == "node" else ("([", "])")  # inputs and outputs as stadiums
        self.lines.append(f"{ind}{_id(b.id)}{left}{_label(b.lines)}{right}:::{b.category}")

    def cluster(self, c: Cluster, ind: str) -> None:
        for b in c.boxes:
            self.box(b, ind)
        for child in c.children:
            self.lines.append(f"{ind}subgraph {_id(child.id)}[{_label([child.title])}]")
            self.cluster(child, ind + "  ")
            self.lines.append(f"{ind}end")


def to_mermaid(graph: Graph, *, rankdir: str = "TB", theme: str = "paper",
               label: str | Sequence[str] = DEFAULT_LABEL) -> str:
    """A Mermaid ``flowchart`` of an (already prepared) graph: modules as subgraphs, ×N in their titles."""
    check_choice("rankdir", rankdir, RANKDIRS)
    check_choice("theme", theme, THEMES)
    scene = build_scene(graph, label=label)
    w = _Writer(THEMES[theme])
    if scene.title:  # YAML front matter takes no entity codes: only letters, digits and a few signs stay
        safe = re.sub(r"[^A-Za-z0-9 ._,()-]", "_", scene.title.replace("—", "-"))
        w.lines.extend(["---", f'title: "{safe}"', "---"])
    w.lines.append(f"flowchart {rankdir}")
    for b in scene.inputs:
        w.box(b, "  ")
    w.cluster(scene.root, "  ")
    for b in scene.outputs:
        w.box(b, "  ")
    for b in scene.stubs:
        w.used.add("stub")
        w.lines.append(f"  {_id(b.id)}[{_label(b.lines)}]:::stub")
    for e in scene.edges:
        if e.hidden:  # an order link of a structure diagram: Mermaid's invisible link
            w.lines.append(f"  {_id(e.src)} ~~~ {_id(e.dst)}")
            continue
        arrow = "-.->" if e.stub else "-->"
        text = f'|{_label([e.label])}|' if e.label else ""
        w.lines.append(f"  {_id(e.src)} {arrow}{text} {_id(e.dst)}")
    t = w.t
    for cat in sorted(w.used):
        if cat == "stub":
            w.lines.append(f"  classDef stub fill:none,stroke:none,color:{t.muted}")
            continue
        s = t.styles[cat]
        w.lines.append(f"  classDef {cat} fill:{s.fill},stroke:{s.border},color:{t.text}")
    for c in _clusters(scene.root):
        w.lines.append(f"  style {_id(c.id)} fill:{t.cluster_fill},stroke:{t.cluster_border},color:{t.text}")
    return "\n".join(w.lines) + "\n"


def _clusters(c: Cluster) -> list[Cluster]:
    out = []
    for ch in c.children:
        out.append(ch)
        out.extend(_clusters(ch))
    return out
