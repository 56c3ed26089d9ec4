"""The smoke-test zoo: the small in-repo library `rwsample` (benchmarks/realworld/sample)."""
from __future__ import annotations

import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "sample"))

from spec import Inputs, ModelSpec  # noqa: E402

LIBRARIES = ["rwsample"]
_MODELS = ["ShapeGate", "PerSample", "Composite"]


def ids() -> list[str]:
    return list(_MODELS)


def versions() -> dict[str, str]:
    return {"torch": torch.__version__}


def spec(model_id: str) -> ModelSpec:
    from rwsample import models

    def make(batch, seed, scale=1.0):
        return Inputs(args=(torch.randn(batch, 8, generator=torch.Generator().manual_seed(seed)) * scale,))

    return ModelSpec(id=f"sample/{model_id}", family="rwsample", build=getattr(models, model_id),
                     example=make(2, 0), variants={"batch1": make(1, 1), "batch3": make(3, 2),
                                                   "values": make(2, 3, 3.0)})
