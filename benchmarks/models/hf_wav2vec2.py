"""Hugging Face wav2vec 2.0 from a tiny config (random init) on 400 audio samples."""
import torch
import transformers

ENV = "hf"


def build():
    torch.manual_seed(0)
    config = transformers.Wav2Vec2Config(vocab_size=32, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                         intermediate_size=37, conv_dim=(16, 16), conv_stride=(5, 2),
                                         conv_kernel=(10, 3), num_conv_pos_embeddings=16,
                                         num_conv_pos_embedding_groups=2)
    model = transformers.Wav2Vec2Model(config)
    return model, (torch.randn(2, 400),), {}


def tracelint_examples():
    import tracelint

    model, args, kwargs = build()
    yield tracelint.Example(model, args, kwargs=kwargs, name="wav2vec2")
