"""Models from their config alone, checkpoints (safetensors, sharded, state_dicts, GGUF) and their
structure diagrams; every file is written here (random small tensors, nothing downloaded)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import netdraw
from netdraw.api import render_bytes
from netdraw.errors import NetdrawError
from netdraw.frontends.checkpoint import read_safetensors
from netdraw.passes.collapse import visible_nodes

pytestmark = pytest.mark.transformers
tf = pytest.importorskip("transformers")
safetensors_torch = pytest.importorskip("safetensors.torch")


def _configs():
    """(name, config) for 24 architectures across text, vision, speech, multimodal, MoE, state-space."""
    small = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, vocab_size=500)
    vit = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64, image_size=32,
               patch_size=8)
    return [
        ("BertModel", tf.BertConfig(**small)),
        ("RobertaForMaskedLM", tf.RobertaConfig(**small)),
        ("DistilBertModel", tf.DistilBertConfig(dim=32, n_layers=2, n_heads=4, hidden_dim=64, vocab_size=500)),
        ("GPT2LMHeadModel", tf.GPT2Config(n_embd=32, n_layer=2, n_head=4, vocab_size=500, n_positions=256)),
        ("GPTNeoXForCausalLM", tf.GPTNeoXConfig(**small)),
        ("OPTForCausalLM", tf.OPTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, ffn_dim=64,
                                        vocab_size=500, word_embed_proj_dim=32)),
        ("LlamaForCausalLM", tf.LlamaConfig(**small, num_key_value_heads=2)),
        ("MistralForCausalLM", tf.MistralConfig(**small, num_key_value_heads=2)),
        ("Qwen2ForCausalLM", tf.Qwen2Config(**small, num_key_value_heads=2)),
        ("GemmaForCausalLM", tf.GemmaConfig(**small, num_key_value_heads=2, head_dim=8)),
        ("PhiForCausalLM", tf.PhiConfig(**small)),
        ("MixtralForCausalLM", tf.MixtralConfig(**small, num_key_value_heads=2, num_local_experts=4,
                                                num_experts_per_tok=2)),
        ("MambaForCausalLM", tf.MambaConfig(hidden_size=32, num_hidden_layers=2, vocab_size=500, state_size=8)),
        ("T5ForConditionalGeneration", tf.T5Config(d_model=32, d_ff=64, num_layers=2, num_heads=4, d_kv=8,
                                                   vocab_size=500)),
        ("BartModel", tf.BartConfig(d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                                    decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64,
                                    vocab_size=500)),
        ("ViTForImageClassification", tf.ViTConfig(**vit)),
        ("DeiTModel", tf.DeiTConfig(**vit)),
        ("ResNetForImageClassification", tf.ResNetConfig(embedding_size=16, hidden_sizes=[16, 32], depths=[1, 1])),
        ("ConvNextModel", tf.ConvNextConfig(num_stages=2, hidden_sizes=[16, 32], depths=[1, 1], image_size=64)),
        ("SwinModel", tf.SwinConfig(image_size=32, patch_size=4, embed_dim=16, depths=[1, 1], num_heads=[2, 4],
                                    window_size=4)),
        ("WhisperForConditionalGeneration", tf.WhisperConfig(
            d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4,
            encoder_ffn_dim=64, decoder_ffn_dim=64, num_mel_bins=16, max_source_positions=32, vocab_size=500,
            max_target_positions=64, pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1)),
        ("Wav2Vec2Model", tf.Wav2Vec2Config(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                            intermediate_size=64, conv_dim=(16, 16), conv_stride=(5, 2),
                                            conv_kernel=(10, 3), num_conv_pos_embeddings=16,
                                            num_conv_pos_embedding_groups=4)),
        ("CLIPModel", tf.CLIPConfig(text_config=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                                     intermediate_size=64, vocab_size=500),
                                    vision_config=dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                                       intermediate_size=64, image_size=32, patch_size=8),
                                    projection_dim=16)),
        ("Qwen2MoeForCausalLM", tf.Qwen2MoeConfig(**small, num_key_value_heads=2, num_experts=4,
                                                  num_experts_per_tok=2, moe_intermediate_size=32,
                                                  shared_expert_intermediate_size=32)),
    ]


CONFIGS = _configs()


def _meta_params(cfg, arch: str) -> int:
    with torch.device("meta"):
        model = getattr(tf, arch)(cfg)
    return sum(p.numel() for p in model.parameters())


def _folder(tmp_path: Path, arch: str, cfg) -> Path:
    cfg.architectures = [arch]
    folder = tmp_path / arch
    cfg.save_pretrained(folder)
    return folder


@pytest.mark.parametrize("arch,cfg", CONFIGS, ids=[a for a, _ in CONFIGS])
def test_a_config_folder_draws_the_model(tmp_path, monkeypatch, arch, cfg):
    folder = _folder(tmp_path, arch, cfg)

    def no_network(*a, **k):
        raise AssertionError("netdraw tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    g = netdraw.load(folder)
    assert g.meta["model_type"].rsplit(".", 1)[-1] == arch
    assert g.summary()["params"] == _meta_params(cfg, arch)
    assert len(visible_nodes(g)) > 5 and g.outputs


def test_the_config_file_alone_and_the_inputs_chosen(tmp_path):
    cfg = tf.WhisperConfig(d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=4,
                           decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, num_mel_bins=16,
                           max_source_positions=32, vocab_size=500, max_target_positions=64, pad_token_id=0,
                           bos_token_id=1, eos_token_id=2, decoder_start_token_id=1)
    folder = _folder(tmp_path, "WhisperModel", cfg)
    g = netdraw.load(folder / "config.json")
    assert [(v.name, v.shape) for v in g.inputs] == [("input_features", (1, 16, 64)), ("decoder_input_ids", (1, 8))]
    g = netdraw.load(folder, kwargs={"decoder_input_ids": "1x3:int64"})
    assert g.inputs[1].shape == (1, 3)
    llama = _folder(tmp_path, "LlamaForCausalLM", tf.LlamaConfig(hidden_size=32, num_hidden_layers=1,
                                                                 num_attention_heads=4, intermediate_size=64,
                                                                 vocab_size=500))
    assert [(v.name, v.shape) for v in netdraw.load(llama).inputs] == [("input_ids", (1, 128))]
    seq = netdraw.load(llama, head="seq-cls")
    assert seq.meta["model_type"].endswith("LlamaForSequenceClassification")


def _llama_state(layers: int = 3):
    cfg = tf.LlamaConfig(hidden_size=32, num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         intermediate_size=64, vocab_size=500, architectures=["LlamaForCausalLM"])
    torch.manual_seed(0)
    model = tf.LlamaForCausalLM(cfg)
    return cfg, {k: v.contiguous() for k, v in model.state_dict().items()}


def test_safetensors_structure_rolls_layers_and_reads_only_the_header(tmp_path):
    _, state = _llama_state(3)
    path = tmp_path / "model.safetensors"
    safetensors_torch.save_file({k: v.to(torch.bfloat16) for k, v in state.items()}, str(path))
    header = 8 + int.from_bytes(path.read_bytes()[:8], "little")
    with path.open("r+b") as fh:  # cut the data section short: only the header may be read
        fh.truncate(header + 10)
    g = netdraw.load(path)
    assert g.meta["structure"] is True and g.name == "model.safetensors (structure)"
    assert g.summary()["params"] == sum(v.numel() for v in state.values())
    assert len(g.nodes) == 3 * 9 + 3  # 9 modules with tensors a layer; embed_tokens, norm, lm_head
    assert g.meta["checkpoint"]["dtypes"]["bfloat16"]["bytes"] == 2 * sum(v.numel() for v in state.values())
    d = netdraw.prepare(g, depth=2)
    assert [r["module"] for r in d.meta["roll"]] == ["model/layers.0"]
    dot = render_bytes(g, "dot", depth=2).decode()
    assert 'label="model.safetensors: structure — modules and their tensors, no dataflow"' in dot
    assert "[style=invis]" in dot and '[label="layers.0–2\\n×3\\n9.3K params each"' in dot
    assert "bfloat16" in render_bytes(g, "dot", depth="max").decode()


def test_every_renderer_draws_a_structure(tmp_path):
    _, state = _llama_state(2)
    path = tmp_path / "model.safetensors"
    safetensors_torch.save_file(state, str(path))
    g = netdraw.load(path)
    mmd = render_bytes(g, "mermaid", depth="max", roll=False).decode()
    assert mmd.count(" ~~~ ") == len(g.nodes) - 1 and "-->" not in mmd
    tex = render_bytes(g, "tex", depth="max", roll=False, style="graph").decode()
    assert tex.count("\\node") >= len(g.nodes)
    html = render_bytes(g, "html").decode()
    assert '"ord":1' in html and "structure — modules and their tensors" in html
    svg = render_bytes(g, "svg", depth="max", roll=False).decode()
    assert svg.count('class="node"') == len(g.nodes) and 'class="edge"' not in svg  # order links are invisible


def test_sharded_index_equals_one_file(tmp_path):
    _, state = _llama_state(2)
    names = list(state)
    half = len(names) // 2
    safetensors_torch.save_file({k: state[k] for k in names[:half]}, str(tmp_path / "model-00001-of-00002.safetensors"))
    safetensors_torch.save_file({k: state[k] for k in names[half:]}, str(tmp_path / "model-00002-of-00002.safetensors"))
    index = {"metadata": {"total_size": 0}, "weight_map": {k: f"model-0000{1 + (i >= half)}-of-00002.safetensors"
                                                           for i, k in enumerate(names)}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    g = netdraw.load(tmp_path / "model.safetensors.index.json")
    assert g.summary()["params"] == sum(v.numel() for v in state.values())
    assert g.meta["checkpoint"]["metadata"]["shards"] == 2 and g.meta["checkpoint"]["tensors"] == len(names)


def test_a_checkpoint_with_its_config_is_checked(tmp_path):
    cfg, state = _llama_state(2)
    cfg.save_pretrained(tmp_path)
    del state["lm_head.weight"]
    state["model.norm.weight"] = torch.zeros(7)
    state["extra.bias"] = torch.zeros(3)
    safetensors_torch.save_file(state, str(tmp_path / "model.safetensors"))
    for source in (tmp_path, tmp_path / "model.safetensors"):
        g = netdraw.load(source)
        c = g.meta["checkpoint"]
        assert (c["missing"], c["unexpected"], c["mismatched"]) == (["lm_head.weight"], ["extra.bias"],
                                                                  ["model.norm.weight"])
        marked = {".".join(n.scope): n.attrs["checkpoint"] for n in g.nodes if "checkpoint" in n.attrs}
        assert marked == {"lm_head": "missing weight", "model.norm": "shape weight"}
    assert "checkpoint: missing weight" in render_bytes(g, "dot", depth="max").decode()


def test_state_dicts(tmp_path):
    _, state = _llama_state(2)
    torch.save(state, tmp_path / "weights.pth")
    g = netdraw.load(tmp_path / "weights.pth")
    assert g.meta["structure"] and g.summary()["params"] == sum(v.numel() for v in state.values())
    torch.save({"state_dict": state, "epoch": 3}, tmp_path / "pytorch_model.bin")
    assert netdraw.load(tmp_path / "pytorch_model.bin").summary()["params"] == g.summary()["params"]


class Evil:
    def __reduce__(self):
        return (Path("/tmp/netdraw-evil-marker").write_text, ("ran",))


def test_pickle_checkpoints_need_trust(tmp_path):
    torch.save({"a.weight": torch.zeros(2, 2), "obj": Evil()}, tmp_path / "pytorch_model.bin")
    marker = Path("/tmp/netdraw-evil-marker")
    marker.unlink(missing_ok=True)
    r = subprocess.run([sys.executable, "-m", "netdraw", "render", str(tmp_path / "pytorch_model.bin"), "-o",
                        str(tmp_path / "x.svg")], capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--trust" in r.stderr
    assert not marker.exists() and not (tmp_path / "x.svg").exists()


def _gguf(path: Path, arch: str = "llama") -> None:
    gguf = pytest.importorskip("gguf")
    w = gguf.GGUFWriter(str(path), arch)
    w.add_block_count(2)
    w.add_context_length(128)
    w.add_embedding_length(32)
    w.add_feed_forward_length(64)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(500)
    w.add_tensor("token_embd.weight", np.zeros((500, 32), np.float32))
    for i in range(2):
        for n, shp in (("attn_q", (32, 32)), ("attn_k", (16, 32)), ("attn_v", (16, 32)), ("attn_output", (32, 32)),
                       ("ffn_gate", (64, 32)), ("ffn_up", (64, 32)), ("ffn_down", (32, 64))):
            w.add_tensor(f"blk.{i}.{n}.weight", np.zeros(shp, np.float16))
        w.add_tensor(f"blk.{i}.attn_norm.weight", np.zeros(32, np.float32))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", np.zeros(32, np.float32))
    w.add_tensor("output_norm.weight", np.zeros(32, np.float32))
    w.add_tensor("output.weight", np.zeros((500, 32), np.float16))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def test_gguf_draws_the_model_from_its_metadata(tmp_path):
    _gguf(tmp_path / "tiny.gguf")
    g = netdraw.load(tmp_path / "tiny.gguf")
    assert g.meta["model_type"].endswith("LlamaForCausalLM") and not g.meta.get("structure")
    cfg = tf.LlamaConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         intermediate_size=64, vocab_size=500, tie_word_embeddings=False)
    assert g.summary()["params"] == _meta_params(cfg, "LlamaForCausalLM")
    dtypes = {".".join(n.scope): n.meta["dtypes"] for n in g.nodes if n.meta.get("dtypes")}
    assert dtypes["lm_head"] == ["float16"] and dtypes["model.layers.1.self_attn.q_proj"] == ["float16"]
    assert g.meta["checkpoint"]["dtypes"]["float16"]["tensors"] == 15


def test_gguf_of_an_unknown_architecture_is_a_structure(tmp_path):
    _gguf(tmp_path / "odd.gguf", arch="netdraw-test-arch")
    g = netdraw.load(tmp_path / "odd.gguf")
    assert g.meta["structure"] and [r["module"] for r in netdraw.prepare(g, depth=1).meta["roll"]] == ["blk.0"]


@pytest.mark.parametrize("case", ["unknown", "truncated", "auto_map", "nodir", "badjson", "huge"])
def test_bad_sources_get_one_line(tmp_path, case):
    if case == "unknown":
        (tmp_path / "config.json").write_text('{"model_type": "no-such-model", "hidden_size": 8}')
        source, expect = tmp_path, f"unknown model_type 'no-such-model' (transformers {tf.__version__}"
    elif case == "truncated":
        source = tmp_path / "model.safetensors"
        source.write_bytes((1000).to_bytes(8, "little") + b'{"a": {"dtype"')
        expect = "truncated safetensors header (14 of 1,000 bytes)"
    elif case == "auto_map":
        (tmp_path / "config.json").write_text('{"model_type": "llama", "auto_map": {"AutoConfig": "x.Y"}}')
        source, expect = tmp_path / "config.json", "needs the model's own code"
    elif case == "huge":  # building it would take minutes: refused before
        (tmp_path / "config.json").write_text('{"model_type": "llama", "num_hidden_layers": 200000}')
        source, expect = tmp_path, "num_hidden_layers=200,000 is more than 1,024 layers"
    elif case == "nodir":
        source, expect = tmp_path, "is a directory with no config.json"
    else:
        (tmp_path / "config.json").write_text('{"model_type": "llama", ')
        source, expect = tmp_path / "config.json", "not a readable JSON config"
    with pytest.raises(NetdrawError, match=".") as err:
        netdraw.load(source)
    assert expect in str(err.value) and "\n" not in str(err.value)
    out = tmp_path / "out.svg"
    r = subprocess.run([sys.executable, "-m", "netdraw", "render", str(source), "-o", str(out)],
                       capture_output=True, text=True)
    assert r.returncode == 2 and r.stderr.startswith("netdraw: error: ") and r.stderr.count("\n") == 1
    assert not out.exists()


def test_inspect_lists_dtypes_bytes_and_metadata(tmp_path):
    _, state = _llama_state(1)
    safetensors_torch.save_file(state, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    r = subprocess.run([sys.executable, "-m", "netdraw", "inspect", str(tmp_path / "model.safetensors")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    n = sum(v.numel() for v in state.values())
    assert f"file     safetensors: {len(state)} tensors, {n:,} parameters" in r.stdout
    assert "meta     format = pt" in r.stdout
    assert read_safetensors(tmp_path / "model.safetensors").nbytes == {"float32": 4 * n}
