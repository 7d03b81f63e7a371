"""Drawing into a matplotlib Axes: every box and cluster, texts inside their boxes, stable files."""

from __future__ import annotations

import io

import pytest

import netdraw
from netdraw.api import prepare
from netdraw.renderers.scene import build_scene
from tests.conftest import ROOT

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

from netdraw.api import draw  # noqa: E402


def _clusters(c) -> int:
    return len(c.children) + sum(_clusters(ch) for ch in c.children)


@pytest.mark.parametrize("eng", [pytest.param("native", marks=pytest.mark.dot), "wasm"])
def test_boxes_clusters_and_texts_beside_another_plot(eng):
    g = netdraw.load(ROOT / "examples" / "resnet18.onnx")
    fig, (ax, other) = plt.subplots(1, 2, figsize=(8, 10))
    other.plot([1, 2, 3])
    draw(g, ax=ax, engine=eng)
    scene = build_scene(prepare(g, engine=eng))
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == len(scene.boxes()) + _clusters(scene.root)
    texts = {t.get_text() for t in ax.texts}
    assert "input: image\nbatch×3×224×224" in texts and "layer1.0–1 ×2" in texts
    # every box's text fits inside its box at the size the axes draw it
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    node_boxes = [p for p in boxes if p.get_zorder() == 5]
    node_texts = [t for t in ax.texts if t.get_zorder() == 6]
    assert len(node_boxes) == len(node_texts) == len(scene.boxes())
    for p, t in zip(node_boxes, node_texts):
        outer, inner = p.get_window_extent(r), t.get_window_extent(r)
        assert outer.x0 - 1 <= inner.x0 and inner.x1 <= outer.x1 + 1, t.get_text()
        assert outer.y0 - 1 <= inner.y0 and inner.y1 <= outer.y1 + 1, t.get_text()
    plt.close(fig)


def test_svg_from_matplotlib_is_byte_identical():
    def once() -> bytes:
        with matplotlib.rc_context({"svg.hashsalt": "netdraw"}):
            fig, ax = plt.subplots(figsize=(4, 6))
            draw(netdraw.load(ROOT / "examples" / "netspec" / "unet-small.netspec"), ax=ax, engine="wasm")
            buf = io.BytesIO()
            fig.savefig(buf, format="svg", metadata={"Date": None})
            plt.close(fig)
            return buf.getvalue()

    assert once() == once()


def test_thumbnails_are_drawn_as_images():
    from tests.renderers.test_thumbs import drawn_graph

    g = drawn_graph()
    fig, ax = plt.subplots(figsize=(4, 8))
    draw(g, ax, engine="wasm", depth=1)
    drawn = prepare(g, depth=1)
    assert len(ax.images) == sum("thumbnail" in n.meta for n in drawn.nodes) + 1  # and the input
    plt.close(fig)
