"""Rolling repeated blocks into one ×N: the rule, its limits, totals and rendering."""

from __future__ import annotations

import re
import sys

import pytest
import torch
from torch import nn

import netdraw
from netdraw.frontends.pytorch import InputSpec
from netdraw.passes import collapse
from netdraw.passes.roll import roll
from netdraw.api import prepare, render_bytes
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "examples"))
import models as cnn  # noqa: E402


def _runs(entries):
    return [(e["module"], e["count"]) for e in entries]


def test_resnet50_stages_keep_their_downsampling_block_and_roll_the_rest():
    g = netdraw.trace(cnn.resnet50(), (InputSpec((1, 3, 224, 224)),))
    total = g.summary()["params"]
    r = g.copy()
    entries = roll(r)
    r.lint()
    assert _runs(entries) == [("layer1/1", 2), ("layer2/1", 3), ("layer3/1", 5), ("layer4/1", 2)]
    assert r.meta["modules"]["layer3/1"]["repeat"] == {
        "count": 5, "last": "5", "modules": ["layer3/1", "layer3/2", "layer3/3", "layer3/4", "layer3/5"]}
    assert len(r.nodes) == 175 - 8 * 10  # 1 + 2 + 4 + 1 bottlenecks rolled away, 10 ops each
    # the run's parameters are all 5 blocks'; a module collapsed around a run counts it x5
    assert entries[2]["params"] == 5 * 1_117_184
    in_runs = {tuple(e["module"].split("/")) for e in entries}
    outside = sum(n.params for n in r.nodes if n.scope[:2] not in in_runs)
    assert outside + sum(e["params"] for e in entries) == total == 25_557_032
    c = collapse(r, 1)
    assert {n.name: n.params for n in c.nodes}["layer3"] == sum(
        n.params for n in g.nodes if n.scope[:1] == ("layer3",)) == 7_098_368
    c2 = collapse(r, 2)
    assert [n.name for n in c2.nodes if n.scope[:1] == ("layer3",)] == ["layer3/0", "layer3/1"]
    assert c2.node("layer3/1").params == 1_117_184  # one block: the label says "each"


def test_resnet50_dot_labels_the_repeats():
    g = netdraw.trace(cnn.resnet50(), (InputSpec((1, 3, 224, 224)),))
    dot = render_bytes(g, "dot", depth=2).decode()
    assert '"n:layer3/1" [label="1–5\\nBottleneck ×5\\n1.1M params each"' in dot
    assert '"n:layer3/0" [label="0\\nBottleneck\\n1.5M params"' in dot
    full = render_bytes(g, "dot", depth="max").decode()
    assert 'label="1–5 · Bottleneck ×5";' in full  # the cluster around the kept block


def test_onnx_scopes_roll_too():
    g = netdraw.load(ROOT / "examples" / "resnet18.onnx")
    entries = roll(g)
    g.lint()
    assert _runs(entries) == [("layer1/layer1.0", 2)]  # the other stages start with a downsampling block
    dot = render_bytes(netdraw.load(ROOT / "examples" / "resnet18.onnx"), "dot").decode()
    assert 'label="layer1.0–1 ×2";' in dot  # no type to name: ×2 after the name


class _Twice(nn.Module):
    """Two identical Linear-ReLU blocks, wired as ``how`` says."""

    def __init__(self, how: str):
        super().__init__()
        self.how = how
        self.blocks = nn.ModuleList(nn.Sequential(nn.Linear(8, 8), nn.ReLU()) for _ in range(3))

    def forward(self, x):
        if self.how == "chain":
            for b in self.blocks:
                x = b(x)
            return x
        if self.how == "parallel":  # the same input to every block: not a chain
            return sum(b(x) for b in self.blocks)
        # "skip": the third block reads the first one's output too
        a = self.blocks[0](x)
        b = self.blocks[1](a)
        return self.blocks[2](b + a)


def test_only_chains_roll():
    g = netdraw.trace(_Twice("chain"), (torch.randn(1, 8),))
    assert _runs(roll(g)) == [("blocks.0", 3)]
    assert [n.op_type for n in g.nodes] == ["linear", "relu"]
    assert g.outputs[0].producer.scope == ("blocks.0", "1")  # the graph output comes from the kept block
    assert roll(netdraw.trace(_Twice("parallel"), (torch.randn(1, 8),))) == []
    g = netdraw.trace(_Twice("skip"), (torch.randn(1, 8),))
    assert _runs(roll(g)) == [("blocks.0", 2)]  # 0 -> 1 chain; 2 reads an add, outside the run


