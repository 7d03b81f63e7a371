"""PyTorch sources as the CLI names them: factories, TorchScript, .pt2, pickles, input specs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from netdraw.cli import run
from netdraw.errors import NetdrawError
from netdraw.frontends.pytorch import InputSpec
from netdraw.frontends.pytorch_source import is_spec, load_source, parse_input
from tests.conftest import ROOT

MODELS_PY = str(ROOT / "examples" / "models.py")
sys.path.insert(0, str(ROOT / "examples"))
import models as cnn  # noqa: E402


def test_input_specs(tmp_path):
    assert parse_input("1x3x224x224") == InputSpec((1, 3, 224, 224), torch.float32)
    assert parse_input("1x16:int64") == InputSpec((1, 16), torch.int64)
    np.save(tmp_path / "x.npy", np.ones((2, 3), dtype=np.float32))
    assert torch.equal(parse_input(str(tmp_path / "x.npy")), torch.ones(2, 3))
    torch.save(torch.zeros(4), tmp_path / "t.pt")
    assert torch.equal(parse_input(str(tmp_path / "t.pt")), torch.zeros(4))
    with pytest.raises(NetdrawError, match="invalid input '1x3y'"):
        parse_input("1x3y")
    with pytest.raises(NetdrawError, match="invalid input dtype 'complex7'"):
        parse_input("1x3:complex7")
    with pytest.raises(NetdrawError, match="no such input tensor file"):
        parse_input(str(tmp_path / "missing.npy"))


def test_spec_detection():
    assert is_spec("examples/models.py:resnet18") and is_spec("torch.nn:ReLU")
    assert not is_spec("model.onnx") and not is_spec("dir/notes.txt")


def test_file_factory_and_module_factory():
    g = load_source(f"{MODELS_PY}:LeNet5", inputs=["1x1x28x28"])
    assert g.summary()["params"] == 61706 and g.name == "LeNet5"
    g = load_source("torch.nn:Flatten", inputs=["2x3x4"])
    assert [n.op_type for n in g.nodes] == ["flatten"] and g.outputs[0].shape == (2, 12)


def test_a_factory_gives_the_same_weights_in_every_call_and_leaves_the_rng_alone():
    from netdraw.frontends.pytorch_source import load_module

    torch.manual_seed(123)
    state = torch.random.get_rng_state()
    a, b = load_module(f"{MODELS_PY}:LeNet5"), load_module(f"{MODELS_PY}:LeNet5")
    assert torch.equal(torch.random.get_rng_state(), state)  # the caller's generator is untouched
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)
    torch.manual_seed(0)
    assert all(torch.equal(p, q) for p, q in zip(cnn.LeNet5().parameters(), a.parameters()))  # seeded with 0


def test_meta_device_builds_no_weights():
    g = load_source(f"{MODELS_PY}:vgg16", inputs=["1x3x224x224"], device="meta")
    assert g.summary()["params"] == 138_357_544
    assert g.meta["source"]["mode"] == "meta"


def test_torchscript_and_pt2(tmp_path):
    model = cnn.LeNet5().eval()
    torch.jit.script(model).save(str(tmp_path / "lenet.pt"))
    g = load_source(str(tmp_path / "lenet.pt"), inputs=["1x1x28x28"])
    assert g.meta["source"]["format"] == "torchscript"
    assert g.summary()["params"] == 61706
    # the model's names, not the exporter's (`x.1`, `22`, `main_graph`)
    assert [v.name for v in g.inputs] == ["x"] and [v.name for v in g.outputs] == ["output"]
    assert g.name == "lenet"
    ep = torch.export.export(model, (torch.randn(1, 1, 28, 28),))
    torch.export.save(ep, str(tmp_path / "lenet.pt2"))
    g = load_source(str(tmp_path / "lenet.pt2"))
    assert g.meta["source"]["capture"] == "export"
    assert g.summary()["params"] == 61706
    assert g.outputs[0].shape == (1, 10)


def test_pickles_need_trust(tmp_path):
    torch.save(cnn.LeNet5(), tmp_path / "whole.pt")
    before = (tmp_path / "whole.pt").read_bytes()
    with pytest.raises(NetdrawError, match="pickled Python object.*--trust"):
        load_source(str(tmp_path / "whole.pt"), inputs=["1x1x28x28"])
    g = load_source(str(tmp_path / "whole.pt"), inputs=["1x1x28x28"], trust=True)
    assert g.summary()["params"] == 61706
    assert (tmp_path / "whole.pt").read_bytes() == before
    torch.save(cnn.LeNet5().state_dict(), tmp_path / "weights.pt")
    with pytest.raises(NetdrawError, match=r"holds tensors \(a state_dict\), not a model to run; --input does not"):
        load_source(str(tmp_path / "weights.pt"), inputs=["1x1x28x28"])
    g = load_source(str(tmp_path / "weights.pt"))  # a state_dict alone: its structure
    assert g.meta["structure"] and g.summary()["params"] == 61706


def test_cli_with_a_pytorch_source(tmp_path, capsys):
    assert run(["inspect", f"{MODELS_PY}:resnet18", "--input", "1x3x224x224", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["params"] == 11_689_512 and s["outputs"][0]["shape"] == [1, 1000]
    out = tmp_path / "r.svg"
    assert run(["render", f"{MODELS_PY}:resnet18", "--input", "1x3x224x224", "-o", str(out), "--engine", "wasm",
                "--depth", "1"]) == 0
    # 9 modules and ops (conv1, bn1 and relu folded into one Conv-BN-ReLU), input, output
    assert out.read_bytes().count(b'class="node"') == 11


def test_cli_keyword_inputs(tmp_path, capsys):
    (tmp_path / "tiny.py").write_text(
        "import torch\n"
        "class Tiny(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.emb = torch.nn.Embedding(50, 8)\n"
        "    def forward(self, input_ids, attention_mask=None):\n"
        "        return self.emb(input_ids) * attention_mask.unsqueeze(-1)\n")
    assert run(["inspect", f"{tmp_path / 'tiny.py'}:Tiny", "--kwarg", "input_ids=2x5:int64",
                "--kwarg", "attention_mask=2x5", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert s["inputs"] == [{"name": "input_ids", "shape": [2, 5], "dtype": "int64"},
                           {"name": "attention_mask", "shape": [2, 5], "dtype": "float32"}]
    assert s["params"] == 400 and s["outputs"][0]["shape"] == [2, 5, 8]


@pytest.mark.parametrize("args,message", [
    (["render", f"{MODELS_PY}:resnet18", "-o", "x.svg"], "needs example inputs"),
    (["render", f"{MODELS_PY}:nope", "--input", "1x3", "-o", "x.svg"], "has no attribute 'nope'"),
    (["render", "no/such/file.py:model", "--input", "1x3", "-o", "x.svg"], "no such file"),
    (["render", f"{MODELS_PY}:resnet18", "--input", "1x3x7", "-o", "x.svg"], "the model failed to run"),
    (["render", f"{MODELS_PY}:resnet18", "--input", "1x3x224x224", "--kwarg", "=3", "-o", "x.svg"],
     "invalid --kwarg"),
    (["render", str(ROOT / "examples" / "resnet18.onnx"), "--input", "1x3", "-o", "x.svg"],
     "inputs for an ONNX model are used only with thumbnails"),
    (["render", f"{MODELS_PY}:LeNet5", "--input", "0x1x28x28", "-o", "x.svg"],
     "invalid input '0x1x28x28': every size must be from 1 to 2,147,483,648"),
    (["render", f"{MODELS_PY}:LeNet5", "--input", "1x" + "9" * 400, "-o", "x.svg"], "invalid input '1x999"),
    (["deconv", f"{MODELS_PY}:LeNet5", "--layer", "features.0", "--input", "x3.npy", "-o", "x.svg"],
     "the model failed to run on the input: RuntimeError: Given groups=1, weight of size [6, 1, 5, 5]"),
])
def test_cli_errors(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "x3.npy", np.zeros((1, 3, 28, 28), np.float32))  # three channels for a one-channel model
    assert run(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "x.svg").exists()


def test_an_image_has_the_channels_of_the_models_first_convolution(tmp_path):
    from PIL import Image

    from netdraw.frontends.pytorch_source import input_hint, load_traced

    Image.new("RGB", (40, 30), (200, 100, 50)).save(tmp_path / "colour.png")
    Image.new("L", (40, 30), 128).save(tmp_path / "grey.png")
    assert input_hint(cnn.LeNet5()) == (1, 1, None, None) and input_hint(cnn.resnet18()) == (1, 3, None, None)
    for name in ("colour.png", "grey.png"):
        g, _, args, _ = load_traced(f"{MODELS_PY}:LeNet5", inputs=[str(tmp_path / name)], image=_prep(28))
        assert tuple(args[0].shape) == (1, 1, 28, 28) and g.inputs[0].shape == (1, 1, 28, 28)
    _, _, args, _ = load_traced(f"{MODELS_PY}:resnet18", inputs=[str(tmp_path / "grey.png")], mode="meta")
    assert tuple(args[0].shape) == (1, 3, 224, 224)


def _prep(size):
    from netdraw.frontends.images import ImagePrep

    return ImagePrep(size=(size, size))


@pytest.mark.parametrize("thumbnails", [False, True])
def test_file_sources_give_the_same_ir_in_every_process(tmp_path, thumbnails):
    """The module made from file.py is named after the file, never after the per-run hash(); its
    random weights are drawn from a seeded generator, so its thumbnails are the same too."""
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"m{seed}.json"
        r = subprocess.run([sys.executable, "-m", "netdraw", "render", f"{MODELS_PY}:LeNet5", "--input", "1x1x28x28",
                            *(["--thumbnails"] if thumbnails else []), "-o", str(out)],
                           capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": seed})
        assert r.returncode == 0, r.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    doc = json.loads(outs[0])
    assert doc["graph"]["meta"]["model_type"] == "models.LeNet5"
    records = [v["meta"]["activation"] for v in doc["graph"]["values"] if "activation" in v.get("meta", {})]
    assert len(records) == (13 if thumbnails else 0)  # the input and the 12 ops
