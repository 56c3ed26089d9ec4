"""torchvision Faster R-CNN (MobileNetV3 320 FPN, random init) on a list of two images."""
import torch
from torchvision.models import detection

ENV = "tv"


def build():
    torch.manual_seed(0)
    model = detection.fasterrcnn_mobilenet_v3_large_320_fpn(weights=None, weights_backbone=None, num_classes=3)
    return model, ([torch.rand(3, 96, 128), torch.rand(3, 96, 128)],), {}


def tracelint_examples():
    import tracelint

    model, args, kwargs = build()
    yield tracelint.Example(model, args, kwargs=kwargs, name="fasterrcnn")
