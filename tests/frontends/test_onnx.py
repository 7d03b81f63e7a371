"""The ONNX frontend on small models built here and on real models from PyPI wheels."""

from __future__ import annotations

import json

import onnx
import pytest
from onnx import TensorProto, helper

import netdraw
from netdraw.errors import NetdrawError
from tests.conftest import check_golden, make_model, onnx_reference, tensor


def test_scopes_from_slash_names_and_params_on_users(scoped_cnn):
    g = netdraw.load(scoped_cnn)
    g.lint()
    assert [n.scope for n in g.nodes] == [("stem", "conv"), ("stem", "act"), ("block", "conv"), ("block",),
                                           ("head", "pool"), ("head",), ("head", "fc")]
    assert [n.params for n in g.nodes] == [8 * 27 + 8, 0, 64, 0, 0, 0, 36]
    assert g.summary()["params"] == 216 + 8 + 64 + 36
    assert g.inputs[0].shape == ("batch", 3, 8, 8)
    # shapes from onnx shape inference, symbolic batch kept
    assert g.node("/stem/conv/Conv").outputs[0].shape == ("batch", 8, 8, 8)
    assert g.outputs[0].shape == ("batch", 4)
    assert g.meta["source"] == {"format": "onnx", "path": "scoped.onnx"}
    check_golden("onnx_scoped.txt", str(g))


def test_initializers_listed_as_inputs_are_not_graph_inputs(tmp_path):
    X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    W = helper.make_tensor_value_info("w", TensorProto.FLOAT, [2])
    Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    m = make_model([helper.make_node("Add", ["x", "w"], ["y"])], [X, W], [Y], [tensor("w", (2,))])
    m.ir_version = 3
    onnx.save(m, tmp_path / "m.onnx")
    g = netdraw.load(tmp_path / "m.onnx")
    assert [v.name for v in g.inputs] == ["x"]
    assert g.summary()["params"] == 2


def test_constant_nodes_count_as_params_and_shared_weights_count_once(tmp_path):
    X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])
    Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])
    nodes = [
        helper.make_node("Constant", [], ["k"], value=tensor("kv", (3,))),
        helper.make_node("Constant", [], ["s"], value_floats=[1.0, 2.0, 3.0]),
        helper.make_node("Constant", [], ["one"], value_int=1),
        helper.make_node("Mul", ["x", "k"], ["a"]),
        helper.make_node("Add", ["a", "w"], ["b"]),
        helper.make_node("Add", ["b", "w"], ["y"]),  # the same initializer again
    ]
    m = make_model(nodes, [X], [Y], [tensor("w", (3,)), tensor("unused", (5,))])
    onnx.save(m, tmp_path / "m.onnx")
    g = netdraw.load(tmp_path / "m.onnx")
    assert [n.params for n in g.nodes] == [3, 3, 1, 0, 3, 0]
    assert g.meta["params_unattributed"] == 5
    assert g.summary()["params"] == 3 + 3 + 1 + 3 + 5 == onnx_reference(tmp_path / "m.onnx")["params"]


def _if_model():
    X = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 4])
    C = helper.make_tensor_value_info("cond", TensorProto.BOOL, [])
    Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 4])
    then_out = helper.make_tensor_value_info("t", TensorProto.FLOAT, ["n", 4])
    else_out = helper.make_tensor_value_info("e", TensorProto.FLOAT, ["n", 4])
    then_g = helper.make_graph([helper.make_node("Add", ["x", "bias"], ["t"], name="then_add")], "then",
                               [], [then_out])
    else_g = helper.make_graph(
        [helper.make_node("Mul", ["x", "inner_scale"], ["e"], name="else_mul")], "else", [], [else_out],
        [tensor("inner_scale", (4,))])
    node = helper.make_node("If", ["cond"], ["y"], name="branch", then_branch=then_g, else_branch=else_g)
    return make_model([node], [X, C], [Y], [tensor("bias", (4,))])


