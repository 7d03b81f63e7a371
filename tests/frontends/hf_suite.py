"""transformers architectures built from small configs (random weights, nothing downloaded)."""

from __future__ import annotations

import torch


def small_bert(*, hidden: int = 64, layers: int = 2, heads: int = 4, ffn: int = 128, vocab: int = 1000):
    """A BertModel of that size (random weights; seed torch first for fixed ones)."""
    import transformers as tf

    return tf.BertModel(tf.BertConfig(hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=heads,
                                      intermediate_size=ffn, vocab_size=vocab))


def trace_bert(model, *, tokens: int = 16, mask: bool = True):
    """``netdraw.trace`` of a BertModel on ``tokens`` zero ids (and an all-ones attention mask)."""
    import netdraw

    ids = torch.zeros(1, tokens, dtype=torch.long)
    kwargs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)} if mask else {"input_ids": ids}
    return netdraw.trace(model, kwargs=kwargs)


def _small(cfg_cls, **kw):
    return cfg_cls(**kw)


def build(name: str):
    """(model, args, kwargs) for a suite model."""
    import transformers as tf

    torch.manual_seed(0)
    T = 16
    ids = torch.zeros(1, T, dtype=torch.long)
    if name == "BertModel":
        cfg = tf.BertConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                            vocab_size=1000)
        mask = torch.ones(1, T, dtype=torch.long)
        mask[0, -3:] = 0  # padded, as in a real batch
        return tf.BertModel(cfg), (), {"input_ids": ids, "attention_mask": mask}
    if name == "GPT2Model":
        cfg = tf.GPT2Config(n_embd=64, n_layer=2, n_head=4, vocab_size=1000, n_positions=128, bos_token_id=0,
                            eos_token_id=0)
        return tf.GPT2Model(cfg), (), {"input_ids": ids}
    if name == "ViTModel":
        cfg = tf.ViTConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                           image_size=32, patch_size=8)
        return tf.ViTModel(cfg), (), {"pixel_values": torch.randn(1, 3, 32, 32)}
    if name == "ResNetModel":
        cfg = tf.ResNetConfig(embedding_size=16, hidden_sizes=[16, 32, 64, 128], depths=[1, 1, 2, 1])
        return tf.ResNetModel(cfg), (), {"pixel_values": torch.randn(1, 3, 64, 64)}
    if name == "T5Model":
        cfg = tf.T5Config(d_model=64, d_ff=128, num_layers=2, num_heads=4, vocab_size=1000, d_kv=16)
        return tf.T5Model(cfg), (), {"input_ids": ids, "decoder_input_ids": torch.zeros(1, 8, dtype=torch.long)}
    if name == "WhisperModel":
        cfg = tf.WhisperConfig(d_model=64, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
                               decoder_attention_heads=4, encoder_ffn_dim=128, decoder_ffn_dim=128,
                               num_mel_bins=16, max_source_positions=32, vocab_size=1000, pad_token_id=0,
                               bos_token_id=1, eos_token_id=2, decoder_start_token_id=1)
        return tf.WhisperModel(cfg), (), {"input_features": torch.randn(1, 16, 64),
                                          "decoder_input_ids": torch.zeros(1, 4, dtype=torch.long)}
    if name == "SwinModel":
        cfg = tf.SwinConfig(image_size=32, patch_size=4, embed_dim=16, depths=[1, 1], num_heads=[2, 4],
                            window_size=4)
        return tf.SwinModel(cfg), (), {"pixel_values": torch.randn(1, 3, 32, 32)}
    if name == "CLIPModel":
        text = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                    vocab_size=1000)
        vision = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                      image_size=32, patch_size=8)
        cfg = tf.CLIPConfig(text_config=text, vision_config=vision, projection_dim=16)
        return tf.CLIPModel(cfg), (), {"input_ids": ids, "pixel_values": torch.randn(1, 3, 32, 32)}
    raise KeyError(name)


SUITE = ["BertModel", "GPT2Model", "ViTModel", "ResNetModel", "T5Model", "WhisperModel", "SwinModel", "CLIPModel"]
