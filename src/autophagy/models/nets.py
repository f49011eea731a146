"""PyTorch networks of the image models. Imported only by code that already needs torch.

Every network reads flattened images ``(B, C * H * W)`` (channel-first, row-major) and class
labels ``(B,)`` (the value ``classes`` is the "no label" token of classifier-free guidance) and
writes ``(B, C * H * W)``. ``shape`` is ``(H, W)`` for one channel or ``(C, H, W)``; with one
channel every network is built exactly as before channels existed (same layers, same seeded
initial weights).
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn
from torch.nn import functional as F

from autophagy.core.protocols import image_dims


def sinusoidal(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Transformer-style embedding ``(B, dim)`` of diffusion steps ``t`` ``(B,)``."""
    half = dim // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, device=t.device) / max(half - 1, 1))
    angles = t.float()[:, None] * freqs[None]
    return torch.cat([angles.sin(), angles.cos(), torch.zeros_like(t[:, None].float())[:, : dim % 2]], 1)


class Conditioning(nn.Module):
    """Step and class embeddings summed into one ``(B, width)`` vector."""

    def __init__(self, classes: int, width: int) -> None:
        super().__init__()
        self.width = width
        self.time = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))
        self.label = nn.Embedding(classes + 1, width)  # index ``classes``: unconditional

    def forward(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.time(sinusoidal(t, self.width)) + self.label(y)


class MLPDenoiser(nn.Module):
    """Residual MLP noise predictor for small images (8 x 8 digits): width x depth blocks."""

    def __init__(self, shape: tuple[int, ...], classes: int, width: int, depth: int) -> None:
        super().__init__()
        pixels = math.prod(shape)
        self.cond = Conditioning(classes, width)
        self.inp = nn.Linear(pixels, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.LayerNorm(width), nn.SiLU(), nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width)
            )
            for _ in range(depth)
        )
        self.out = nn.Sequential(nn.LayerNorm(width), nn.SiLU(), nn.Linear(width, pixels))

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        emb = self.cond(t, y)
        h = self.inp(x)
        for block in self.blocks:
            h = h + block(h + emb)
        return self.out(h)


class _ConvBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, width: int) -> None:
        super().__init__()
        self.norm1, self.conv1 = nn.GroupNorm(min(8, c_in), c_in), nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(width, c_out)
        self.norm2, self.conv2 = nn.GroupNorm(min(8, c_out), c_out), nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x))) + self.emb(emb)[:, :, None, None]
        return self.skip(x) + self.conv2(F.silu(self.norm2(h)))


class UNetDenoiser(nn.Module):
    """Two-level U-Net noise predictor for larger images (28 x 28 MNIST, 32 x 32 RGB): ``width``
    channels at full resolution, twice that at 1/2 and 1/4."""

    def __init__(self, shape: tuple[int, ...], classes: int, width: int, depth: int = 1) -> None:
        super().__init__()
        self.dims = image_dims(shape)  # (C, H, W)
        c, channels = width, self.dims[0]
        self.cond = Conditioning(classes, width)
        self.inp = nn.Conv2d(channels, c, 3, padding=1)
        self.down1, self.down2 = _ConvBlock(c, c, width), _ConvBlock(c, 2 * c, width)
        self.mid = _ConvBlock(2 * c, 2 * c, width)
        self.up2, self.up1 = _ConvBlock(4 * c, 2 * c, width), _ConvBlock(3 * c, c, width)
        self.out = nn.Sequential(nn.GroupNorm(min(8, c), c), nn.SiLU(), nn.Conv2d(c, channels, 3, padding=1))

    def forward(self, x: torch.Tensor, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        emb = self.cond(t, y)
        h0 = self.down1(self.inp(x.reshape(-1, *self.dims)), emb)  # (B, c, H, W)
        h1 = self.down2(F.avg_pool2d(h0, 2), emb)  # (B, 2c, H/2, W/2)
        h = self.mid(F.avg_pool2d(h1, 2), emb)  # (B, 2c, H/4, W/4)
        h = self.up2(torch.cat([F.interpolate(h, size=h1.shape[-2:]), h1], 1), emb)
        h = self.up1(torch.cat([F.interpolate(h, size=h0.shape[-2:]), h0], 1), emb)
        return self.out(h).reshape(len(x), -1)


def mlp(
    sizes: list[int], activation: type[nn.Module] | None = None, last: nn.Module | None = None
) -> nn.Sequential:
    """Linear layers between consecutive ``sizes`` with ``activation()`` (default SiLU) between
    them, then ``last`` if given: ``mlp([a, b, c])`` is Linear(a, b), SiLU, Linear(b, c)."""
    make = activation or nn.SiLU
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers += [nn.Linear(n_in, n_out)] + ([make()] if i < len(sizes) - 2 else [])
    return nn.Sequential(*layers, *([last] if last is not None else []))


class Generator(nn.Module):
    """Conditional WGAN generator: latent ``(B, latent)`` and labels to pixels in [0, 1]."""

    def __init__(self, shape: tuple[int, ...], classes: int, latent: int, width: int) -> None:
        super().__init__()
        self.classes = classes
        self.net = mlp([latent + classes, width, width, width, math.prod(shape)], nn.ReLU, nn.Sigmoid())

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([z, F.one_hot(y, self.classes).to(z.dtype)], 1))


class _LeakyReLU(nn.LeakyReLU):
    """LeakyReLU with the WGAN-GP slope 0.2."""

    def __init__(self) -> None:
        super().__init__(0.2)


class Critic(nn.Module):
    """Conditional WGAN critic: pixels ``(B, C * H * W)`` and labels to a score ``(B,)`` (no norm
    layers, as the gradient penalty requires)."""

    def __init__(self, shape: tuple[int, ...], classes: int, width: int) -> None:
        super().__init__()
        self.classes = classes
        self.net = mlp([math.prod(shape) + classes, width, width, width, 1], _LeakyReLU)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, F.one_hot(y, self.classes).to(x.dtype)], 1))[:, 0]
