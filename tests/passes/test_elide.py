"""The elide pass: big flat graphs drawn within the node budget, every op still accounted for."""

from __future__ import annotations

import netdraw
from netdraw.ir import Graph
from netdraw.passes.collapse import visible_nodes
from netdraw.passes.elide import elide
from netdraw.passes.pipeline import MAX_DRAWN, prepare


def chain(n: int) -> Graph:
    g = Graph("chain")
    v = g.add_input("x", (1, 8), "float32")
    ops = ["Relu", "Sigmoid", "Tanh"]
    for i in range(n):
        v = g.add_node(ops[i % 3], [v], [(f"v{i}", (1, 8), "float32")], name=f"n{i}").outputs[0]
    g.outputs = [v]
    return g


def fan_in(width: int) -> Graph:
    g = Graph("fanin")
    x = g.add_input("x", (1, 8), "float32")
    branches = [g.add_node("Relu", [x], [(f"b{i}", (1, 8), "float32")], name=f"r{i}").outputs[0] for i in range(width)]
    g.outputs = [g.add_node("Sum", branches, [("y", (1, 8), "float32")], name="sum").outputs[0]]
    return g


def residual(blocks: int) -> Graph:
    g = Graph("res")
    cur = g.add_input("x", (1, 8), "float32")
    for i in range(blocks):
        a = g.add_node("Relu", [cur], [(f"a{i}", (1, 8), "float32")], name=f"r{i}").outputs[0]
        b = g.add_node("Sigmoid", [a], [(f"b{i}", (1, 8), "float32")], name=f"s{i}").outputs[0]
        cur = g.add_node("Add", [b, cur], [(f"c{i}", (1, 8), "float32")], name=f"add{i}").outputs[0]
    g.outputs = [cur]
    return g


def accounted(g: Graph) -> int:
    return sum(n.meta["elide"]["nodes"] if "elide" in n.meta else 1 for n in visible_nodes(g))


def test_a_graph_within_the_budget_is_left_alone():
    g = chain(50)
    assert elide(g, 60) is g


def test_a_long_chain_keeps_its_ends_and_elides_the_middle():
    g = elide(chain(1000), 60)
    g.lint()
    drawn = visible_nodes(g)
    assert [n.op_type for n in drawn] == ["Relu", "Sigmoid", "…", "Tanh", "Relu"]
    middle = drawn[2].meta["elide"]
    assert middle == {"kind": "chain", "nodes": 996, "ops": {"Tanh": 332, "Relu": 332, "Sigmoid": 332}}
    assert g.meta["elided"] == {"nodes": 996}
    assert [v.name for v in g.outputs] == ["v999"] and g.outputs[0].shape == (1, 8)


def test_parallel_copies_become_one_node():
    g = elide(fan_in(500), 60)
    g.lint()
    drawn = visible_nodes(g)
    assert [(n.op_type, n.meta.get("elide", {}).get("nodes")) for n in drawn] == [("Relu", 500), ("Sum", None)]
    assert drawn[0].meta["elide"]["kind"] == "parallel"
    assert [v.name for v in drawn[1].inputs] == [v.name for v in drawn[0].outputs]  # 500 branch values kept


def test_residual_blocks_merge_into_runs_and_every_op_is_accounted_for():
    g0 = residual(2000)
    g = elide(g0, 60)
    g.lint()
    assert len(visible_nodes(g)) <= 60
    assert accounted(g) == 6000
    kinds = {n.meta["elide"]["kind"] for n in g.nodes if "elide" in n.meta}
    assert kinds == {"run", "chain"}  # runs, then a chain of runs keeps its two ends on each side


def test_the_pipeline_elides_to_max_nodes_at_auto_and_to_max_drawn_at_an_explicit_depth():
    g = chain(3000)
    assert len(visible_nodes(prepare(g))) == 5
    explicit = prepare(g, depth="max")
    assert len(visible_nodes(explicit)) <= MAX_DRAWN and accounted(explicit) == 3000


def test_the_svg_names_what_was_elided(tmp_path):
    out = tmp_path / "c.dot"
    netdraw.render(chain(20000), out)
    text = out.read_text()
    assert "… 19,996 ops …" in text and "Tanh 6,666 · Relu 6,665 · Sigmoid 6,665" in text
