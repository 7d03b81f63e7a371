"""PyTorch capture on the classic CNNs, torch.nn.Transformer and transformers models."""

from __future__ import annotations

import dataclasses
import re
import sys
import warnings

import pytest
import torch
from torch import nn

import netdraw
from netdraw.errors import NetdrawError
from netdraw.capture import InputSpec, _leaves
from netdraw.frontends.pytorch import trace
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "examples"))
import models as cnn  # noqa: E402


def unique_params(model: nn.Module) -> int:
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def leaf_scopes(g) -> int:
    """How many leaf-module calls the graph has nodes for."""
    mods = g.meta["modules"]
    return len({n.scope for n in g.nodes if n.scope and mods.get("/".join(n.scope), {}).get("leaf")})


def state(model: nn.Module):
    return ({k: v.clone() for k, v in model.state_dict().items()},
            [(n, m.training) for n, m in model.named_modules()],
            [(n, p.requires_grad) for n, p in model.named_parameters()],
            [(n, dict(m._forward_hooks), dict(m._forward_pre_hooks)) for n, m in model.named_modules()])


def assert_same_state(before, model):
    after = state(model)
    assert before[1:] == after[1:]
    assert before[0].keys() == after[0].keys()
    for k in before[0]:
        assert torch.equal(before[0][k], after[0][k]), k


def check_model(model: nn.Module, args: tuple, kwargs: dict, shape_mode: str) -> None:
    """The suite's five checks for one model."""
    model.eval()
    calls = []
    handles = [m.register_forward_hook(lambda *a: calls.append(1)) for m in model.modules()
               if next(m.children(), None) is None]
    before = state(model)
    g = trace(model, args, kwargs, mode=shape_mode)
    for h in handles:
        h.remove()
    before = (before[0], before[1], before[2], state(model)[3])  # our own counting hooks are gone now
    g.lint()
    assert g.meta["source"]["mode"] == shape_mode
    # 1. parameters
    assert g.summary()["params"] == unique_params(model)
    # 2. outputs: shapes and dtypes of the real run
    with torch.no_grad():
        out = model(*args, **kwargs)
    real = [(tuple(t.shape), str(t.dtype).replace("torch.", "")) for _, t in _leaves(out, objects=True)]
    assert [(v.shape, v.dtype) for v in g.outputs] == real
    # 3. one set of nodes per leaf-module call, as forward hooks count them in the same run
    assert leaf_scopes(g) == len(calls)
    # 4. the model is left as it was
    assert_same_state(before, model)
    # 5. shape-only and real capture agree
    assert str(trace(model, args, kwargs, mode="real")) == str(g)


@pytest.mark.parametrize("name", sorted(cnn.MODELS))
def test_classic_cnns(name):
    factory, shape = cnn.MODELS[name]
    torch.manual_seed(0)
    model = factory()
    check_model(model, (torch.randn(shape),), {}, "meta")


def test_torch_nn_transformer():
    torch.manual_seed(0)
    model = nn.Transformer(d_model=32, nhead=4, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=64,
                           batch_first=True)
    check_model(model, (torch.randn(2, 10, 32), torch.randn(2, 7, 32)), {}, "meta")


@pytest.mark.transformers
@pytest.mark.parametrize("name", ["BertModel", "GPT2Model", "ViTModel", "ResNetModel", "T5Model", "WhisperModel",
                                  "SwinModel", "CLIPModel"])
def test_transformers_suite(name):
    from tests.frontends.hf_suite import build

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model, args, kwargs = build(name)
        check_model(model, args, kwargs, "meta")


@pytest.mark.transformers
def test_fake_mode_gives_the_same_graph():
    from tests.frontends.hf_suite import build

    model, args, kwargs = build("GPT2Model")
    assert str(trace(model, args, kwargs, mode="fake")) == str(trace(model, args, kwargs, mode="real"))
    g = trace(cnn.resnet18(width=0.25), (torch.randn(1, 3, 32, 32),), mode="fake")
    assert g.meta["source"]["mode"] == "fake"
    assert str(g) == str(trace(cnn.resnet18(width=0.25), (torch.randn(1, 3, 32, 32),), mode="real"))


