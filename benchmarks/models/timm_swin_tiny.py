"""timm Swin-Tiny with 4x4 windows for 64x64 images (random init)."""
import timm
import torch

ENV = "tv"


def build():
    torch.manual_seed(0)
    model = timm.create_model("swin_tiny_patch4_window7_224", pretrained=False, num_classes=10, img_size=64,
                              window_size=4)
    return model, (torch.randn(2, 3, 64, 64),), {}


def tracelint_examples():
    import tracelint

    model, args, kwargs = build()
    yield tracelint.Example(model, args, kwargs=kwargs, name="swin_tiny")
