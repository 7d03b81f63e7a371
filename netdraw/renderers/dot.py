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

__all__ = ["to_dot", "thumbnail_ids", "scene_legend", "header", "node_attrs", "cluster_attrs", "stub_attrs", "STUB_EDGE", "HIDDEN_EDGE", "room", "wrap_rows", "RANKDIRS", "LABEL_FIELDS", "DEFAULT_LABEL", "parse_label", "format_count", "shape_text"]


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
                 wide: Mapping[str, float] | None = None, bottom: bool = False, rows: int = 1) -> None:
        self.s = scene
        self.t = theme
        self.rankdir = rankdir
        self.lines: list[str] = []
        self.legend = scene_legend(scene)
        self.pins = _Pins(pins) if pins is not None else None
        self.wide = wide or {}
        self.bottom = bottom
        self.row, self.split, self.lead = wrap_rows(scene, rows) if rows > 1 else ({}, set(), {})

    def node(self, ind: str, ident: str, attrs: str) -> None:
        if self.pins is not None:
            attrs = attrs[:-1] + self.pins.node(ident) + "]"
        self.lines.append(f"{ind}{dot_id(ident)} {attrs};")

    def edge(self, src: str, dst: str, attrs: str = "") -> None:
        r = self.row.get(src, 0)
        if r != self.row.get(dst, 0):  # from one row to the next: no rank constraint
            attrs = attrs[:-1] + ", constraint=false]" if attrs else "[constraint=false]"
        elif r % 2:  # a snake: every other row flows back (written reversed, drawn forwards)
            src, dst = dst, src
            attrs = attrs[:-1] + ", dir=back]" if attrs else "[dir=back]"
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
        if self.row:  # rows in order: a column of invisible anchors, each tied to its row's first box
            rows = sorted(set(self.row.values()))
            for r in rows:
                self.node("\t", f"row:{r}", '[label="", style=invis, width=0.01, height=0.01, margin=0]')
            add("\t{rank=same; " + " ".join(dot_id(f"row:{r}") for r in rows) + "}")
            for a, b in zip(rows, rows[1:]):
                self.edge(f"row:{a}", f"row:{b}", "[style=invis]")
            for r, b in sorted(self.lead.items()):  # written as is: edge() would unconstrain a tie across rows
                self.lines.append(f"\t{dot_id(f'row:{r}')} -> {dot_id(b)} [style=invis]")
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

    def cluster_body(self, c: Cluster, ind: str, only: int | None = None) -> None:
        """A cluster's contents (``only``: those in that row, for a module split across rows)."""
        for b in c.boxes:
            if only is None or self.row.get(b.id, 0) == only:
                self.box(b, ind)
        for child in c.children:
            if child.id in self.split:  # one cluster per row it spans
                parts = sorted({self.row.get(b, 0) for b in _members(child)})
                for k, r in enumerate(parts):
                    if only is None or r == only:
                        self.cluster(child, ind, r, f"{child.id}#{r}" if k else child.id,
                                     child.title + (" (cont.)" if k else ""))
            elif only is None or any(self.row.get(b, 0) == only for b in _members(child)):
                self.cluster(child, ind, only, child.id, child.title)

    def cluster(self, c: Cluster, ind: str, only: int | None, ident: str, title: str) -> None:
        self.lines.append(f"{ind}subgraph {dot_id(ident)} {{")
        pin = self.pins.cluster(ident) if self.pins is not None else ""
        pad = self.wide.get(dot_id(ident)[1:-1])
        if pad:  # room beside the title for an edge (9 pt spaces: 2.5 pt)
            title += " " * math.ceil(pad / 2.5)
        if self.bottom:
            pin += " labelloc=b;"
        self.lines.append(f"{ind}\t{cluster_attrs(title, self.t)}{pin}")
        self.cluster_body(c, ind + "\t", only)
        self.lines.append(f"{ind}}}")


def _members(c: Cluster) -> list[str]:
    return [b.id for b in c.boxes] + [m for ch in c.children for m in _members(ch)]


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


