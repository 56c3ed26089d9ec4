"""torchvision RAFT-Small optical flow (random init) on a pair of 128x128 frames."""
import torch
from torchvision.models import optical_flow

ENV = "tv"


def build():
    torch.manual_seed(0)
    model = optical_flow.raft_small(weights=None)
    return model, (torch.randn(1, 3, 128, 128), torch.randn(1, 3, 128, 128)), {}


def tracelint_examples():
    import tracelint

    model, args, kwargs = build()
    yield tracelint.Example(model, args, kwargs=kwargs, name="raft_small")
