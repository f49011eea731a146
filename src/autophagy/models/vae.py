"""Variational autoencoder (Kingma & Welling 2014) in PyTorch: the ``vae`` model, one network per
replicate. Shumailov et al. (2024) study model collapse with a VAE.

:mod:`autophagy.models` registers it as ``vae``; this module imports PyTorch only inside
``fit``/``load``/``sample`` (it imports without it).

Model: z ~ N(0, I) in ``latent_dim`` dimensions, x | z ~ N(mu(z), diag sigma^2) with an MLP
decoder mu and a learned per-coordinate sigma (in standardised units: each training column is
centred and scaled by its mean and standard deviation, stored in the network). The encoder
q(z | x) = N(m(x), diag s(x)^2) is an MLP too; training maximises the ELBO
E_q[log p(x | z)] - KL(q(z | x) || N(0, I)) by Adam on minibatches for ``epochs`` passes.

Labels: rows may end with a class label (``classes`` set, or bound automatically by
:meth:`VAE.for_data` when the real data are labelled images such as ``digits``). Then the VAE
is class-conditional (the one-hot label is an input of both encoder and decoder; Sohn et al.
2015), samples draw their labels in the training shares and write them back in the last
column, and image pixels are clipped to [0, 1]. Without labels every column is continuous.

Sampling bias lambda is latent truncation: z ~ N(0, lambda I) (standard deviation
sqrt(lambda)), and the decoder noise is scaled the same, x = mu(z) + sqrt(lambda) sigma eps.
lambda = 1 is ancestral sampling from the fitted model p(x) = int p(x | z) p(z) dz; lambda = 0
returns mu(0), one point (per class). ``noise = false`` drops the decoder noise at every lambda
(samples are decoder means, as VAE images are usually shown). All sampling randomness comes
from the numpy generators; each replicate trains with a torch generator seeded from its own
numpy generator, so a replicate's network never depends on the batch.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydantic import PositiveFloat, PositiveInt

from autophagy.core.device import Device, resolve_device
from autophagy.core.protocols import LabelledImages, TrainingTelemetry
from autophagy.core.registry import Options
from autophagy.core.rng import Rngs
from autophagy.core.telemetry import LossReport

SEED_BOUND = 2**62
MIN_LOG_SIGMA = math.log(1e-3)  # decoder noise floor (standardised units): keeps the likelihood bounded


class VAEOptions(Options):
    """Network sizes (``latent_dim``, MLP width ``hidden``), training (``epochs`` passes of Adam
    at ``learning_rate`` on minibatches of ``batch_size``), ``classes`` (rows end with a label in
    [0, classes); default: bound from labelled image data, else none), ``noise`` (sample the
    decoder's noise, default true) and ``device``."""

    latent_dim: PositiveInt = 8
    hidden: PositiveInt = 128
    epochs: PositiveInt = 30
    batch_size: PositiveInt = 128
    learning_rate: PositiveFloat = 1e-3
    classes: PositiveInt | None = None
    noise: bool = True
    device: Device = "auto"


def _torch() -> Any:
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("the vae model needs PyTorch: pip install 'autophagy[torch]'") from exc
    return torch


def _device(choice: str) -> str:
    _torch()  # a clear message when PyTorch is missing
    return resolve_device(choice, "model.device")


def _network(dim: int, classes: int, latent: int, hidden: int) -> Any:
    """Encoder ``(x, onehot) -> (m, log s^2)``, decoder ``(z, onehot) -> mu``, ``log_sigma`` ``(dim,)``
    and the standardisation buffers ``shift``, ``scale`` ``(dim,)``, in one module."""
    torch = _torch()
    nn = torch.nn
    net = nn.Module()
    from autophagy.models.nets import mlp  # imports PyTorch: only when a VAE is built

    net.encoder = mlp([dim + classes, hidden, hidden, 2 * latent])
    net.decoder = mlp([latent + classes, hidden, hidden, dim])
    net.log_sigma = nn.Parameter(torch.zeros(dim))
    net.register_buffer("shift", torch.zeros(dim))
    net.register_buffer("scale", torch.ones(dim))
    return net


def _onehot(labels: Any, classes: int, like: Any) -> Any:
    torch = _torch()
    if classes == 0:
        return like.new_zeros((len(like), 0))
    return torch.nn.functional.one_hot(labels, classes).to(like.dtype)


def _negative_elbo(net: Any, x: Any, y: Any, eps: Any) -> Any:
    """Per-row negative ELBO ``(B,)`` in nats of standardised rows ``x`` ``(B, d)`` (one-hot ``y``),
    with the reparameterisation noise ``eps`` ``(B, latent)``."""
    torch = _torch()
    m, log_var = net.encoder(torch.cat([x, y], 1)).chunk(2, dim=1)
    log_var = log_var.clamp(-12.0, 8.0)
    z = m + torch.exp(0.5 * log_var) * eps
    mu = net.decoder(torch.cat([z, y], 1))
    log_sigma = net.log_sigma.clamp_min(MIN_LOG_SIGMA)
    nll = (0.5 * ((x - mu) / log_sigma.exp()) ** 2 + log_sigma + 0.5 * math.log(2 * math.pi)).sum(1)
    kl = 0.5 * (m**2 + log_var.exp() - 1.0 - log_var).sum(1)
    return nll + kl


@dataclass(frozen=True, eq=False)
class FittedVAE:
    """Trained networks (one per replicate), class shares ``(R, classes)`` (``(R, 0)`` unlabelled)."""

    nets: tuple
    class_shares: np.ndarray
    noise: bool
    bounds: tuple[float, float] | None
    device: str

    @property
    def classes(self) -> int:
        return self.class_shares.shape[1]

    def _split(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 3 or len(x) != len(self.nets):
            raise ValueError(f"x must have shape ({len(self.nets)}, n, d), got {x.shape}")
        if not self.classes:
            return x, np.zeros(x.shape[:2], dtype=np.int64)
        return x[..., :-1], np.rint(x[..., -1]).astype(np.int64)

    def sample(self, n: int, *, rng: Rngs, sampling_bias: float) -> np.ndarray:
        """``n`` rows per replicate ``(R, n, d)``: x = mu(z) + sqrt(lambda) sigma eps, z ~ N(0, lambda I)."""
        torch = _torch()
        if len(rng) != len(self.nets):
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {len(self.nets)}")
        if not 0.0 <= sampling_bias <= 1.0:
            raise ValueError(f"sampling_bias must be in [0, 1], got {sampling_bias}")
        root = math.sqrt(sampling_bias)
        out = []
        for net, shares, g in zip(self.nets, self.class_shares, rng, strict=True):
            labels = g.choice(len(shares), size=n, p=shares) if self.classes else np.zeros(n, dtype=np.int64)
            latent = net.decoder[0].in_features - self.classes
            z = root * g.standard_normal((n, latent))
            with torch.no_grad():
                zt = torch.as_tensor(z, dtype=torch.float32, device=self.device)
                y = _onehot(torch.as_tensor(labels, device=self.device), self.classes, zt)
                mu = net.decoder(torch.cat([zt, y], 1)).double().cpu().numpy()
                sigma = net.log_sigma.clamp_min(MIN_LOG_SIGMA).exp().double().cpu().numpy()
                shift, scale = (b.double().cpu().numpy() for b in (net.shift, net.scale))
            x = mu + root * sigma * g.standard_normal(mu.shape) if self.noise else mu
            x = x * scale + shift
            if self.bounds is not None:
                x = np.clip(x, *self.bounds)
            out.append(np.column_stack([x, labels.astype(np.float64)]) if self.classes else x)
        return np.stack(out)

    def reconstruct(self, x: np.ndarray) -> np.ndarray:
        """Decoder mean at the encoder mean, mu(m(x)), of rows ``x`` ``(R, n, d)`` (labels kept)."""
        torch = _torch()
        pixels, labels = self._split(x)
        out = []
        for net, xr, yr in zip(self.nets, pixels, labels, strict=True):
            with torch.no_grad():
                xt = (torch.as_tensor(xr, dtype=torch.float32, device=self.device) - net.shift) / net.scale
                y = _onehot(torch.as_tensor(yr, device=self.device), self.classes, xt)
                m = net.encoder(torch.cat([xt, y], 1)).chunk(2, dim=1)[0]
                mu = net.decoder(torch.cat([m, y], 1)) * net.scale + net.shift
            out.append(mu.double().cpu().numpy())
        rows = np.stack(out)
        return np.concatenate([rows, x[..., -1:]], axis=-1) if self.classes else rows

    def negative_elbo(self, x: np.ndarray, *, rng: Rngs) -> np.ndarray:
        """Mean negative ELBO per row ``(R,)`` in nats of standardised rows (lower is better; an
        upper bound on -log p), one reparameterisation draw per row from ``rng``."""
        torch = _torch()
        pixels, labels = self._split(x)
        out = []
        for net, xr, yr, g in zip(self.nets, pixels, labels, rng, strict=True):
            latent = net.decoder[0].in_features - self.classes
            eps = torch.as_tensor(
                g.standard_normal((len(xr), latent)), dtype=torch.float32, device=self.device
            )
            with torch.no_grad():
                xt = (torch.as_tensor(xr, dtype=torch.float32, device=self.device) - net.shift) / net.scale
                y = _onehot(torch.as_tensor(yr, device=self.device), self.classes, xt)
                out.append(float(_negative_elbo(net, xt, y, eps).mean()))
        return np.array(out)

    def state_dict(self) -> dict[str, np.ndarray]:
        """Every parameter and buffer stacked over replicates ``{name: (R, ...)}``, plus ``class_shares``."""
        states = [net.state_dict() for net in self.nets]
        arrays = {name: np.stack([s[name].cpu().numpy() for s in states]) for name in states[0]}
        return {**arrays, "class_shares": self.class_shares}


@dataclass(frozen=True)
class VAE:
    """Settings of the VAE family; ``classes`` and ``bounds`` are bound from the data by :meth:`for_data`."""

    options: VAEOptions = field(default_factory=VAEOptions)
    classes: int | None = None
    bounds: tuple[float, float] | None = None
    min_samples: int = 2

    def __post_init__(self) -> None:
        if self.classes is None and self.options.classes is not None:
            object.__setattr__(self, "classes", self.options.classes)

    def for_data(self, data: object) -> VAE:
        """Labelled image data (``digits``, ``mnist``): condition on their classes, clip pixels to [0, 1]."""
        if isinstance(data, LabelledImages):
            return dataclasses.replace(self, classes=self.classes or data.classes, bounds=(0.0, 1.0))
        return self

    def _split(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        x = np.asarray(data, dtype=np.float64)
        if x.ndim != 3 or x.shape[1] < self.min_samples:
            raise ValueError(f"data must have shape (R, n >= {self.min_samples}, d), got {x.shape}")
        if not np.isfinite(x).all():
            raise ValueError("vae training data contain NaN or infinite values")
        if not self.classes:
            return x, np.zeros(x.shape[:2], dtype=np.int64), 0
        labels = np.rint(x[..., -1])
        if (
            x.shape[2] < 2
            or not np.allclose(labels, x[..., -1])
            or labels.min() < 0
            or labels.max() >= self.classes
        ):
            raise ValueError(f"the last column must be a class label in [0, {self.classes})")
        return x[..., :-1], labels.astype(np.int64), self.classes

    def fit(
        self,
        data: np.ndarray,
        *,
        rng: Rngs,
        init: FittedVAE | None = None,
        telemetry: TrainingTelemetry | None = None,
    ) -> FittedVAE:
        """Train on ``data`` ``(R, n, d)`` (label last when ``classes``); ``init`` fine-tunes its
        networks; ``telemetry`` gets the negative ELBO (nats per sample) about 50 times per replicate."""
        x, labels, classes = self._split(data)
        if len(rng) != len(x):
            raise ValueError(f"need one rng per replicate: got {len(rng)} for {len(x)}")
        if init is not None and (len(init.nets) != len(x) or init.classes != classes):
            raise ValueError(
                f"init has {len(init.nets)} replicates and {init.classes} classes, data {len(x)}, {classes}"
            )
        device = _device(self.options.device)
        nets = [
            self._train(xr, yr, classes, g, device, None if init is None else init.nets[i], telemetry, i)
            for i, (xr, yr, g) in enumerate(zip(x, labels, rng, strict=True))
        ]
        shares = np.zeros((len(x), 0))
        if classes:
            counts = np.stack([np.bincount(row, minlength=classes) for row in labels]).astype(np.float64)
            shares = counts / counts.sum(axis=1, keepdims=True)
        return FittedVAE(tuple(nets), shares, self.options.noise, self.bounds, device)

    def _train(
        self,
        x: np.ndarray,
        labels: np.ndarray,
        classes: int,
        rng: np.random.Generator,
        device: str,
        start: Any,
        telemetry: TrainingTelemetry | None = None,
        replicate: int = 0,
    ) -> Any:
        """One replicate: Adam on the negative ELBO over minibatches drawn by a seeded generator."""
        torch = _torch()
        o = self.options
        seed = int(rng.integers(SEED_BOUND))
        gen = torch.Generator(device=device).manual_seed(seed)
        data = torch.as_tensor(x, dtype=torch.float32, device=device)
        if start is None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                net = _network(x.shape[1], classes, o.latent_dim, o.hidden).to(device)
            with torch.no_grad():  # standardise with the training set's moments (fixed buffers)
                net.shift.copy_(data.mean(dim=0))
                net.scale.copy_(data.std(dim=0).clamp_min(1e-6))
        else:
            net = copy.deepcopy(start).to(device)
        y = _onehot(torch.as_tensor(labels, device=device), classes, data)
        data = (data - net.shift) / net.scale
        optimiser = torch.optim.Adam(net.parameters(), lr=o.learning_rate)
        net.train()
        n = len(data)
        report = LossReport(telemetry, replicate, o.epochs * math.ceil(n / o.batch_size))
        for _ in range(o.epochs):
            order = torch.randperm(n, generator=gen, device=device)
            for begin in range(0, n, o.batch_size):
                idx = order[begin : begin + o.batch_size]
                eps = torch.randn((len(idx), o.latent_dim), generator=gen, device=device)
                loss = _negative_elbo(net, data[idx], y[idx], eps).mean()
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), 10.0)
                optimiser.step()
                report.add(loss)
        return net.eval()

    def load(self, state: dict[str, np.ndarray]) -> FittedVAE:
        """Rebuild from :meth:`FittedVAE.state_dict`; sizes are read from the arrays."""
        torch = _torch()
        shares = np.asarray(state["class_shares"], dtype=np.float64)
        replicates, dim = np.shape(state["log_sigma"])
        classes = shares.shape[1]
        hidden = np.shape(state["encoder.0.weight"])[1]
        latent = np.shape(state["decoder.0.weight"])[2] - classes
        device = _device(self.options.device)
        nets = []
        for i in range(replicates):
            net = _network(dim, classes, latent, hidden)
            weights = {k: torch.as_tensor(np.asarray(v[i])) for k, v in state.items() if k != "class_shares"}
            net.load_state_dict(weights)
            nets.append(net.to(device).eval())
        return FittedVAE(tuple(nets), shares, self.options.noise, self.bounds, device)