def test_if_bodies_are_subgraphs_with_outer_references(tmp_path):
    onnx.save(_if_model(), tmp_path / "if.onnx")
    g = netdraw.load(tmp_path / "if.onnx")
    g.lint()
    (branch,) = g.nodes
    assert set(branch.subgraphs) == {"then_branch", "else_branch"}
    then_add = branch.subgraphs["then_branch"].nodes[0]
    # the outer initializer is counted on the inner node that uses it, once
    assert then_add.params == 4 and branch.params == 0
    assert then_add.inputs[0] is g.inputs[0]
    ref = onnx_reference(tmp_path / "if.onnx")
    s = g.summary()
    assert (s["nodes"], s["nodes_total"], s["params"]) == (ref["nodes"], ref["nodes_total"], ref["params"]) == (1, 3, 8)
    assert g.copy().summary() == s


def test_loop_body_inputs(tmp_path):
    X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    body = helper.make_graph(
        [helper.make_node("Add", ["acc", "x"], ["acc_out"]), helper.make_node("Identity", ["cond_in"], ["cond_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [2])])
    nodes = [helper.make_node("Constant", [], ["trip"], value=helper.make_tensor("t", TensorProto.INT64, [], [3])),
             helper.make_node("Loop", ["trip", "", "x"], ["y"], body=body)]
    onnx.save(make_model(nodes, [X], [Y]), tmp_path / "loop.onnx")
    g = netdraw.load(tmp_path / "loop.onnx")
    g.lint()
    loop = g.nodes[1]
    assert loop.inputs[1] is None
    assert [v.name for v in loop.subgraphs["body"].inputs] == ["i", "cond_in", "acc"]
    assert g.summary()["nodes_total"] == 4


def test_external_data_is_never_read(tmp_path):
    m = _if_model()
    onnx.save(m, tmp_path / "ext.onnx", save_as_external_data=True, all_tensors_to_one_file=True,
              location="ext.data", size_threshold=0)
    (tmp_path / "ext.data").unlink()  # loading must not need it
    g = netdraw.load(tmp_path / "ext.onnx")
    assert g.summary()["params"] == 8
    assert g.value("bias").meta == {"external": True}


def test_torch_dynamo_metadata_gives_scopes_and_module_types(tmp_path):
    X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    n = helper.make_node("Relu", ["x"], ["y"], name="node_relu")
    for k, v in {"pkg.torch.onnx.name_scopes": "['', 'encoder', 'encoder.act', 'relu']",
                 "pkg.torch.onnx.class_hierarchy": "['M', 'Encoder', 'torch.nn.modules.activation.ReLU', 'aten.relu']"}.items():
        p = n.metadata_props.add()
        p.key, p.value = k, v
    onnx.save(make_model([n], [X], [Y]), tmp_path / "d.onnx")
    g = netdraw.load(tmp_path / "d.onnx")
    assert g.nodes[0].scope == ("encoder", "encoder.act")
    assert g.meta["modules"] == {"encoder": {"type": "Encoder"},
                                 "encoder/encoder.act": {"type": "torch.nn.modules.activation.ReLU"}}


def test_unsorted_nodes_unnamed_nodes_and_unknown_ops(tmp_path):
    X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])
    Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])
    nodes = [helper.make_node("Neg", ["a"], ["y"]),
             helper.make_node("FancyOp", ["x"], ["a"], domain="com.example"),
             ]
    m = make_model(nodes, [X], [Y])
    m.opset_import.append(helper.make_opsetid("com.example", 1))
    onnx.save(m, tmp_path / "u.onnx")
    g = netdraw.load(tmp_path / "u.onnx")
    g.lint()
    assert [(n.name, n.domain) for n in g.nodes] == [("FancyOp", "com.example"), ("Neg", "")]
    assert g.nodes[0].outputs[0].shape is None


@pytest.mark.parametrize("payload,message", [
    (b"", "no IR version or no graph"),
    (b"\x08\x07\x12\xff\xff\xff\xff\x0f", "truncated or corrupt"),
])
def test_bad_files(tmp_path, payload, message):
    p = tmp_path / "bad.onnx"
    p.write_bytes(payload)
    with pytest.raises(NetdrawError, match=message):
        netdraw.load(p)


