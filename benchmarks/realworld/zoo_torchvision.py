"""Every model builder of torchvision (classification, quantizable, detection, segmentation, video,
optical flow), random init (`weights=None, weights_backbone=None`), small inputs where the
architecture allows them."""
from __future__ import annotations

import inspect

import torch

from spec import Inputs, ModelSpec, images, videos

LIBRARIES = ["torchvision", "timm"]

# builders whose input size is fixed by the architecture, or that need more than 64x64
_IMAGE_SIZE = {
    "inception_v3": (96, 96), "quantized_inception_v3": (96, 96),
    "maxvit_t": (224, 224),
}
_NO_OTHER_SIZE = {"maxvit_t"}
_VIT_SIZE = {"vit_h_14": 56}           # ViTs take image_size: patch 14 -> 56, else 64
_VIDEO = {
    "mvit_v1_b": dict(frames=16, size=(224, 224), other_frames=16),
    "mvit_v2_s": dict(frames=16, size=(224, 224), other_frames=16),
    "s3d": dict(frames=16, size=(224, 224), other_frames=24),
}


def ids() -> list[str]:
    from torchvision import models
    return sorted(models.list_models())


def versions() -> dict[str, str]:
    import timm
    import torchvision
    return {"torch": torch.__version__, "torchvision": torchvision.__version__, "timm": timm.__version__}


def _kind(name: str) -> str:
    from torchvision import models
    for kind in ("detection", "segmentation", "video", "optical_flow", "quantization"):
        if name in models.list_models(module=getattr(models, kind)):
            return kind
    return "classification"


def _builder(name: str, **extra):
    from torchvision import models
    fn = models.get_model_builder(name)
    params = inspect.signature(fn).parameters
    kwargs = {"weights": None}
    if "weights_backbone" in params:
        kwargs["weights_backbone"] = None
    if name.startswith("quantized_"):
        kwargs["quantize"] = False
    kwargs.update(extra)
    return lambda: fn(**kwargs)


def _image_list(count: int, sizes, seed: int, scale: float = 1.0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(3, *sizes[i % len(sizes)], generator=g) * scale for i in range(count)]


def spec(name: str) -> ModelSpec:
    kind = _kind(name)
    sid = f"torchvision/{name}"
    if kind == "detection":
        extra = {"min_size": 128, "max_size": 160} if not name.startswith("ssd") else {}
        sizes = [(112, 128), (128, 96)]
        other = [(96, 112), (144, 128)]
        example = Inputs(args=(_image_list(2, sizes, 0),))
        variants = {"batch1": Inputs(args=(_image_list(1, sizes, 1),)),
                    "batch3": Inputs(args=(_image_list(3, sizes, 2),)),
                    "size": Inputs(args=(_image_list(2, other, 4),)),
                    "values": Inputs(args=(_image_list(2, sizes, 3, 0.5),))}
        return ModelSpec(sid, "torchvision", _builder(name, **extra), example, variants, dynamic_batch=False,
                         note="list of images in, list of dicts out; export with static shapes (no batch dim)")
    if kind == "optical_flow":
        g = torch.Generator().manual_seed(0)

        def pair(b, hw, seed):
            g.manual_seed(seed)
            return Inputs(args=(torch.rand(b, 3, *hw, generator=g), torch.rand(b, 3, *hw, generator=g)))
        # RAFT's correlation pyramid needs feature maps of at least 16x16: images of 128 and more
        example = pair(2, (128, 128), 0)
        variants = {"batch1": pair(1, (128, 128), 1), "batch3": pair(3, (128, 128), 2),
                    "size": pair(2, (144, 160), 4), "values": pair(2, (128, 128), 3)}
        return ModelSpec(sid, "torchvision", _builder(name), example, variants)
    if kind == "video":
        example, variants = videos(**_VIDEO.get(name, dict(frames=8, size=(64, 64), other_frames=12)))
        return ModelSpec(sid, "torchvision", _builder(name), example, variants)
    extra = {}
    size = _IMAGE_SIZE.get(name, (64, 64))
    other = None if name in _NO_OTHER_SIZE else (96, 80)
    if name.startswith("vit_"):
        side = _VIT_SIZE.get(name, 64)
        extra["image_size"] = side
        size, other = (side, side), (side + 16, side + 16)
    example, variants = images(size=size, other_size=other)
    return ModelSpec(sid, "torchvision", _builder(name, **extra), example, variants)
