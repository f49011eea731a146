"""Normalizing flow (affine coupling, RealNVP / Glow style) in PyTorch, one network per replicate.

Defaults follow the paper's appendix B.4: 8 coupling layers, hidden width 64, 20 epochs of
Adam with batch 256, retrained from scratch each generation unless ``init`` is given, in which
case training continues from that generation's networks (fine-tuning).

Sampling bias lambda draws the latent from N(0, lambda I) (spec §2): lambda = 0 maps the
latent origin only. Replicates are trained one after another, each with a ``torch.Generator``
seeded from its own numpy generator, so a replicate's network never depends on the batch;
latents are drawn from the numpy generators directly. PyTorch is imported on first use.

Device (``device``, :mod:`autophagy.core.device`): initial weights are drawn on the CPU (the
same on every device), then each replicate's data move to the device once and its minibatch
order comes from a generator on that device.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np

from autophagy.core.device import resolve_device, torch_generator
from autophagy.core.protocols import TrainingTelemetry
from autophagy.core.rng import Rngs, stacked_normal
from autophagy.core.telemetry import LossReport


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the flow model needs PyTorch: pip install 'autophagy[torch]'") from exc
    return torch


@dataclass(frozen=True)
class FittedFlow:
    """One trained :class:`~autophagy.models.coupling.Flow` per replicate (``nets``, length R),
    on ``device`` (the resolved ``"cpu"`` or ``"cuda"``)."""

    nets: tuple
    device: str = "cpu"

    def sample(self, n: int, *, rng: Rngs, sampling_bias: float) -> np.ndarray:
        """``n`` draws per replicate ``(R, n, d)``: the inverse flow of z ~ N(0, lambda I)."""
        if len(rng) != len(self.nets):
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {len(self.nets)}")
        torch = _torch()
        d = self.nets[0].shift.numel()
        z = np.sqrt(sampling_bias) * stacked_normal(rng, (n, d))
        with torch.no_grad():
            return np.stack(
                [
                    net.inverse(torch.as_tensor(zr, dtype=torch.float32, device=self.device))
                    .double()
                    .cpu()
                    .numpy()
                    for net, zr in zip(self.nets, z, strict=True)
                ]
            ).reshape(len(self.nets), n, d)

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        """Log-density ``(R, n)`` of points ``x`` ``(R, n, d)`` under each replicate's flow."""
        if x.ndim != 3 or len(x) != len(self.nets):
            raise ValueError(f"x must have shape ({len(self.nets)}, n, d), got {x.shape}")
        torch = _torch()
        with torch.no_grad():
            return np.stack(
                [
                    net.log_prob(torch.as_tensor(xr, dtype=torch.float32, device=self.device))
                    .double()
                    .cpu()
                    .numpy()
                    for net, xr in zip(self.nets, x, strict=True)
                ]
            )

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter and buffer, stacked over replicates: ``{name: (R, ...)}``."""
        states = [net.state_dict() for net in self.nets]
        return {name: np.stack([s[name].cpu().numpy() for s in states]) for name in states[0]}


@dataclass(frozen=True)
class FlowModel:
    """Settings of the flow family (paper B.4 defaults); ``learning_rate`` of Adam."""

    layers: int = 8
    hidden: int = 64
    epochs: int = 20
    batch_size: int = 256
    learning_rate: float = 1e-3
    min_samples: int = 2
    device: str = "auto"

    def _new_net(self, dim: int) -> Any:
        from autophagy.models.coupling import Flow

        return Flow(dim, self.layers, self.hidden)

    def fit(
        self,
        data: np.ndarray,
        *,
        rng: Rngs,
        init: FittedFlow | None = None,
        telemetry: TrainingTelemetry | None = None,
    ) -> FittedFlow:
        """Train on ``data`` ``(R, n, d)`` (d >= 2); ``init`` fine-tunes its networks instead;
        ``telemetry`` gets the negative log-likelihood (nats per sample) about 50 times per replicate."""
        x = np.asarray(data, dtype=np.float64)
        if x.ndim != 3 or x.shape[1] < self.min_samples or x.shape[2] < 2:
            raise ValueError(f"data must have shape (R, n >= {self.min_samples}, d >= 2), got {x.shape}")
        if len(rng) != len(x):
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {len(x)}")
        if init is not None and len(init.nets) != len(x):
            raise ValueError(f"init has {len(init.nets)} replicates, data has {len(x)}")
        _torch()
        device = resolve_device(self.device, "model.device")
        nets = [
            self._train(
                xr,
                g,
                None if init is None else init.nets[i],
                device,
                LossReport(telemetry, i, self._steps(len(xr))),
            )
            for i, (xr, g) in enumerate(zip(x, rng, strict=True))
        ]
        return FittedFlow(tuple(nets), device)

    def _steps(self, n: int) -> int:
        """Optimiser steps of one replicate's fit on ``n`` samples."""
        return self.epochs * -(-n // self.batch_size)

    def _train(
        self, x: np.ndarray, rng: np.random.Generator, start: Any | None, device: str, report: LossReport
    ) -> Any:
        """One replicate: maximum likelihood by Adam on minibatches shuffled by a seeded generator
        on ``device`` (on the CPU, the one generator that drew the initial weights)."""
        torch = _torch()
        from autophagy.models.coupling import init_parameters

        seed = int(rng.integers(2**63))
        generator = torch_generator(seed, device)
        data = torch.as_tensor(x, dtype=torch.float32, device=device)
        if start is None:
            net = self._new_net(x.shape[1])
            init_parameters(net, generator if device == "cpu" else torch_generator(seed, "cpu"))
            net = net.to(device)
            with torch.no_grad():  # standardise with the training set's moments (a fixed layer)
                net.shift.copy_(data.mean(dim=0))
                net.spread.copy_(data.std(dim=0).clamp_min(1e-6))
        else:
            net = copy.deepcopy(start).to(device)
        optimiser = torch.optim.Adam(net.parameters(), lr=self.learning_rate)
        n = len(data)
        for _ in range(self.epochs):
            order = torch.randperm(n, generator=generator, device=device)
            for begin in range(0, n, self.batch_size):
                loss = -net.log_prob(data[order[begin : begin + self.batch_size]]).mean()
                optimiser.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
                optimiser.step()
                report.add(loss)
        return net.eval()

    def load(self, state: dict[str, np.ndarray]) -> FittedFlow:
        torch = _torch()
        device = resolve_device(self.device, "model.device")
        replicates, dim = state["shift"].shape
        nets = []
        for i in range(replicates):
            net = self._new_net(dim)
            net.load_state_dict({name: torch.as_tensor(value[i]) for name, value in state.items()})
            nets.append(net.to(device).eval())
        return FittedFlow(tuple(nets), device)
