"""Caffe files as people have them: the BVLC and SqueezeNet definitions in ../shared/data/caffe, their
train_val variants (data layers per phase, a loss, an accuracy), shared weights, --input, custom layers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import netdraw
from netdraw.cli import run
from netdraw.frontends.caffe import from_text
from netdraw.passes import visible_nodes
from tests.conftest import ROOT

SHARED = ROOT.parent / "shared" / "data" / "caffe"
#: the published totals (../shared/data/caffe/README.md)
TOTALS = {
    "bvlc/bvlc_alexnet-deploy.prototxt": 60_965_224,
    "bvlc/bvlc_googlenet-deploy.prototxt": 6_998_552,
    "bvlc/bvlc_reference_caffenet-deploy.prototxt": 60_965_224,
    "bvlc/lenet.prototxt": 431_080,
    "squeezenet/squeezenet_v1.0-deploy.prototxt": 1_248_424,
}


def deploy(rel: str) -> str:
    path = SHARED / rel
    assert path.is_file(), f"{path} is missing: the Caffe test data lives in ../shared/data/caffe"
    return path.read_text()


def train_val(rel: str, crop: int) -> str:
    """The deploy file as its train_val.prototxt has it: Data layers per phase instead of the Input,
    a SoftmaxWithLoss on the last scores and an Accuracy in TEST only."""
    text = deploy(rel)
    data = f"""
layer {{ name: "data" type: "Data" top: "data" top: "label" include {{ phase: TRAIN }}
  transform_param {{ mirror: true crop_size: {crop} mean_value: 104 mean_value: 117 mean_value: 123 }}
  data_param {{ source: "train_lmdb" batch_size: 256 backend: LMDB }} }}
layer {{ name: "data" type: "Data" top: "data" top: "label" include {{ phase: TEST }}
  transform_param {{ mirror: false crop_size: {crop} mean_value: 104 mean_value: 117 mean_value: 123 }}
  data_param {{ source: "val_lmdb" batch_size: 50 backend: LMDB }} }}
"""
    text = re.sub(r'layer \{\s*name: "data"\s*type: "Input".*?\n\}\n', data, text, count=1, flags=re.S)
    text = re.sub(r'input: "data"\s*input_shape \{.*?\}\n', data, text, count=1, flags=re.S)
    scores = re.findall(r'bottom: "([^"]+)"\s*top: "prob"', text)[-1]
    return text + f"""
layer {{ name: "accuracy" type: "Accuracy" bottom: "{scores}" bottom: "label" top: "accuracy" include {{ phase: TEST }} }}
layer {{ name: "loss" type: "SoftmaxWithLoss" bottom: "{scores}" bottom: "label" top: "loss" }}
"""


@pytest.mark.parametrize("rel", sorted(TOTALS))
def test_every_shared_file_gives_its_published_total(rel):
    g = from_text(deploy(rel), rel)
    assert g.summary()["params"] == TOTALS[rel]
    assert "notices" not in g.meta and "warnings" not in g.meta


@pytest.mark.parametrize("rel, crop", [("bvlc/bvlc_alexnet-deploy.prototxt", 227),
                                       ("bvlc/bvlc_reference_caffenet-deploy.prototxt", 227),
                                       ("bvlc/bvlc_googlenet-deploy.prototxt", 224),
                                       ("squeezenet/squeezenet_v1.0-deploy.prototxt", 227)])
def test_train_val_variants_load_in_both_phases(rel, crop):
    text = train_val(rel, crop)
    test = from_text(text, "train_val.prototxt")
    train = from_text(text, "train_val.prototxt", phase="train")
    for g, batch in ((test, 50), (train, 256)):
        assert g.summary()["params"] == TOTALS[rel]
        assert [(v.name, v.shape) for v in g.inputs] == [("data", (batch, 3, crop, crop)), ("label", (batch,))]
        assert g.node("loss").outputs[0].shape == ()
    assert sorted(v.name for v in test.outputs) == ["accuracy", "loss", "prob"]
    assert sorted(v.name for v in train.outputs) == ["loss", "prob"]  # the accuracy is a TEST layer


def test_googlenet_train_val_default_render_is_its_stages_and_inception_blocks():
    drawn = netdraw.prepare(from_text(train_val("bvlc/bvlc_googlenet-deploy.prototxt", 224), "train_val.prototxt"))
    names = [n.name for n in visible_nodes(drawn)]
    assert len(names) <= 60
    assert [n for n in names if n.startswith("inception")] == [
        "inception_3a", "inception_3b", "inception_4a", "inception_4b", "inception_4c", "inception_4d",
        "inception_4e", "inception_5a", "inception_5b"]
    assert drawn.node("inception_3a").meta["group"]["nodes"] == 8  # 6 convolutions (ReLUs merged), a pool, a concat


def test_resnet_style_names_group_by_block():
    text = 'input: "data" input_shape { dim: 1 dim: 8 dim: 8 dim: 8 }\n'
    for name, bottom in (("res2a_branch1", "data"), ("bn2a_branch1", "res2a_branch1"),
                         ("res2a_branch2a", "data"), ("bn2a_branch2a", "res2a_branch2a")):
        kind = "BatchNorm" if name.startswith("bn") else "Convolution"
        param = ' convolution_param { num_output: 8 kernel_size: 1 }' if kind == "Convolution" else ""
        top = bottom if kind == "BatchNorm" else name
        text += f'layer {{ name: "{name}" type: "{kind}" bottom: "{bottom}" top: "{top}"{param} }}\n'
    text += 'layer { name: "res2a" type: "Eltwise" bottom: "res2a_branch1" bottom: "res2a_branch2a" top: "res2a" }\n'
    text += 'layer { name: "res2a_relu" type: "ReLU" bottom: "res2a" top: "res2a" }\n'
    text += 'layer { name: "pool" type: "Pooling" bottom: "res2a" top: "pool" pooling_param { kernel_size: 2 stride: 2 } }\n'
    g = from_text(text, "res.prototxt")
    assert [n.scope for n in g.nodes] == [("res2a", "res2a_branch1"), ("res2a", "res2a_branch2a"), ("res2a",),
                                          ("pool",)]
    assert [n.name for n in visible_nodes(netdraw.prepare(g, depth=1))] == ["res2a", "pool"]


def test_a_siamese_net_counts_its_shared_weights_once():
    tower = """
