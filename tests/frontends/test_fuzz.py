"""Fuzzing the parsers through the real CLI: hypothesis builds ONNX protos, Caffe prototxt and
``.netspec`` text, and mutates the bytes of real files; each case runs ``netdraw render`` in a
subprocess with a time limit, half of them over an existing output file, and must end with

* exit code 0, or 2 with exactly one line ``netdraw: error: ...`` on stderr;
* no traceback, no ``internal error``, within the time limit;
* nothing written but the output (the input and an existing output untouched on failure, no
  partial or temporary file left).

CI runs a small fixed budget (the same examples every run: ``derandomize``); a long random run is
``python -m pytest tests/frontends/test_fuzz.py --fuzz-long`` (``NETDRAW_FUZZ_EXAMPLES`` sets how
many cases each test makes, 400 by default in a long run).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import AttributeProto, TensorProto, helper

from tests.conftest import ROOT

SHARED = ROOT.parent / "shared" / "data" / "caffe"
TIME_LIMIT = 60
OLD = b"an existing output file\n"

pytestmark = pytest.mark.fuzz


def fuzz_settings(ci_examples: int):
    long = os.environ.get("NETDRAW_FUZZ_LONG") == "1"
    n = int(os.environ.get("NETDRAW_FUZZ_EXAMPLES", "400")) if long else ci_examples
    return settings(max_examples=n, deadline=None, derandomize=not long, database=None,
                    suppress_health_check=list(HealthCheck))


def check_cli(tmp_path: Path, name: str, data: bytes, fmt: str, existing: bool) -> None:
    """Run ``netdraw render`` on one case in a fresh folder and check the rules above."""
    folder = tmp_path / hashlib.sha256(data + fmt.encode() + bytes([existing])).hexdigest()[:16]
    folder.mkdir()
    src = folder / name
    src.write_bytes(data)
    out = folder / f"out.{fmt}"
    if existing:
        out.write_bytes(OLD)
    try:
        res = subprocess.run([sys.executable, "-m", "netdraw", "render", name, "-o", out.name], cwd=folder,
                             capture_output=True, timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"netdraw ran past {TIME_LIMIT} s on {src} ({len(data)} bytes)")
    err = res.stderr.decode("utf-8", "replace")
    case = f"{src} -> {out.name}: exit {res.returncode}: {err[:500]}"
    assert res.returncode in (0, 2), case
    assert "Traceback" not in err and "internal error" not in err, case
    if res.returncode == 2:
        assert err.count("\n") == 1 and err.startswith("netdraw: error: "), case
    assert src.read_bytes() == data, f"the input was changed: {case}"
    left = sorted(p.name for p in folder.iterdir())
    if res.returncode == 0:
        assert left == sorted([name, out.name]), f"stray files {left}: {case}"
        assert out.read_bytes() != OLD or fmt == "none", case
    else:
        assert left == sorted([name] + ([out.name] if existing else [])), f"stray files {left}: {case}"
        if existing:
            assert out.read_bytes() == OLD, f"the existing output was changed: {case}"


formats = st.sampled_from(["svg", "dot", "json", "mmd"])

# ------------------------------------------------------------------ ONNX protos
hostile_names = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["/a/b/Conv", "../../x", "</script><script>alert(1)</script>", "\\input{/etc/passwd}",
                     "a\"b'c", "x" * 300, "/" * 40, "/".join(["m"] * 1200), "名前/层/Conv", ""]),
)
dims = st.one_of(st.integers(-3, 70), st.sampled_from(["batch", "N", "", "名"]), st.none(), st.just(2 ** 40))
op_types = st.sampled_from(["Conv", "Relu", "Add", "Concat", "Reshape", "Slice", "Gemm", "MatMul", "MaxPool",
                            "Split", "Transpose", "Gather", "Constant", "Pad", "Resize", "Expand", "Unknown",
                            "Sum", "Identity", "Softmax", "BatchNormalization"])
dtypes = st.one_of(st.sampled_from([TensorProto.FLOAT, TensorProto.INT64, TensorProto.STRING, TensorProto.BOOL]),
                   st.integers(0, 40), st.just(99))
ints = st.one_of(st.integers(-5, 70), st.sampled_from([0, -1, 2 ** 31, -(2 ** 62), 2 ** 62]))


@st.composite
def attributes(draw):
    name = draw(st.sampled_from(["kernel_shape", "strides", "pads", "axis", "group", "perm", "starts", "ends",
                                 "value", "mode", "dilations", "split", "to", "then_branch"]))
    kind = draw(st.sampled_from(["ints", "int", "float", "string", "tensor"]))
    if kind == "ints":
        return helper.make_attribute(name, draw(st.lists(ints, max_size=6)), attr_type=AttributeProto.INTS)
    if kind == "int":
        return helper.make_attribute(name, draw(ints))
    if kind == "float":
        return helper.make_attribute(name, draw(st.floats(allow_nan=True, allow_infinity=True)))
    if kind == "string":
        return helper.make_attribute(name, draw(st.text(max_size=10).map(lambda s: s.encode("utf-8", "replace"))))
    t = helper.make_tensor("t", TensorProto.INT64, [2], [1, 2])
    t.data_type = draw(dtypes)
    t.dims[:] = draw(st.lists(st.integers(-2, 5), max_size=3))
    return AttributeProto(name=name, type=AttributeProto.TENSOR, t=t)


@st.composite
def onnx_files(draw) -> bytes:
    inputs = [helper.make_tensor_value_info(f"in{i}", draw(dtypes), draw(st.lists(dims, max_size=5)))
              for i in range(draw(st.integers(0, 3)))]
    values = [vi.name for vi in inputs]
    inits = []
    for i in range(draw(st.integers(0, 3))):
        t = helper.make_tensor(f"w{i}", TensorProto.FLOAT, [2], [1.0, 2.0])
        t.data_type = draw(dtypes)
        t.dims[:] = draw(st.lists(st.integers(-2, 8), max_size=4))
        inits.append(t)
        values.append(t.name)
    nodes = []
    for i in range(draw(st.integers(0, 14))):
        ins = draw(st.lists(st.sampled_from(values + ["undefined", ""]), max_size=4)) if values else []
        outs = [f"v{i}_{j}" for j in range(draw(st.integers(0, 2)))]
        if draw(st.booleans()) and values:
            outs.append(draw(st.sampled_from(values)))  # a name defined twice
        node = helper.make_node(draw(op_types), ins, outs, name=draw(hostile_names),
                                domain=draw(st.sampled_from(["", "", "com.microsoft", "custom"])))
        node.attribute.extend(draw(st.lists(attributes(), max_size=3, unique_by=lambda a: a.name)))
        if draw(st.integers(0, 4)) == 0:
            prop = node.metadata_props.add()
            prop.key = "pkg.torch.onnx.name_scopes"
            prop.value = draw(st.sampled_from(["['', 'a', 'b']", "[", "['x'] * 3", repr([""] + ["m"] * 1500),
                                               "[1, 2]"]))
        nodes.append(node)
        values.extend(outs)
    outputs = [helper.make_tensor_value_info(draw(st.sampled_from(values + ["missing"])), draw(dtypes),
                                             draw(st.lists(dims, max_size=4)))
               for _ in range(draw(st.integers(0, 2)))]
    graph = helper.make_graph(nodes, draw(hostile_names), inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", draw(st.integers(1, 22)))])
    model.ir_version = draw(st.integers(-1, 11))
    for _ in range(draw(st.integers(0, 2))):
        prop = model.metadata_props.add()
        prop.key, prop.value = draw(st.text(max_size=8)), draw(st.text(max_size=8))
    data = model.SerializeToString()
    if draw(st.booleans()):  # invalid UTF-8 where a name was: protobuf hands such strings back as bytes
        marker = b"/a/b/Conv"
        if marker in data:
            data = data.replace(marker, draw(st.sampled_from([b"\xff\xfe\xc3(\x80/\x81", b"\xed\xa0\x80/b/c",
                                                              b"/a/\xff/Conv\xc0"]))[:len(marker)].ljust(len(marker), b"\xff"))
    return data


@fuzz_settings(25)
@given(data=onnx_files(), fmt=formats, existing=st.booleans())
def test_fuzzed_onnx_models(tmp_path_factory, data, fmt, existing):
    check_cli(tmp_path_factory.mktemp("onnx"), "model.onnx", data, fmt, existing)


# ------------------------------------------------------------------ Caffe prototxt
numbers = st.one_of(st.integers(-3, 300).map(str), st.sampled_from(["0", "-1", "inf", "nan", "abc", "1e400", "9" * 60,
                                                                    "3.5", "0x10", "{}", '"7"', "\xb2"]))
caffe_types = st.sampled_from(["Convolution", "Deconvolution", "Pooling", "InnerProduct", "Concat", "Slice",
                               "Reshape", "Permute", "Eltwise", "ReLU", "BatchNorm", "Scale", "Split", "Flatten",
                               "Data", "Input", "Softmax", "MyCustomLayer", "CONVOLUTION", "Normalize", "PReLU"])
blob = st.sampled_from(["data", "x", "a", "b", "c", "名前", "conv/1x1"])
params = st.sampled_from(["num_output", "kernel_size", "stride", "pad", "group", "axis", "slice_point", "order",
                          "dim", "kernel_h", "stride_w", "pool", "global_pooling", "operation", "bias_term",
                          "concat_dim", "channel_shared"])


@st.composite
def prototxt_files(draw) -> bytes:
    lines = []
    if draw(st.booleans()):
        lines.append('input: "data"')
        lines.append("input_shape { " + " ".join(f"dim: {draw(numbers)}" for _ in range(draw(st.integers(0, 5))))
                     + " }")
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(caffe_types)
        body = [f'name: "{draw(st.text(max_size=8).map(lambda s: s.replace(chr(34), "")))}"',
                f'type: "{kind}"' if draw(st.integers(0, 5)) else f"type: {kind}"]
        body += [f'bottom: "{draw(blob)}"' for _ in range(draw(st.integers(0, 3)))]
        body += [f'top: "{draw(blob)}"' for _ in range(draw(st.integers(0, 2)))]
        section = draw(st.sampled_from(["convolution_param", "pooling_param", "inner_product_param", "concat_param",
                                        "slice_param", "reshape_param", "permute_param", "input_param",
                                        "eltwise_param"]))
        inner = " ".join(f"{draw(params)}: {draw(numbers)}" for _ in range(draw(st.integers(0, 5))))
        if section in ("reshape_param", "input_param"):
            inner = "shape { " + inner + " }"
        body.append(f"{section} {{ {inner} }}")
        lines.append("layer { " + " ".join(body) + " }")
    text = "\n".join(lines)
    junk = draw(st.sampled_from(["", "", "{", "}", '"unterminated', "\\x", "layer { " * 3000, "a: [1, 2",
                                 "# comment", "\x00", "layer <"]))
    pos = draw(st.integers(0, len(text)))
    return (text[:pos] + junk + text[pos:]).encode("utf-8", "surrogatepass")


@fuzz_settings(25)
@given(data=prototxt_files(), fmt=formats, existing=st.booleans())
def test_fuzzed_caffe_prototxt(tmp_path_factory, data, fmt, existing):
    check_cli(tmp_path_factory.mktemp("caffe"), "net.prototxt", data, fmt, existing)


# ------------------------------------------------------------------ .netspec
spec_numbers = st.one_of(st.integers(-2, 130).map(str), st.sampled_from(["0", "²", "٣", "9" * 5000, "1e3", ""]))


@st.composite
def netspec_files(draw) -> bytes:
    lines = []
    if draw(st.integers(0, 5)):
        lines.append("input " + "x".join(draw(st.lists(spec_numbers, min_size=1, max_size=4))))
    for _ in range(draw(st.integers(0, 12))):
        op = draw(st.sampled_from(["conv", "deconv", "pool", "gap", "upsample", "flatten", "dense", "bn", "ln",
                                   "dropout", "softmax", "relu", "add", "concat", "@a", "@b", "a:", "b:", "input",
                                   "unknown", "a: conv"]))
        words = [op]
        for _ in range(draw(st.integers(0, 4))):
            words.append(draw(st.one_of(spec_numbers, st.sampled_from(["k", "s", "p", "g"]).flatmap(
                lambda k: spec_numbers.map(lambda n: k + n)), st.sampled_from(["same", "nobias", "relu", "avg",
                                                                               "@a", "@b", "x" * 200]))))
        lines.append(" ".join(words))
    return "\n".join(lines).encode("utf-8")


@fuzz_settings(25)
@given(data=netspec_files(), fmt=formats, existing=st.booleans())
def test_fuzzed_netspec(tmp_path_factory, data, fmt, existing):
    check_cli(tmp_path_factory.mktemp("netspec"), "net.netspec", data, fmt, existing)


# ------------------------------------------------------------------ byte mutation of real files
SEEDS = {
    "resnet18.onnx": ROOT / "examples" / "resnet18.onnx",
    "googlenet.prototxt": SHARED / "bvlc" / "bvlc_googlenet-deploy.prototxt",
    "squeezenet.prototxt": SHARED / "squeezenet" / "squeezenet_v1.0-deploy.prototxt",
    "unet.netspec": ROOT / "examples" / "netspec" / "unet-small.netspec",
}


def test_the_seed_files_are_there():
    """The mutation test reads real files from ../shared; missing ones are a failure, not a skip."""
    missing = [str(p) for p in SEEDS.values() if not p.is_file()]
    assert not missing, f"seed files missing: {missing}"


@st.composite
def mutations(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(SEEDS)))
    data = bytearray(SEEDS[name].read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["flip", "delete", "insert", "duplicate", "truncate"]))
        if kind == "flip" and pos < len(data):
            data[pos] = draw(st.integers(0, 255))
        elif kind == "delete":
            del data[pos:pos + draw(st.integers(1, 64))]
        elif kind == "insert":
            data[pos:pos] = draw(st.one_of(st.binary(max_size=16), st.sampled_from(
                [b"0", b"-1", b"4294967296", b"inf", b"\\x", b"{", b"}", b"\xc2\xb2", b"9" * 5000])))
        elif kind == "duplicate":
            start = draw(st.integers(0, len(data)))
            data[pos:pos] = bytes(data[start:start + draw(st.integers(1, 200))])
        else:
            del data[pos:]
    return name, bytes(data)


@fuzz_settings(15)
@given(case=mutations(), fmt=formats, existing=st.booleans())
def test_mutated_real_files(tmp_path_factory, case, fmt, existing):
    name, data = case
    check_cli(tmp_path_factory.mktemp("mutated"), name, data, fmt, existing)
