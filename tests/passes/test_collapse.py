"""Collapsing to a depth: groups, invariants, cycles, automatic depth."""

from __future__ import annotations

import pytest

import netdraw
from netdraw.ir import Graph
from netdraw.passes import auto_depth, collapse, max_depth, visible_nodes
from netdraw.passes.collapse import count_visible, leaf_modules, mark_leaves
from tests.conftest import check_golden


def test_depth_one_makes_one_node_per_top_module(scoped_cnn):
    g = netdraw.load(scoped_cnn)
    c = collapse(g, 1)
    c.lint()
    assert [(n.name, n.op_type, n.params) for n in c.nodes] == [
        ("stem", "Module", 224), ("block", "Module", 64), ("head", "Module", 36)]
    assert c.nodes[0].meta["group"] == {"module": "stem", "type": None, "nodes": 2, "ops": {"Conv": 1, "Relu": 1},
                                      "total": 2}
    # the residual edge: block reads stem's output directly
    assert [v.name for v in c.node("block").inputs] == ["r"]
    assert [v.name for v in c.node("head").inputs] == ["a"]
    assert c.summary()["params"] == g.summary()["params"]
    assert c.meta["collapse"] == {"depth": 1}
    check_golden("collapse_depth1.txt", str(c))


def test_depth_two_keeps_module_level_ops(scoped_cnn):
    g = netdraw.load(scoped_cnn)
    c = collapse(g, 2)
    c.lint()
    assert [n.name for n in c.nodes] == ["stem/conv", "stem/act", "block/conv", "/block/Add", "head/pool",
                                         "/head/Flatten", "head/fc"]
    assert c.summary()["params"] == g.summary()["params"]


def test_none_is_a_copy(scoped_cnn):
    g = netdraw.load(scoped_cnn)
    c = collapse(g, None)
    assert str(c) == str(g) and c is not g


def _interleaved() -> Graph:
    """a1 -> b1 and b2 -> a2 with a1, a2 in module A and b1, b2 in module B: merging whole
    modules would make a cycle A -> B -> A."""
    g = Graph("inter")
    x = g.add_input("x")
    a1 = g.add_node("Relu", [x], name="a1", scope=("A",))
    b2 = g.add_node("Neg", [x], name="b2", scope=("B",))
    b1 = g.add_node("Relu", [a1.outputs[0]], name="b1", scope=("B",))
    a2 = g.add_node("Neg", [b2.outputs[0]], name="a2", scope=("A",))
    g.outputs = [b1.outputs[0], a2.outputs[0]]
    return g


def test_grouping_that_would_cycle_falls_back_to_runs():
    g = _interleaved()
    c = collapse(g, 1)
    c.lint()  # topological order holds
    # runs in node order: [a1] [b2 b1] [a2]
    assert [n.meta["group"]["nodes"] for n in c.nodes] == [1, 2, 1]
    assert [n.scope for n in c.nodes] == [("A",), ("B",), ("A",)]
    assert [n.name for n in c.nodes] == ["A", "B", "A_1"]


def test_subgraph_nodes_are_counted_inside_groups():
    g = Graph()
    x = g.add_input("x")
    iff = g.add_node("If", [x], name="if", scope=("m",))
    sub = g.add_subgraph(iff, "then_branch")
    inner = sub.add_node("Neg", [x], params=5)
    sub.outputs = [inner.outputs[0]]
    g.outputs = [iff.outputs[0]]
    c = collapse(g, 1)
    assert c.nodes[0].meta["group"]["nodes"] == 2
    assert c.summary()["params"] == 5


def test_auto_depth_picks_the_deepest_level_under_the_budget(scoped_cnn):
    g = netdraw.load(scoped_cnn)
    assert max_depth(g) == 2
    assert count_visible(g, None) == 7
    assert count_visible(g, 2) == 7
    assert count_visible(g, 1) == 3
    assert count_visible(g, "leaves") == 7  # no leaf module holds two ops
    assert auto_depth(g, max_nodes=60) == "leaves"
    assert auto_depth(g, max_nodes=5) == 1
    assert auto_depth(g, max_nodes=2) == 1  # nothing fits: the shallowest level


def test_constants_and_weight_only_ops_are_not_drawn():
    g = Graph()
    x = g.add_input("x")
    w = g.add_param("w", [3])
    k = g.add_node("Constant", [], name="k")
    t = g.add_node("Identity", [w], name="wcopy")
    a = g.add_node("Add", [x, k.outputs[0]], name="add")
    b = g.add_node("Mul", [a.outputs[0], t.outputs[0]], name="mul")
    g.outputs = [b.outputs[0]]
    assert [n.name for n in visible_nodes(g)] == ["add", "mul"]


@pytest.mark.realmodels
def test_real_model_collapse_keeps_params(real_models):
    g = netdraw.load(real_models["nudenet-320n"])
    for d in (1, 2, 3):
        c = collapse(g, d)
        c.lint()
        assert c.summary()["params"] == 3009250
    assert len(collapse(g, 1).nodes) == 23  # model.0 ... model.22


def test_leaves_level_draws_multi_op_leaf_modules_as_one_node():
    g = Graph("gelu")
    x = g.add_input("x", [1, 4], "float32")
    lin = g.add_node("Gemm", [x], [("h", [1, 4], "float32")], name="fc/Gemm", scope=("fc",))
    a = g.add_node("Mul", [lin.outputs[0]], [("m", [1, 4], "float32")], name="act/Mul", scope=("act",))
    b = g.add_node("Tanh", [a.outputs[0]], [("t", [1, 4], "float32")], name="act/Tanh", scope=("act",))
    c = g.add_node("Mul", [b.outputs[0], lin.outputs[0]], [("y", [1, 4], "float32")], name="act/Mul2",
                   scope=("act",))
    g.outputs = [c.outputs[0]]
    mark_leaves(g)
    assert leaf_modules(g) == {("act",)}  # fc is a leaf too, but of one op
    c = collapse(g, "leaves")
    c.lint()
    assert [(n.name, n.op_type) for n in c.nodes] == [("fc/Gemm", "Gemm"), ("act", "Module")]
    assert c.node("act").meta["group"]["ops"] == {"Mul": 2, "Tanh": 1}
