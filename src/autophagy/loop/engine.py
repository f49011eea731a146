"""The loop engine: one generation after another for a block of replicates.

Generation 1 fits on ``n_ini`` real samples; every later generation assembles its training
set from the :class:`~autophagy.core.schedule.DataSchedule`, fits a new model (or fine-tunes the
previous one), and evaluates the metrics. All replicates of a block share the leading array
axis; every random draw comes from that replicate's own stream (see :mod:`autophagy.core.rng`),
so results do not depend on how replicates are grouped into blocks or when a run resumed.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from autophagy.core.boundary import check_metric, check_moments, check_samples, metric_who, who
from autophagy.core.protocols import DataSource, ExactGaussian, FittedModel, Inherits, ModelSettings
from autophagy.core.rng import streams
from autophagy.core.schedule import DataSchedule
from autophagy.core.simulators import SIMULATORS, RngsFor, SampleSimulator, Simulator
from autophagy.metrics import metric_for
from autophagy.mitigations import Mitigation, MitigationContext


@dataclass(frozen=True)
class Experiment:
    """Everything a block of replicates needs: components, schedule, metrics, seed."""

    seed: int
    generations: int
    schedule: DataSchedule
    model: ModelSettings
    data: DataSource
    metrics: Sequence[str] = ()
    n_eval: int = 500
    k: int = 5
    unbiased_eval: bool = False
    simulator: str = "samples"  # a key of core.simulators.SIMULATORS: how batches are represented
    mitigation: Mitigation | None = None  # curation / self-correction / filtering of synthetic batches
    evaluate_at: frozenset[int] | None = None  # generations whose metrics are computed (None: all)
    model_schedule: tuple[ModelSettings, ...] = ()  # per generation 1..G when a model setting varies

    def batches(self) -> Simulator:
        """The simulator that holds this experiment's training batches."""
        return SIMULATORS[self.simulator](self.data, self.model)

    @property
    def eval_bias(self) -> float:
        """The sampling bias of generation 1's evaluation draws (see :meth:`bias_at`)."""
        return self.bias_at(1)

    def bias_at(self, generation: int) -> float:
        """The sampling bias of evaluation and picture draws at ``generation``: 1 with
        ``unbiased_eval``, else the loop's at that generation."""
        return 1.0 if self.unbiased_eval else self.schedule.value("sampling_bias", generation)

    def settings_at(self, generation: int) -> ModelSettings:
        """The model settings that fit ``generation`` (``model`` unless a setting is scheduled)."""
        if not self.model_schedule:
            return self.model
        return self.model_schedule[min(generation, len(self.model_schedule)) - 1]

    def evaluates(self, generation: int) -> bool:
        """Whether the metrics of ``generation`` are computed (every one unless ``evaluate_at``)."""
        return self.evaluate_at is None or generation in self.evaluate_at


@dataclass(frozen=True)
class LoopState:
    """What the next generation needs: the last finished generation and the data it keeps.

    ``fixed`` is the reused real set, ``pool`` the kept earlier samples (both batches of the
    experiment's simulator: arrays ``(R, n, d)`` or exact statistics), ``models`` the latest
    fitted models, newest first.
    """

    generation: int
    fixed: Any
    pool: Any
    models: list[FittedModel] = field(default_factory=list)


def _training_set(
    exp: Experiment,
    sim: Simulator,
    state: LoopState,
    t: int,
    rngs_for: RngsFor,
    replicates: Sequence[int],
) -> tuple[Any, LoopState, dict[str, np.ndarray]]:
    """Training batch of generation ``t`` >= 2, the state with the updated pool, and the
    mitigation's per-replicate notes (e.g. its detector's accuracy), recorded as metrics."""
    s = exp.schedule.at(t)  # generation t's sizes (a time-varying schedule changes them)
    fresh = sim.real(s.fresh_real, rngs_for("fresh"))
    models = state.models[: s.from_latest]

    def draw(n: int, rngs: RngsFor) -> Any:
        return sim.synthetic(models, n, s.sampling_bias, rngs)

    if exp.mitigation is None:
        synthetic, notes = draw(s.synthetic, rngs_for), {}
    else:
        synthetic, notes = exp.mitigation.apply(
            draw, MitigationContext(exp.seed, s, exp.data, exp.model, replicates, t, models, rngs_for)
        )
    rows = s.pool_rows(t)  # the schedule's retention: which pooled rows this generation uses
    pool = state.pool if rows is None else sim.take(state.pool, rows)
    train = sim.concat([state.fixed, pool, fresh, synthetic])
    kept = sim.concat([state.pool] + [fresh] * s.keep_real + [synthetic] * s.keep_synthetic)
    if s.train_size is not None and s.train_size < sim.size(train):
        train = sim.subsample(train, s.train_size, rngs_for("subsample"))
    return train, LoopState(t, state.fixed, kept, state.models), notes