def test_different_shapes_do_not_roll():
    m = nn.Sequential(nn.Linear(8, 16), nn.Linear(16, 16), nn.Linear(16, 16))
    g = netdraw.trace(m, (torch.randn(1, 8),))
    assert _runs(roll(g)) == [("1", 2)]


def test_roll_can_be_turned_off():
    g = netdraw.trace(cnn.resnet50(), (InputSpec((1, 3, 224, 224)),))
    assert "roll" not in prepare(g, roll=False).meta
    assert len(prepare(g, roll=False, depth="max", fold="none").nodes) == 175


def _bert(layers: int):
    from tests.frontends.hf_suite import small_bert, trace_bert

    return trace_bert(small_bert(layers=layers))


@pytest.mark.transformers
def test_bert_and_gpt2_show_x12():
    import transformers as tf

    g = _bert(12)
    d = prepare(g)
    assert _runs(d.meta["roll"]) == [("encoder/layer.0", 12)]
    assert d.meta["collapse"]["depth"] == "leaves"  # every op fits the budget once the layers are rolled
    dot = render_bytes(g, "dot").decode()
    assert 'label="layer.0–11 · BertLayer ×12";' in dot
    cfg = tf.GPT2Config(n_embd=64, n_layer=12, n_head=4, vocab_size=1000, n_positions=64)
    g = netdraw.trace(tf.GPT2Model(cfg), kwargs={"input_ids": torch.zeros(1, 16, dtype=torch.long)})
    dot = render_bytes(g, "dot", depth=1).decode()
    assert re.search(r'"n:h\.0" \[label="h\.0–11\\nGPT2Block ×12\\n[\d.]+K params each"', dot)


class _VQ(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(16, 16)
        self.out = nn.Linear(16, 16)

    def forward(self, x):
        return self.out(torch.tanh(self.proj(x)))


class _RVQ(nn.Module):
    """Residual vector quantisation: 32 codebooks in a loop, the parent's own ops between calls."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.ModuleList([_VQ() for _ in range(32)])

    def forward(self, x):
        residual, out = x, torch.zeros_like(x)
        for layer in self.layers:
            q = layer(residual)
            residual = residual - q
            out = out + q
        return out, residual


class _Codec(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.enc = nn.Linear(16, 16)
        self.quantizer = _RVQ()
        self.dec = nn.Linear(16, 16)

    def forward(self, x):
        out, residual = self.quantizer(self.enc(x))
        return self.dec(out), residual


def test_loop_iterations_roll():
    from netdraw.passes.collapse import visible_nodes

    g = netdraw.trace(_Codec(), (torch.randn(1, 16),))
    assert len(visible_nodes(prepare(g, depth="max", roll=False))) > 32 * 4
    d = prepare(g)  # auto: the loop body once, ×32
    assert _runs(d.meta["roll"]) == [("quantizer/layers.0", 32)]
    assert len(visible_nodes(d)) <= 60 and d.meta["collapse"]["depth"] == "leaves"
    dot = render_bytes(g, "dot").decode()
    assert 'label="layers.0–31 · VQ ×32"' in dot.replace("_VQ", "VQ")


def test_auto_lays_out_only_levels_within_the_budget(monkeypatch):
    from netdraw.renderers import engine

    calls = []
    real = engine.layout_soon

    def counting(source, fmt, **kw):
        calls.append(source.count("label="))
        return real(source, fmt, **kw)

    monkeypatch.setattr(engine, "layout_soon", counting)
    g = netdraw.trace(_Codec(), (torch.randn(1, 16),))
    render_bytes(g, "svg")
    assert 1 <= len(calls) <= 2 and all(n <= 60 + 10 for n in calls)  # boxes and edge labels of small levels


@pytest.mark.transformers
def test_mimi_renders_within_the_budget_with_few_layouts(monkeypatch):
    import transformers as tf

    from netdraw.renderers import engine

    torch.manual_seed(0)
    g = netdraw.trace(tf.MimiModel(tf.MimiConfig()).eval(), kwargs={"input_values": torch.randn(1, 1, 24000)})
    calls = []
    real = engine.layout_soon
    monkeypatch.setattr(engine, "layout_soon", lambda src, fmt, **kw: calls.append(src) or real(src, fmt, **kw))
    svg = render_bytes(g, "svg")
    assert len(calls) <= 2  # once took 133 s laying out levels of hundreds of nodes to measure them
    assert len(re.findall(rb'class="node">\s*<title>n:', svg)) <= 60
