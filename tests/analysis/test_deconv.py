"""Deconvnet and guided-backprop projections against captum."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from netdraw.analysis.deconv import project, top_activations

captum_attr = pytest.importorskip("captum.attr")


class Net(nn.Module):
    """conv -> ReLU(inplace) -> maxpool -> conv -> BN -> ReLU(inplace) -> maxpool -> conv."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.relu1 = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 12, 3, padding=1)
        self.bn = nn.BatchNorm2d(12)
        self.relu2 = nn.ReLU(inplace=True)
        self.pool2 = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(12, 6, 3, padding=1)

    def forward(self, x):
        x = self.pool(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.bn(self.conv2(x))))
        return self.conv3(x)


def make():
    torch.manual_seed(0)
    m = Net()
    with torch.no_grad():
        m.bn.running_mean.uniform_(-0.3, 0.3)
        m.bn.running_var.uniform_(0.5, 2)
    return m.eval(), torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(2))


@pytest.mark.parametrize("rule,ref", [("deconvnet", "NeuronDeconvolution"), ("guided", "NeuronGuidedBackprop")])
@pytest.mark.parametrize("layer", ["conv2", "conv3", "relu2"])
def test_projection_equals_value_times_captum(rule, ref, layer):
    m, x = make()
    p = project(m, x, layer, rule=rule)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        attr = getattr(captum_attr, ref)(m, getattr(m, layer)).attribute(
            x.clone(), neuron_selector=(p.channel, *p.position))
    want = (attr[0] * p.value).numpy()
    assert np.abs(p.pixels - want).max() < 1e-6
    assert np.abs(p.pixels).max() > 1e-4  # a real projection, not zeros


def test_chosen_neuron_and_the_model_left_alone():
    m, x = make()
    m.train()
    before = copy.deepcopy(m.state_dict())
    p = project(m, x, "conv2", channel=3, position=(2, 5))
    assert (p.channel, p.position) == (3, (2, 5))
    with torch.no_grad():
        m.eval()
        fmap = m.conv2(m.pool(torch.relu(m.conv1(x))))
        m.train()
    assert p.value == pytest.approx(float(fmap[0, 3, 2, 5]))
    assert m.training and m.relu1.inplace and all(torch.equal(before[k], v) for k, v in m.state_dict().items())
    assert all(q.requires_grad for q in m.parameters()) and all(q.grad is None for q in m.parameters())


def test_top_activations_over_a_batch():
    m, _ = make()
    images = torch.randn(20, 3, 16, 16, generator=torch.Generator().manual_seed(5))
    top = top_activations(m, images, "conv2", channel=1, k=4, batch_size=6)
    with torch.no_grad():
        maps = m.conv2(m.pool(torch.relu(m.conv1(images))))[:, 1]
    best = maps.reshape(20, -1).max(1).values
    assert [t[0] for t in top] == torch.argsort(best, descending=True)[:4].tolist()
    assert top[0][1] == pytest.approx(float(best.max()))


def test_projections_on_the_diagram():
    import re

    import netdraw
    from netdraw.analysis.deconv import attach_projections
    from netdraw.analysis.figures import projection_image
    from netdraw.records import decode
    from netdraw.api import render_bytes

    m, x = make()
    g = netdraw.trace(m, (x,))
    assert attach_projections(g, m, x, k=2) == 3  # conv1, conv2, conv3
    rec = next(n for n in g.nodes if n.scope == ("conv2",)).outputs[0].meta["activation"]
    assert rec["layout"] == "projection" and rec["colors"] == 3 and len(rec["channels"]) == 2
    p = project(m, x, "conv2", rec["channels"][0])
    want = np.rint(projection_image(p.pixels) * 255)  # grey = 0, +-max|p| = white/black
    got = np.moveaxis(decode(rec)[:3], 0, -1).astype(float)
    assert np.abs(got - want).max() <= 1
    svg = render_bytes(g, "svg", fold="none", depth="max", engine="wasm")
    assert len(re.findall(rb"<image ", svg)) == 3
