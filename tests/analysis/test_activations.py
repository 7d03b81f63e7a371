"""Activation capture: equal to captum's LayerActivation, in-place ops and shared modules included,
the model left as it was, and the same thumbnails from PyTorch and from its ONNX export."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from netdraw.analysis.activations import layer_activations, trace_activations
from netdraw.analysis.reduce import ThumbnailOptions, reduce_tensor
from netdraw.errors import NetdrawError

captum_attr = pytest.importorskip("captum.attr")


class SmallCNN(nn.Module):
    """conv1 -> ReLU(inplace) (no BN between: the hook must see pre-ReLU values), a ReLU module
    called twice, BatchNorm, pooling and a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.relu(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        return self.head(x)


def make() -> tuple[SmallCNN, torch.Tensor]:
    torch.manual_seed(0)
    m = SmallCNN()
    with torch.no_grad():  # BN statistics that are not the identity
        m.bn2.running_mean.uniform_(-0.5, 0.5)
        m.bn2.running_var.uniform_(0.5, 2.0)
    return m.eval(), torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(1))


def captum(m: nn.Module, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return captum_attr.LayerActivation(m, layer).attribute(x)


def node_record(graph, scope):
    nodes = [n for n in graph.nodes if n.scope == scope and n.op_type not in ("getattr",)]
    assert nodes, scope
    return nodes[-1].outputs[0].meta["activation"]


def test_layer_activations_equal_captum():
    m, x = make()
    ours = layer_activations(m, x, layers=["conv1", "relu", "bn2", "head.2"])
    assert torch.equal(ours["conv1"][0], captum(m, m.conv1, x))
    assert (ours["conv1"][0] < 0).any()  # cloned before the in-place ReLU ran
    assert torch.equal(ours["bn2"][0], captum(m, m.bn2, x))
    assert torch.equal(ours["head.2"][0], captum(m, m.head[2], x))
    # the shared ReLU: one capture per call; captum keeps the last
    assert len(ours["relu"]) == 2
    assert torch.equal(ours["relu"][1], captum(m, m.relu, x))
    assert torch.equal(ours["relu"][0], torch.relu(ours["conv1"][0]))


def test_thumbnail_records_are_reductions_of_captums_activations():
    m, x = make()
    opts = ThumbnailOptions(k=3, size=8)
    g = trace_activations(m, (x,), thumbnails=opts)
    assert node_record(g, ("conv1",)) == reduce_tensor(captum(m, m.conv1, x), opts)
    assert node_record(g, ("bn2",)) == reduce_tensor(captum(m, m.bn2, x), opts)
    first = layer_activations(m, x, layers=["relu"])["relu"][0]
    assert node_record(g, ("relu",)) == reduce_tensor(first, opts)
    assert node_record(g, ("relu#2",)) == reduce_tensor(captum(m, m.relu, x), opts)
    assert node_record(g, ("head", "2")) == reduce_tensor(captum(m, m.head[2], x), opts)
    assert g.meta["source"]["mode"] == "real"
    assert g.meta["thumbnails"] == {"k": 3, "rank": "max", "size": 8, "tokens": "auto", "runner": "torch"}


def test_the_model_is_left_as_it_was():
    m, x = make()
    m.train()
    m.head.eval()
    m.conv1.weight.requires_grad_(False)
    calls = []
    handle = m.conv2.register_forward_hook(lambda mod, a, out: calls.append(1))
    before = copy.deepcopy(m.state_dict())
    trace_activations(m, (x,))
    assert m.training and m.bn2.training and not m.head.training
    after = m.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BN statistics included
    assert not m.conv1.weight.requires_grad and m.conv2.weight.requires_grad
    assert all(p.grad is None for p in m.parameters())
    assert torch.is_grad_enabled()
    assert calls == [1]  # the user's hook ran and is still registered
    m(x)
    assert calls == [1, 1]
    handle.remove()


def test_errors_are_one_line():
    m, x = make()
    with pytest.raises(NetdrawError, match="no module matches 'nope'"):
        layer_activations(m, x, layers=["nope"])
    with pytest.raises(NetdrawError, match="failed to run on the input"):
        trace_activations(m, (torch.randn(1, 5, 16, 16),))


def test_onnx_export_gives_the_same_thumbnails(tmp_path):
    pytest.importorskip("onnxruntime")
    import netdraw
    from netdraw.api import prepare

    m, x = make()
    path = tmp_path / "small.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(m, (x,), str(path), dynamo=False, input_names=["x"], do_constant_folding=False)
    np.save(tmp_path / "x.npy", x.numpy())
    opts = {"k": 3, "size": 8}
    from_onnx = netdraw.load(path, inputs=[str(tmp_path / "x.npy")], thumbnails=opts)
    from_torch = netdraw.trace(m, (x,), thumbnails=opts)
    assert from_onnx.meta["thumbnails"]["runner"] == "onnxruntime"

    def thumbs(g):
        drawn = prepare(g, depth=1, fold="none", roll=False, max_width=None)
        return {n.scope[0]: n.meta["thumbnail"] for n in drawn.nodes if "thumbnail" in n.meta}

    a, b = thumbs(from_torch), thumbs(from_onnx)
    common = sorted(set(a) & set(b))
    assert common == ["bn2", "conv1", "conv2", "head", "pool", "relu"]
    from netdraw.records import decode

    for name in common:
        assert a[name]["channels"] == b[name]["channels"], name
        assert a[name]["tile"] == b[name]["tile"], name
        assert np.abs(decode(a[name]).astype(int) - decode(b[name]).astype(int)).max() <= 1, name
