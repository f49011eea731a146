"""The exact Gaussian simulator on PyTorch (``model.backend = "torch"``): float64, one batch.

Same statistics and the same distribution as :mod:`autophagy.models.gaussian_exact` (normal
group means, Wishart scatters, exact pooling, the model's estimator), computed for every
replicate of a block in a few batched tensor operations on ``model.device`` (CPU or GPU), so
a large ``block_size`` fills a GPU. Imported only when the backend is chosen (PyTorch is an
optional extra).

Wishart draws: for k = c - 1 degrees of freedom the factor F is lower triangular with
F_jj = sqrt(chi^2_(k - j)) and N(0, 1) entries below the diagonal in the first min(k, d)
columns (0-based j), zeros elsewhere; F F^T ~ Wishart_d(I, k). For k >= d this is the Bartlett
decomposition; for k < d it is its singular form (the transposed R factor of a k x d Gaussian
matrix: Srivastava 2003), so one code path serves every replicate of a batch whatever its count.

Random streams: the numpy path draws replicate by replicate from each replicate's own stream;
here each (block, generation, role) has one random source for the whole block (:class:`Draws`),
seeded from the stream of the block's first replicate: a ``torch.Generator`` on a GPU, NumPy's
PCG64 on the CPU (its float64 normals are 1.5-2x faster there than PyTorch's CPU ones). A run is
repeatable (same config, same device: same numbers; a resumed block continues exactly), and
every replicate's statistics have the same distribution as on the numpy path, but a
replicate's numbers depend on the block it is in (``block_size``) and on the device, and differ
from the numpy path's draws: agreement is in distribution (tested), not bit for bit.

On the CPU, the batched matrix products and Cholesky factors also run through NumPy's
BLAS/LAPACK on the tensors' own memory (no copy), faster there than PyTorch's batched CPU
kernels for matrices of this size; on a GPU everything is PyTorch.

Fitted models (:class:`TorchGaussian`) keep their moments on the device between generations;
``moments()`` and ``state_dict()`` hand NumPy copies to the metrics and the checkpoint, and a
block resumed from a checkpoint (NumPy statistics and models) moves them back once.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import torch

from autophagy.core.device import resolve_device
from autophagy.core.rng import Rngs
from autophagy.core.simulators import RngsFor
from autophagy.data.gaussian import GaussianData
from autophagy.models.gaussian import FittedGaussian, GaussianModel
from autophagy.models.gaussian_exact import GroupStats
from autophagy.models.gaussian_exact import covariance_root as numpy_covariance_root

DTYPE = torch.float64
SEED_BOUND = 2**63 - 1
NUMPY_ON_CPU = True  # False runs the GPU's code path (torch kernels, torch.Generator) on the CPU: tests


def _numpy(device: Any) -> bool:
    """Whether work on ``device`` goes through NumPy (the CPU, unless tests ask otherwise)."""
    return NUMPY_ON_CPU and torch.device(device).type == "cpu"


@dataclass(frozen=True)
class TorchStats(GroupStats):
    """:class:`GroupStats` held as tensors on one device: ``count`` ``(R,)`` int64, ``mean``
    ``(R, d)``, ``scatter`` ``(R, d, d)`` float64. ``arrays()`` gives NumPy copies (checkpoints)."""

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "count": self.count.cpu().numpy(),
            "mean": self.mean.cpu().numpy(),
            "scatter": self.scatter.cpu().numpy(),
        }


@dataclass(frozen=True, eq=False)
class TorchGaussian:
    """N(mean, cov) per replicate with ``mean`` ``(R, d)`` and ``cov`` ``(R, d, d)`` float64 tensors
    on ``device``; reads as a :class:`~autophagy.models.gaussian.FittedGaussian` (NumPy) to the
    metrics, the checkpoint and any sample draw."""

    mean: Any
    cov: Any
    is_gaussian: ClassVar[bool] = True
    _roots: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def device(self) -> str:
        """Where the moments live: ``"cpu"`` or ``"cuda"``."""
        return self.mean.device.type

    @functools.cached_property
    def host(self) -> FittedGaussian:
        """The same model as NumPy arrays (one copy from the device)."""
        return FittedGaussian(self.mean.cpu().numpy(), self.cov.cpu().numpy())

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        return self.host.moments()

    def sample(self, n: int, *, rng: Rngs, sampling_bias: float) -> np.ndarray:
        """Draws ``(R, n, d)`` from the replicates' numpy streams, as the NumPy model gives them."""
        return self.host.sample(n, rng=rng, sampling_bias=sampling_bias)

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        return self.host.log_prob(x)

    def mixture(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.host.mixture()

    def state_dict(self) -> dict[str, np.ndarray]:
        return self.host.state_dict()

    def root(self) -> Any:
        """A factor L ``(R, d, d)`` with L L^T = cov (see :func:`covariance_root`), computed once."""
        if "root" not in self._roots:
            self._roots["root"] = covariance_root(self.cov)
        return self._roots["root"]


def matmul(a: Any, b: Any) -> Any:
    """The batched product ``a @ b``. On the CPU it runs through NumPy's BLAS on the same memory
    (no copy): for the small stacked matrices of this simulator (d <= a few hundred) that is up
    to twice as fast as PyTorch's CPU kernels; on a GPU it is PyTorch's."""
    if _numpy(a.device):
        return torch.from_numpy(np.matmul(a.numpy(), b.numpy()))
    return a @ b


def covariance_root(cov: Any) -> Any:
    """L with L L^T = cov for matrices ``(..., d, d)``: Cholesky where it exists, else the
    symmetric PSD root (eigh), decided matrix by matrix as the NumPy path does (on the CPU it
    is the NumPy path's function, on the same memory: LAPACK there is faster than PyTorch's
    batched Cholesky for small matrices)."""
    if _numpy(cov.device):
        return torch.from_numpy(numpy_covariance_root(cov.numpy()))
    root, info = torch.linalg.cholesky_ex(cov)
    bad = info != 0
    if bool(bad.any()):
        w, v = torch.linalg.eigh(cov[bad])
        root[bad] = (v * w.clamp_min(0.0).sqrt()[..., None, :]) @ v.transpose(-1, -2)
    return root


@functools.cache
def _lower_slots(dim: int, device: str) -> Any:
    """Flat positions of the strict lower triangle of a ``dim x dim`` matrix, on ``device``."""
    rows, cols = torch.tril_indices(dim, dim, -1)
    return (rows * dim + cols).to(device)


class Draws:
    """The random source of one (block, generation, role) on ``device``, seeded by ``seed``: a
    ``torch.Generator`` there on a GPU, NumPy's PCG64 on the CPU. Every draw is a float64 tensor
    on the device."""

    def __init__(self, seed: int, device: str) -> None:
        self.device = device
        self.numpy = np.random.default_rng(seed) if _numpy(device) else None
        self.torch = None if _numpy(device) else torch.Generator(device=device).manual_seed(seed)

    def normal(self, shape: tuple[int, ...]) -> Any:
        """Standard normals of ``shape``."""
        if self.numpy is not None:
            return torch.from_numpy(self.numpy.standard_normal(shape))
        return torch.randn(shape, generator=self.torch, dtype=DTYPE, device=self.device)

    def chisquare(self, dof: Any) -> Any:
        """Chi-square draws, one per entry of ``dof`` (float64 tensor, every entry positive)."""
        if self.numpy is not None:
            return torch.from_numpy(self.numpy.chisquare(dof.numpy()))
        return 2.0 * torch._standard_gamma(dof / 2.0, generator=self.torch)  # chi^2_m = 2 Gamma(m / 2)

    def binomial(self, count: Any, p: float) -> Any:
        """Binomial(count, p) draws, one per entry of ``count`` (float64 tensor of whole numbers)."""
        if self.numpy is not None:
            return torch.from_numpy(self.numpy.binomial(count.numpy().astype(np.int64), p).astype(np.float64))
        return torch.binomial(count, torch.full_like(count, p), generator=self.torch)


def zeros(shape: tuple[int, ...], device: Any) -> Any:
    """A float64 tensor of zeros; on the CPU NumPy's (the OS hands out zeroed pages lazily,
    where ``torch.zeros`` writes every byte first)."""
    if _numpy(device):
        return torch.from_numpy(np.zeros(shape))
    return torch.zeros(shape, dtype=DTYPE, device=device)


def wishart_factors(dof: Any, dim: int, draws: Draws, scale: float = 1.0) -> Any:
    """``scale`` F ``(R, dim, dim)`` with F F^T ~ Wishart_dim(I, dof[r]) for ``dof`` ``(R,)`` int64
    (any value: dof <= 0 gives zeros), from one random source (see the module docstring)."""
    reps, device = len(dof), dof.device
    chi_dof = dof[:, None] - torch.arange(dim, device=device)[None, :]  # (R, d): k - j
    used = (chi_dof > 0).to(DTYPE)  # column j exists iff j < k
    diagonal = torch.sqrt(draws.chisquare(chi_dof.clamp_min(1).to(DTYPE)))
    lower = draws.normal((reps, dim * (dim - 1) // 2))
    if scale != 1.0:  # on the draws, not on the (R, d, d) result: half the numbers
        diagonal, lower = scale * diagonal, scale * lower
    factor = zeros((reps, dim * dim), device)
    slots = _lower_slots(dim, str(device))
    if _numpy(device):  # NumPy's fancy assignment is the faster one on the CPU
        factor.numpy()[:, slots.numpy()] = lower.numpy()
    else:
        factor[:, slots] = lower
    factor = factor.view(reps, dim, dim)
    factor.diagonal(dim1=1, dim2=2).copy_(diagonal)
    if _numpy(device) and bool((chi_dof[:, -1] > 0).all()):
        return factor  # every column used (no singular draw): skip the mask on the CPU
    return factor * used[:, None, :]


def gaussian_group(mean: Any, root: Any | None, counts: Any, draws: Draws, scale: float = 1.0) -> TorchStats:
    """Statistics of ``counts[r]`` i.i.d. draws of N(mean[r], scale^2 root[r] root[r]^T) per
    replicate; ``mean`` ``(R, d)`` or ``(d,)``, ``root`` ``(R, d, d)``, ``(d, d)`` or None (the
    identity)."""
    reps, dim = len(counts), mean.shape[-1]
    z = draws.normal((reps, dim, 1))
    if scale != 1.0:
        z = scale * z
    factor = wishart_factors(counts - 1, dim, draws, scale)
    scale = torch.where(counts > 0, counts.clamp_min(1).to(DTYPE).rsqrt(), 0.0)[:, None]
    shift = z[..., 0] if root is None else (root @ z)[..., 0]
    spread = factor if root is None else matmul(root, factor)  # scatter = root W root^T, W = F F^T
    return TorchStats(counts, mean.expand(reps, dim) + scale * shift, matmul(spread, spread.transpose(1, 2)))


def pool(parts: Sequence[TorchStats]) -> TorchStats:
    """Exact statistics of the union of groups, replicate-wise (as ``gaussian_exact.pool``)."""
    parts = [p for p in parts if bool(p.count.any())] or list(parts[:1])
    if len(parts) == 1:
        return parts[0]
    counts = torch.stack([p.count for p in parts], dim=1).to(DTYPE)  # (R, P)
    means = torch.stack([p.mean for p in parts], dim=1)  # (R, P, d)
    count = counts.sum(dim=1)
    mean = torch.einsum("rp,rpd->rd", counts, means) / count.clamp_min(1.0)[:, None]
    dev = means - mean[:, None, :]
    between = matmul((dev * counts[:, :, None]).transpose(1, 2), dev)  # sum_g c_g dev_g dev_g^T
    scatter = between  # a new array: summed into in place
    for p in parts:
        if _numpy(scatter.device):
            np.add(scatter.numpy(), p.scatter.numpy(), out=scatter.numpy())
        else:
            scatter += p.scatter
    return TorchStats(count.round().to(torch.int64), mean, scatter)


def multinomial_counts(n: int, k: int, reps: int, draws: Draws) -> Any:
    """Counts ``(k, R)`` of ``n`` draws uniform over ``k`` models per replicate, as successive
    binomials: c_j ~ Bin(n - c_1 - ... - c_(j-1), 1 / (k - j)) (0-based j), exactly multinomial."""
    left = torch.full((reps,), float(n), dtype=DTYPE, device=draws.device)
    counts = []
    for j in range(k - 1):
        c = draws.binomial(left, 1.0 / (k - j))
        counts.append(c)
        left = left - c
    counts.append(left)
    return torch.stack(counts).round().to(torch.int64)


@dataclass(frozen=True)
class TorchExactGaussianSimulator:
    """The exact simulator's batch operations on ``model.device`` (see the module docstring)."""

    data: GaussianData
    model: GaussianModel = field(default_factory=GaussianModel)
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def device(self) -> str:
        if "device" not in self._cache:
            self._cache["device"] = resolve_device(getattr(self.model, "device", "auto"), "model.device")
        return self._cache["device"]

    def _draws(self, rng: Rngs) -> Draws:
        """The random source of a (block, generation, role), seeded from its first replicate's stream."""
        return Draws(int(rng[0].integers(SEED_BOUND)) if len(rng) else 0, self.device)

    def _tensor(self, array: Any, dtype: Any = DTYPE) -> Any:
        if isinstance(array, torch.Tensor):
            return array.to(self.device, dtype)
        return torch.as_tensor(np.asarray(array), dtype=dtype, device=self.device)

    def _stats(self, batch: GroupStats) -> TorchStats:
        if isinstance(batch, TorchStats):
            return batch
        count = self._tensor(batch.count, torch.int64)
        return TorchStats(count, self._tensor(batch.mean), self._tensor(batch.scatter))

    def _model(self, model: Any) -> TorchGaussian:
        if isinstance(model, TorchGaussian):
            return model
        mean, cov = model.moments()  # a NumPy model, e.g. restored from a checkpoint
        return TorchGaussian(self._tensor(mean), self._tensor(cov))

    def _real(self) -> tuple[Any, Any | None]:
        """P_r's mean ``(d,)`` and covariance factor ``(d, d)`` (None: the identity), once."""
        if "real" not in self._cache:
            cov = np.asarray(self.data.cov, dtype=np.float64)
            identity = np.array_equal(cov, np.eye(self.data.dim))
            root = None if identity else covariance_root(self._tensor(cov))
            self._cache["real"] = (self._tensor(self.data.mean), root)
        return self._cache["real"]

    def empty(self, replicates: int) -> TorchStats:
        d = self.data.dim
        return TorchStats(
            torch.zeros(replicates, dtype=torch.int64, device=self.device),
            zeros((replicates, d), self.device),
            zeros((replicates, d, d), self.device),
        )

    def real(self, n: int, rng: Rngs) -> TorchStats:
        if n == 0:
            return self.empty(len(rng))
        mean, root = self._real()
        counts = torch.full((len(rng),), n, dtype=torch.int64, device=self.device)
        return gaussian_group(mean, root, counts, self._draws(rng))

    def synthetic(self, models: Sequence[Any], n: int, bias: float, rngs_for: RngsFor) -> TorchStats:
        """Multinomial counts over the K models (one generator), then one exact group per model."""
        reps = len(rngs_for("synthetic"))  # lazy streams: only the length
        k = len(models)
        if k == 1:
            counts = torch.full((1, reps), n, dtype=torch.int64, device=self.device)
        else:
            counts = multinomial_counts(n, k, reps, self._draws(rngs_for("mixture")))
        groups = []
        for j, (model, c) in enumerate(zip(models, counts, strict=False)):
            fitted = self._model(model)
            draws = self._draws(rngs_for("synthetic" if j == 0 else f"synthetic:{j}"))
            groups.append(gaussian_group(fitted.mean, fitted.root(), c, draws, math.sqrt(bias)))
        return pool(groups)

    def concat(self, parts: Sequence[GroupStats]) -> TorchStats:
        return pool([self._stats(p) for p in parts])

    def subsample(self, batch: GroupStats, size: int, rng: Rngs) -> TorchStats:
        raise NotImplementedError("the exact simulator cannot subsample a pool; use simulator = 'samples'")

    def take(self, batch: GroupStats, rows: np.ndarray) -> TorchStats:
        raise NotImplementedError("the exact simulator cannot take rows of a pool; use simulator = 'samples'")

    def size(self, batch: GroupStats) -> int:
        return int(batch.count[0]) if len(batch.count) else 0

    def fit(self, batch: GroupStats, rng: Rngs, init: Any) -> TorchGaussian:
        """The model's estimator from the statistics: mean, scatter / (n - 1) or scatter / n."""
        stats = self._stats(batch)
        divisor = (stats.count.to(DTYPE) - float(self.model.estimator == "unbiased"))[:, None, None]
        if _numpy(stats.scatter.device):  # NumPy's division is the faster one on the CPU
            return TorchGaussian(stats.mean, torch.from_numpy(stats.scatter.numpy() / divisor.numpy()))
        return TorchGaussian(stats.mean, stats.scatter / divisor)
