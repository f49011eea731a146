"""Mitigations as loop options: curate, self-correct and filter each generation's synthetic batch.

The engine hands :meth:`Mitigation.apply` a function that draws synthetic samples from the
latest models; the mitigation returns the batch the loop trains on (and keeps, where the loop
family pools synthetic data), so every mitigation composes with every loop family. Steps run
in the order curate, correct, filter. They work on samples, so a mitigated Gaussian loop uses
the sample simulator.

The real data a mitigation may use is the *reference set*: the loop's own generation-1 real
set (``n_ini`` samples per replicate, re-derived from its random streams), which every loop
family has seen. Only ``correct.target = "truth"`` (or "moments") goes beyond it, to P_r itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autophagy.core.errors import ConfigError
from autophagy.core.linalg import unbiased_moments
from autophagy.core.protocols import DataSource, FittedModel, HasMoments, ModelSettings
from autophagy.core.registry import Plugin
from autophagy.core.rng import streams
from autophagy.core.schedule import DataSchedule
from autophagy.core.simulators import RngsFor, SampleSimulator
from autophagy.mitigations import correction, curation
from autophagy.mitigations.filtering import KnnDetector, LogisticDetector, kept_synthetic
from autophagy.mitigations.options import (
    CorrectionOptions,
    CurationOptions,
    FilterOptions,
    MitigationOptions,
    import_function,
)

Draw = Callable[[int, RngsFor], np.ndarray]
"""Draws ``n`` synthetic samples per replicate ``(R, n, d)`` from the latest models with given streams."""


@dataclass(frozen=True)
class MitigationContext:
    """What a generation's mitigation sees, and nothing more: the run's seed, schedule, data
    source and model settings, whose replicates, which generation, the models that generate its
    synthetic batch (newest first) and its random streams. The engine builds it; a mitigation
    never drives a generation itself (so this package does not import the engine)."""

    seed: int
    schedule: DataSchedule
    data: DataSource
    model: ModelSettings
    replicates: Sequence[int]
    generation: int
    models: Sequence[FittedModel]
    rngs_for: RngsFor
    cache: dict[str, Any] = field(default_factory=dict)

    def reference(self) -> np.ndarray:
        """The generation-1 real set ``(R, n_ini, d)``, drawn from the same streams as the engine."""
        if "reference" not in self.cache:
            s, sim = self.schedule, SampleSimulator(self.data, self.model)
            first = streams(self.seed, self.replicates, 1, "initial")
            rest = streams(self.seed, self.replicates, 1, "initial_rest")
            self.cache["reference"] = sim.concat(
                [sim.real(s.fixed_real, first), sim.real(s.n_ini - s.fixed_real, rest)]
            )
        return self.cache["reference"]


def _checked(batch: np.ndarray, shape: tuple[int, ...], what: str) -> np.ndarray:
    batch = np.asarray(batch, dtype=np.float64)
    if batch.shape != shape or not np.all(np.isfinite(batch)):
        raise ValueError(f"{what} must return finite values of shape {shape}, got {batch.shape}")
    return batch


def synthetic_moments(models: Sequence[FittedModel], bias: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``(R, d)`` and covariance ``(R, d, d)`` of samples drawn with bias lambda from the
    uniform mixture of ``models`` (each N-like with ``moments()``; lambda scales covariances)."""
    means = np.stack([m.moments()[0] for m in models])  # (K, R, d)
    covs = np.stack([m.moments()[1] for m in models])
    mean = means.mean(axis=0)
    second = (bias * covs + means[..., :, None] * means[..., None, :]).mean(axis=0)
    return mean, second - mean[..., :, None] * mean[..., None, :]


