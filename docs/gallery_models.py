"""Models for the docs gallery that need a little setup (transformers architectures from configs)."""


def bert_base():
    import transformers as tf

    return tf.BertModel(tf.BertConfig())


def gpt2():
    import transformers as tf

    return tf.GPT2Model(tf.GPT2Config())


def vit_base():
    import transformers as tf

    return tf.ViTModel(tf.ViTConfig())
