"""timm ViT-Tiny/16 built for 64x64 images (random init): its position embedding has a fixed size."""
import timm
import torch

ENV = "tv"


def build():
    torch.manual_seed(0)
    model = timm.create_model("vit_tiny_patch16_224", pretrained=False, num_classes=10, img_size=64)
    return model, (torch.randn(2, 3, 64, 64),), {}


def tracelint_examples():
    import tracelint

    model, args, kwargs = build()
    yield tracelint.Example(model, args, kwargs=kwargs, name="vit_tiny")
