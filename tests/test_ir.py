"""The IR's edge bookkeeping, invariants, text dump and JSON round trip."""

from __future__ import annotations

import json

import pytest

from netdraw.ir import FORMAT_VERSION, Graph, IRError
from tests.conftest import check_golden


def small() -> Graph:
    g = Graph("tiny")
    x = g.add_input("x", [1, 3, "h", None], "float32")
    w = g.add_param("conv.weight", [8, 3, 3, 3], "float32")
    conv = g.add_node("Conv", [x, w], [("c", [1, 8, "h", None], "float32")], name="conv", scope=("stem", "conv"),
                      params=216, attrs={"kernel_shape": [3, 3]})
    relu = g.add_node("Relu", conv.outputs, [("r", [1, 8, "h", None], "float32")], scope=("stem",))
    loop = g.add_node("If", [relu.outputs[0]], [("o", None, "float32")], name="branch")
    sub = g.add_subgraph(loop, "then_branch")
    inner = sub.add_node("Neg", [relu.outputs[0]], [("neg", None, "float32")])
    sub.outputs = [inner.outputs[0]]
    g.outputs = [loop.outputs[0]]
    return g


def test_golden_text_dump():
    g = small()
    g.lint()
    check_golden("ir_small.txt", str(g))


def test_summary_counts():
    s = small().summary()
    assert s["nodes"] == 3
    assert s["nodes_total"] == 4
    assert s["params"] == 216
    assert s["ops"] == {"Conv": 1, "If": 1, "Relu": 1}
    assert s["inputs"] == [{"name": "x", "shape": [1, 3, "h", None], "dtype": "float32"}]
    assert s["outputs"] == [{"name": "o", "shape": None, "dtype": "float32"}]


def test_users_and_producers_are_kept_by_the_graph():
    g = small()
    conv = g.node("conv")
    relu = g.node("Relu")
    assert conv.outputs[0].users == (relu,)
    assert relu.outputs[0].producer is relu
    # the If and the Neg inside its branch both read relu's output
    assert [u.name for u in relu.outputs[0].users] == ["branch", "Neg"]


def test_names_come_from_one_namespace():
    g = Graph()
    x = g.add_input("x")
    a = g.add_node("Relu", [x])
    b = g.add_node("Relu", [a.outputs[0]])
    c = g.add_node("Relu", [b.outputs[0]], name="Relu")
    assert [n.name for n in g.nodes] == ["Relu", "Relu_1", "Relu_2"]
    assert [n.outputs[0].name for n in g.nodes] == ["Relu.out", "Relu_1.out", "Relu_2.out"]
    with pytest.raises(IRError, match="already used"):
        g.add_input("x")
    assert g.add_input("x", rename=True).name == "x_1"
    assert c.outputs[0].users == ()


def test_remove_refused_while_used_then_allowed():
    g = Graph()
    x = g.add_input("x")
    a = g.add_node("Relu", [x], name="a")
    b = g.add_node("Neg", [a.outputs[0]], name="b")
    g.outputs = [b.outputs[0]]
    with pytest.raises(IRError, match="used by b"):
        g.remove_node(a)
    with pytest.raises(IRError, match="graph output"):
        g.remove_node(b)
    g.replace_all_uses_with(b.outputs[0], a.outputs[0])
    g.remove_node(b)
    assert g.outputs == [a.outputs[0]]
    g.lint()
    assert [n.name for n in g.nodes] == ["a"]


def test_replace_all_uses_refuses_to_break_topological_order():
    g = Graph()
    x = g.add_input("x")
    a = g.add_node("Relu", [x], name="a")
    b = g.add_node("Neg", [a.outputs[0]], name="b")
    with pytest.raises(IRError, match="produced after its user"):
        g.replace_all_uses_with(a.outputs[0], b.outputs[0])
    g.lint()


def test_inputs_must_be_visible():
    g = Graph()
    other = Graph("other")
    v = other.add_input("v")
    with pytest.raises(IRError, match="not visible"):
        g.add_node("Relu", [v])


def test_lint_finds_broken_bookkeeping():
    g = small()
    g.node("conv").outputs[0]._users.clear()
    with pytest.raises(IRError, match="does not list its user"):
        g.lint()


def test_lint_finds_use_before_definition():
    g = Graph()
    x = g.add_input("x")
    a = g.add_node("Relu", [x], name="a")
    b = g.add_node("Neg", [a.outputs[0]], name="b")
    g._nodes.reverse()
    with pytest.raises(IRError, match="before it is produced"):
        g.lint()
    assert b  # keep the reference


def test_json_round_trip_is_lossless():
    g = small()
    g.meta["modules"] = {"stem": {"type": "Sequential"}}
    g.node("conv").meta["doc"] = "a ünïcode <doc> & \"quotes\""
    text = g.to_json()
    doc = json.loads(text)
    assert doc["format"] == "netdraw-ir" and doc["version"] == FORMAT_VERSION
    back = Graph.from_json(text)
    assert back.to_json() == text
    assert str(back) == str(g)
    assert back.summary() == g.summary()


def test_json_rejects_other_versions_and_garbage():
    doc = small().to_dict()
    doc["version"] = 99
    with pytest.raises(IRError, match="unsupported netdraw-ir version 99"):
        Graph.from_dict(doc)
    with pytest.raises(IRError, match="not JSON"):
        Graph.from_json("{")
    with pytest.raises(IRError, match="not a netdraw-ir document"):
        Graph.from_json("[]")


def test_copy_is_independent():
    g = small()
    c = g.copy()
    c.node("conv").attrs["kernel_shape"] = [5, 5]
    assert g.node("conv").attrs["kernel_shape"] == [3, 3]
    assert c.node("conv") is not g.node("conv")
    assert str(c) != str(g)
    c.lint()
