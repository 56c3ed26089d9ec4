"""torchvision DeepLabV3 (MobileNetV3 backbone, random init): a dict output."""
import torch
from torchvision.models import segmentation

ENV = "tv"


def build():
    torch.manual_seed(0)
    model = segmentation.deeplabv3_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=3)
    return model, (torch.randn(2, 3, 64, 64),), {}


def tracelint_examples():
    import tracelint

    model, args, kwargs = build()
    yield tracelint.Example(model, args, kwargs=kwargs, name="deeplabv3")
