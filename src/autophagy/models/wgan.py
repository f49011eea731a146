"""Class-conditional WGAN-GP (Gulrajani et al. 2017; paper §4, fig. 13) on image rows.

The critic is trained ``critic_steps`` times per generator step on the Wasserstein loss plus
the gradient penalty ``gp_weight`` * (|grad D(x_hat)| - 1)^2 at random interpolates x_hat of
real and generated images (same labels). Sampling bias lambda is truncation toward the mean
latent (spec §2, StyleGAN's psi = lambda): z = lambda * eps with eps ~ N(0, I), so lambda = 0
gives one image per class. Classes are drawn in their training shares; rows as in
:mod:`autophagy.data.images`, of any channel count (shape as for the DDPM). One generator and
critic per replicate; CPU or CUDA.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import Field, PositiveFloat, PositiveInt

from autophagy.core.device import Device
from autophagy.core.protocols import TrainingTelemetry
from autophagy.core.registry import Options
from autophagy.core.rng import Rngs
from autophagy.core.telemetry import LossReport
from autophagy.models import neural


class WGANOptions(Options):
    """Sizes and optimiser of the WGAN-GP; ``train_steps`` counts generator updates."""

    latent_dim: PositiveInt = 32
    width: PositiveInt = 128
    train_steps: PositiveInt = 1500
    critic_steps: PositiveInt = 5
    gp_weight: PositiveFloat = 10.0
    batch_size: PositiveInt = 64
    learning_rate: PositiveFloat = 5e-4
    classes: PositiveInt = 10
    image_shape: tuple[PositiveInt, PositiveInt] | tuple[PositiveInt, PositiveInt, PositiveInt] | None = None
    device: Device = "auto"
    beta1: float = Field(0.5, ge=0.0, lt=1.0)


def _networks(o: WGANOptions, shape: tuple[int, ...]) -> tuple[Any, Any]:
    from autophagy.models.nets import Critic, Generator

    return Generator(shape, o.classes, o.latent_dim, o.width), Critic(shape, o.classes, o.width)


@dataclass(frozen=True, eq=False)
class FittedWGAN:
    """Trained generators and critics (one each per replicate) and class shares ``(R, classes)``."""

    options: WGANOptions
    shape: tuple[int, ...]
    generators: list[Any]
    critics: list[Any]
    class_shares: np.ndarray
    device: str

    def sample(self, n: int, *, rng: Rngs, sampling_bias: float) -> np.ndarray:
        """``n`` image rows per replicate ``(R, n, C * H * W + 1)`` from latents lambda * N(0, I)."""
        import torch

        if len(rng) != len(self.generators):
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {len(self.generators)}")
        if not 0.0 <= sampling_bias <= 1.0:
            raise ValueError(f"sampling_bias must be in [0, 1], got {sampling_bias}")
        out = []
        for net, shares, g in zip(self.generators, self.class_shares, rng, strict=True):
            labels = g.choice(len(shares), size=n, p=shares)
            gen = neural.generator(int(g.integers(neural.SEED_BOUND)), self.device)
            z = torch.randn((n, self.options.latent_dim), generator=gen, device=self.device)
            with torch.no_grad():
                out.append(
                    neural.rows(net(sampling_bias * z, torch.as_tensor(labels, device=self.device)), labels)
                )
        return np.stack(out)

    def state_dict(self) -> dict[str, np.ndarray]:
        arrays = {"class_shares": self.class_shares, "image_shape": np.asarray(self.shape)}
        return neural.pack({"generator": self.generators, "critic": self.critics}, arrays)


@dataclass(frozen=True)
class WGANGP(neural.ImageModel):
    """Settings of the conditional WGAN-GP; ``fit`` trains one pair of networks per replicate.
    ``shape`` is bound from a labelled image source by :meth:`for_data`."""

    options: WGANOptions = field(default_factory=WGANOptions)

    def fit(
        self,
        data: np.ndarray,
        *,
        rng: Rngs,
        init: FittedWGAN | None = None,
        telemetry: TrainingTelemetry | None = None,
    ) -> FittedWGAN:
        """Train on image rows ``(R, n, C * H * W + 1)``; ``init`` fine-tunes its networks instead;
        ``telemetry`` gets the critic's loss (negative Wasserstein estimate plus the gradient
        penalty) about 50 times per replicate."""
        import torch

        o = self.options
        pixels, labels, shape = neural.training_images(data, o.classes, o.image_shape or self.shape)
        if len(rng) != len(pixels):
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {len(pixels)}")
        device = neural.torch_device(o.device)
        generators, critics = [], []
        for i, g in enumerate(rng):
            seed = int(g.integers(neural.SEED_BOUND))
            net_g, net_d = neural.seeded(seed, lambda: _networks(o, shape))
            if init is not None:
                net_g.load_state_dict(init.generators[i].state_dict())
                net_d.load_state_dict(init.critics[i].state_dict())
            x = torch.as_tensor(pixels[i], dtype=torch.float32, device=device)
            y = torch.as_tensor(labels[i], device=device)
            report = LossReport(telemetry, i, o.train_steps)
            self._train(net_g.to(device), net_d.to(device), x, y, neural.generator(seed, device), report)
            generators.append(net_g.eval())
            critics.append(net_d.eval())
        return FittedWGAN(o, shape, generators, critics, neural.class_frequencies(labels, o.classes), device)

    def _train(self, net_g: Any, net_d: Any, x: Any, y: Any, gen: Any, report: LossReport) -> None:
        import torch

        o, dev, b = self.options, x.device, self.options.batch_size
        opt_g = torch.optim.Adam(net_g.parameters(), lr=o.learning_rate, betas=(o.beta1, 0.9))
        opt_d = torch.optim.Adam(net_d.parameters(), lr=o.learning_rate, betas=(o.beta1, 0.9))
        net_g.train()
        net_d.train()
        for _ in range(o.train_steps):
            for _ in range(o.critic_steps):
                idx = torch.randint(len(x), (b,), generator=gen, device=dev)
                z = torch.randn((b, o.latent_dim), generator=gen, device=dev)
                with torch.no_grad():
                    fake = net_g(z, y[idx])
                mix = torch.rand((b, 1), generator=gen, device=dev)
                between = (mix * x[idx] + (1 - mix) * fake).requires_grad_(True)
                (grad,) = torch.autograd.grad(net_d(between, y[idx]).sum(), between, create_graph=True)
                penalty = ((grad.norm(dim=1) - 1) ** 2).mean()  # Gulrajani et al. eq. 3
                loss_d = net_d(fake, y[idx]).mean() - net_d(x[idx], y[idx]).mean() + o.gp_weight * penalty
                opt_d.zero_grad(set_to_none=True)
                loss_d.backward()
                opt_d.step()
            idx = torch.randint(len(x), (b,), generator=gen, device=dev)
            z = torch.randn((b, o.latent_dim), generator=gen, device=dev)
            loss_g = -net_d(net_g(z, y[idx]), y[idx]).mean()
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()
            report.add(loss_d)

    def load(self, state: dict[str, np.ndarray]) -> FittedWGAN:
        o = self.options
        shares = np.asarray(state["class_shares"])
        shape = tuple(int(s) for s in state["image_shape"])
        device = neural.torch_device(o.device)
        pairs = [_networks(o, shape) for _ in range(len(shares))]
        generators = [neural.unpack(state, "generator", i, g, device) for i, (g, _) in enumerate(pairs)]
        critics = [neural.unpack(state, "critic", i, d, device) for i, (_, d) in enumerate(pairs)]
        return FittedWGAN(o, shape, generators, critics, shares, device)