def test_meta_capture_is_the_default_and_costs_no_activation_memory():
    g = trace(cnn.resnet50(), (InputSpec((1, 3, 224, 224)),))
    assert g.meta["source"] == {"format": "torch", "capture": "eager", "mode": "meta"}
    assert g.summary()["params"] == 25_557_032
    assert g.summary()["nodes"] == 175
    assert g.outputs[0].shape == (1, 1000)


class SharedReLU(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        y = self.relu(self.fc(x))
        y += 1  # in-place on an activation
        return self.relu(y)


def test_module_called_twice_and_inplace_ops():
    g = trace(SharedReLU(), (torch.randn(2, 4),))
    assert [(n.op_type, n.scope) for n in g.nodes] == [
        ("linear", ("fc",)), ("relu", ("relu",)), ("add_", ()), ("relu", ("relu#2",))]
    relu1, add, relu2 = g.nodes[1:]
    # each in-place op makes a new version of the value: the chain stays a chain
    assert add.inputs[0] is relu1.outputs[0] and relu2.inputs[0] is add.outputs[0]
    assert add.meta == {"inplace": True} and relu2.meta == {"inplace": True}
    assert g.meta["modules"]["relu#2"] == {"type": "torch.nn.modules.activation.ReLU", "path": "relu", "leaf": True}


class Tied(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 8)
        self.head = nn.Linear(8, 10, bias=False)
        self.head.weight = self.emb.weight
        self.unused = nn.Linear(3, 3)

    def forward(self, ids):
        return self.head(self.emb(ids))


def test_shared_weights_count_once_and_unused_are_kept_in_the_total():
    g = trace(Tied(), (torch.zeros(1, 5, dtype=torch.long),))
    assert [n.params for n in g.nodes] == [80, 0]
    assert g.meta["params_unattributed"] == 12
    assert g.summary()["params"] == 80 + 12 == unique_params(Tied())


@dataclasses.dataclass
class Batch:
    image: torch.Tensor
    scale: float


class Nested(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)

    def forward(self, batch: Batch, extra: dict, flag: bool = True):
        y = self.conv(batch.image) * batch.scale
        return {"features": y, "pair": (y.mean(), extra["bias"] + 1)}


def test_nested_inputs_outputs_and_attributes():
    b = Batch(torch.randn(1, 3, 8, 8), 0.5)
    g = trace(Nested(), (b, {"bias": torch.zeros(2)}), {"flag": False})
    assert [(v.name, v.shape) for v in g.inputs] == [("batch.image", (1, 3, 8, 8)), ("extra.bias", (2,))]
    assert [(v.name, v.shape) for v in g.outputs] == [("features", (1, 4, 6, 6)), ("pair.0", ()), ("pair.1", (2,))]
    assert g.meta["input_attrs"] == {"flag": False}
    conv = g.nodes[0]
    assert conv.attrs == {"bias": None, "stride": [1, 1], "padding": [0, 0], "dilation": [1, 1], "groups": 1,
                          "kernel_size": [3, 3]} or conv.attrs["kernel_size"] == [3, 3]
    assert g.nodes[1].op_type == "mul" and g.nodes[1].attrs == {"arg1": 0.5}


class DataDependent(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 4)

    def forward(self, x):
        if x.sum() > 0:
            return self.a(x)
        return self.b(x)


def test_data_dependent_control_flow_falls_back_to_a_real_run():
    g = trace(DataDependent(), (torch.ones(1, 4),))
    assert g.meta["source"]["mode"] == "real"
    assert [f.split(":")[0] for f in g.meta["source"]["fallbacks"]] == ["meta", "fake"]
    assert [n.scope for n in g.nodes] == [("a",)]  # the path actually taken; sum and gt only steered it
    g = trace(DataDependent(), (-torch.ones(1, 4),))
    assert [n.scope for n in g.nodes] == [("b",)]
    with pytest.raises(NetdrawError, match="fake-tensor capture failed"):
        trace(DataDependent(), (torch.ones(1, 4),), mode="fake")


def test_model_built_on_meta_device():
    with torch.device("meta"):
        model = cnn.vgg16()
    g = trace(model, (InputSpec((1, 3, 224, 224)),))
    assert g.summary()["params"] == 138_357_544
    with torch.device("meta"):
        dd = DataDependent()
    with pytest.raises(NetdrawError, match="built on the meta device"):
        trace(dd, (InputSpec((1, 4)),))


def test_training_mode_and_grad_are_restored():
    model = cnn.resnet18(width=0.25).train()
    model.layer1.requires_grad_(False)
    before = state(model)
    trace(model, (torch.randn(1, 3, 32, 32),), mode="real")
    assert model.training and all(m.training for m in model.modules())
    assert_same_state(before, model)
    assert torch.is_grad_enabled()


def test_export_capture_scopes_and_failure_message():
    g = trace(SharedReLU(), (torch.randn(2, 4),), capture="export")
    assert g.meta["source"]["capture"] == "export"
    assert [n.scope for n in g.nodes] == [("fc",), ("relu",), (), ("relu#2",)]
    assert g.summary()["params"] == 20
    with pytest.raises(NetdrawError, match=r"torch.export could not capture DataDependent .*--capture eager"):
        trace(DataDependent(), (torch.ones(1, 4),), capture="export")


def test_export_matches_eager_on_a_cnn():
    model = cnn.resnet18(width=0.25)
    x = torch.randn(1, 3, 32, 32)
    ge = trace(model, (x,), capture="export")
    gt = trace(model, (x,))
    assert ge.summary()["params"] == gt.summary()["params"] == unique_params(model)
    assert {n.scope for n in ge.nodes} == {n.scope for n in gt.nodes}


def test_options_are_checked():
    with pytest.raises(NetdrawError, match="invalid mode 'quantum'; valid: auto, meta, fake, real"):
        trace(SharedReLU(), (torch.randn(1, 4),), mode="quantum")
    with pytest.raises(NetdrawError, match="needs a torch.nn.Module"):
        trace(lambda x: x, (torch.randn(1),))


def test_render_of_a_traced_model(tmp_path):
    g = netdraw.trace(cnn.resnet18(), (InputSpec((1, 3, 224, 224)),))
    out = tmp_path / "r.dot"
    netdraw.render(g, out, depth=1, fold="none")
    dot = out.read_text()
    # layer1's two blocks are identical and rolled, but its parameter count covers both
    assert '"n:layer1" [label="layer1\\nSequential\\n148K params"' in dot
    assert '"n:conv1" [label="conv1\\nConv2d\\n9.4K params", fillcolor="#D3E8F7"' in dot  # conv colours
    nodes = re.findall(r'^\t"n:([^"]+)" \[label', dot, re.M)
    assert nodes == ["conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool",
                     "flatten", "fc"]
    # folded by default: the stem is one Conv-BN-ReLU node (named after its conv) with all 9,536 params
    netdraw.render(g, out, depth=1)
    dot = out.read_text()
    assert '"n:conv1/conv2d" [label="conv1\\nConv-BN-ReLU · 7×7 s2\\n9.5K params", fillcolor="#D3E8F7"' in dot
    assert re.findall(r'^\t"n:([^"]+)" \[label', dot, re.M)[:2] == ["conv1/conv2d", "maxpool"]


def _m(*shape, dtype=torch.float32):
    return torch.empty(shape, dtype=dtype, device="meta")


F_ = torch.nn.functional
SHORTCUT_CASES = [
    (F_.scaled_dot_product_attention, (_m(2, 4, 16, 8), _m(2, 4, 12, 8), _m(2, 4, 12, 6)), {}),
    (F_.scaled_dot_product_attention, (_m(2, 8, 16, 8), _m(2, 2, 12, 8), _m(2, 2, 12, 8)), {"enable_gqa": True}),
    (F_.scaled_dot_product_attention, (_m(4, 16, 8), _m(4, 12, 8), _m(4, 12, 8)), {"is_causal": False}),
    (torch.matmul, (_m(2, 1, 5, 3), _m(4, 3, 7)), {}),
    (torch.bmm, (_m(4, 5, 3), _m(4, 3, 7)), {}),
    (torch.mm, (_m(5, 3), _m(3, 7)), {}),
    (torch.addmm, (_m(7), _m(5, 3), _m(3, 7)), {"beta": 0.5}),
    (torch.cat, ([_m(0), _m(1, 4, 3, 8), _m(1, 4, 5, 8)],), {"dim": -2}),
    (torch.cat, ([_m(2, 3), _m(4, 3)],), {}),
    (torch.pow, (_m(2, 3), 2.0), {}),
    (torch.div, (_m(2, 3), _m(3, dtype=torch.float64)), {}),
    (torch.rsqrt, (_m(2, 3, dtype=torch.float16),), {}),
    (torch.mean, (_m(2, 3, 4), -1), {"keepdim": True}),
    (torch.mean, (_m(2, 3, 4), (0, 2)), {}),
    (torch.mean, (_m(2, 3, 4),), {}),
    (torch.eq, (_m(2, 3), _m(3, dtype=torch.int64)), {}),
    (torch.Tensor.__ge__, (_m(2, 3, dtype=torch.int64), 1), {}),
    (torch.add, (_m(2, 3, dtype=torch.int32), 2.5), {}),
    (F_.linear, (_m(2, 5, 400), _m(120, 400), _m(120)), {}),
    (F_.batch_norm, (_m(2, 8, 5, 5), _m(8), _m(8), _m(8), _m(8), False, 0.1, 1e-5), {}),
    (F_.layer_norm, (_m(2, 7, 16), (16,), _m(16), _m(16)), {}),
    (F_.group_norm, (_m(2, 8, 5), 4, _m(8), _m(8)), {}),
    (F_.softmax, (_m(2, 7), -1), {}),
    (F_.gelu, (_m(2, 7),), {}),
]

#: ill-formed calls a real run rejects: the shortcut must not answer them with a shape
BAD_SHORTCUT_CASES = [
    (F_.linear, (_m(1, 576), _m(120, 400), _m(120)), {}),  # LeNet-5 on a 32x32 input
    (F_.linear, (_m(1, 400), _m(120, 400), _m(84)), {}),  # a bias of the wrong size
    (F_.batch_norm, (_m(2, 6, 5, 5), _m(8), _m(8), _m(8), _m(8), False, 0.1, 1e-5), {}),  # 6 channels, 8 stats
    (F_.layer_norm, (_m(2, 7, 12), (16,), _m(16), _m(16)), {}),
    (F_.group_norm, (_m(2, 6, 5), 4, _m(6), _m(6)), {}),  # 6 channels in 4 groups
    (F_.softmax, (_m(2, 7), 2), {}),  # no dim 2
]


@pytest.mark.parametrize("case", range(len(SHORTCUT_CASES)))
def test_meta_shortcuts_agree_with_pytorch(case):
    """netdraw's shape answers for common ops equal PyTorch's own meta kernels (and every case
    here takes the shortcut, so the comparison is not vacuous)."""
    from netdraw.capture import _meta_shortcut, _op_name

    func, args, kwargs = SHORTCUT_CASES[case]
    ours = _meta_shortcut(_op_name(func)[0], args, kwargs)
    theirs = func(*args, **kwargs)
    assert ours is not None
    assert (tuple(ours.shape), ours.dtype) == (tuple(theirs.shape), theirs.dtype)


@pytest.mark.parametrize("case", range(len(BAD_SHORTCUT_CASES)))
def test_meta_shortcuts_refuse_what_a_real_run_rejects(case):
    from netdraw.capture import _meta_shortcut, _op_name

    func, args, kwargs = BAD_SHORTCUT_CASES[case]
    assert _meta_shortcut(_op_name(func)[0], args, kwargs) is None
    real = [torch.zeros(a.shape, dtype=a.dtype) if isinstance(a, torch.Tensor) else a for a in args]
    with pytest.raises((RuntimeError, IndexError, ValueError)):
        func(*real, **kwargs)  # the same call on real tensors fails


def test_a_wrong_input_shape_is_a_one_line_error(tmp_path):
    """A LeNet-5 fed 32x32 images: its flattened features do not fit the first linear layer."""
    import subprocess
    import sys

    out = tmp_path / "lenet.svg"
    r = subprocess.run([sys.executable, "-m", "netdraw", "render", f"{ROOT / 'examples' / 'models.py'}:LeNet5",
                        "--input", "1x1x32x32", "-o", str(out)], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr == ("netdraw: error: the model failed to run on the example inputs: RuntimeError: mat1 and "
                        "mat2 shapes cannot be multiplied (1x576 and 400x120)\n")
    assert not out.exists()


def test_meta_shortcuts_leave_unusual_calls_to_pytorch():
    from netdraw.capture import _meta_shortcut

    assert _meta_shortcut("cat", ([_m(2, 3), _m(2, 3, dtype=torch.float16)],), {}) is None  # promotes
    assert _meta_shortcut("matmul", (_m(3), _m(3, 4)), {}) is None  # a vector
    assert _meta_shortcut("scaled_dot_product_attention", (_m(2, 4, 16, 8), _m(2, 4, 12, 7), _m(2, 4, 12, 8)),
                          {}) is None  # wrong key width: PyTorch raises its own error
    assert _meta_shortcut("pow", (_m(2, dtype=torch.int64), -1), {}) is None  # integers to negative powers
    assert _meta_shortcut("div", (_m(2, dtype=torch.int64), 2), {}) is None


def test_op_names_follow_the_function_not_overrides_table():
    from netdraw.capture import _op_name

    # torch.overrides.resolve_name(torch.mm) says "torch.spmm"
    assert [_op_name(f)[0] for f in (torch.mm, torch.bmm, torch.Tensor.__ge__, torch.Tensor.shape.__get__)] == \
        ["mm", "bmm", "ge", "shape"]


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("opts", [
    {}, {"need_weights": False}, {"average_attn_weights": False},
    {"add_bias_kv": True, "add_zero_attn": True}, {"kdim": 12, "vdim": 20},
])
def test_multi_head_attention_shortcut_agrees_with_pytorch(batched, opts):
    from netdraw.capture import _meta_shortcut

    ctor = {k: v for k, v in opts.items() if k in ("add_bias_kv", "add_zero_attn", "kdim", "vdim")}
    call = {k: v for k, v in opts.items() if k not in ctor}
    mha = nn.MultiheadAttention(32, 4, **ctor).to("meta")
    lead = (7, 2) if batched else (7,)
    q = _m(*lead, 32)
    k = _m(5, *lead[1:], opts.get("kdim", 32))
    v = _m(5, *lead[1:], opts.get("vdim", 32))
    seen = []

    class Spy(torch.overrides.TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if func is F_.multi_head_attention_forward:
                seen.append(_meta_shortcut("multi_head_attention_forward", args, kwargs or {}))
            return func(*args, **(kwargs or {}))

    with Spy():
        theirs = mha(q, k, v, **call)
    ours = seen[0]
    assert ours is not None
    assert [None if t is None else (tuple(t.shape), t.dtype) for t in ours] == \
        [None if t is None else (tuple(t.shape), t.dtype) for t in theirs]


def _cache_tensors(obj, depth=0):
    """An independent walk of what a transformers forward returns: its fields, and a cache's layers'
    keys and values (the test's oracle)."""
    if isinstance(obj, torch.Tensor):
        return [obj]
    if depth > 6 or obj is None:
        return []
    if isinstance(obj, (tuple, list)):
        return [t for x in obj for t in _cache_tensors(x, depth + 1)]
    if isinstance(obj, dict):
        return [t for x in obj.values() for t in _cache_tensors(x, depth + 1)]
    if hasattr(obj, "layers"):
        return [t for layer in obj.layers for t in (layer.keys, layer.values) if isinstance(t, torch.Tensor)]
    if hasattr(obj, "self_attention_cache"):
        return _cache_tensors(obj.self_attention_cache, depth + 1) + _cache_tensors(obj.cross_attention_cache, depth + 1)
    return []


@pytest.mark.transformers
@pytest.mark.parametrize("name", ["GPT2Model", "LlamaModel", "T5Model", "BartModel", "WhisperModel"])
def test_every_returned_cache_tensor_is_an_output(name):
    import transformers as tf

    from tests.frontends.hf_suite import build

    ids = torch.zeros(1, 16, dtype=torch.long)
    if name == "LlamaModel":
        model, args, kwargs = tf.LlamaModel(tf.LlamaConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                                            intermediate_size=128, vocab_size=1000)), (), {"input_ids": ids}
    elif name == "BartModel":
        model, args, kwargs = tf.BartModel(tf.BartConfig(d_model=64, encoder_layers=2, decoder_layers=2,
                                                          encoder_attention_heads=4, decoder_attention_heads=4,
                                                          encoder_ffn_dim=128, decoder_ffn_dim=128, vocab_size=1000)), \
            (), {"input_ids": ids}
    else:
        model, args, kwargs = build(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = netdraw.trace(model, args, kwargs)
        real = _cache_tensors(model.eval()(*args, **kwargs))
    assert [v.shape for v in g.outputs] == [tuple(t.shape) for t in real]
    caches = [v.name for v in g.outputs if v.name.startswith(("cache.", "past_key_values."))]
    assert len(caches) == len(real) - len([v for v in g.outputs if not v.name.startswith(("cache.", "past"))])
    assert caches and caches[0].endswith((".0.keys", "self_attention_cache.0.keys"))
    # drawn as one output box, and each with --expand
    from netdraw.api import render_bytes

    dot = render_bytes(g, "dot", depth=1).decode()
    head = caches[0].split(".")[0]
    assert dot.count(f'"o:g:{head}" [label="output: {head}\\n{len(caches)} tensors') == 1
    assert dot.count('"o:') - dot.count('-> "o:') == len(g.outputs) - len(caches) + 1
    expanded = render_bytes(g, "dot", depth=1, expand=[head]).decode()
    assert expanded.count('"o:') - expanded.count('-> "o:') == len(g.outputs)


def test_an_output_passed_through_untouched_says_so():
    from netdraw.api import render_bytes

    class Slots(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(4, 4)
            self.slot = torch.zeros(2, 4)  # made before the call, never written by it

        def forward(self, x):
            return {"y": self.lin(x), "cache": [self.slot]}

    g = netdraw.trace(Slots(), (torch.randn(2, 4),))
    assert [v.name for v in g.outputs] == ["y", "cache.0"]
    dot = render_bytes(g, "dot").decode()
    assert 'label="output: cache.0\\npassed through untouched · 2×4"' in dot
    assert not re.search(r'-> "o:1:', dot)  # no edge: nothing produced it


def test_inputs_of_one_structure_are_one_box():
    from netdraw.api import render_bytes

    class Step(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = nn.Linear(4, 4)

        def forward(self, x, past):
            return self.lin(x) + past["k"][0] + past["k"][1] + past["v"][0]

    g = netdraw.trace(Step(), (torch.randn(1, 4), {"k": [torch.randn(1, 4), torch.randn(1, 4)], "v": [torch.randn(1, 4)]}))
    names = [v.name for v in g.inputs]
    assert len(names) == 4
    dot = render_bytes(g, "dot", depth="max").decode()
    heads = {n.split(".")[0] for n in names if "." in n}
    for head in heads:
        assert dot.count(f'"i:g:{head}" [label="input: {head}') == 1
    expanded = render_bytes(g, "dot", depth="max", expand=list(heads)).decode()
    assert "i:g:" not in expanded


def test_export_capture_keeps_the_attributes_eager_shows():
    from netdraw.api import render_bytes

    sys.path.insert(0, str(ROOT / "examples"))
    import models as cnn

    model = cnn.resnet18()
    x = (torch.randn(1, 3, 224, 224),)
    labels = []
    for capture in ("eager", "export"):
        dot = render_bytes(netdraw.trace(model, x, capture=capture), "dot", depth="max").decode()
        labels.append(re.findall(r'label="((?:conv|maxpool|downsample)[^"]*)"', dot))
    assert labels[0] == labels[1] and "conv1\\nConv-BN-ReLU · 7×7 s2\\n9.5K params" in labels[1]