def evaluate(exp: Experiment, replicates: Sequence[int], t: int, model: FittedModel) -> dict[str, np.ndarray]:
    """Every requested metric for generation ``t``: ``{name: values (R,)}``."""
    results: dict[str, np.ndarray] = {}
    gaussian = isinstance(model, ExactGaussian) and model.is_gaussian is True  # closed forms apply
    chosen = {name: metric_for(name, gaussian) for name in exp.metrics}
    size, dim = len(replicates), exp.data.dim  # every plug-in value is checked as it enters (core.boundary)
    by_moments = [n for n in exp.metrics if chosen[n].needs == "moments"]
    if by_moments:
        mean, cov = check_moments(model.moments(), size, dim, who(model))
        ref_mean, ref_cov = exp.data.moments()
        for name in by_moments:
            value = chosen[name].fn(mean, cov, ref_mean, ref_cov)
            results[name] = check_metric(value, size, metric_who(name))
    by_samples = [n for n in exp.metrics if chosen[n].needs in ("samples", "modes", "images")]
    if by_samples:
        real = SampleSimulator(exp.data, exp.model).reference(
            exp.n_eval, streams(exp.seed, replicates, t, "eval_real")
        )
        rng = streams(exp.seed, replicates, t, "eval_synthetic")
        drawn = model.sample(exp.n_eval, rng=rng, sampling_bias=exp.bias_at(t))
        synthetic = check_samples(drawn, size, exp.n_eval, dim, who(model))
        shared: dict[int, object] = {}  # metrics sharing one function are computed once
        for name in by_samples:
            metric = chosen[name]
            if id(metric.fn) not in shared:
                # P_r's known modes, or the classifier trained on its images
                extra = {"data": exp.data} if metric.needs in ("modes", "images") else {}
                if metric.takes_k:
                    extra["k"] = exp.k
                if metric.takes_rng:
                    extra["rng"] = streams(exp.seed, replicates, t, f"metric:{name}")
                shared[id(metric.fn)] = metric.fn(real, synthetic, **extra)
            results[name] = check_metric(shared[id(metric.fn)], size, metric_who(name), metric.key)
    computed: dict[int, object] = {}  # model metrics with a ``key`` share one call of their function
    for name in (n for n in exp.metrics if chosen[n].needs == "model"):
        metric = chosen[name]
        if metric.key is None:
            rng = streams(exp.seed, replicates, t, f"metric:{name}")
            results[name] = check_metric(metric.fn(model, exp.data, rng=rng), size, metric_who(name))
            continue
        if id(metric.fn) not in computed:  # its stream is named by the function: any subset agrees
            rng = streams(exp.seed, replicates, t, f"metric:{metric.fn.__name__}")
            computed[id(metric.fn)] = metric.fn(model, exp.data, rng=rng)
        results[name] = check_metric(computed[id(metric.fn)], size, metric_who(name), metric.key)
    return results


def run_block(
    exp: Experiment, replicates: Sequence[int], state: LoopState | None = None
) -> Iterator[tuple[LoopState, dict[str, np.ndarray]]]:
    """Run ``replicates`` from ``state`` (or from scratch) to the last generation.

    Yields, after each generation, the new state (a checkpoint) and the metric values (none
    at a generation outside ``exp.evaluate_at``).
    """
    s, sim = exp.schedule, exp.batches()
    start = 1 if state is None else state.generation + 1
    for t in range(start, exp.generations + 1):
        rngs_for = functools.partial(streams, exp.seed, replicates, t)
        if t == 1:
            fixed = sim.real(s.fixed_real, rngs_for("initial"))
            train = sim.concat([fixed, sim.real(s.n_ini - s.fixed_real, rngs_for("initial_rest"))])
            state, notes = LoopState(0, fixed, sim.empty(len(replicates))), {}
        else:
            train, state, notes = _training_set(exp, sim, state, t, rngs_for, replicates)
        init = state.models[0] if s.finetune and state.models else None
        fitter = sim if not exp.model_schedule else SIMULATORS[exp.simulator](exp.data, exp.settings_at(t))
        model = fitter.fit(train, rngs_for("fit"), init)
        if state.models and isinstance(model, Inherits):  # e.g. a reference network from generation 1
            model = model.inherit(state.models[0])
        state = LoopState(t, state.fixed, state.pool, [model, *state.models][: s.from_latest])
        metrics = evaluate(exp, replicates, t, model) if exp.evaluates(t) else {}
        yield state, {**metrics, **notes}