layer {{ name: "conv1{s}" type: "Convolution" bottom: "data{s}" top: "conv1{s}"
  param {{ name: "conv1_w" }} param {{ name: "conv1_b" }} convolution_param {{ num_output: 20 kernel_size: 5 }} }}
layer {{ name: "ip1{s}" type: "InnerProduct" bottom: "conv1{s}" top: "ip1{s}"
  param {{ name: "ip1_w" }} param {{ name: "ip1_b" }} inner_product_param {{ num_output: 10 }} }}
"""
    data = """layer { name: "pair" type: "Data" top: "pair_data" top: "sim"
  transform_param { scale: 0.0039 } data_param { source: "pairs" batch_size: 64 } }
layer { name: "slice" type: "Slice" bottom: "pair_data" top: "data" top: "data_p" slice_param { slice_dim: 1 slice_point: 1 } }
"""
    loss = 'layer { name: "loss" type: "ContrastiveLoss" bottom: "ip1" bottom: "ip1_p" bottom: "sim" top: "loss" }\n'
    one = from_text(tower.format(s=""), "tower.prototxt", inputs=["data=64x1x28x28"])
    both = from_text(data + tower.format(s="") + tower.format(s="_p") + loss, "siamese.prototxt",
                     inputs=["pair_data=64x2x28x28"])
    assert one.summary()["params"] == both.summary()["params"] == 20 * 25 + 20 + 20 * 24 * 24 * 10 + 10
    assert both.node("conv1_p").attrs["shares"] == ["conv1_w", "conv1_b"] and "shares" not in both.node("conv1").attrs
    assert "shares conv1_w, conv1_b" in netdraw.render_bytes(both, "dot", depth="max").decode()


def test_data_layers_shapes_and_notices():
    text = """
