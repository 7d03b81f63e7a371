"""--hide, --keep and --expand: matching by path glob and type; the graph stays connected."""

from __future__ import annotations

import sys

import pytest

import netdraw
from netdraw.errors import NetdrawError
from netdraw.frontends.pytorch import InputSpec
from netdraw.passes.select import Selector, hide, keep
from netdraw.api import prepare
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "examples"))
import models as cnn  # noqa: E402


def _connected(g) -> bool:
    """Every node is reachable from a graph input and every graph output has a producer path."""
    seen = set(g.inputs)
    for n in g.nodes:
        ins = [v for v in n.inputs if v is not None and v.kind != "param"]
        if ins and not any(v in seen for v in ins):
            return False
        if ins:
            seen.update(n.outputs)
        elif n.op_type not in ("arange", "tensor", "zeros", "ones", "full", "Constant"):
            return False
    return all(v in seen for v in g.outputs)


@pytest.fixture(scope="module")
def r18():
    return netdraw.trace(cnn.resnet18(), (InputSpec((1, 3, 224, 224)),))


def test_hide_a_stage_by_path_glob_keeps_the_graph_connected(r18):
    g = r18.copy()
    assert hide(g, "layer2.*") == 16  # two blocks of 7 ops, and the downsample branch's 2
    g.lint()
    assert not any(n.scope[:1] == ("layer2",) for n in g.nodes)
    first3 = next(n for n in g.nodes if n.scope[:1] == ("layer3",))
    assert first3.inputs[0].producer.name == "layer1/1/relu#2/relu"  # layer1's output, bypassing layer2
    assert _connected(g)


def test_hide_by_type_and_op_type_ignore_case(r18):
    g = r18.copy()
    assert hide(g, ["batchnorm2d"]) == 20  # module class BatchNorm2d
    assert not any(n.op_type == "batch_norm" for n in g.nodes) and _connected(g)
    g = r18.copy()
    assert hide(g, "RELU") == 17  # op type relu (and modules of class ReLU)
    assert _connected(g)


def test_keep_draws_only_the_matches(r18):
    g = r18.copy()
    keep(g, ["layer3"])
    g.lint()
    assert {n.scope[0] for n in g.nodes} == {"layer3"} and len(g.nodes) == 16
    assert g.nodes[0].inputs[0] is g.inputs[0]  # fed by the model input, through what was hidden
    assert g.outputs[0].producer.scope[0] == "layer3" and _connected(g)


def test_patterns_that_match_nothing_are_errors(r18):
    with pytest.raises(NetdrawError, match=r"--hide 'layer9\*' matches no module or op of 'ResNet'"):
        hide(r18.copy(), ["layer9*"])
    with pytest.raises(NetdrawError, match="--keep 'nope'"):
        keep(r18.copy(), "nope")
    with pytest.raises(NetdrawError, match="--expand 'nope'"):
        prepare(r18, expand=["nope"])


def test_selector_matches_paths_with_dots_or_slashes_and_types(r18):
    s = Selector(["layer1.0.conv1"], r18)
    assert s.module(("layer1", "0", "conv1")) and not s.module(("layer1", "0"))
    assert Selector(["layer1/0"], r18).module(("layer1", "0"))
    assert Selector(["torch.nn.modules.conv.Conv2d"], r18).module(("conv1",))
    assert Selector(["Sequential"], r18).module(("layer4",))


def test_expand_opens_chosen_modules_one_level(r18):
    d = prepare(r18, depth=1, expand=["layer2"])
    names = [n.name for n in d.nodes]
    assert names == ["conv1/conv2d", "maxpool", "layer1", "layer2/0", "layer2/1", "layer3", "layer4", "avgpool",
                     "flatten", "fc"]
    d = prepare(r18, depth=1, expand=["layer2*"], fold="none")  # layer2 and everything in it
    assert sum(1 for n in d.nodes if n.scope[:1] == ("layer2",)) == 16
    assert not any(n.meta.get("group") for n in d.nodes if n.scope[:1] == ("layer2",))


@pytest.mark.transformers
def test_hide_dropout_in_bert():
    from tests.frontends.hf_suite import small_bert, trace_bert

    g = trace_bert(small_bert(hidden=32, layers=2, heads=2, ffn=64, vocab=100), tokens=8)
    n = len(g.nodes)
    assert hide(g, "Dropout") == 5  # embeddings + 2 per layer (attention dropout is inside sdpa)
    g.lint()
    assert len(g.nodes) == n - 5 and not any("dropout" in n.op_type.lower() for n in g.nodes)
