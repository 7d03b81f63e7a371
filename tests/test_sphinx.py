"""The Sphinx extension, through real sphinx-build runs of a small docs folder."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytest.importorskip("sphinx")
from sphinx.cmd.build import build_main  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"

MODELS = '''
import torch
from torch import nn


def mlp():
    return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))


def broken():
    raise RuntimeError("weights went missing")
'''

INDEX = '''
Models
======

.. netdraw:: models.py:mlp
   :input: 1x8
   :depth: max
   :caption: A two-layer MLP.
   :alt: MLP diagram

.. netdraw:: {onnx}
   :depth: 1
   :theme: dark
   :renderer: tikz

.. netdraw:: models.py:broken
   :input: 1x8
'''


def _docs(tmp_path: Path, fail: bool = False) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    (src / "conf.py").write_text(f'extensions = ["netdraw.sphinx"]\nnetdraw_fail_on_error = {fail}\n'
                                 f'netdraw_default_options = {{"engine": "wasm"}}\n')
    (src / "models.py").write_text(MODELS)
    onnx = src / "resnet18.onnx"
    shutil.copy(ROOT / "examples" / "resnet18.onnx", onnx)
    (src / "index.rst").write_text(INDEX.format(onnx="resnet18.onnx"))
    return src


def _build(src: Path, out: Path, builder: str = "html", *extra: str) -> tuple[int, str]:
    warnings = out.parent / f"warnings-{builder}-{out.name}.txt"
    code = build_main(["-b", builder, "-q", "-w", str(warnings), *extra, str(src), str(out)])
    return code, warnings.read_text() if warnings.exists() else ""


def test_html_build_draws_models_and_reports_failures(tmp_path):
    src = _docs(tmp_path)
    code, warnings = _build(src, tmp_path / "html")
    assert code == 0
    # the failing model is named, with its reason, on one line, and the build goes on
    assert re.search(r"index.rst:\d+: WARNING: netdraw: cannot draw models.py:broken: \S*models.py:broken: "
                     r"calling broken\(\) failed \(RuntimeError: weights went missing\)\n", warnings), warnings
    assert warnings.count("\n") == 1
    html = (tmp_path / "html" / "index.html").read_text()
    imgs = re.findall(r'<img alt="([^"]*)" src="(_images/[^"]+)"', html)
    assert [alt for alt, _ in imgs] == ["MLP diagram", "diagram of resnet18.onnx"]
    assert "A two-layer MLP." in html and "cannot draw models.py:broken" in html
    mlp = ET.parse(tmp_path / "html" / imgs[0][1]).getroot()
    shapes = [g for g in mlp.iter(f"{SVG}g") if g.get("class") == "node"]
    assert len(shapes) == 2 + 1 + 1  # Linear-ReLU folded, Linear, input, output
    dark = (tmp_path / "html" / imgs[1][1]).read_text()
    assert 'fill="#16181d"' in dark.lower()


def test_rebuild_redraws_nothing_unchanged(tmp_path):
    src = _docs(tmp_path)
    out = tmp_path / "html"
    assert _build(src, out)[0] == 0
    drawn = {p: p.stat().st_mtime_ns for p in (out / ".doctrees" / "netdraw").iterdir()}
    assert len(drawn) == 2
    assert _build(src, out, "html", "-E")[0] == 0  # every page re-read: the cache answers
    assert {p: p.stat().st_mtime_ns for p in (out / ".doctrees" / "netdraw").iterdir()} == drawn
    (src / "models.py").write_text(MODELS.replace("nn.Linear(16, 4)", "nn.Linear(16, 5)"))
    assert _build(src, out)[0] == 0  # the page depends on models.py: re-read, one new diagram
    assert len(list((out / ".doctrees" / "netdraw").iterdir())) == 3


def test_fail_on_error_fails_the_build(tmp_path):
    src = _docs(tmp_path, fail=True)
    code, warnings = _build(src, tmp_path / "html")
    assert code != 0


@pytest.mark.tex
def test_latex_build_gets_pdf(tmp_path):
    src = _docs(tmp_path)
    code, _ = _build(src, tmp_path / "latex", "latex")
    assert code == 0
    tex = next((tmp_path / "latex").glob("*.tex")).read_text()
    pdfs = re.findall(r"\\sphinxincludegraphics(?:\[[^]]*\])?\{\{([^}]+)\}\.pdf\}", tex)
    assert len(pdfs) == 2
    for stem in pdfs:
        assert (tmp_path / "latex" / f"{stem}.pdf").read_bytes().startswith(b"%PDF")
    # :renderer: tikz: the ONNX ResNet's figure is the TikZ one, compiled by pdflatex (a PDF 1.5 with
    # pdfTeX as its producer), the MLP's is Graphviz's
    onnx_pdf = next(p for p in pdfs if "resnet18" in p)
    assert b"pdfTeX" in (tmp_path / "latex" / f"{onnx_pdf}.pdf").read_bytes()


@pytest.mark.transformers
def test_the_docs_gallery_builds_without_warnings(tmp_path):
    """docs/ itself: every gallery diagram is drawn by the build (netdraw_fail_on_error is on)."""
    code, warnings = _build(ROOT / "docs", tmp_path / "html", "html", "-d", str(tmp_path / "doctrees"))
    assert code == 0 and warnings == "", warnings
    html = (tmp_path / "html" / "gallery.html").read_text()
    alts = re.findall(r'<img alt="([^"]*)" src="_images/[^"]+\.svg"', html)
    assert alts == ["LeNet-5", "ResNet-50 stages", "U-Net", "BERT-base", "GPT-2", "ViT-Base", "ResNet-18 from ONNX"]
    bert = next((tmp_path / "html" / "_images").glob("gallery_models_bert_base-*.svg")).read_text()
    assert "layer.0–11 · BertLayer ×12" in bert


def test_html_format_embeds_the_interactive_view_and_writes_its_runtime_once(tmp_path):
    from netdraw.renderers.html import runtime_js

    src = _docs(tmp_path)
    (src / "index.rst").write_text(".. toctree::\n\n   sub/views\n")
    (src / "sub").mkdir()
    (src / "sub" / "views.rst").write_text("Views\n=====\n\n.. netdraw:: ../models.py:mlp\n   :input: 1x8\n"
                                          "   :format: html\n\n.. netdraw:: ../resnet18.onnx\n   :format: html\n")
    code, warnings = _build(src, tmp_path / "html")
    assert code == 0 and warnings == ""
    html = (tmp_path / "html" / "sub" / "views.html").read_text()
    assert html.count('<div class="netdraw-view"') == 2
    assert html.count('<script src="../_static/netdraw-view.js"></script>') == 2 and "WASM_B64" not in html
    assert (tmp_path / "html" / "_static" / "netdraw-view.js").read_text() == runtime_js()
    assert re.findall(r'id="(netdraw-view-\d+)"', html) == ["netdraw-view-0", "netdraw-view-1"]


@pytest.mark.chromium
def test_the_docs_page_views_work_in_chromium(tmp_path):
    from tests.htmljs import drive

    src = _docs(tmp_path)
    (src / "index.rst").write_text("Views\n=====\n\n.. netdraw:: models.py:mlp\n   :input: 1x8\n   :depth: max\n"
                                   "   :format: html\n\n.. netdraw:: resnet18.onnx\n   :format: html\n")
    assert _build(src, tmp_path / "html")[0] == 0
    out = drive(tmp_path / "html" / "index.html", [
        {"js": "await window.__netdrawIdle(); return netdrawViews.map(v => v.visible().length)"},
        {"js": "await netdrawViews[1].collapse('layer1'); return netdrawViews[1].visible().includes('layer1')"},
    ], allow=tmp_path / "html")
    assert out["errors"] == [] and out["requests"] == []
    assert out["results"][0][0] == 2 + 1 + 1 and out["results"][0][1] > 20 and out["results"][1] is True