@dataclass(frozen=True)
class Mitigation:
    """A validated ``[mitigation]`` table; ``kept`` is the filter's synthetic count per generation."""

    options: MitigationOptions
    kept: tuple[int, ...] = ()

    def apply(self, draw: Draw, ctx: MitigationContext) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """The synthetic batch generation ``ctx.generation`` trains on, and per-replicate notes
        (``detector_accuracy`` when filtering) recorded with the generation's metrics."""
        synthetic = self.prepare(draw, ctx.schedule.synthetic, ctx.rngs_for, ctx)
        if self.options.filter is None:
            return synthetic, {}
        return self._filter(synthetic, draw, ctx)

    def prepare(self, draw: Draw, n: int, rngs_for: RngsFor, ctx: MitigationContext) -> np.ndarray:
        """``n`` curated and corrected synthetic samples per replicate."""
        curate, correct = self.options.curate, self.options.correct
        if curate is None:
            batch = draw(n, rngs_for)
        else:
            pool = draw(math.ceil(round(n / curate.keep_fraction, 9)), rngs_for)
            batch = curation.keep_best(pool, self._scores(curate, pool, ctx), n)
        return batch if correct is None else self._correct(correct, batch, rngs_for, ctx)

    def _scores(self, o: CurationOptions, pool: np.ndarray, ctx: MitigationContext) -> np.ndarray:
        if o.score == "likelihood":
            return curation.likelihood(pool, ctx.models)
        if o.score == "nearest_real":
            return curation.nearest_real(pool, ctx.reference())
        if o.score == "real_mean":
            return curation.real_mean(pool, ctx.reference())
        return import_function(o.score)(pool, ctx.reference())

    def _correct(
        self, o: CorrectionOptions, batch: np.ndarray, rngs_for: RngsFor, ctx: MitigationContext
    ) -> np.ndarray:
        if o.method == "gaussian_ot":
            if self.options.curate is None and all(isinstance(m, HasMoments) for m in ctx.models):
                source = synthetic_moments(ctx.models, ctx.schedule.sampling_bias)
            else:
                source = unbiased_moments(batch)
            target = unbiased_moments(ctx.reference()) if o.target == "reference" else ctx.data.moments()
            return correction.gaussian_ot(batch, source, target, o.gamma)
        if o.method == "mixture":
            return correction.mixture(
                batch, self._target_draws(o, batch, rngs_for, ctx), o.gamma, rngs_for("mitigation:mixture")
            )
        if o.method == "nearest_real":
            return correction.nearest_real(batch, ctx.reference(), o.gamma)
        if o.method == "centroid":
            if "centroids" not in ctx.cache:  # one clustering of the reference, fixed across generations
                rng = streams(ctx.seed, ctx.replicates, 1, "mitigation:centroids")
                ctx.cache["centroids"] = correction.centroids(ctx.reference(), o.clusters, rng)
            return correction.centroid_snap(batch, ctx.cache["centroids"], o.gamma)
        moved = import_function(o.method)(batch, ctx.reference(), o.gamma, rngs_for("mitigation:correct"))
        return _checked(moved, batch.shape, o.method)

    @staticmethod
    def _target_draws(
        o: CorrectionOptions, batch: np.ndarray, rngs_for: RngsFor, ctx: MitigationContext
    ) -> np.ndarray:
        """One target draw per synthetic row ``(R, n, d)``: fresh P_r samples ("truth") or rows of
        the reference set drawn with replacement ("reference")."""
        rng = rngs_for("mitigation:target")
        if o.target == "truth":
            return SampleSimulator(ctx.data, ctx.model).real(batch.shape[1], rng)
        reference = ctx.reference()
        rows = np.stack([g.integers(reference.shape[1], size=batch.shape[1]) for g in rng])
        return np.take_along_axis(reference, rows[..., None], axis=1)

    def _filter(
        self, synthetic: np.ndarray, draw: Draw, ctx: MitigationContext
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        o, keep = self.options.filter, self.kept[ctx.generation - 2]
        if o.detector == "watermark":  # every synthetic sample carries the tag: keep the first `keep`
            return synthetic[:, :keep], {"detector_accuracy": np.ones(len(synthetic))}
        real = SampleSimulator(ctx.data, ctx.model).real(o.n_holdout, ctx.rngs_for("mitigation:holdout_real"))
        fake = self.prepare(draw, o.n_holdout, lambda role: ctx.rngs_for(f"mitigation:holdout:{role}"), ctx)
        half = o.n_holdout // 2
        labels = np.repeat([0.0, 1.0], [half, half])
        test_labels = np.repeat([0.0, 1.0], [o.n_holdout - half, o.n_holdout - half])
        accuracy, suspicion = np.empty(len(synthetic)), np.empty(synthetic.shape[:2])
        for r in range(len(synthetic)):
            train = np.concatenate([real[r, :half], fake[r, :half]])
            if o.detector == "knn":
                detector = KnnDetector.fit(train, labels, k=o.k)
            else:
                quadratic = o.detector == "quadratic"
                detector = LogisticDetector.fit(train, labels, quadratic=quadratic, penalty=o.regularization)
            test = np.concatenate([real[r, half:], fake[r, half:]])
            accuracy[r] = np.mean((detector.prob_synthetic(test) > 0.5) == test_labels)
            suspicion[r] = detector.prob_synthetic(synthetic[r])
        return curation.keep_best(synthetic, -suspicion, keep), {"detector_accuracy": accuracy}


def build_mitigation(
    options: MitigationOptions | None,
    schedule: DataSchedule,
    model: Plugin,
    min_samples: int,
    generations: int,
) -> Mitigation | None:
    """Cross-check a validated ``[mitigation]`` table against the loop and model; None when empty."""
    if options is None or not options.active:
        return None
    if options.curate is not None and options.curate.score == "likelihood" and not model.has_log_prob:
        raise ConfigError(
            "mitigation.curate.score",
            "'likelihood' needs a model that scores samples (log_prob); use nearest_real, real_mean "
            "or a 'module:function'",
        )
    correct = options.correct
    if correct is not None and correct.method == "centroid" and correct.clusters > schedule.n_ini:
        raise ConfigError(
            "mitigation.correct.clusters", f"cannot exceed the {schedule.n_ini} reference samples (n_ini)"
        )
    kept: tuple[int, ...] = ()
    if options.filter is not None:
        kept = tuple(kept_synthetic(schedule, options.filter.target_share, generations))
        _check_filter(options.filter, schedule, kept, min_samples)
    return Mitigation(options, kept)


def _check_filter(o: FilterOptions, schedule: DataSchedule, kept: tuple[int, ...], min_samples: int) -> None:
    if o.detector == "knn" and o.k > o.n_holdout // 2:
        raise ConfigError("mitigation.filter.k", f"cannot exceed n_holdout // 2 = {o.n_holdout // 2}")
    for t, count in enumerate(kept, start=2):
        s = schedule.at(t)  # a time-varying schedule's sizes at t
        earlier = sum(schedule.value("fresh_real", u) for u in range(2, t))
        size = s.fixed_real + s.keep_real * earlier + s.fresh_real
        size += count + s.keep_synthetic * sum(kept[: t - 2])
        size = size if s.train_size is None else min(size, s.train_size)
        if size < min_samples:
            raise ConfigError(
                "mitigation.filter.target_share",
                f"leaves {size} training samples at generation {t} (the model needs {min_samples}); "
                "a loop without real data at t >= 2 (fully_synthetic) needs target_share = 1",
            )


__all__ = [
    "Mitigation",
    "MitigationContext",
    "MitigationOptions",
    "build_mitigation",
    "synthetic_moments",
]
