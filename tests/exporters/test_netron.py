"""netdraw's exports opened in the real Netron web app (PyPI netron) in headless Chromium."""

from __future__ import annotations

import onnx
import pytest
import torch
from torch import nn

import netdraw
from netdraw.exporters.onnx import export
from tests.exporters.test_onnx_export import Attention, cnn

pytestmark = pytest.mark.chromium
pytest.importorskip("netron")


def shown(path):
    from tests.netronjs import open_in_netron

    return open_in_netron(path)


def cases():
    torch.manual_seed(0)
    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(32, 4, 64, batch_first=True), 2).eval()
    return {
        "cnn": (cnn.resnet18(), (netdraw.InputSpec((1, 3, 224, 224)),)),
        "transformer": (encoder, (torch.randn(1, 10, 32),)),
        "control-flow": (Attention(), (torch.ones(1, 4, 16),)),
    }


@pytest.mark.parametrize("name", ["cnn", "transformer", "control-flow"])
def test_netron_opens_the_export_without_an_error(name, tmp_path):
    model, args = cases()[name]
    g = netdraw.trace(model, args)
    path = export(g, tmp_path / f"{name}.onnx")
    top = len(onnx.load(str(path)).graph.node)
    page = shown(path)
    assert "alert" not in page["cls"] and page["message"] == "", page
    assert page["nodes"] == top, page  # the top view: one node per top-level module or op
    assert page["inputs"] == len(g.inputs)


def test_a_broken_file_is_reported(tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_text("not an ONNX model\n")
    page = shown(bad)  # the check sees Netron's error dialog: the test above would notice one
    assert page["nodes"] == 0 and "alert" in page["cls"] and page["message"] == "Unsupported file content."
