"""The .netspec text frontend: shapes and parameters against PyTorch, skips, errors with line numbers."""

from __future__ import annotations

import sys

import pytest

import netdraw
from netdraw.cli import run
from netdraw.errors import NetdrawError
from netdraw.frontends.netspec import parse
from netdraw.frontends.pytorch import InputSpec
from netdraw.api import render_bytes
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "examples"))
import models as cnn  # noqa: E402

SPECS = ROOT / "examples" / "netspec"

VGG16 = """
input 3x224x224
""" + "\n".join(
    "\n".join([f"conv {c} k3 same relu"] * n) + "\npool 2"
    for c, n in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))
) + """
flatten
dense 4096 relu
dropout
dense 4096 relu
dropout
dense 1000
"""


def _convs(g):
    return [(n.op_type, list(n.outputs[0].shape)) for n in g.nodes if n.op_type in ("Conv", "conv2d", "MaxPool",
                                                                                        "max_pool2d")]


def test_lenet5_matches_the_pytorch_model():
    spec = netdraw.load(SPECS / "lenet5.netspec")
    torch_g = netdraw.trace(cnn.LeNet5(), (InputSpec((1, 1, 28, 28)),))
    assert spec.summary()["params"] == torch_g.summary()["params"] == 61_706
    assert [s for _, s in _convs(spec)] == [s for _, s in _convs(torch_g)]
    assert spec.outputs[0].shape == torch_g.outputs[0].shape == (1, 10)


def test_vgg16_parameters_match_the_published_total():
    g = parse(VGG16, name="vgg16")
    assert g.summary()["params"] == 138_357_544 == netdraw.trace(cnn.vgg16(), (InputSpec((1, 3, 224, 224)),),
                                                                mode="meta").summary()["params"]
    assert g.outputs[0].shape == (1, 1000)


def test_unet_skips_concatenate_named_results():
    g = netdraw.load(SPECS / "unet-small.netspec")
    g.lint()
    cats = [n for n in g.nodes if n.op_type == "Concat"]
    assert [[v.shape[1] for v in n.inputs] for n in cats] == [[32, 32], [16, 16]]
    assert [n.inputs[1].producer.scope for n in cats] == [("e2",), ("e1",)]
    assert g.outputs[0].shape == (1, 2, 64, 64)
    tex = render_bytes(g, "tex").decode()
    assert tex.count("circle") == 2 and tex.count("\\ndbox") == 1 + 7 + 2 + 2  # input, convs, pools, deconvs


@pytest.mark.parametrize("text, message", [
    ("conv 8 k3", ":1: the first line must be 'input C[xH[xW]]'"),
    ("input 3x8x8\nconv 8 k3 q2", ":2: unknown option 'q2'; valid: g, gelu, k, nobias, p, relu, s, same,"),
    ("input 3x8x8\n\n# c\nfrobnicate", ":4: unknown layer 'frobnicate'; valid: input, conv"),
    ("input 3x8x8\npool 16", ":2: a window of 16 with stride 16 and padding 0 does not fit a size of 8"),
    ("input 3x8x8\nconcat @skip", ":2: no layer is named 'skip' above this line"),
    ("input 3x8x8\na: relu\na: relu", ":3: the name 'a' is used twice"),
    ("input 3x8x8\nflatten\nconv 4 k1", ":3: 'conv' needs a feature map (C, H[, W]); the line before gives 192"),
    ("input 3x8x8\na: conv 4 k1\npool 2\nadd @a", ":4: cannot add 4×4×4 and 4×8×8"),
    ("input 3x8x8\ninput 3x8x8", ":2: 'input' must come first, once"),
    ("input 3 by 8", ":1: write the input as C, CxL or CxHxW"),
    ("input 3x8x8\nconv 8 k3 s0", ":2: the stride (s) must be a positive integer up to 2,147,483,647, got '0'"),
    ("input 3x8x8\nconv 8 k3 g0", ":2: the groups (g) must be a positive integer up to 2,147,483,647, got '0'"),
    ("input 3x8x8\nconv ² k3", ":2: the channel count must be a positive integer up to 2,147,483,647, got '²'"),
    ("input 3x8x8\nconv 8 k3 s²", ":2: unknown option 's²'"),
    ("input 3x8x8\nconv " + "9" * 5000 + " k3", ":2: the channel count must be a positive integer up to "
                                                    "2,147,483,647, got '" + "9" * 60 + "…'"),
    ("input 3x8x8\na: ", ":2: the name 'a' needs a layer after it"),
    ("input 0x8x8", ":1: an input size must be a positive integer"),
    ("input 3x8x8\ndeconv 4 k1 p5", ":2: a transposed window of 1 with stride 1 and padding 5 leaves nothing of 3×8×8"),
    ("input 3x8x8\n" + "x" * 50_000, ":2: unknown layer '" + "x" * 60 + "…'; valid:"),
])
def test_errors_name_the_line(text, message):
    with pytest.raises(NetdrawError) as info:
        parse(text, origin="net.netspec")
    assert str(info.value).startswith("net.netspec:") and message in str(info.value)
    assert "\n" not in str(info.value) and len(str(info.value)) < 400  # long input is never echoed whole


def test_cli_reads_netspec_and_reports_errors(tmp_path, capsys):
    bad = tmp_path / "bad.netspec"
    bad.write_text("input 3x8x8\ndense\n")
    assert run(["render", str(bad), "-o", str(tmp_path / "x.svg")]) == 2
    assert capsys.readouterr().err == f"netdraw: error: {bad}:2: 'dense' needs its output size, e.g. 'dense 128'\n"
    assert not (tmp_path / "x.svg").exists()
    out = tmp_path / "l.mmd"
    assert run(["render", str(SPECS / "lenet5.netspec"), "-o", str(out), "--fold", "none"]) == 0
    assert out.read_text().count(":::") == 12 + 2  # every layer, input and output
