"""Thumbnails in the diagram: the picture of a record, and its embedding in SVG, PNG and PDF."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess

import numpy as np
import pytest
import torch
from PIL import Image

import netdraw
from netdraw.records import decode, finish
from netdraw.analysis.reduce import ThumbnailOptions, reduce_tensor
from netdraw.api import prepare, render_bytes
from netdraw.renderers.thumbs import _lut, display_size, image, png
from tests.analysis.test_activations import make

IMAGE = re.compile(rb'<image x="([\d.-]+)" y="([\d.-]+)" width="([\d.]+)" height="([\d.]+)"[^>]*'
                   rb'xlink:href="data:image/png;base64,([^"]+)"')


def test_a_grid_of_maps_in_the_colormap():
    t = torch.randn(1, 6, 7, 7, generator=torch.Generator().manual_seed(0))
    rec = finish(reduce_tensor(t, ThumbnailOptions(k=4)))
    img = image(rec)
    # 2×2 tiles of 7×7 enlarged ×4 (to >= 24 px), 1 px gaps
    assert img.shape == (57, 57, 4)
    assert display_size(rec) == (57.0, 57.0)
    maps = decode(rec)
    lut = _lut("viridis")
    assert np.array_equal(img[0:28:4, 0:28:4], lut[maps[0]])
    assert np.array_equal(img[29:57:4, 29:57:4], lut[maps[3]])
    assert (img[28, :, 3] == 0).all() and (img[:, 28, 3] == 0).all()  # transparent gaps
    assert png(rec) == png(rec)


def test_strips_and_matrices():
    strip = finish(reduce_tensor(torch.randn(1, 1000), ThumbnailOptions()))
    assert image(strip).shape == (8, 128, 4)
    ten = finish(reduce_tensor(torch.arange(10.0)[None], ThumbnailOptions()))
    assert image(ten).shape == (8, 50, 4) and display_size(ten) == (50.0, 8.0)  # 5 px per class
    matrix = finish(reduce_tensor(torch.randn(1, 16, 768), ThumbnailOptions()))
    assert image(matrix).shape == (16, 128, 4)  # tokens × features (768 averaged into 128)


def drawn_graph():
    m, x = make()
    return netdraw.trace(m, (x,), thumbnails={"k": 4, "size": 16})


@pytest.mark.parametrize("engine", [pytest.param("native", marks=pytest.mark.dot), "wasm"])
def test_svg_embeds_one_image_per_shown_node(engine):
    g = drawn_graph()
    svg = render_bytes(g, "svg", engine=engine, depth=1)
    drawn = prepare(g, depth=1)
    shown = {n.name: n.meta["thumbnail"] for n in drawn.nodes if "thumbnail" in n.meta}
    found = IMAGE.findall(svg)
    assert len(found) == len(shown) + 1  # and the input image
    pngs = {base64.b64decode(f[4]) for f in found}
    assert pngs == {png(rec) for rec in shown.values()} | {png(finish(g.inputs[0].meta["activation"]))}
    assert svg == render_bytes(g, "svg", engine=engine, depth=1)  # deterministic
    assert b"<image" not in render_bytes(g, "svg", engine=engine, depth=1, thumbnails=False)


def test_png_shows_the_thumbnails():
    g = drawn_graph()
    svg = render_bytes(g, "svg", engine="wasm", depth=1)
    x, y, w, h, data = IMAGE.findall(svg)[1]
    picture = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("RGBA"))
    out = np.asarray(Image.open(io.BytesIO(render_bytes(g, "png", engine="wasm", depth=1))).convert("RGBA"))
    # 2 px per point; the SVG's origin is moved by Graphviz's translate(4 H-4)
    height_pt = float(re.search(rb'<svg width="[\d.]+pt" height="([\d.]+)pt"', svg).group(1))
    tx, ty = 4.0, height_pt - 4.0
    px = lambda v: int(round(v * 2))  # noqa: E731
    cx, cy = float(x) + tx + 0.25 * float(w), float(y) + ty + 0.25 * float(h)
    got = out[px(cy), px(cx), :3].astype(int)
    want = picture[int(0.25 * picture.shape[0]), int(0.25 * picture.shape[1]), :3].astype(int)
    assert np.abs(got - want).max() <= 8


@pytest.mark.skipif(shutil.which("pdfimages") is None, reason="poppler-utils (pdfimages) is not installed")
def test_pdf_holds_the_thumbnails(tmp_path):
    g = drawn_graph()
    pdf = tmp_path / "fig.pdf"
    pdf.write_bytes(render_bytes(g, "pdf", engine="wasm", depth=1))
    listing = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    images = [line for line in listing.splitlines()[2:] if line.strip() and line.split()[2] == "image"]
    drawn = prepare(g, depth=1)
    assert len(images) == sum("thumbnail" in n.meta for n in drawn.nodes) + 1


def test_eight_maps_fill_a_two_by_four_grid_with_no_empty_cell():
    from netdraw.renderers.thumbs import grid

    assert [(grid(n, 7, 7)[1:]) for n in (8, 6, 9, 4, 12, 5)] == [(2, 4), (2, 3), (3, 3), (2, 2), (3, 4), (2, 3)]


@pytest.mark.parametrize("engine", [pytest.param("native", marks=pytest.mark.dot), "wasm"])
def test_a_node_with_a_thumbnail_keeps_its_title_off_the_border(engine):
    svg = render_bytes(drawn_graph(), "svg", engine=engine, depth=1).decode()
    nodes = re.findall(r'<g id="node\d+" class="node">(.*?)</g>', svg, re.S)
    checked = 0
    for body in nodes:
        if "<image" not in body:
            continue
        shape = re.search(r'<path[^>]* d="([^"]+)"', body)
        top = min(float(y) for y in re.findall(r"-?[\d.]+,(-?[\d.]+)", shape.group(1)))
        first = float(re.search(r'<text[^>]* y="(-?[\d.]+)"', body).group(1))  # the title's baseline
        # a 10 pt title's capitals stand ~7.2 pt above its baseline: 4 pt or more of air above them
        assert first - 7.2 - top >= 4.0, body[:200]
        checked += 1
    assert checked >= 3


def test_maps_up_to_64_px_or_thumb_size_or_their_own_size():
    big = torch.randn(1, 4, 112, 160, generator=torch.Generator().manual_seed(0))
    assert reduce_tensor(big, ThumbnailOptions())["tile"] == [45, 64]  # the longer side at 64
    assert reduce_tensor(big, ThumbnailOptions(size=40))["tile"] == [28, 40]
    small = torch.randn(1, 4, 28, 28, generator=torch.Generator().manual_seed(0))
    assert reduce_tensor(small, ThumbnailOptions())["tile"] == [28, 28]  # its own size
    rec = finish(reduce_tensor(big, ThumbnailOptions()))
    assert display_size(rec) == (129.0, 91.0)  # 2×2 grid, 1 px gaps


def test_cli_thumb_size(tmp_path):
    from netdraw.cli import run

    out = tmp_path / "t.json"
    code = run(["render", "examples/models.py:vgg16", "--input", "1x3x32x32", "--thumbnails", "--thumb-size", "12",
                "-o", str(out)])
    assert code == 0
    import json

    g = json.loads(out.read_text())
    records = [v["meta"]["activation"] for v in g["graph"]["values"] if "activation" in v.get("meta", {})]
    assert len(records) > 10
    assert {max(r["tile"]) for r in records if r["layout"] == "rgb"} == {16}  # the image: 32 px halved, <= 2 × 12
    assert max(max(r["tile"]) for r in records if r["layout"] == "maps") == 12
