"""Hugging Face ViT from a tiny config for 32x32 images (random init)."""
import torch
import transformers

ENV = "hf"


def build():
    torch.manual_seed(0)
    config = transformers.ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=2,
                                    num_attention_heads=2, intermediate_size=37)
    model = transformers.ViTModel(config)
    return model, (), {"pixel_values": torch.randn(2, 3, 32, 32)}


def tracelint_examples():
    import tracelint

    model, args, kwargs = build()
    yield tracelint.Example(model, args, kwargs=kwargs, name="vit")
