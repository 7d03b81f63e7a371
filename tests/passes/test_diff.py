"""netdraw diff: structure, shapes and parameters of two models; two checkpoints weight by weight."""

from __future__ import annotations

import json
import subprocess
import sys
import types
import warnings

import pytest
import torch
from torch import nn

import netdraw
from netdraw.api import diff, diff_bytes, diff_expand
from netdraw.frontends.pytorch import InputSpec
from tests.frontends.hf_suite import small_bert, trace_bert
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "examples"))
import models as cnn  # noqa: E402

MODELS = f"{ROOT / 'examples' / 'models.py'}"


def _resnet50(se: bool = False):
    torch.manual_seed(0)
    m = cnn.resnet50()
    if se:
        for name, block in m.named_modules():
            if type(block).__name__ == "Bottleneck":
                c = block.conv3.out_channels
                block.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(c, c // 16, 1), nn.ReLU(),
                                         nn.Conv2d(c // 16, c, 1), nn.Sigmoid())
                plain = block.forward

                def forward(self, x, plain=plain):
                    out = plain(x)
                    return out * self.se(out)

                block.forward = types.MethodType(forward, block)
    return netdraw.trace(m, (InputSpec((1, 3, 224, 224)),))


def test_identical_models_are_equal():
    g = _resnet50()
    d = diff(g, g)
    assert d.equal and d.ops == {"same": 175, "changed": 0, "added": 0, "removed": 0} and diff_expand(d) == []


def test_squeeze_excitation_blocks_are_added():
    d = diff(_resnet50(), _resnet50(se=True))
    added = d.to_json()["modules"]["added"]
    assert len(added) == 16 and all(p.endswith(".se") for p in added) and "layer1.0.se" in added
    assert d.ops["added"] == 16 * 6 and d.ops["removed"] == 0 and d.ops["changed"] == 0  # pool, 2 convs, relu, sigmoid, mul
    assert not d.equal
    dot = diff_bytes(d, "dot").decode()
    assert dot.count('fillcolor="#D5F0E6"') >= 1 and "+ se" in dot and 'label="layer1 · Sequential"' in dot
    # modules with no change stay one box: every stage opens (it holds SE blocks), nothing else
    assert sorted(diff_expand(d))[:3] == ["layer1", "layer1/0", "layer1/1"]


def _bert(layers=2, ffn=128):
    torch.manual_seed(0)
    return small_bert(layers=layers, ffn=ffn)


def _trace_bert(model):
    return trace_bert(model, mask=False)


@pytest.mark.transformers
def test_bert_with_one_more_layer_and_a_wider_ffn():
    d = diff(_trace_bert(_bert(2, 128)), _trace_bert(_bert(3, 256)))
    j = d.to_json()
    assert j["modules"]["added"] == ["encoder.layer.2"]
    assert j["changes"]["encoder/layer.0/intermediate/dense/linear"] == ["1×16×128→1×16×256", "params 8.3K→16.6K"]
    assert j["changes"]["encoder/layer.0/output/dense/linear"] == ["params 8.3K→16.4K"]
    assert d.ops["removed"] == 0 and d.params[1] > d.params[0]


class LoRA(nn.Module):
    def __init__(self, base: nn.Linear, r: int = 4) -> None:
        super().__init__()
        self.base = base
        self.lora_A = nn.Linear(base.in_features, r, bias=False)
        self.lora_B = nn.Linear(r, base.out_features, bias=False)

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x))


@pytest.mark.transformers
def test_lora_adapters_are_added_around_the_projections():
    plain = _bert()
    before = _trace_bert(plain)
    for layer in plain.encoder.layer:
        layer.attention.self.query = LoRA(layer.attention.self.query)
        layer.attention.self.value = LoRA(layer.attention.self.value)
    d = diff(before, _trace_bert(plain))
    added = d.to_json()["modules"]["added"]
    assert {f"encoder.layer.{i}.attention.self.{p}.lora_{ab}" for i in range(2) for p in ("query", "value")
            for ab in "AB"} <= set(added)
    assert d.ops["removed"] == 0 and d.ops["changed"] == 0   # the projections moved into .base, unchanged
    assert d.ops["added"] == 2 * 2 * 3                      # lora_A, lora_B and the add, per wrapped projection


def test_a_model_equals_its_own_onnx_export(tmp_path):
    torch.manual_seed(0)
    model = cnn.LeNet5().eval()
    x = torch.randn(1, 1, 28, 28)
    path = tmp_path / "lenet.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (x,), str(path), dynamo=False, input_names=["x"])
    d = diff(netdraw.trace(model, (x,)), netdraw.load(path))
    assert d.equal, d.to_json()
    r = subprocess.run([sys.executable, "-m", "netdraw", "diff", f"{MODELS}:LeNet5", str(path), "--input", "1x1x28x28",
                        "-o", "-", "--format", "json", "--exit-code"], capture_output=True, text=True)
    assert r.returncode == 0 and json.loads(r.stdout)["equal"] is True


def test_the_cli_exit_code_and_every_format(tmp_path):
    a, b = f"{MODELS}:resnet18", f"{MODELS}:resnet50"
    r = subprocess.run([sys.executable, "-m", "netdraw", "diff", a, b, "--input", "1x3x224x224", "-o",
                        str(tmp_path / "d.svg"), "--exit-code"], capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    svg = (tmp_path / "d.svg").read_text()
    assert 'id="diff-legend"' in svg and "ResNet → ResNet" in svg
    d = diff(_resnet50(), _resnet50(se=True))
    assert b"+ se" in diff_bytes(d, "mermaid")
    assert "+ se" in diff_bytes(d, "tex", style="graph").decode()
    html = diff_bytes(d, "html").decode()
    assert "#D5F0E6" in html and "+ se" in html


def test_two_checkpoints_rank_the_changed_layer_first(tmp_path):
    torch.manual_seed(0)
    state = {k: v.clone() for k, v in cnn.resnet18().state_dict().items()}
    torch.save(state, tmp_path / "a.pt")
    state["layer3.1.conv2.weight"] += 0.5 * torch.randn_like(state["layer3.1.conv2.weight"])
    state["fc.weight"] += 0.001 * torch.randn_like(state["fc.weight"])
    torch.save(state, tmp_path / "b.pt")
    r = subprocess.run([sys.executable, "-m", "netdraw", "diff", str(tmp_path / "a.pt"), str(tmp_path / "b.pt"),
                        "-o", "-", "--format", "json", "--exit-code"], capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    top = json.loads(r.stdout)["top"]
    assert [t["module"] for t in top[:2]] == ["layer3.1.conv2", "fc"] and top[2]["change"] == 0
    out = tmp_path / "w.svg"
    r = subprocess.run([sys.executable, "-m", "netdraw", "diff", str(tmp_path / "a.pt"), str(tmp_path / "b.pt"),
                        "--model", f"{MODELS}:resnet18", "--input", "1x3x224x224", "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "relative weight change" in out.read_text()
    assert r.stderr.splitlines()[0].startswith("netdraw: 1. layer3.1.conv2: ")
