"""DOT text from the IR: pure text generation, no executables run here."""

from __future__ import annotations

from typing import Sequence

from netdraw.errors import check_choice
from netdraw.ir import Graph
from netdraw.renderers.escape import dot_id, dot_label
from netdraw.renderers.scene import (DEFAULT_LABEL, LABEL_FIELDS, RANKDIRS, Box, Cluster, Scene, build_scene,
                                  format_count, parse_label, shape_text)
from netdraw.renderers.theme import THEMES, Theme
from netdraw.renderers.thumbs import PAD, display_size

__all__ = ["to_dot", "thumbnail_ids", "RANKDIRS", "LABEL_FIELDS", "DEFAULT_LABEL", "parse_label", "format_count", "shape_text"]


class _Writer:
    def __init__(self, scene: Scene, theme: Theme, rankdir: str) -> None:
        self.s = scene
        self.t = theme
        self.rankdir = rankdir
        self.lines: list[str] = []

    def style(self, cat: str, extra: str = "") -> str:
        s = self.t.styles[cat]
        return f'fillcolor="{s.fill}", color="{s.border}"{extra}'

    def box(self, b: Box, ind: str) -> None:
        extra = ", peripheries=2" if b.subgraphs else ""
        if ind == "\t" and b.kind == "node":  # keep the main chain straight (in clusters, dot 2.43 rejects groups)
            extra += ", group=main"
        extra += _room(b)
        self.lines.append(f"{ind}{dot_id(b.id)} [label={dot_label(*b.lines)}, {self.style(b.category, extra)}];")

    def emit(self) -> str:
        t = self.t
        add = self.lines.append
        add(f"digraph {dot_id(self.s.name)} {{")
        add(f'\tgraph [rankdir={self.rankdir}, bgcolor="{t.background}", fontname="{t.font}", fontsize=10, '
            f'fontcolor="{t.text}", nodesep=0.25, ranksep=0.3, outputorder=edgesfirst, labeljust=l];')
        add(f'\tnode [shape=box, style="rounded,filled", fontname="{t.font}", fontsize=10, '
            f'fontcolor="{t.text}", margin="0.12,0.05", height=0.3, penwidth=1.2];')
        add(f'\tedge [fontname="{t.font}", fontsize=8, fontcolor="{t.muted}", color="{t.edge}", '
            f'arrowsize=0.6, penwidth=0.9];')
        for b in self.s.inputs:
            add(f"\t{dot_id(b.id)} [label={dot_label(*b.lines)}, {self.style('input', _room(b))}];")
        self.cluster_body(self.s.root, "\t")
        for b in self.s.outputs:
            add(f"\t{dot_id(b.id)} [label={dot_label(*b.lines)}, {self.style('output')}];")
        stubs = {b.id: b for b in self.s.stubs}
        for e in self.s.edges:
            if e.stub:
                b = stubs[e.src]
                add(f'\t{dot_id(b.id)} [label={dot_label(*b.lines)}, shape=plaintext, style="", fontsize=8, '
                    f'fontcolor="{t.muted}", height=0.2, margin=0];')
                add(f"\t{dot_id(e.src)} -> {dot_id(e.dst)} [style=dashed, arrowsize=0.5];")
                continue
            attr = f" [label={dot_label(e.label)}]" if e.label else ""
            add(f"\t{dot_id(e.src)} -> {dot_id(e.dst)}{attr};")
        add("}")
        return "\n".join(self.lines) + "\n"

    def cluster_body(self, c: Cluster, ind: str) -> None:
        for b in c.boxes:
            self.box(b, ind)
        for child in c.children:
            self.lines.append(f"{ind}subgraph {dot_id(child.id)} {{")
            self.lines.append(f'{ind}\tlabel={dot_label(child.title)}; style="rounded,filled"; '
                              f'color="{self.t.cluster_border}"; fillcolor="{self.t.cluster_fill}"; '
                              f'fontsize=9; margin=8;')
            self.cluster_body(child, ind + "\t")
            self.lines.append(f"{ind}}}")


def _room(b: Box) -> str:
    """Node attributes that leave room for a thumbnail under the label (text at the top);
    :func:`netdraw.renderers.thumbs.embed_svg` puts the image there."""
    if not b.thumbnail:
        return ""
    w, h = display_size(b.thumbnail)
    text_h = 12.0 * len(b.lines) + 2 * 3.6  # 10 pt lines and the node's vertical margin
    return (f", labelloc=t, height={(text_h + h + 2 * PAD) / 72:.3f}, "
            f"width={(w + 2 * PAD + 8.64) / 72:.3f}")


def to_dot(graph: Graph, *, rankdir: str = "TB", theme: str = "paper",
           label: str | Sequence[str] = DEFAULT_LABEL, thumbnails: bool = True) -> str:
    """The DOT source of an (already prepared) graph; nodes with thumbnails get room for them."""
    check_choice("rankdir", rankdir, RANKDIRS)
    check_choice("theme", theme, THEMES)
    return _Writer(build_scene(graph, label=label, thumbnails=thumbnails), THEMES[theme], rankdir).emit()


def thumbnail_ids(graph: Graph, *, thumbnails: bool = True) -> dict[str, dict]:
    """{node ID as Graphviz writes it in SVG titles: finished record} for the boxes with thumbnails."""
    if not thumbnails:
        return {}
    scene = build_scene(graph, label=("name",), thumbnails=True)
    return {dot_id(b.id)[1:-1]: b.thumbnail for b in scene.boxes() if b.thumbnail}