def test_truncated_real_file_is_reported(tmp_path):
    from tests.conftest import ROOT

    data = (ROOT / "examples" / "resnet18.onnx").read_bytes()
    p = tmp_path / "cut.onnx"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(NetdrawError, match="not a valid ONNX file"):
        netdraw.load(p)


@pytest.mark.realmodels
@pytest.mark.parametrize("name", ["nudenet-320n", "rapidocr-det", "rapidocr-cls", "silero-vad",
                                  "silero-vad-16k-op15", "magika"])
def test_real_models_match_onnx_counts(real_models, name):
    path = real_models[name]
    ref = onnx_reference(path)
    g = netdraw.load(path)
    g.lint()
    s = g.summary()
    assert s["nodes"] == ref["nodes"]
    assert s["nodes_total"] == ref["nodes_total"]
    assert s["params"] == ref["params"]
    assert [v["name"] for v in s["inputs"]] == ref["inputs"]
    assert [v["name"] for v in s["outputs"]] == ref["outputs"]
    assert sum(s["ops"].values()) == s["nodes"]
    back = netdraw.Graph.from_json(g.to_json())
    assert back.summary() == s


@pytest.mark.realmodels
def test_real_model_known_values(real_models):
    # numbers published with the models, checked by hand once against onnx
    s = netdraw.load(real_models["nudenet-320n"]).summary()
    assert (s["nodes"], s["params"], s["ops"]["Conv"]) == (323, 3009250, 64)
    s = netdraw.load(real_models["silero-vad"]).summary()
    assert (s["nodes"], s["nodes_total"]) == (5, 689)
    g = netdraw.load(real_models["nudenet-320n"])
    assert g.inputs[0].shape == ("batch", 3, "height", "width")
    assert {n.scope[0] for n in g.nodes if n.scope} == {f"model.{i}" for i in range(23)}


def test_shape_inference_failure_is_a_warning_not_an_error(monkeypatch, scoped_cnn):
    def boom(*a, **k):
        raise onnx.shape_inference.InferenceError("[ShapeInferenceError] broken model")

    monkeypatch.setattr(onnx.shape_inference, "infer_shapes", boom)
    g = netdraw.load(scoped_cnn)
    assert g.meta["warnings"] == ["shape inference failed: [ShapeInferenceError] broken model"]
    assert g.node("/stem/conv/Conv").outputs[0].shape is None  # no inferred shapes ...
    assert g.outputs[0].shape == ("batch", 4)                  # ... declared ones kept
    assert g.summary()["params"] == 324


def test_data_propagation_only_for_static_inputs(tmp_path):
    """Shape -> Gather -> Reshape resolves to numbers when the input is static."""
    X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4])
    Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Constant", [], ["m"], value=helper.make_tensor("m", TensorProto.INT64, [1], [-1])),
             helper.make_node("Slice", ["s", "zero", "one"], ["first"]),
             helper.make_node("Concat", ["first", "m"], ["target"], axis=0),
             helper.make_node("Reshape", ["x", "target"], ["y"])]
    inits = [helper.make_tensor("zero", TensorProto.INT64, [1], [0]),
             helper.make_tensor("one", TensorProto.INT64, [1], [1])]
    onnx.save(make_model(nodes, [X], [Y], inits), tmp_path / "r.onnx")
    g = netdraw.load(tmp_path / "r.onnx")
    assert g.node("Reshape").outputs[0].shape == (2, 12)


def _one_relu(tmp_path, name="/a/b/Relu", dim_param="batch", graph_name="g"):
    X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [dim_param, 3])
    Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    return make_model([helper.make_node("Relu", ["x"], ["y"], name=name)], [X], [Y])


def test_unknown_dtype_enums_are_drawn_not_fatal(tmp_path):
    t = helper.make_tensor("w", TensorProto.FLOAT, [3], [1, 2, 3])
    t.data_type = 99
    c = helper.make_node("Constant", [], ["k"], value=helper.make_tensor("v", TensorProto.FLOAT, [2], [1, 2]))
    c.attribute[0].t.data_type = 77
    X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])
    Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [c, helper.make_node("Add", ["x", "w"], ["s"]), helper.make_node("Add", ["s", "k"], ["y"])]
    onnx.save(make_model(nodes, [X], [Y], [t]), tmp_path / "d.onnx")
    g = netdraw.load(tmp_path / "d.onnx")
    assert g.value("w").dtype == "dtype99"
    assert g.nodes[0].attrs["value"]["tensor"]["dtype"] == "dtype77"
    assert g.summary()["params"] == 3 + 2


