"""Class-conditional DDPM with classifier-free guidance (paper §4: the MNIST diffusion loops).

Data are image rows (pixels in [0, 1], then the class label; :mod:`autophagy.data.images`).
Training (Ho et al. 2020): predict the noise eps added at a uniformly drawn step t of a cosine
schedule (Nichol & Dhariwal 2021) over ``steps`` = T steps, with the label replaced by a null
token ``cond_dropout`` of the time so one network is both conditional and unconditional.
Sampling: ancestral DDPM steps with the guided prediction (Ho & Salimans 2022)
eps = (1 + w) eps(x, t, y) - w eps(x, t, null), where the sampling bias is lambda = 1 / (1 + w)
(spec §2), so lambda = 1 is the plain conditional model and lambda -> 0 infinite guidance
(undefined: lambda = 0 is refused). Classes are drawn in their training shares. One network
per replicate; CPU by default, CUDA when present. Images have any channel count: the shape is
``image_shape`` ((H, W) or (C, H, W)), else the labelled data source's, else square grey.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import Field, PositiveFloat, PositiveInt

from autophagy.core.device import Device
from autophagy.core.protocols import TrainingTelemetry
from autophagy.core.registry import Options
from autophagy.core.rng import Rngs
from autophagy.core.telemetry import LossReport
from autophagy.core.varying import scheduled
from autophagy.models import neural


class DDPMOptions(Options):
    """Diffusion steps T, optimiser steps, denoiser size; defaults suit the 8 x 8 digits on a CPU.
    ``train_steps`` may be a schedule over generations (e.g. a long first fit, then short
    fine-tunes with ``loop.finetune``; see :mod:`autophagy.core.varying`)."""

    steps: PositiveInt = 500
    train_steps: scheduled(PositiveInt, integer=True) = 3000
    batch_size: PositiveInt = 128
    learning_rate: PositiveFloat = 1e-3
    ema_decay: float = Field(0.995, ge=0.0, lt=1.0)
    denoiser: Literal["mlp", "unet"] = "mlp"
    width: PositiveInt = 256
    depth: PositiveInt = 3
    cond_dropout: float = Field(0.1, ge=0.0, lt=1.0)
    classes: PositiveInt = 10
    image_shape: tuple[PositiveInt, PositiveInt] | tuple[PositiveInt, PositiveInt, PositiveInt] | None = None
    sample_batch: PositiveInt = 4096
    device: Device = "auto"


def cosine_schedule(steps: int) -> dict[str, np.ndarray]:
    """Per-step float64 coefficients ``(T,)`` of the cosine noise schedule (betas capped at 0.999)."""
    s = 0.008
    f = np.cos((np.arange(steps + 1) / steps + s) / (1 + s) * math.pi / 2) ** 2
    betas = np.clip(1 - f[1:] / f[:-1], 0.0, 0.999)
    alpha_bar = np.cumprod(1 - betas)
    previous = np.r_[1.0, alpha_bar[:-1]]
    return {
        "sqrt_ab": np.sqrt(alpha_bar),
        "sqrt_1m_ab": np.sqrt(1 - alpha_bar),
        # posterior q(x_{t-1} | x_t, x_0) = N(c0 x_0 + ct x_t, var) (Ho et al. eq. 7)
        "c0": betas * np.sqrt(previous) / (1 - alpha_bar),
        "ct": (1 - previous) * np.sqrt(1 - betas) / (1 - alpha_bar),
        "sigma": np.sqrt(betas * (1 - previous) / (1 - alpha_bar)),
    }


def _denoiser(o: DDPMOptions, shape: tuple[int, ...]) -> Any:
    from autophagy.models.nets import MLPDenoiser, UNetDenoiser

    net = MLPDenoiser if o.denoiser == "mlp" else UNetDenoiser
    return net(shape, o.classes, o.width, o.depth)


@dataclass(frozen=True, eq=False)
class FittedDDPM:
    """Trained denoisers (one per replicate, EMA weights) and their class shares ``(R, classes)``."""

    options: DDPMOptions
    shape: tuple[int, ...]
    nets: list[Any]
    class_shares: np.ndarray
    device: str

    def sample(self, n: int, *, rng: Rngs, sampling_bias: float) -> np.ndarray:
        """``n`` image rows per replicate ``(R, n, C * H * W + 1)``, guidance w = 1 / lambda - 1."""
        if len(rng) != len(self.nets):
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {len(self.nets)}")
        if not 0.0 < sampling_bias <= 1.0:
            raise ValueError(
                f"sampling_bias must be in (0, 1] for the DDPM (w = 1/lambda - 1), got {sampling_bias}"
            )
        guidance = 1.0 / sampling_bias - 1.0
        out = []
        for net, shares, g in zip(self.nets, self.class_shares, rng, strict=True):
            labels = g.choice(len(shares), size=n, p=shares)
            gen = neural.generator(int(g.integers(neural.SEED_BOUND)), self.device)
            parts = [
                self._reverse(net, labels[s : s + self.options.sample_batch], guidance, gen)
                for s in range(0, n, self.options.sample_batch)
            ]
            out.append(np.concatenate(parts) if parts else np.empty((0, math.prod(self.shape) + 1)))
        return np.stack(out)

    def _reverse(self, net: Any, labels: np.ndarray, guidance: float, gen: Any) -> np.ndarray:
        """Ancestral sampling from x_T ~ N(0, I) down to x_0 for one chunk of labels."""
        import torch

        o, dev = self.options, self.device
        k = {
            name: torch.tensor(v, dtype=torch.float32, device=dev)
            for name, v in cosine_schedule(o.steps).items()
        }
        y = torch.as_tensor(labels, device=dev)
        null = torch.full_like(y, o.classes)
        x = torch.randn((len(y), math.prod(self.shape)), generator=gen, device=dev)
        with torch.no_grad():
            for t in reversed(range(o.steps)):
                steps = torch.full_like(y, t)
                if guidance == 0.0:
                    eps = net(x, steps, y)
                else:
                    conditional, unconditional = net(
                        torch.cat([x, x]), torch.cat([steps, steps]), torch.cat([y, null])
                    ).chunk(2)
                    eps = (1 + guidance) * conditional - guidance * unconditional
                x0 = ((x - k["sqrt_1m_ab"][t] * eps) / k["sqrt_ab"][t]).clamp(-1, 1)
                x = k["c0"][t] * x0 + k["ct"][t] * x
                if t > 0:
                    x = x + k["sigma"][t] * torch.randn(x.shape, generator=gen, device=dev)
        return neural.rows(((x + 1) / 2).clamp(0, 1), labels)

    def state_dict(self) -> dict[str, np.ndarray]:
        arrays = {"class_shares": self.class_shares, "image_shape": np.asarray(self.shape)}
        return neural.pack({"denoiser": self.nets}, arrays)


@dataclass(frozen=True)
class DDPM(neural.ImageModel):
    """Settings of the conditional DDPM; ``fit`` trains one denoiser per replicate. ``shape`` is
    bound from a labelled image source by :meth:`for_data` (None: ``image_shape`` or square grey)."""

    options: DDPMOptions = field(default_factory=DDPMOptions)

    def fit(
        self,
        data: np.ndarray,
        *,
        rng: Rngs,
        init: FittedDDPM | None = None,
        telemetry: TrainingTelemetry | None = None,
    ) -> FittedDDPM:
        """Train on image rows ``(R, n, C * H * W + 1)``; ``init`` fine-tunes its denoisers instead;
        ``telemetry`` gets the noise-prediction MSE about 50 times per replicate."""
        import torch

        o = self.options
        if not isinstance(o.train_steps, int):
            raise ValueError("train_steps is a schedule (a run resolves it per generation): give one value")
        pixels, labels, shape = neural.training_images(data, o.classes, o.image_shape or self.shape)
        if len(rng) != len(pixels):
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {len(pixels)}")
        device = neural.torch_device(o.device)
        schedule = {
            k: torch.tensor(v, dtype=torch.float32, device=device)
            for k, v in cosine_schedule(o.steps).items()
        }
        nets = []
        for i, g in enumerate(rng):
            seed = int(g.integers(neural.SEED_BOUND))
            net = neural.seeded(seed, lambda: _denoiser(o, shape)).to(device)
            if init is not None:
                net.load_state_dict(init.nets[i].state_dict())
            x0 = torch.as_tensor(pixels[i], dtype=torch.float32, device=device) * 2 - 1  # [-1, 1]
            y = torch.as_tensor(labels[i], device=device)
            report = LossReport(telemetry, i, o.train_steps)
            nets.append(self._train(net, x0, y, schedule, neural.generator(seed, device), report))
        return FittedDDPM(o, shape, nets, neural.class_frequencies(labels, o.classes), device)

    def _train(self, net: Any, x0: Any, y: Any, k: dict, gen: Any, report: LossReport) -> Any:
        """Noise-prediction MSE with condition dropout; returns the EMA of the weights."""
        import copy

        import torch

        o = self.options
        ema = copy.deepcopy(net).eval().requires_grad_(False)
        optimiser = torch.optim.Adam(net.parameters(), lr=o.learning_rate)
        net.train()
        for step in range(o.train_steps):
            idx = torch.randint(len(x0), (o.batch_size,), generator=gen, device=x0.device)
            t = torch.randint(o.steps, (o.batch_size,), generator=gen, device=x0.device)
            eps = torch.randn((o.batch_size, x0.shape[1]), generator=gen, device=x0.device)
            drop = torch.rand(o.batch_size, generator=gen, device=x0.device) < o.cond_dropout
            labels = torch.where(drop, torch.full_like(y[idx], o.classes), y[idx])
            noisy = k["sqrt_ab"][t, None] * x0[idx] + k["sqrt_1m_ab"][t, None] * eps
            loss = torch.nn.functional.mse_loss(net(noisy, t, labels), eps)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            report.add(loss)
            decay = min(o.ema_decay, (1 + step) / (10 + step))  # short warm-up of the average
            with torch.no_grad():
                torch._foreach_lerp_(list(ema.parameters()), list(net.parameters()), 1 - decay)
        return ema

    def load(self, state: dict[str, np.ndarray]) -> FittedDDPM:
        o = self.options
        shares = np.asarray(state["class_shares"])
        shape = tuple(int(s) for s in state["image_shape"])
        device = neural.torch_device(o.device)
        nets = [neural.unpack(state, "denoiser", i, _denoiser(o, shape), device) for i in range(len(shares))]
        return FittedDDPM(o, shape, nets, shares, device)