def wrap_rows(scene: Scene, rows: int) -> tuple[dict[str, int], set[str], dict[int, str]]:
    """``({box id: row}, {split cluster ids}, {row: the box drawn first in it})`` for a diagram
    wrapped into ``rows`` rows (columns when it flows top to bottom): each part (a box, or a
    module's cluster whole when it fits in a row) goes to the row where it starts, rows being equal runs of ranks (the longest path from the
    inputs); an edge between rows then sets no rank, and every other row flows back (a snake, so
    the step to the next row is short).  A module longer than a row is split: one cluster per row
    it spans ("… (cont.)")."""
    ids = [b.id for b in scene.boxes()]
    links = [(e.src, e.dst) for e in scene.edges if not e.stub and not e.hidden]
    rank = {b: 0 for b in ids}
    for _ in range(len(ids)):  # longest path from the inputs, bounded
        changed = False
        for a, b in links:
            if a in rank and b in rank and rank[b] < rank[a] + 1 <= len(ids):
                rank[b], changed = rank[a] + 1, True
        if not changed:
            break
    length = (max(rank.values(), default=0) + 1) / rows
    row: dict[str, int] = {}
    split: set[str] = set()

    def place(part: list[str]) -> None:
        r = min(rows - 1, int(min(rank[m] for m in part) / length)) if part else 0
        row.update((m, r) for m in part)

    def visit(c: Cluster) -> None:
        inner = _members(c)
        if not inner or max(rank[m] for m in inner) - min(rank[m] for m in inner) + 1 <= 1.15 * length:
            place(inner)
            return
        split.add(c.id)
        for b in c.boxes:
            place([b.id])
        for ch in c.children:
            visit(ch)
    for b in (*scene.inputs, *scene.root.boxes, *scene.outputs):
        place([b.id])
    for c in scene.root.children:
        visit(c)
    for e in scene.edges:  # a stub sits in the row of the box it feeds
        if e.stub:
            row[e.src] = row.get(e.dst, 0)
    # a side chain hanging from a source (an attention mask and the ops making it) whose results all
    # join other flows in later rows goes to the first of those rows, rather than float unanchored
    order = [b.id for b in (*scene.inputs, *scene.root.boxes)]
    top = set(order)
    succ: dict[str, list[str]] = {}
    pred: dict[str, list[str]] = {}
    for a, b in links:
        succ.setdefault(a, []).append(b)
        pred.setdefault(b, []).append(a)
    for source in [b for b in order if not pred.get(b)]:
        chain = [source]
        while (len(succ.get(chain[-1], ())) == 1 and succ[chain[-1]][0] in top
               and len(pred.get(succ[chain[-1]][0], ())) == 1):
            chain.append(succ[chain[-1]][0])
        fed = [row[d] for d in succ.get(chain[-1], ()) if d in row]
        joins = all(len(pred.get(d, ())) > 1 for d in succ.get(chain[-1], ()))  # a side chain, not the main flow
        if fed and joins and min(fed) > row[source]:
            row.update((b, min(fed)) for b in chain)
    lead: dict[int, str] = {}
    for b in ids:  # the leftmost: where the row's flow starts, or ends in a row flowing back
        r = row.get(b, 0)
        if r not in lead or (rank[b] > rank[lead[r]] if r % 2 else rank[b] < rank[lead[r]]):
            lead[r] = b
    return row, split, lead


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
           wide: Mapping[str, float] | None = None, bottom: bool = False, rows: int = 1) -> str:
    """The DOT source of an (already prepared) graph; nodes with thumbnails get room for them.

    ``pins``: Graphviz's json layout of this source (labels moved clear of edges,
    :func:`netdraw.renderers.labels.clear`): every position is written in, for a pinned render.
    ``wide``: {cluster as Graphviz names it: points}: titles laid out that much wider, so an edge
    has room beside them; ``bottom``: every title at the bottom of its cluster (where fewer edges
    pass: many enter a module, one leaves); ``rows``: the flow wrapped into that many rows
    (:func:`wrap_rows`)."""
    check_choice("rankdir", rankdir, RANKDIRS)
    check_choice("theme", theme, THEMES)
    return _Writer(build_scene(graph, label=label, thumbnails=thumbnails), THEMES[theme], rankdir, pins, wide,
                   bottom, rows).emit()


def thumbnail_ids(graph: Graph, *, thumbnails: bool = True) -> dict[str, dict]:
    """{node ID as Graphviz writes it in SVG titles: finished record} for the boxes with thumbnails."""
    if not thumbnails:
        return {}
    scene = build_scene(graph, label=("name",), thumbnails=True)
    return {dot_id(b.id)[1:-1]: b.thumbnail for b in scene.boxes() if b.thumbnail}
