"""DOT text from the IR: pure text generation, no executables run here."""

from __future__ import annotations

import math
from typing import Mapping, Sequence

from netdraw.errors import check_choice
from netdraw.ir import Graph
from netdraw.renderers.escape import dot_id, dot_label
from netdraw.renderers.scene import (DEFAULT_LABEL, LABEL_FIELDS, RANKDIRS, Box, Cluster, Scene, build_scene,
                                  format_count, parse_label, shape_text)
from netdraw.renderers.overlay import DIFF_STYLES, NO_VALUE, fill, legend
from netdraw.renderers.theme import THEMES, Theme
from netdraw.renderers.thumbs import PAD, display_size

__all__ = ["to_dot", "thumbnail_ids", "scene_legend", "header", "node_attrs", "cluster_attrs", "stub_attrs", "STUB_EDGE", "HIDDEN_EDGE", "room", "RANKDIRS", "LABEL_FIELDS", "DEFAULT_LABEL", "parse_label", "format_count", "shape_text"]


def header(name: str, theme: Theme, rankdir: str, title: str = "") -> list[str]:
    """The first lines of a diagram's DOT source: its name and the graph, node and edge defaults
    (``title``: a line drawn above the diagram)."""
    t = theme
    label = f", label={dot_label(title)}, labelloc=t, fontsize=11" if title else ", fontsize=10"
    return [f"digraph {dot_id(name)} {{",
            f'\tgraph [rankdir={rankdir}, bgcolor="{t.background}", fontname="{t.font}"{label}, '
            f'fontcolor="{t.text}", nodesep=0.25, ranksep=0.3, outputorder=edgesfirst, labeljust=l];',
            f'\tnode [shape=box, style="rounded,filled", fontname="{t.font}", fontsize=10, '
            f'fontcolor="{t.text}", margin="0.12,0.05", height=0.3, penwidth=1.2];',
            f'\tedge [fontname="{t.font}", fontsize=8, fontcolor="{t.muted}", color="{t.edge}", '
            f'arrowsize=0.6, penwidth=0.9];']


def node_attrs(lines: Sequence[str], category: str, theme: Theme, extra: str = "") -> str:
    """The attribute list of a box: its label and its category's colours (``extra``: more
    attributes, each starting with ``, ``)."""
    s = theme.styles[category]
    return f'[label={dot_label(*lines)}, fillcolor="{s.fill}", color="{s.border}"{extra}]'


def cluster_attrs(title: str, theme: Theme) -> str:
    """The attribute statements of a module's cluster."""
    return (f'label={dot_label(title)}; style="rounded,filled"; color="{theme.cluster_border}"; '
            f'fillcolor="{theme.cluster_fill}"; fontsize=9; margin=8;')


def stub_attrs(lines: Sequence[str], theme: Theme) -> str:
    """The attribute list of a stub (``from rotary_emb``) standing for a far-away source."""
    return (f'[label={dot_label(*lines)}, shape=plaintext, style="", fontsize=8, '
            f'fontcolor="{theme.muted}", height=0.2, margin=0]')


#: the attributes of the one dashed edge from a stub
STUB_EDGE = "[style=dashed, arrowsize=0.5]"
#: an order link of a structure diagram: placed like an edge, never drawn
HIDDEN_EDGE = "[style=invis]"


class _Writer:
    def __init__(self, scene: Scene, theme: Theme, rankdir: str, pins: dict | None = None,
                 wide: Mapping[str, float] | None = None, bottom: bool = False) -> None:
        self.s = scene
        self.t = theme
        self.rankdir = rankdir
        self.lines: list[str] = []
        self.legend = scene_legend(scene)
        self.pins = _Pins(pins) if pins is not None else None
        self.wide = wide or {}
        self.bottom = bottom

    def node(self, ind: str, ident: str, attrs: str) -> None:
        if self.pins is not None:
            attrs = attrs[:-1] + self.pins.node(ident) + "]"
        self.lines.append(f"{ind}{dot_id(ident)} {attrs};")

    def edge(self, src: str, dst: str, attrs: str = "") -> None:
        if self.pins is not None:
            pin = self.pins.edge(src, dst)
            attrs = attrs[:-1] + pin + "]" if attrs else f"[{pin[2:]}]"
        self.lines.append(f"\t{dot_id(src)} -> {dot_id(dst)}{' ' + attrs if attrs else ''};")

    def box(self, b: Box, ind: str) -> None:
        extra = ", peripheries=2" if b.subgraphs else ""
        if b.diff in DIFF_STYLES:  # a diff: the state's colours (its marker is in the label)
            f, border = DIFF_STYLES[b.diff]
            extra += f', fillcolor="{f}", color="{border}", penwidth=1.6'
            if b.diff == "removed":
                extra += ', style="rounded,filled,dashed"'
        elif self.legend is not None:  # --color-by: the value's colour, or grey without one
            colours = fill(b.value, self.legend)
            extra += (f', style="rounded,filled", fillcolor="{colours[0]}", fontcolor="{colours[1]}"' if colours
                      else f', fillcolor="{NO_VALUE}"')
        if ind == "\t" and b.kind == "node":  # keep the main chain straight (in clusters, dot 2.43 rejects groups)
            extra += ", group=main"
        extra += _room(b)
        self.node(ind, b.id, node_attrs(b.lines, b.category, self.t, extra))

    def emit(self) -> str:
        t = self.t
        add = self.lines.append
        self.lines.extend(header(self.s.name, t, self.rankdir, self.s.title))
        if self.pins is not None:
            add(f"\tgraph [{self.pins.graph()}];")
        for b in self.s.inputs:
            self.node("\t", b.id, node_attrs(b.lines, 'input', t, _room(b)))
        self.cluster_body(self.s.root, "\t")
        for b in self.s.outputs:
            self.node("\t", b.id, node_attrs(b.lines, 'output', t))
        stubs = {b.id: b for b in self.s.stubs}
        for e in self.s.edges:
            if e.stub:
                self.node("\t", e.src, stub_attrs(stubs[e.src].lines, t))
                self.edge(e.src, e.dst, STUB_EDGE)
            elif e.hidden:
                self.edge(e.src, e.dst, HIDDEN_EDGE)
            else:
                self.edge(e.src, e.dst, f"[label={dot_label(e.label)}]" if e.label else "")
        add("}")
        return "\n".join(self.lines) + "\n"

    def cluster_body(self, c: Cluster, ind: str) -> None:
        for b in c.boxes:
            self.box(b, ind)
        for child in c.children:
            self.lines.append(f"{ind}subgraph {dot_id(child.id)} {{")
            pin = self.pins.cluster(child.id) if self.pins is not None else ""
            title = child.title
            pad = self.wide.get(dot_id(child.id)[1:-1])
            if pad:  # room beside the title for an edge (9 pt spaces: 2.5 pt)
                title += " " * math.ceil(pad / 2.5)
            if self.bottom:
                pin += " labelloc=b;"
            self.lines.append(f"{ind}\t{cluster_attrs(title, self.t)}{pin}")
            self.cluster_body(child, ind + "\t")
            self.lines.append(f"{ind}}}")


