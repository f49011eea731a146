"""PyTorch modules of the normalizing flow (imported lazily: only :mod:`autophagy.models.flow` uses it).

A Glow-style stack (Kingma and Dhariwal 2018) on vectors: a fixed standardisation, then per
block an activation normalisation (learned per-dimension scale and shift) and an affine
coupling layer (Dinh et al. 2017, RealNVP) whose mask alternates between blocks, so every
coordinate is transformed. ``forward`` maps data to latent and returns log|det J|.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from autophagy.models.nets import mlp


class ActNorm(nn.Module):
    """y = (x + bias) * exp(log_scale), per dimension; starts as the identity."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(dim))
        self.log_scale = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return (x + self.bias) * torch.exp(self.log_scale), self.log_scale.sum().expand(x.shape[0])

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        return y * torch.exp(-self.log_scale) - self.bias


class AffineCoupling(nn.Module):
    """Coordinates where ``mask`` is 1 pass through and condition an affine map of the others:
    y = x_a + (1 - m) * (x * exp(s(x_a)) + t(x_a)), with s bounded by a learned scale times tanh."""

    def __init__(self, mask: torch.Tensor, hidden: int) -> None:
        super().__init__()
        dim = mask.numel()
        self.register_buffer("mask", mask)
        self.net = mlp([dim, hidden, hidden, 2 * dim])
        self.scale = nn.Parameter(torch.ones(dim))

    def _shift_and_log_scale(self, kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        s, t = self.net(kept).chunk(2, dim=-1)
        free = 1.0 - self.mask
        return t * free, self.scale * torch.tanh(s) * free

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        kept = x * self.mask
        t, s = self._shift_and_log_scale(kept)
        return kept + (1.0 - self.mask) * (x * torch.exp(s) + t), s.sum(dim=-1)

    def inverse(self, y: torch.Tensor) -> torch.Tensor:
        kept = y * self.mask
        t, s = self._shift_and_log_scale(kept)
        return kept + (1.0 - self.mask) * ((y - t) * torch.exp(-s))


class Flow(nn.Module):
    """Standardisation ``(x - shift) / spread`` then ``layers`` blocks of ActNorm + affine coupling."""

    def __init__(self, dim: int, layers: int, hidden: int) -> None:
        super().__init__()
        self.register_buffer("shift", torch.zeros(dim))
        self.register_buffer("spread", torch.ones(dim))
        even = (torch.arange(dim) % 2 == 0).to(torch.get_default_dtype())
        self.norms = nn.ModuleList(ActNorm(dim) for _ in range(layers))
        self.couplings = nn.ModuleList(
            AffineCoupling(even if j % 2 == 0 else 1.0 - even, hidden) for j in range(layers)
        )

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Latent ``(n, d)`` and log|det dz/dx| ``(n,)`` of data ``x`` ``(n, d)``."""
        z = (x - self.shift) / self.spread
        log_det = -torch.log(self.spread).sum().expand(x.shape[0])
        for norm, coupling in zip(self.norms, self.couplings, strict=True):
            z, a = norm(z)
            z, b = coupling(z)
            log_det = log_det + a + b
        return z, log_det

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        """Data ``(n, d)`` of latent ``z`` ``(n, d)``."""
        for norm, coupling in zip(reversed(self.norms), reversed(self.couplings), strict=True):
            z = norm.inverse(coupling.inverse(z))
        return z * self.spread + self.shift

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """log p(x) ``(n,)`` with a standard normal latent."""
        z, log_det = self(x)
        return -0.5 * (z**2).sum(dim=-1) - 0.5 * x.shape[-1] * math.log(2 * math.pi) + log_det


def init_parameters(flow: Flow, generator: torch.Generator) -> None:
    """PyTorch's default Linear initialisation U(-1/sqrt(fan_in), 1/sqrt(fan_in)), drawn from
    ``generator``; each coupling's last layer starts at zero so the flow starts as the standardisation."""
    with torch.no_grad():
        for coupling in flow.couplings:
            for layer in coupling.net:
                if isinstance(layer, nn.Linear):
                    bound = 1.0 / math.sqrt(layer.in_features)
                    layer.weight.uniform_(-bound, bound, generator=generator)
                    layer.bias.uniform_(-bound, bound, generator=generator)
            coupling.net[-1].weight.zero_()
            coupling.net[-1].bias.zero_()
