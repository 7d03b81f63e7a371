"""Occlusion maps against captum's Occlusion, and what they say."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest
import torch

from netdraw.analysis.occlusion import occlusion, positions
from netdraw.errors import NetdrawError
from tests.analysis.test_activations import make

captum_attr = pytest.importorskip("captum.attr")


def captum_occlusion(m, x, window, stride, fill, target):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        occ = captum_attr.Occlusion(lambda z: torch.softmax(m(z), 1))
        return occ.attribute(x, sliding_window_shapes=(x.shape[1], window, window),
                             strides=(x.shape[1], stride, stride), baselines=fill, target=target,
                             perturbations_per_eval=16)


@pytest.mark.parametrize("window,stride,fill", [(4, 2, 0.0), (5, 3, -0.5), (6, 4, 0.25), (16, 16, 0.0)])
def test_attribution_equals_captum_cropped_windows_included(window, stride, fill):
    m, x = make()  # 16×16: (16-5)/3 and (16-6)/4 leave cropped last windows
    m.eval()
    res = occlusion(m, x, window=window, stride=stride, fill=fill, batch_size=7)
    ref = captum_occlusion(m, x, window, stride, fill, res.target)
    for c in range(x.shape[1]):
        assert np.abs(res.attribution - ref[0, c].numpy()).max() < 1e-6
    assert res.probability_map.shape == (len(positions(16, window, stride)),) * 2


def test_maps_and_labels():
    m, x = make()
    res = occlusion(m, x, window=4, stride=4, fill=0.0, layer="conv2")
    with torch.no_grad():
        p = torch.softmax(m(x), 1)[0]
        occluded = x.clone()
        occluded[:, :, 4:8, 8:12] = 0.0
        q = torch.softmax(m(occluded), 1)[0]
    assert res.label == int(p.argmax()) and res.target == res.label
    assert res.probability == pytest.approx(float(p[res.target]))
    assert res.probability_map[1, 2] == pytest.approx(float(q[res.target]), abs=1e-6)
    assert res.label_map[1, 2] == int(q.argmax())
    from netdraw.analysis.activations import layer_activations

    full = layer_activations(m, x, layers=["conv2"])["conv2"][0][0]
    assert res.channel == int(full.reshape(full.shape[0], -1).amax(1).argmax())
    occ_act = layer_activations(m, occluded, layers=["conv2"])["conv2"][0][0]
    assert res.activation_map[1, 2] == pytest.approx(float(occ_act[res.channel].sum()), rel=1e-5)


def test_the_model_is_left_as_it_was():
    m, x = make()
    m.train()
    before = copy.deepcopy(m.state_dict())
    occlusion(m, x, window=8, stride=8)
    assert m.training and all(torch.equal(before[k], v) for k, v in m.state_dict().items())


@pytest.mark.parametrize("kw,msg", [({"stride": 9, "window": 8}, "must not exceed"),
                                    ({"window": 0}, "invalid window"),
                                    ({"target": 99}, "not a class"),
                                    ({"layer": "nope"}, "no module 'nope'")])
def test_bad_options(kw, msg):
    m, x = make()
    with pytest.raises(NetdrawError, match=msg):
        occlusion(m, x, **kw)
