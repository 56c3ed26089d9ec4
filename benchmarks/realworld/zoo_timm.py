"""timm: the smallest model of every model module (`timm/models/*.py`, chosen by parameter count
on the meta device: `python zoo_timm.py --select` regenerates data/timm_models.json) plus
well-known variants that take other code paths (TF "same" padding, MobileNetV4, EVA, MaxViT...).
Random init, the pretrained config's input size, batch 2."""
from __future__ import annotations

import json
import os
import sys

import torch

from spec import ModelSpec, images

LIBRARIES = ["torchvision", "timm"]
_LIST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "timm_models.json")


def _selected() -> dict:
    with open(_LIST) as fh:
        return json.load(fh)


def ids() -> list[str]:
    data = _selected()
    return sorted(set(data["per_module"].values()) | set(data["extra"]))


def versions() -> dict[str, str]:
    import timm
    import torchvision
    return {"torch": torch.__version__, "torchvision": torchvision.__version__, "timm": timm.__version__}


def spec(name: str) -> ModelSpec:
    import timm
    cfg = timm.get_pretrained_cfg(name)
    _, h, w = cfg.input_size if cfg is not None else (3, 224, 224)
    fixed = bool(cfg is not None and getattr(cfg, "fixed_input_size", False))
    example, variants = images(size=(h, w), other_size=None if fixed else (h + 32, w + 32))

    def build():
        torch.manual_seed(0)
        return timm.create_model(name, pretrained=False)
    return ModelSpec(f"timm/{name}", "timm", build, example, variants)


def select() -> dict:
    """The smallest model per timm model module (parameters counted on the meta device)."""
    import collections
    import timm
    from timm.models import _registry
    by_module = collections.defaultdict(list)
    for name in timm.list_models():
        by_module[_registry._model_to_module[name]].append(name)
    chosen = {}
    for module, names in sorted(by_module.items()):
        best = None
        for name in sorted(names):
            try:
                with torch.device("meta"):
                    model = timm.create_model(name, pretrained=False)
            except Exception:  # noqa: BLE001 - some need weights or extra packages
                continue
            count = sum(p.numel() for p in model.parameters())
            if best is None or count < best[1]:
                best = (name, count)
        if best:
            chosen[module] = best[0]
    return chosen


if __name__ == "__main__" and "--select" in sys.argv:
    data = _selected()
    data["per_module"] = select()
    with open(_LIST, "w") as fh:
        json.dump(data, fh, indent=1)
