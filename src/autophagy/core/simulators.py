"""How a generation's data are represented: as samples, or as exact sufficient statistics.

The engine writes every loop once, against the small :class:`Simulator` protocol: draw
real data, draw synthetic data from the latest models, concatenate, subsample, fit. The
:class:`SampleSimulator` holds the samples themselves (the reference path, any model);
:class:`~autophagy.models.gaussian_exact.ExactGaussianSimulator` holds only each group's
count, mean and scatter, drawn from their exact distributions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from autophagy.core.boundary import check_samples, who
from autophagy.core.protocols import DataSource, FittedModel, HeldOutReference, ModelSettings
from autophagy.core.rng import Rngs
from autophagy.core.telemetry import accepts_telemetry

RngsFor = Callable[[str], Rngs]
"""Generators of one (block, generation) for a role name, one per replicate."""


class Simulator(Protocol):
    """Operations on a batch of training data for ``R`` replicates (type ``Batch``)."""

    def empty(self, replicates: int) -> Any:
        """A batch with no samples."""
        ...

    def real(self, n: int, rng: Rngs) -> Any:
        """``n`` real samples per replicate."""
        ...

    def synthetic(self, models: Sequence[FittedModel], n: int, bias: float, rngs_for: RngsFor) -> Any:
        """``n`` samples per replicate, each from a uniformly chosen model of ``models``."""
        ...

    def concat(self, parts: Sequence[Any]) -> Any:
        """The union of several batches."""
        ...

    def subsample(self, batch: Any, size: int, rng: Rngs) -> Any:
        """``size`` samples per replicate drawn without replacement from ``batch``."""
        ...

    def take(self, batch: Any, rows: np.ndarray) -> Any:
        """The given rows (same for every replicate) of ``batch``."""
        ...

    def size(self, batch: Any) -> int:
        """Samples per replicate in ``batch``."""
        ...

    def fit(self, batch: Any, rng: Rngs, init: FittedModel | None) -> FittedModel:
        """A model fitted on ``batch``."""
        ...


@dataclass(frozen=True)
class SampleSimulator:
    """The reference path: batches are sample arrays ``(R, n, d)``."""

    data: DataSource
    model: ModelSettings

    def empty(self, replicates: int) -> np.ndarray:
        return np.empty((replicates, 0, self.data.dim))

    def real(self, n: int, rng: Rngs) -> np.ndarray:
        return np.stack([self.data.draw(n, rng=g) for g in rng]).reshape(len(rng), n, self.data.dim)

    def reference(self, n: int, rng: Rngs) -> np.ndarray:
        """Real samples the metrics compare against, ``(R, m, d)``: held-out rows where the source
        keeps some (``draw_reference``, ``m <= n``), else fresh draws (``m = n``)."""
        draw = self.data.draw_reference if isinstance(self.data, HeldOutReference) else self.data.draw
        return np.stack([draw(n, rng=g) for g in rng])

    def synthetic(self, models: Sequence[FittedModel], n: int, bias: float, rngs_for: RngsFor) -> np.ndarray:
        """Every model draws ``n`` from its own stream and each slot keeps its chosen model's
        draw: exact i.i.d. mixture samples at K times the sampling cost."""
        roles = ["synthetic" if j == 0 else f"synthetic:{j}" for j in range(len(models))]
        draws = []
        for m, role in zip(models, roles, strict=True):
            rng = rngs_for(role)
            drawn = m.sample(n, rng=rng, sampling_bias=bias)
            draws.append(check_samples(drawn, len(rng), n, self.data.dim, who(m)))  # core.boundary
        if len(draws) == 1:
            return draws[0]
        choice = np.stack([g.integers(len(draws), size=n) for g in rngs_for("mixture")])
        return np.take_along_axis(np.stack(draws), choice[None, :, :, None], axis=0)[0]

    def concat(self, parts: Sequence[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts, axis=1)

    def subsample(self, batch: np.ndarray, size: int, rng: Rngs) -> np.ndarray:
        picks = np.stack([g.permutation(batch.shape[1])[:size] for g in rng])
        return np.take_along_axis(batch, picks[:, :, None], axis=1)

    def take(self, batch: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return batch[:, rows]

    def size(self, batch: np.ndarray) -> int:
        return batch.shape[1]

    def fit(
        self, batch: np.ndarray, rng: Rngs, init: FittedModel | None, telemetry: Any = None
    ) -> FittedModel:
        """The model fitted on ``batch``; ``telemetry`` (a
        :class:`~autophagy.core.protocols.TrainingTelemetry`) is passed on only to a ``fit``
        that takes it."""
        if telemetry is not None and accepts_telemetry(self.model.fit):
            return self.model.fit(batch, rng=rng, init=init, telemetry=telemetry)
        return self.model.fit(batch, rng=rng, init=init)


SimulatorFactory = Callable[[DataSource, ModelSettings], Simulator]
"""Builds a run's simulator from its data source and model settings."""

SIMULATORS: dict[str, SimulatorFactory] = {"samples": SampleSimulator}
"""How training batches may be represented, by the name ``model.simulator`` gives; a model
family with an exact path registers it with :func:`register_simulator`."""


def register_simulator(name: str, factory: SimulatorFactory) -> None:
    """Make ``factory`` available to experiments as ``simulator = name``."""
    SIMULATORS[name] = factory
