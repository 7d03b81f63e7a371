"""Editable exports: .drawio read by draw.io's own model (mxgraph) in Chromium, .pptx read back with
python-pptx and converted by LibreOffice."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile

import pytest

import netdraw
from netdraw.api import render_bytes
from netdraw.frontends.pytorch import InputSpec
from netdraw.renderers.scene import build_scene
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "examples"))
import models as cnn  # noqa: E402

pptx = pytest.importorskip("pptx")
XSS = "</script><script>alert(1)</script>"


def _resnet18():
    return netdraw.trace(cnn.resnet18(), (InputSpec((1, 3, 224, 224)),))


def _drawn(g, **opts):
    return netdraw.prepare(g, **opts)


def test_drawio_cells_containers_and_connectors():
    g = _resnet18()
    text = render_bytes(g, "drawio").decode()
    root = ET.fromstring(text)
    cells = root.findall(".//mxCell")
    vertices = [c for c in cells if c.get("vertex") == "1"]
    edges = [c for c in cells if c.get("edge") == "1"]
    scene = build_scene(_drawn(g))
    boxes = scene.boxes()
    containers = [c for c in vertices if "container=1" in c.get("style", "")]
    assert len(vertices) - len(containers) == len(boxes)
    assert len(edges) == len([e for e in scene.edges if not e.hidden])
    ids = {c.get("id"): c for c in cells}
    assert all(ids[e.get("source")].get("vertex") == "1" and ids[e.get("target")].get("vertex") == "1" for e in edges)
    # a box inside a module has the module's container as its parent, at a position relative to it
    layer = next(c for c in containers if c.get("value") == "layer2 · Sequential")
    inside = [c for c in vertices if c.get("parent") == layer.get("id")]
    assert inside and all(float(c.find("mxGeometry").get("x")) >= 0 for c in inside)
    assert render_bytes(g, "drawio") == render_bytes(g, "drawio")  # deterministic


def test_drawio_names_are_text():
    from torch import nn

    m = nn.Sequential()
    m.add_module(XSS, nn.Linear(4, 4))
    text = render_bytes(netdraw.trace(m, (InputSpec((1, 4)),)), "drawio").decode()
    assert "<script>" not in text and "&lt;/script&gt;" in text
    ET.fromstring(text)


@pytest.mark.chromium
def test_drawio_opens_in_drawios_model(tmp_path):
    from tests.htmljs import drive
    from tests.netronjs import install

    folder = install()
    client = folder / "node_modules" / "mxgraph" / "javascript" / "mxClient.min.js"
    g = _resnet18()
    xml = render_bytes(g, "drawio", color_by="params").decode()
    page = tmp_path / "check.html"
    page.write_text(
        "<!DOCTYPE html><html><head><script>window.mxBasePath='" + client.parent.as_uri() + "';"
        "window.mxLoadResources=false;window.mxLoadStylesheets=false;window.mxForceIncludes=false;</script>"
        f"<script src=\"{client.as_uri()}\"></script>"
        f"<script>window.XML={json.dumps(xml)};window.netdraw={{ready:Promise.resolve()}};</script></head>"
        "<body></body></html>", encoding="utf-8")
    out = drive(page, [{"js": """
        const doc = mxUtils.parseXml(XML);
        const model = new mxGraphModel();
        new mxCodec(doc).decode(doc.getElementsByTagName('mxGraphModel')[0], model);
        let v = 0, e = 0, bound = 0, contained = 0;
        for (const id in model.cells) {
          const c = model.cells[id];
          if (c.vertex) v++;
          if (c.edge) { e++; if (c.source && c.target && c.source.vertex && c.target.vertex) bound++; }
          if (c.vertex && c.parent && c.parent.vertex) contained++;
        }
        return {v, e, bound, contained};"""}], allow=folder)
    assert out["errors"] == [] and out["requests"] == []
    res = out["results"][0]
    root = ET.fromstring(xml)
    cells = root.findall(".//mxCell")
    assert res["v"] == sum(c.get("vertex") == "1" for c in cells) and res["e"] == sum(c.get("edge") == "1" for c in cells)
    assert res["bound"] == res["e"] > 30 and res["contained"] > 30


def _connections(data: bytes) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """(shape id -> name, [(begin shape id, end shape id)]) from the slide's XML."""
    z = zipfile.ZipFile(io.BytesIO(data))
    slide = z.read("ppt/slides/slide1.xml").decode()
    names = dict(re.findall(r'<p:cNvPr id="(\d+)" name="([^"]*)"', slide))
    pairs = re.findall(r'<a:stCxn id="(\d+)" idx="\d"/><a:endCxn id="(\d+)" idx="\d"/>', slide)
    return names, pairs