layer { name: "dummy" type: "DummyData" top: "a" top: "b" dummy_data_param { shape { dim: 4 dim: 3 dim: 8 dim: 8 } shape { dim: 4 } } }
layer { name: "mem" type: "MemoryData" top: "m" top: "ml" memory_data_param { batch_size: 2 channels: 1 height: 28 width: 28 } }
layer { name: "img" type: "ImageData" top: "i" top: "il" image_data_param { source: "x.txt" batch_size: 5 new_height: 32 new_width: 48 } }
layer { name: "grey" type: "Data" top: "g" transform_param { crop_size: 20 mean_value: 128 } data_param { batch_size: 3 } }
layer { name: "h5" type: "HDF5Data" top: "h" hdf5_data_param { source: "x.txt" batch_size: 7 } }
layer { name: "py" type: "Python" top: "p" python_param { module: "m" layer: "L" } }
"""
    g = from_text(text, "data.prototxt")
    assert [(v.name, v.shape) for v in g.inputs] == [
        ("a", (4, 3, 8, 8)), ("b", (4,)), ("m", (2, 1, 28, 28)), ("ml", (2,)), ("i", (5, 3, 32, 48)), ("il", (5,)),
        ("g", (3, 1, 20, 20)), ("h", None), ("p", None)]
    assert g.meta["notices"] == [
        "layer 'img': 3 channels assumed (the file gives no mean_value); --input sets the shape",
        "layer 'h5': the data's size is not in the file (drawn as ?); give it with --input 1x3x227x227"]


def test_custom_layers_are_drawn_opaque():
    text = 'input: "x" input_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n' \
           'layer { name: "mine" type: "MyCustomLayer" bottom: "x" top: "y" }\n' \
           'layer { name: "mine2" type: "MyInPlace" bottom: "y" top: "y" }\n' \
           'layer { name: "own" type: "MyInPlace" bottom: "x" top: "x" }\n'
    g = from_text(text, "c.prototxt")
    assert [(n.name, n.op_type, n.outputs[0].shape) for n in g.nodes] == [
        ("mine", "MyCustomLayer", None), ("mine2", "MyInPlace", None), ("own", "MyInPlace", (1, 3, 8, 8))]


def test_cli_phase_stage_input_and_hide(tmp_path, capsys):
    f = tmp_path / "train_val.prototxt"
    f.write_text(train_val("bvlc/bvlc_alexnet-deploy.prototxt", 227))
    assert run(["inspect", str(f), "--json", "--phase", "train", "--input", "data=8x3x227x227"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["inputs"][0] == {"name": "data", "shape": [8, 3, 227, 227], "dtype": "float32"}
    assert s["ops"].get("Accuracy") is None and s["ops"]["SoftmaxWithLoss"] == 1
    out = tmp_path / "a.dot"
    assert run(["render", str(f), "-o", str(out), "--hide", "Accuracy", "--depth", "max"]) == 0
    assert "accuracy" not in out.read_text().lower()
    assert run(["inspect", str(f), "--input", "nope=1x3x8x8"]) == 2
    assert "has no data blob named 'nope'" in capsys.readouterr().err
    assert run(["inspect", str(f), "--input", "1x0x8"]) == 2
    staged = tmp_path / "staged.prototxt"
    staged.write_text('input: "x" input_shape { dim: 1 dim: 3 }\n'
                      'layer { name: "a" type: "ReLU" bottom: "x" top: "a" include { stage: "deploy" } }\n'
                      'layer { name: "b" type: "TanH" bottom: "x" top: "b" exclude { stage: "deploy" } }\n')
    for stage, op in ((["--stage", "deploy"], "ReLU"), ([], "TanH")):
        assert run(["inspect", str(staged), "--json", *stage]) == 0
        assert list(json.loads(capsys.readouterr().out)["ops"]) == [op]


def test_netspec_takes_input_too(tmp_path, capsys):
    spec = ROOT / "examples" / "netspec" / "lenet5.netspec"
    assert run(["inspect", str(spec), "--json", "--input", "1x32x32"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["inputs"][0]["shape"] == [1, 1, 32, 32]
    assert run(["inspect", str(spec), "--input", "1x2x3x4"]) == 2
    assert "write it as the input line does" in capsys.readouterr().err


def test_the_bundled_examples():
    lenet = ROOT / "examples" / "caffe" / "lenet_train_test.prototxt"
    for phase, batch in (("test", 100), ("train", 64)):
        g = netdraw.load(lenet, phase=phase, inputs=[f"{batch}x1x28x28"])
        assert g.summary()["params"] == TOTALS["bvlc/lenet.prototxt"]
        assert [(v.name, v.shape) for v in g.inputs] == [("data", (batch, 1, 28, 28)), ("label", (batch,))]
    siamese = netdraw.load(ROOT / "examples" / "caffe" / "siamese.prototxt", inputs=["pair_data=64x2x28x28"])
    assert siamese.summary()["params"] == 20 * 25 + 20 + 20 * 12 * 12 * 10 + 10  # one tower's
    assert [v.name for v in siamese.outputs] == ["loss"]


def test_an_unknown_input_shape_still_counts_what_does_not_depend_on_it():
    g = from_text((ROOT / "examples" / "caffe" / "lenet_train_test.prototxt").read_text(), "lenet.prototxt")
    assert g.inputs[0].shape is None and g.node("conv1").outputs[0].shape is None
    assert g.summary()["params"] == 20 + 50 + 500 + 10  # the biases; the weights need the input's size
    assert g.meta["notices"] == ["layer 'mnist': the data's size is not in the file (drawn as ?); give it with "
                                 "--input 1x3x227x227"]
