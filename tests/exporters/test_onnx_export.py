"""The ONNX export: the hierarchy as local functions, typed edges, metadata, onnx.checker, and a
round trip back into netdraw that gives the same graph."""

from __future__ import annotations

import sys

import numpy as np
import onnx
import pytest
import torch
from torch import nn

import netdraw
from netdraw.exporters.onnx import MODULE_DOMAIN, TORCH_DOMAIN, export, to_onnx
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "examples"))
import models as cnn  # noqa: E402


def structure(g):
    """Per op, in order: module path, output shapes and where each activation input comes from."""
    index = {n: i for i, n in enumerate(g.nodes)}
    rows = []
    for n in g.nodes:
        srcs = []
        for v in n.inputs:
            if v is None or v.kind == "param":
                continue
            srcs.append(("in", g.inputs.index(v)) if v.producer is None else index[v.producer])
        rows.append((n.scope, tuple(tuple(v.shape) for v in n.outputs if v.shape is not None), tuple(sorted(srcs, key=str))))
    return rows


def test_round_trip_of_a_traced_cnn(tmp_path):
    g = netdraw.trace(cnn.resnet18(), (netdraw.InputSpec((1, 3, 224, 224)),))
    path = export(g, tmp_path / "r18.onnx")
    model = onnx.load(str(path))
    onnx.checker.check_model(model)
    assert path.stat().st_size < 150_000  # no weights: shapes only
    # the top view is the collapsed diagram: one call per top-level module, plus the flatten op
    assert [n.op_type for n in model.graph.node][:4] == ["conv1", "bn1", "relu", "maxpool"]
    assert len(model.graph.node) == 11
    assert all(n.domain == MODULE_DOMAIN for n in model.graph.node if n.op_type != "Flatten")
    assert len(model.functions) == 75  # every module instance, nested
    back = netdraw.load(path)
    assert len(back.nodes) == len(g.nodes) == 69
    assert structure(back) == structure(g)
    assert back.summary()["params"] == g.summary()["params"] == 11_689_512
    props = {p.key: p.value for p in model.metadata_props}
    assert props["netdraw.parameters"] == "11689512" and props["netdraw.producer"].startswith("netdraw ")
    call = model.graph.node[4]
    meta = {p.key: p.value for p in call.metadata_props}
    assert meta == {"module": "layer1", "module_type": "Sequential", "parameters": "147968",
                    "macs": "462422016"}  # 4 convs of 64×64×3×3 at 56×56
    assert call.doc_string == "Sequential layer1: 14 ops"
    # every edge typed: graph value_info, and each function's
    typed = {vi.name for vi in model.graph.value_info} | {vi.name for vi in model.graph.input}
    assert {o for n in model.graph.node for o in n.output if o} <= typed | {o.name for o in model.graph.output}


