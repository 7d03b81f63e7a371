"""DOT generation: golden output, labels, clusters, hostile names."""

from __future__ import annotations

import re

import pytest

import netdraw
from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.api import prepare, render_bytes
from netdraw.renderers.dot import format_count, shape_text, to_dot
from netdraw.renderers.escape import dot_id, dot_label, shorten, xml
from tests.conftest import check_golden


def test_golden_dot_depth_max(scoped_cnn):
    g = netdraw.load(scoped_cnn)
    check_golden("scoped_max.dot", render_bytes(g, "dot", depth="max").decode())


def test_golden_dot_depth_one_lr(scoped_cnn):
    g = netdraw.load(scoped_cnn)
    check_golden("scoped_depth1_lr.dot", render_bytes(g, "dot", depth=1, rankdir="LR").decode())


def test_one_op_modules_are_nodes_not_clusters(scoped_cnn):
    dot = render_bytes(netdraw.load(scoped_cnn), "dot", depth="max", fold="none").decode()
    clusters = re.findall(r'subgraph "cluster:([^"]+)"', dot)
    assert clusters == ["stem", "block", "head"]  # stem/conv, stem/act, head/fc ... are single ops
    assert 'label="conv\\nConv · 3×3\\n224 params"' in dot


def test_edges_carry_shapes_and_skip_params(scoped_cnn):
    dot = render_bytes(netdraw.load(scoped_cnn), "dot", depth="max", fold="none").decode()
    edges = re.findall(r"^\t(\S+) -> (\S+)(?: \[label=\"([^\"]*)\"\])?;$", dot, re.M)
    assert len(edges) == 9  # 7 op-to-op (incl. the residual), input->conv, fc->output
    assert ('"n:/block/Add"', '"n:/head/pool/GlobalAveragePool"', "batch×8×8×8") in edges
    assert not any("stem.w" in e[0] for e in edges)


def test_format_helpers():
    assert [format_count(n) for n in (0, 999, 1000, 9408, 23_512_345, 7_000_000_000)] == [
        "0", "999", "1K", "9.4K", "23.5M", "7B"]
    g = Graph()
    v = g.add_input("v", ["batch", 3, None, "unk__4"], "int64")
    assert shape_text(v) == "int64 batch×3×?×?"
    w = g.add_input("w", ["floor(h/2) + 1", 8], "float32")
    assert shape_text(w) == "?×8"
    assert shape_text(g.add_input("s", [], "float32")) == "scalar"


HOSTILE = ['"; } digraph evil { a -> b; //', "back\\slash\\", "new\nline", "<script>&amp;</script>",
           "\\N\\G\\L", "", "  ", "ünïcødé 名前", "\x00\x07ctl"]


def test_escape_filters():
    assert dot_id('a"b\\c d') == '"a_22_b_5c_c_20_d"'
    assert dot_id("a_b") == '"a_5f_b"'  # '_' is escaped too, so the encoding is reversible
    assert dot_label('say "hi"', "a\\b") == '"say \\"hi\\"\\na\\\\b"'
    assert dot_label("a&amp;b") == '"a&amp;amp;b"'  # Graphviz would decode entities
    assert dot_label("", "x") == '"x"'  # never an empty first line (traps the wasm engine)
    assert xml("<a href='x'>&</a>\x01") == "&lt;a href=&#39;x&#39;&gt;&amp;&lt;/a&gt;"
    assert shorten("abcdefghij", limit=5) == "ab…ij"


def hostile_graph() -> Graph:
    g = Graph(HOSTILE[0])
    prev = g.add_input(HOSTILE[1], [1, HOSTILE[2]], "float32")
    for i, name in enumerate(HOSTILE):
        n = g.add_node(name or "x", [prev], [(name or "v", [1, name or 1], "float32")], name=name or "x",
                       scope=(name or "s", HOSTILE[(i + 1) % len(HOSTILE)] or "t"))
        prev = n.outputs[0]
    g.outputs = [prev]
    g.meta["modules"] = {HOSTILE[3]: {"type": HOSTILE[0]}}
    return g


def test_hostile_names_give_valid_dot_with_one_statement_per_line():
    dot = to_dot(prepare(hostile_graph(), depth="max"))
    # every line is a complete statement: nothing a name contains can open or close one
    for line in dot.splitlines()[1:-1]:
        assert line.rstrip().endswith((";", "{", "}")), line
    assert dot.count("{") == dot.count("}")


def test_options_are_checked(scoped_cnn):
    g = netdraw.load(scoped_cnn)
    with pytest.raises(NetdrawError, match="invalid rankdir 'XY'; valid: TB, LR, BT, RL"):
        render_bytes(g, "dot", rankdir="XY")
    with pytest.raises(NetdrawError, match="unknown option 'colour'; valid: format, depth"):
        render_bytes(g, "dot", colour="red")
    with pytest.raises(NetdrawError, match="invalid depth '0'"):
        render_bytes(g, "dot", depth="0")
    with pytest.raises(NetdrawError, match="invalid format 'bmp'"):
        render_bytes(g, "bmp")


def test_json_format_is_the_full_ir(scoped_cnn):
    g = netdraw.load(scoped_cnn)
    data = render_bytes(g, "json", depth=1).decode()
    assert netdraw.Graph.from_json(data).summary() == g.summary()


def test_dot_output_is_deterministic(scoped_cnn):
    a = render_bytes(netdraw.load(scoped_cnn), "dot")
    b = render_bytes(netdraw.load(scoped_cnn), "dot")
    assert a == b


def test_large_fan_out_becomes_stubs():
    g = Graph("fan")
    x = g.add_input("x", [4], "float32")
    src = g.add_node("Cos", [x], [("c", [4], "float32")], name="rope")
    prev = x
    for i in range(12):
        n = g.add_node("Add", [prev, src.outputs[0]], [(f"h{i}", [4], "float32")], name=f"layer{i}")
        prev = n.outputs[0]
    g.outputs = [prev]
    dot = to_dot(g)
    assert dot.count('"n:rope" -> ') == 1                       # one real edge ...
    assert dot.count('[label="from Cos", shape=plaintext') == 11  # ... and a stub for each other user
    # x->rope, x->layer0, rope->layer0, 11 stub edges, 11 chain edges, layer11->output
    assert dot.count(" -> ") == 1 + 1 + 1 + 11 + 11 + 1