def test_invalid_utf8_in_names_becomes_replacement_characters(tmp_path):
    data = _one_relu(tmp_path, name="/a/QQQQ/Relu", dim_param="PPPP").SerializeToString()
    data = data.replace(b"QQQQ", b"\xff\xfe(\x80").replace(b"PPPP", b"\xc3\xff\xff\xff")
    (tmp_path / "u.onnx").write_bytes(data)
    g = netdraw.load(tmp_path / "u.onnx")
    assert g.nodes[0].scope == ("a", "\ufffd\ufffd(\ufffd")
    assert g.inputs[0].shape == ("\ufffd\ufffd\ufffd\ufffd", 3)
    json.loads(g.to_json())  # and the IR's JSON holds it


def test_an_abort_in_onnx_shape_inference_is_a_warning(tmp_path):
    """onnx's C++ asserts (std::clamp) on a Slice over a negative dimension and aborts the process;
    it runs in a child, so netdraw goes on with the file's own shapes."""
    X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [-5])
    Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    inits = [helper.make_tensor(n, TensorProto.INT64, [1], [v]) for n, v in (("s", 0), ("e", 5), ("st", 1))]
    model = make_model([helper.make_node("Slice", ["x", "s", "e", "", "st"], ["y"])], [X], [Y], inits)
    onnx.save(model, tmp_path / "s.onnx")
    g = netdraw.load(tmp_path / "s.onnx")
    assert g.meta["warnings"] == ["shape inference failed: onnx's shape inference crashed (signal 6)"]
    assert g.inputs[0].shape == (None,)  # a negative size is no size


def test_shape_inference_has_a_time_limit(scoped_cnn):
    from netdraw.frontends.onnx import infer_shapes

    model = onnx.load(str(scoped_cnn))
    inferred, why = infer_shapes(model, data_prop=True, timeout=0)
    assert inferred is None and why == "it ran longer than 0 s (shapes are the file's own)"
    inferred, why = infer_shapes(model, data_prop=True)
    assert why == "" and any(vi.name == "s" for vi in inferred.graph.value_info)


def test_module_paths_are_cut_at_32_levels(tmp_path):
    deep = "/" + "/".join(f"m{i}" for i in range(1500)) + "/Relu"
    onnx.save(_one_relu(tmp_path, name=deep), tmp_path / "deep.onnx")
    g = netdraw.load(tmp_path / "deep.onnx")
    assert g.nodes[0].scope == tuple(f"m{i}" for i in range(32))
    svg = netdraw.render(g, tmp_path / "deep.dot").read_text()
    assert svg.count("subgraph") == 23  # 24 levels at most; the 24th, holding one op, is drawn as that op


@pytest.mark.parametrize("location", ["../outside.bin", "/etc/hostname", "link.bin"])
def test_external_data_onnx_refuses_is_one_line_with_thumbnails(tmp_path, capsys, location):
    from netdraw.cli import run

    folder = tmp_path / "model"
    folder.mkdir()
    (tmp_path / "outside.bin").write_bytes(b"\0" * 16)
    (folder / "link.bin").symlink_to(tmp_path / "outside.bin")
    w = helper.make_tensor("w", TensorProto.FLOAT, [4], [0.0] * 4)
    w.ClearField("float_data")
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", "16")):
        entry = w.external_data.add()
        entry.key, entry.value = k, v
    X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    onnx.save(make_model([helper.make_node("Add", ["x", "w"], ["y"])], [X], [Y], [w]), folder / "m.onnx")
    code = run(["render", str(folder / "m.onnx"), "--thumbnails", "--input", "4", "-o", str(tmp_path / "o.svg")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "m.onnx: cannot read its external data" in err, err
    assert not (tmp_path / "o.svg").exists()
