"""Fixed seeds: eager and captured runs must draw the same random numbers."""
from __future__ import annotations

import random


def seed_all(seed: int) -> None:
    import torch

    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is optional
        return
    np.random.seed(seed % (2**32))