def test_with_weights_the_export_runs_in_onnxruntime(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    m = cnn.resnet18().eval()
    x = torch.randn(1, 3, 64, 64)
    g = netdraw.trace(m, (x,))
    path = export(g, tmp_path / "w.onnx", weights={**dict(m.named_parameters()), **dict(m.named_buffers())})
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    out = sess.run(None, {"x": x.numpy()})[0]
    with torch.no_grad():
        assert np.abs(out - m(x).numpy()).max() < 1e-5  # Conv, BN, MaxPool, Gemm... translated exactly


class Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.Linear(16, 48)
        self.out = nn.Linear(16, 16)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        y = nn.functional.scaled_dot_product_attention(q, k, v)
        if x.sum() > 0:  # data-dependent control flow: the path taken is exported
            y = y * 2
        return self.out(y)


def test_torch_only_ops_keep_their_names_in_a_custom_domain(tmp_path):
    g = netdraw.trace(Attention(), (torch.ones(1, 4, 16),))
    assert g.meta["source"]["mode"] == "real"
    model = to_onnx(g, depth=0)
    ops = {(n.domain, n.op_type) for n in model.graph.node}
    assert (TORCH_DOMAIN, "scaled_dot_product_attention") in ops and (TORCH_DOMAIN, "chunk") in ops
    assert ("", "Gemm") not in ops  # 3-D input: linear has no Gemm form, so it stays a torch op
    assert not model.functions  # depth 0: no functions
    onnx.save(model, str(tmp_path / "a.onnx"))
    back = netdraw.load(tmp_path / "a.onnx")
    assert [n.op_type for n in back.nodes] == [n.op_type for n in g.nodes]


def test_depth_limits_the_functions():
    g = netdraw.trace(cnn.resnet18(), (netdraw.InputSpec((1, 3, 64, 64)),))
    m1 = to_onnx(g, depth=1)
    assert len(m1.functions) == 10  # the top-level modules only
    assert {f.name for f in m1.functions} >= {"layer1", "conv1", "fc"}


def test_onnx_sources_pass_through_with_metadata(tmp_path):
    src = ROOT / "examples" / "resnet18.onnx"
    g = netdraw.load(src)
    path = export(g, tmp_path / "x.onnx", source=src)
    a, b = onnx.load(str(src)), onnx.load(str(path))
    assert a.graph == b.graph
    onnx.checker.check_model(b, full_check=True)
    assert {p.key for p in b.metadata_props} >= {"netdraw.producer", "netdraw.parameters", "netdraw.source"}


def test_cli(tmp_path, capsys):
    from netdraw.cli import run

    out = tmp_path / "m.onnx"
    assert run(["export", f"{ROOT / 'examples' / 'models.py'}:LeNet5", "--input", "1x1x28x28", "-o", str(out)]) == 0
    assert netdraw.load(out).summary()["params"] == netdraw.trace(cnn.LeNet5(), (torch.zeros(1, 1, 28, 28),)).summary()["params"]
    assert run(["export", str(ROOT / "examples" / "resnet18.onnx"), "-o", str(tmp_path / "m.svg")]) == 2
    assert "name it .onnx" in capsys.readouterr().err


def test_thumbnails_are_skipped_with_a_notice(tmp_path):
    from tests.analysis.test_activations import make

    m, x = make()
    g = netdraw.trace(m, (x,), thumbnails=True)
    with pytest.warns(UserWarning, match="thumbnails are not exported"):
        export(g, tmp_path / "t.onnx")
    assert len(netdraw.load(tmp_path / "t.onnx").nodes) == len(g.nodes)


def test_view_serves_the_export_on_localhost():
    pytest.importorskip("netron")
    import subprocess
    import urllib.request

    from tests.netronjs import _free_port

    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "netdraw", "view", str(ROOT / "examples" / "resnet18.onnx"),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url == f"http://127.0.0.1:{port}"
        page = urllib.request.urlopen(url + "/", timeout=10).read().decode()
        assert "netron" in page.lower()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_source_locations_reach_netron(tmp_path):
    from netdraw.cli import run

    src = ROOT / "examples" / "models.py"
    line = next(i for i, text in enumerate(src.read_text().splitlines(), 1)
                if "self.maxpool(self.relu(self.bn1(self.conv1(x))))" in text)
    out = tmp_path / "r.onnx"
    assert run(["export", f"{src}:resnet18", "--input", "1x3x64x64", "-o", str(out)]) == 0
    model = onnx.load(str(out))
    conv1 = next(f for f in model.functions if f.name == "conv1")
    props = {p.key: p.value for p in conv1.node[0].metadata_props}
    assert props["source"] == f"models.py:{line} in forward"
    # a plain trace does not pay for it
    g = netdraw.trace(cnn.resnet18(), (netdraw.InputSpec((1, 3, 64, 64)),))
    assert not any("source" in n.meta for n in g.nodes)


@pytest.mark.parametrize("source", ["examples/netspec/unet-small.netspec", "tests/frontends/caffe/lenet5.prototxt"])
def test_graphs_without_weight_tensors_round_trip(tmp_path, source):
    g = netdraw.load(ROOT / source)
    path = export(g, tmp_path / "x.onnx")  # custom domains (caffe, netspec's) get opset imports
    back = netdraw.load(path)
    assert [n.op_type for n in back.nodes] == [n.op_type for n in g.nodes]
    assert back.summary()["params"] == g.summary()["params"] > 0  # from each node's metadata
