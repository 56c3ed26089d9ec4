"""timm ConvNeXt-Atto classifier (random init), a 2x3x64x64 batch."""
import timm
import torch

ENV = "tv"


def build():
    torch.manual_seed(0)
    model = timm.create_model("convnext_atto", pretrained=False, num_classes=10)
    return model, (torch.randn(2, 3, 64, 64),), {}


def tracelint_examples():
    import tracelint

    model, args, kwargs = build()
    yield tracelint.Example(model, args, kwargs=kwargs, name="convnext_atto")