class _Pins:
    """The positions of a json layout (:func:`netdraw.renderers.labels.clear` moved its labels)
    as DOT attributes, for Graphviz to draw the layout as it is (``pinned``)."""

    def __init__(self, laid: dict) -> None:
        self.laid = laid
        self.objects = {o["name"]: o for o in laid.get("objects", [])}
        names = [o["name"] for o in laid.get("objects", [])]
        self.edges: dict[tuple[str, str], list[dict]] = {}
        for e in laid.get("edges", []):
            self.edges.setdefault((names[e["tail"]], names[e["head"]]), []).append(e)

    def graph(self) -> str:
        out = f'bb="{self.laid["bb"]}"'
        return out + (f', lp="{self.laid["lp"]}"' if "lp" in self.laid else "")

    def node(self, ident: str) -> str:
        o = self.objects.get(dot_id(ident)[1:-1])
        if o is None or "pos" not in o:
            return ""
        return f', pos="{o["pos"]}", width={o["width"]}, height={o["height"]}'

    def cluster(self, ident: str) -> str:
        o = self.objects.get(dot_id(ident)[1:-1])
        if o is None or "bb" not in o:
            return ""
        return f' bb="{o["bb"]}";' + (f' lp="{o["lp"]}";' if "lp" in o else "")

    def edge(self, src: str, dst: str) -> str:
        same = self.edges.get((dot_id(src)[1:-1], dot_id(dst)[1:-1]))
        if not same:
            return ""
        e = same.pop(0)  # edges between the same two boxes come in the order they were written
        return f', pos="{e["pos"]}"' + (f', lp="{e["lp"]}"' if "lp" in e else "")


def _room(b: Box) -> str:
    return room(b.lines, b.thumbnail)


def room(lines: Sequence[str], thumbnail: dict | None) -> str:
    """Node attributes that leave room for a thumbnail under the label (text at the top);
    :func:`netdraw.renderers.thumbs.embed_svg` puts the image there."""
    if not thumbnail:
        return ""
    w, h = display_size(thumbnail)
    text_h = 12.0 * len(lines) + 2 * 3.6  # 10 pt lines and the node's vertical margin
    return (f", labelloc=t, height={(text_h + h + 2 * PAD) / 72:.3f}, "
            f"width={(w + 2 * PAD + 8.64) / 72:.3f}")


def scene_legend(scene: Scene) -> dict | None:
    """The colour scale of a scene drawn with ``--color-by`` (None without one)."""
    if scene.overlay is None:
        return None
    return legend([b.value for b in scene.boxes() if b.kind == "node" and b.value is not None], scene.overlay)


def to_dot(graph: Graph, *, rankdir: str = "TB", theme: str = "paper",
           label: str | Sequence[str] = DEFAULT_LABEL, thumbnails: bool = True, pins: dict | None = None,
           wide: Mapping[str, float] | None = None, bottom: bool = False) -> str:
    """The DOT source of an (already prepared) graph; nodes with thumbnails get room for them.

    ``pins``: Graphviz's json layout of this source (labels moved clear of edges,
    :func:`netdraw.renderers.labels.clear`): every position is written in, for a pinned render.
    ``wide``: {cluster as Graphviz names it: points}: titles laid out that much wider, so an edge
    has room beside them; ``bottom``: every title at the bottom of its cluster (where fewer edges
    pass: many enter a module, one leaves)."""
    check_choice("rankdir", rankdir, RANKDIRS)
    check_choice("theme", theme, THEMES)
    return _Writer(build_scene(graph, label=label, thumbnails=thumbnails), THEMES[theme], rankdir, pins, wide,
                   bottom).emit()


def thumbnail_ids(graph: Graph, *, thumbnails: bool = True) -> dict[str, dict]:
    """{node ID as Graphviz writes it in SVG titles: finished record} for the boxes with thumbnails."""
    if not thumbnails:
        return {}
    scene = build_scene(graph, label=("name",), thumbnails=True)
    return {dot_id(b.id)[1:-1]: b.thumbnail for b in scene.boxes() if b.thumbnail}
