"""Readable defaults: label fields, themes, width fitting, stable DOT, the suite under budget."""

from __future__ import annotations

import difflib
import re
import sys

import pytest
import torch
from torch import nn

import netdraw
from netdraw.errors import NetdrawError
from netdraw.frontends.pytorch import InputSpec
from netdraw.passes import visible_nodes
from netdraw.passes.collapse import DEFAULT_MAX_NODES
from netdraw.api import DEFAULT_MAX_WIDTH, prepare, render_bytes, svg_size
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "examples"))
import models as cnn  # noqa: E402

ENGINES = [pytest.param("native", marks=pytest.mark.dot), "wasm"]


def _labels(dot: str) -> dict[str, str]:
    return dict(re.findall(r'^\t*"n:([^"]+)" \[label="([^"]*)"', dot, re.M))


def test_label_fields_choose_what_nodes_show():
    g = netdraw.trace(cnn.resnet50(), (InputSpec((1, 3, 224, 224)),))
    dot = render_bytes(g, "dot", depth=1, label="name,type,params,flops").decode()
    lab = _labels(dot)
    # layer3: one downsampling bottleneck and five rolled ones, all counted
    assert lab["layer3"] == "layer3\\nSequential\\n7.1M params\\n1.5B MACs"
    assert lab["conv1/conv2d"] == "conv1\\nConv-BN-ReLU · 7×7 s2\\n9.5K params\\n118M MACs"
    assert " -> " in dot and "[label=" not in dot.split("\t\"i:x\" ->")[1]  # no shape field: bare edges
    lab = _labels(render_bytes(g, "dot", depth=2, label="type,flops").decode())
    # 14×14 positions: 1×1 1024->256, 3×3 256->256, 1×1 256->1024 = 196 × (262,144 + 589,824 + 262,144)
    assert lab["layer3/1"] == "Bottleneck ×5\\n218.4M MACs each"
    lab = _labels(render_bytes(g, "dot", depth=2, label="name").decode())
    assert lab["layer3/1"] == "1–5" and lab["layer3/0"] == "0"
    with pytest.raises(NetdrawError, match="invalid label field 'macs'; valid: name, type, shape, params, flops"):
        render_bytes(g, "dot", label="name,macs")


def test_dark_theme_swaps_the_palette_only(scoped_cnn):
    g = netdraw.load(scoped_cnn)
    paper = render_bytes(g, "dot").decode()
    dark = render_bytes(g, "dot", theme="dark").decode()
    assert 'bgcolor="white"' in paper and 'bgcolor="#16181D"' in dark
    assert 'fillcolor="#0F3550", color="#56A8E0"' in dark  # conv: deep fill, light Okabe-Ito blue
    strip = re.compile(r'(bg|fill|font)?color="[^"]*"')
    assert strip.sub("", paper) == strip.sub("", dark)  # same graph, same layout input


class _Net(nn.Module):
    """Named layers; ``extra`` inserts one more conv in the middle."""

    def __init__(self, extra: bool):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.body = nn.Conv2d(16, 16, 3, padding=1)
        if extra:
            self.extra = nn.Conv2d(16, 16, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(16, 10)
        self.has_extra = extra

    def forward(self, x):
        x = torch.relu(self.body(torch.relu(self.stem(x))))
        if self.has_extra:
            x = torch.relu(self.extra(x))
        return self.head(self.pool(x).flatten(1))


def test_adding_a_layer_changes_only_nearby_dot_lines():
    dots = [render_bytes(netdraw.trace(_Net(extra), (torch.randn(1, 3, 16, 16),)), "dot").decode()
            for extra in (False, True)]
    changed = [ln for ln in difflib.unified_diff(dots[0].splitlines(), dots[1].splitlines(), lineterm="", n=0)
               if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    # + the new node, + edge into it, + edge out of it, and the one edge it replaced
    assert len(changed) == 4, changed
    assert sum(ln.startswith("+") for ln in changed) == 3


@pytest.mark.parametrize("eng", ENGINES)
def test_auto_depth_fits_the_width(eng):
    g = netdraw.trace(cnn.resnet50(), (InputSpec((1, 3, 224, 224)),))
    svg = render_bytes(g, "svg", engine=eng)
    assert svg_size(svg)[0] / 72 <= DEFAULT_MAX_WIDTH
    # a narrow page forces a shallower level (stages of blocks, or stages; the engines' fonts differ)
    assert prepare(g, engine=eng).meta["collapse"]["depth"] == "leaves"
    narrow = prepare(g, engine=eng, max_width=2.0)
    assert narrow.meta["collapse"]["depth"] in (1, 2) and narrow.meta["collapse"]["auto"]
    assert svg_size(render_bytes(g, "svg", engine=eng, max_width=2.0))[0] / 72 <= 2.0
    # an explicit depth is never changed
    assert prepare(g, engine=eng, depth=3, max_width=2.0).meta["collapse"]["depth"] == 3


SUITE_CNN = ["lenet5", "alexnet", "vgg16", "resnet18", "resnet50", "unet", "mobilenet_v1"]


@pytest.mark.dot
@pytest.mark.parametrize("name", SUITE_CNN)
def test_default_render_of_the_cnns_is_under_budget_and_width(name):
    f, shape = cnn.MODELS[name]
    g = netdraw.trace(f(), (InputSpec(shape),))
    drawn = prepare(g, engine="native")
    assert len(visible_nodes(drawn)) <= DEFAULT_MAX_NODES
    svg = render_bytes(g, "svg", engine="native")
    assert svg_size(svg)[0] / 72 <= DEFAULT_MAX_WIDTH
    assert svg.count(b'class="node"') == len(visible_nodes(drawn)) + len(drawn.inputs) + len(drawn.outputs)


@pytest.mark.dot
@pytest.mark.transformers
@pytest.mark.parametrize("name", ["BertModel", "GPT2Model", "ViTModel", "ResNetModel", "T5Model", "WhisperModel",
                                  "SwinModel", "CLIPModel"])
def test_default_render_of_the_transformers_suite_is_under_budget_and_width(name):
    from tests.frontends.hf_suite import build

    model, args, kwargs = build(name)
    g = netdraw.trace(model, args, kwargs)
    drawn = prepare(g, engine="native")
    assert len(visible_nodes(drawn)) <= DEFAULT_MAX_NODES
    assert svg_size(render_bytes(g, "svg", engine="native"))[0] / 72 <= DEFAULT_MAX_WIDTH


def test_a_module_drawn_as_its_one_rolled_block_keeps_its_name():
    """ResNet-18 at depth 2: layer1 holds only its rolled block, so no box is drawn around it and the
    block says whose it is (layer1.0–1), not just 0–1."""
    import netdraw
    from netdraw import api
    from tests.conftest import ROOT

    g = netdraw.load(f"{ROOT / 'examples' / 'models.py'}:resnet18", inputs=["1x3x224x224"], mode="meta")
    dot = api.render_bytes(g, "dot", depth=2).decode()
    assert '"n:layer1/0" [label="layer1.0–1\\nBasicBlock ×2\\n74K params each"' in dot
    assert '"n:layer2/0" [label="0\\nBasicBlock' in dot  # inside layer2's box: its own name
    onnx = api.render_bytes(netdraw.load(ROOT / "examples" / "resnet18.onnx"), "dot", depth=2).decode()
    assert 'label="layer1.0–1\\n×2' in onnx and "layer1.layer1" not in onnx  # ONNX scopes carry the name
