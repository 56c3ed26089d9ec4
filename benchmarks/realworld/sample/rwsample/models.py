from typing import Optional

import torch
from torch import nn

from rwsample.wrappers import logged


class ShapeGate(nn.Module):
    """A branch on the batch size: TracerWarning, frozen by trace, specialised by export."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(8, 8)

    def forward(self, x):
        y = self.proj(x)
        if x.size(0) > 2:
            y = y * 2
        return y


class PerSample(nn.Module):
    """A Python loop over the samples: no warning, the trace keeps the example's count."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(8, 8)
        self.scale: Optional[torch.Tensor] = None

    def forward(self, x):
        outs = []
        for row in x.unbind(0):
            outs.append(self.proj(row))
        return torch.stack(outs) * self.scale if self.scale is not None else torch.stack(outs)


class Head(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 4)

    @logged
    def forward(self, x):
        picked = [i for i in range(3) if i > 0]
        return self.fc(x)[:, picked]


class Clean(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return torch.relu(self.fc(x))


class Composite(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gate = ShapeGate()
        self.clean = Clean()
        self.head = Head()

    def forward(self, x):
        return self.head(self.clean(self.gate(x)))
