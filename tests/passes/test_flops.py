"""MACs against hand-computed values and published totals."""

from __future__ import annotations

import sys

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import netdraw
from netdraw.frontends.pytorch import InputSpec
from netdraw.passes.flops import count_flops
from netdraw.api import prepare
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "examples"))
import models as cnn  # noqa: E402


class Ops(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x, t, a, b, q, k, v):
        y = self.up(F.max_pool2d(self.dw(self.conv(x)), 2))
        return y, self.fc(t), a @ b, F.scaled_dot_product_attention(q, k, v)


def test_hand_computed_macs():
    args = (torch.randn(1, 3, 8, 8), torch.randn(1, 5, 16), torch.randn(2, 3, 4), torch.randn(2, 4, 5),
            torch.randn(1, 2, 6, 8), torch.randn(1, 2, 7, 8), torch.randn(1, 2, 7, 4))
    g = netdraw.trace(Ops(), args)
    total = count_flops(g)
    macs = {n.op_type: n.meta["flops"] for n in g.nodes}
    assert [n.meta["flops"] for n in g.nodes if n.op_type == "conv2d"] == [
        8 * 8 * 8 * (3 * 3 * 3),  # 512 outputs x 27 products
        8 * 8 * 8 * (1 * 3 * 3),  # depthwise: 9 products per output
    ]
    assert macs["conv_transpose2d"] == 8 * 4 * 4 * (4 * 2 * 2)  # each input spread over 4 channels x 2x2
    assert macs["linear"] == 5 * 10 * 16
    assert macs["matmul"] == 2 * 3 * 5 * 4
    assert macs["scaled_dot_product_attention"] == 2 * 6 * 7 * 8 + 2 * 6 * 7 * 4  # q k^T, then p v
    assert macs["max_pool2d"] == 0
    assert total == 13_824 + 4_608 + 2_048 + 800 + 120 + 1_008


@pytest.mark.parametrize("name, published", [
    ("resnet18", 1_814_073_344),    # torchvision: 1.81 GMACs ("GFLOPS" in its table)
    ("resnet50", 4_089_184_256),    # torchvision: 4.09
    ("vgg16", 15_470_264_320),      # torchvision: 15.47
    ("alexnet", 714_188_480),       # torchvision: 0.71
    ("mobilenet_v1", 568_740_352),  # Howard et al. 2017, Table 8: 569 million mult-adds
])
def test_published_totals(name, published):
    f, shape = cnn.MODELS[name]
    g = netdraw.trace(f(), (InputSpec(shape),))
    assert count_flops(g) == published


def test_onnx_gemm_and_symbolic_batch(scoped_cnn):
    g = netdraw.load(scoped_cnn)
    count_flops(g)
    macs = {n.name: n.meta["flops"] for n in g.nodes}
    # batch is symbolic: counts are per sample.  Conv 8x8x8 outputs x 27, 1x1 conv 512 x 8, Gemm 4 x 8
    assert (macs["/stem/conv/Conv"], macs["/block/conv/Conv"], macs["/head/fc/Gemm"], macs["/block/Add"]) == (
        13_824, 4_096, 32, 0)
    assert count_flops(netdraw.load(scoped_cnn)) == 13_824 + 4_096 + 32


def test_collapsed_and_rolled_modules_sum_their_members():
    g = netdraw.trace(cnn.resnet50(), (InputSpec((1, 3, 224, 224)),))
    d = prepare(g, depth=1)
    assert sum(n.meta.get("flops", 0) for n in d.nodes) == 4_089_184_256  # rolled blocks counted xN
    d2 = prepare(g, depth=2)
    b = d2.node("layer3/1")
    assert b.meta["flops"] * 5 + d2.node("layer3/0").meta["flops"] == d.node("layer3").meta["flops"]