def test_pptx_shapes_texts_and_bound_connectors():
    from pptx import Presentation
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    g = _resnet18()
    data = render_bytes(g, "pptx")
    assert data == render_bytes(g, "pptx")  # deterministic
    prs = Presentation(io.BytesIO(data))
    assert len(prs.slides) == 1 and round(prs.slide_width / prs.slide_height, 3) == round(16 / 9, 3)
    slide = prs.slides[0]

    def walk(shapes):
        for s in shapes:
            yield s
            if s.shape_type == MSO_SHAPE_TYPE.GROUP:
                yield from walk(s.shapes)

    shapes = list(walk(slide.shapes))
    groups = [s for s in shapes if s.shape_type == MSO_SHAPE_TYPE.GROUP]
    scene = build_scene(_drawn(g))
    texts = [s.text_frame.text for s in shapes if s.has_text_frame and s.shape_type == MSO_SHAPE_TYPE.AUTO_SHAPE
             and not s.name.startswith("module ")]
    assert sorted(texts) == sorted("\n".join(b.lines) for b in scene.boxes())
    assert len(groups) == sum(1 for _ in _clusters(scene.root))
    sizes = {r.font.size.pt for s in shapes if s.has_text_frame and not s.name.startswith("module ")
             for p in s.text_frame.paragraphs for r in p.runs if s.shape_type == MSO_SHAPE_TYPE.AUTO_SHAPE}
    assert min(sizes) >= 10
    names, pairs = _connections(data)
    assert len(pairs) == len([e for e in scene.edges if not e.hidden])
    assert ("input: x\n1×3×224×224".split("\n")[0], "conv1") in {(names[a], names[b]) for a, b in pairs}


def _clusters(c):
    for ch in c.children:
        yield ch
        yield from _clusters(ch)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed (.ci/setup installs it)")
def test_libreoffice_converts_the_deck(tmp_path):
    g = netdraw.trace(cnn.LeNet5(), (InputSpec((1, 1, 28, 28)),))
    path = tmp_path / "lenet.pptx"
    path.write_bytes(render_bytes(g, "pptx", color_by="params"))
    r = subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                        "--outdir", str(tmp_path), str(path)], capture_output=True, text=True, timeout=180)
    assert (tmp_path / "lenet.pdf").exists(), r.stderr
    text = subprocess.run(["pdftotext", str(tmp_path / "lenet.pdf"), "-"], capture_output=True, text=True).stdout
    for b in build_scene(_drawn(g)).boxes():
        assert b.lines[0] in text


def test_slides_per_module_and_every_source(tmp_path):
    from pptx import Presentation

    g = _resnet18()
    prs = Presentation(io.BytesIO(render_bytes(g, "pptx", slides="modules", depth=1)))
    assert len(prs.slides) == 4  # layer1..layer4: the top-level modules
    onnx = netdraw.load(ROOT / "examples" / "resnet18.onnx")
    assert Presentation(io.BytesIO(render_bytes(onnx, "pptx"))).slides[0].shapes
    assert b"mxGraphModel" in render_bytes(onnx, "drawio", depth=1)
