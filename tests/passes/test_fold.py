"""Pattern folding: default and user rules, scope limits, parameters and FLOPs kept."""

from __future__ import annotations

import sys

import pytest
import torch
from torch import nn

import netdraw
from netdraw.errors import NetdrawError
from netdraw.frontends.pytorch import InputSpec
from netdraw.passes.flops import count_flops
from netdraw.passes.fold import fold, fold_index_ops, parse_rules
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "examples"))
import models as cnn  # noqa: E402


def _ops(g):
    return [n.op_type for n in g.nodes]


def test_resnet18_folds_conv_bn_relu_and_keeps_totals():
    g = netdraw.trace(cnn.resnet18(), (InputSpec((1, 3, 224, 224)),))
    params, macs = g.summary()["params"], count_flops(g)
    assert fold(g) == 28  # stem + 8 blocks x (Conv-BN-ReLU, Conv-BN, Add-ReLU) + 3 downsample Conv-BN
    g.lint()
    assert _ops(g)[:6] == ["Conv-BN-ReLU", "max_pool2d", "Conv-BN-ReLU", "Conv-BN", "Add-ReLU", "Conv-BN-ReLU"]
    assert len(g.nodes) == 69 - 2 * 9 - 19  # 9 Conv-BN-ReLU; 8 Conv-BN, 3 downsample Conv-BN, 8 Add-ReLU
    assert g.summary()["params"] == params == 11_689_512
    assert sum(n.meta.get("flops", 0) for n in g.nodes) == macs
    stem = g.nodes[0]
    assert stem.name == "conv1/conv2d" and stem.scope == () and stem.params == 9408 + 128
    assert stem.meta["fold"] == {"rule": "Conv > BN > Act", "ops": ["conv2d", "batch_norm", "relu"],
                                 "nodes": ["conv1/conv2d", "bn1/batch_norm", "relu/relu"], "module": "conv1"}
    assert stem.attrs["kernel_size"] == [7, 7]  # the conv's attributes stay for the label


def test_user_rules_replace_the_defaults_and_none_turns_folding_off():
    g = netdraw.trace(cnn.resnet18(), (InputSpec((1, 3, 224, 224)),))
    assert fold(g.copy(), "none") == 0
    h = g.copy()
    assert fold(h, ["BN > ReLU|GELU"]) == 9  # stem + one per block
    assert "BN-ReLU" in _ops(h) and "conv2d" in _ops(h)
    h = g.copy()
    # max_pool2d's user is layer1.0's conv, three modules down: a chain stays within one module
    assert fold(h, ["MaxPool > Conv"]) == 0
    assert fold(h, ["default", "Conv > BN"]) == 28


def test_a_chain_with_a_second_user_is_not_folded():
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.act = nn.ReLU()

        def forward(self, x):
            c = self.conv(x)
            return self.act(c) + c  # conv's output has two users

    g = netdraw.trace(M(), (torch.randn(1, 3, 8, 8),))
    assert fold(g) == 0


def test_chains_do_not_cross_block_boundaries():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, x):
            return x + self.lin(x)

    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.norm = nn.LayerNorm(4)

        def forward(self, x):
            return self.norm(self.block(x))

    g = netdraw.trace(M(), (torch.randn(1, 4),))
    # block's add and the top-level LayerNorm would match Add > LN, but the add lives inside a block
    assert fold(g, ["Add > LN"]) == 0
    assert _ops(g) == ["linear", "add", "layer_norm"]


def test_rule_errors_are_one_line():
    for bad in ["Conv", "Conv >", "Conv > |BN", ""]:
        with pytest.raises(NetdrawError, match="invalid fold rule"):
            parse_rules([bad])


@pytest.mark.transformers
def test_bert_index_plumbing_folds_into_one_mask_node():
    from tests.frontends.hf_suite import small_bert, trace_bert

    g = trace_bert(small_bert(hidden=32, layers=1, heads=2, ffn=64, vocab=100), tokens=8)
    assert fold_index_ops(g) == 2
    g.lint()
    (idx,) = [n for n in g.nodes if n.op_type == "indices"]  # position and token-type ids
    assert idx.scope == ("embeddings",) and idx.meta["fold"]["ops"] == ["getitem", "expand", "gather", "expand"]
    mask = [n for n in g.nodes if n.op_type == "mask"]
    assert len(mask) == 1 and mask[0].scope == ()
    assert [v.name for v in mask[0].inputs] == ["attention_mask"]
    assert mask[0].outputs[0].dtype == "bool" and len(mask[0].meta["fold"]["ops"]) == 15
    assert [u.op_type for u in mask[0].outputs[0].users] == ["scaled_dot_product_attention"]
