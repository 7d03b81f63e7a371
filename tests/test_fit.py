"""--fit: a figure at a paper's column width with every text at least 6 pt (issue 27)."""

from __future__ import annotations

import json
import re

import pytest

import netdraw
from netdraw import api
from netdraw.errors import NetdrawError
from netdraw.renderers.dot import to_dot
from netdraw.renderers.layout import draw_soon
from tests.conftest import ROOT


def _vgg():
    return netdraw.load(f"{ROOT / 'examples' / 'models.py'}:vgg16", inputs=["1x3x224x224"], mode="meta")


def test_parse_fit():
    assert api.parse_fit("3.3in") == (3.3 * 72, 9 * 72)
    assert api.parse_fit("6.9") == pytest.approx((6.9 * 72, 648))
    assert api.parse_fit("17cm") == pytest.approx((17 / 2.54 * 72, 648))
    assert api.parse_fit("6.9x4in") == pytest.approx((6.9 * 72, 4 * 72))
    assert api.parse_fit("100x50mm") == pytest.approx((100 / 25.4 * 72, 50 / 25.4 * 72))
    for bad in ("wide", "0in", "3.3in x", "-2in", "3.3furlong"):
        with pytest.raises(NetdrawError, match=r"invalid fit .*; valid: a width such as 3.3in"):
            api.parse_fit(bad)


def _printed(svg: bytes) -> tuple[float, float, float]:
    """(width, height) in points as printed, and the smallest text size there."""
    w, h = (float(x) for x in re.search(rb'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups())
    vb = [float(x) for x in re.search(rb'viewBox="([-\d. ]+)"', svg).group(1).split()]
    scale = w / vb[2]
    return w, h, scale * min(float(x) for x in re.findall(rb'font-size="([\d.]+)"', svg))


@pytest.mark.parametrize("size, width", [("3.3in", 3.3 * 72), ("6.9in", 6.9 * 72)])
def test_vgg16_fits_a_column_with_text_at_least_6pt(size, width, capsys):
    g = _vgg()
    natural = api.render_bytes(g, "svg", engine="wasm", rankdir="LR", max_width=None)
    assert _printed(natural)[0] > 30 * 72  # one row: 30+ inches wide
    svg = api.render_bytes(g, "svg", engine="wasm", rankdir="LR", fit=size)
    w, h, text = _printed(svg)
    assert w <= width + 0.01 and h <= 9 * 72 + 0.01
    assert text >= 6.0
    said = capsys.readouterr().err
    assert re.search(rf"notice: fit {size}: rankdir (TB|LR)(, \d rows)?(, label [a-z,]+)?(, depth \d+)?: "
                     rf"[\d.]+ × [\d.]+ in, smallest text [\d.]+ pt", said), said
    assert svg == api.render_bytes(g, "svg", engine="wasm", rankdir="LR", fit=size)  # deterministic


def test_fit_tries_rankdir_first():
    """A ResNet-18 that fits as drawn keeps its labels and depth."""
    g = netdraw.load(ROOT / "examples" / "resnet18.onnx")
    svg = api.render_bytes(g, "svg", engine="wasm", fit="8x20in")
    assert _printed(svg)[2] >= 6.0
    assert b"batch\xc3\x978\xc3\x97112\xc3\x97112" in svg  # shapes still drawn


def test_rows_are_drawn_in_order_as_a_snake():
    g = api.prepare(_vgg())
    opts = api.check_options({})
    laid = json.loads(draw_soon(g, theme="paper", label=opts["label"], rankdir="LR", engine="wasm", rows=3,
                                fmt="json").result())
    pos = {o["name"].split("/")[1]: [float(v) for v in o["pos"].split(",")] for o in laid["objects"]
           if "pos" in o and o["name"].startswith("n:features/")}
    conv = lambda i: pos[str(i)]  # noqa: E731
    assert conv(0)[1] > conv(14)[1] > conv(30)[1]  # rows top to bottom (y up)
    assert conv(0)[0] < conv(12)[0] and conv(14)[0] > conv(28)[0]  # the second row flows back
    assert abs(conv(12)[0] - conv(14)[0]) < 80  # one short step down between rows
    dot = to_dot(g, rankdir="LR", rows=3)
    assert dot.count("(cont.)") == 2  # features split across three rows: two continued clusters


def test_cli_fit_error_is_one_line(tmp_path):
    from netdraw.cli import run

    out = tmp_path / "x.svg"
    assert run(["render", str(ROOT / "examples" / "resnet18.onnx"), "--fit", "wide", "-o", str(out)]) == 2
    assert not out.exists()


def test_fit_is_for_printed_figures():
    g = netdraw.load(ROOT / "examples" / "resnet18.onnx")
    for fmt in ("dot", "html", "mermaid", "drawio"):
        with pytest.raises(NetdrawError, match=rf"--fit sizes a printed figure \(svg, png, pdf or tex\), not {fmt}"):
            api.render_bytes(g, fmt, fit="6.9in")


def _smallest_pdf_text(pdf: bytes) -> tuple[float, float]:
    """(page width in points, smallest character size) of a one-page PDF; a turned character's
    size is its extent across the line (pdfminer gives its advance)."""
    import io

    import pdfplumber

    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        page = doc.pages[0]
        sizes = [c["size"] if c["upright"] else c["x1"] - c["x0"] for c in page.chars if c["text"].strip()]
        return float(page.width), min(sizes)


@pytest.mark.tex
@pytest.mark.parametrize("model, shape, style", [("resnet18", "1x3x224x224", "graph"),
                                                 ("resnet18", "1x3x224x224", "boxes"),
                                                 ("UNet", "1x1x256x256", "boxes")])  # a U folded by level
def test_tikz_figures_fit_a_column_measured_from_the_pdf(model, shape, style, capsys):
    g = netdraw.load(f"{ROOT / 'examples' / 'models.py'}:{model}", inputs=[shape], mode="meta")
    width, smallest = _smallest_pdf_text(api.render_bytes(g, "pdf", renderer="tikz", style=style, fit="6.9in"))
    assert width <= 6.9 * 72 + 8.5  # the standalone border: 4 pt a side
    assert smallest >= 6.0 - 0.05
    assert "notice: fit 6.9in" in capsys.readouterr().err


@pytest.mark.transformers
def test_a_loose_input_joins_the_row_it_feeds():
    from netdraw.renderers.dot import wrap_rows
    from netdraw.renderers.scene import build_scene
    from tests.frontends.hf_suite import build

    model, args, kwargs = build("BertModel")
    scene = build_scene(api.prepare(netdraw.trace(model, args, kwargs)))
    mask = next(b.id for b in scene.inputs if "attention_mask" in b.id)
    later = 0
    for rows in range(2, 7):
        row, _, _ = wrap_rows(scene, rows)
        chain = [mask]  # the mask and the ops that make it, up to what uses it
        while True:
            nxt = [e.dst for e in scene.edges if e.src == chain[-1]]
            if len(nxt) != 1 or not nxt[0].startswith("n:expand"):
                break
            chain.append(nxt[0])
        fed = [row[e.dst] for e in scene.edges if e.src == chain[-1]]
        assert fed and all(row[b] == min(fed) for b in chain), rows  # in the row it feeds
        later += min(fed) > 0
    assert later  # and that row is not always the first
