"""The loop engine: one generation after another for a block of replicates.

Generation 1 fits on ``n_ini`` real samples; every later generation assembles its training
set from the :class:`~autophagy.schedule.DataSchedule`, fits a new model (or fine-tunes the
previous one), and evaluates the metrics. All replicates of a block share the leading array
axis; every random draw comes from that replicate's own stream (see :mod:`autophagy.rng`),
so results do not depend on how replicates are grouped into blocks or when a run resumed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from autophagy.metrics import METRICS
from autophagy.protocols import DataSource, FittedModel, ModelSettings
from autophagy.rng import streams
from autophagy.schedule import DataSchedule


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


@dataclass(frozen=True)
class LoopState:
    """What the next generation needs: the last finished generation and the data it keeps.

    ``fixed`` ``(R, fixed_real, d)`` is the reused real set, ``pool`` ``(R, n_pool, d)`` the
    kept earlier samples, ``models`` the latest fitted models, newest first.
    """

    generation: int
    fixed: np.ndarray
    pool: np.ndarray
    models: list[FittedModel] = field(default_factory=list)


def _draw_real(exp: Experiment, replicates: Sequence[int], generation: int, n: int, role: str) -> np.ndarray:
    rngs = streams(exp.seed, replicates, generation, role)
    return np.stack([exp.data.draw(n, rng=g) for g in rngs]).reshape(len(replicates), n, exp.data.dim)


def _draw_synthetic(exp: Experiment, replicates: Sequence[int], generation: int, models: list) -> np.ndarray:
    """``synthetic`` samples per replicate, each from a uniformly chosen model of ``models``.

    Every model draws the full count from its own stream and each sample slot keeps the draw
    of its chosen model: exact i.i.d. mixture draws, at K times the sampling cost.
    """
    n, bias = exp.schedule.synthetic, exp.schedule.sampling_bias
    draws = [
        m.sample(
            n,
            rng=streams(exp.seed, replicates, generation, "synthetic" if j == 0 else f"synthetic:{j}"),
            sampling_bias=bias,
        )
        for j, m in enumerate(models)
    ]
    if len(draws) == 1:
        return draws[0]
    choice = np.stack(
        [g.integers(len(draws), size=n) for g in streams(exp.seed, replicates, generation, "mixture")]
    )
    return np.take_along_axis(np.stack(draws), choice[None, :, :, None], axis=0)[0]


def _subsample(data: np.ndarray, size: int, rngs: list) -> np.ndarray:
    picks = np.stack([g.permutation(data.shape[1])[:size] for g in rngs])
    return np.take_along_axis(data, picks[:, :, None], axis=1)


def _training_set(
    exp: Experiment, replicates: Sequence[int], state: LoopState, t: int
) -> tuple[np.ndarray, LoopState]:
    """Training data ``(R, n, d)`` of generation ``t`` >= 2 and the state with the updated pool."""
    s = exp.schedule
    fresh = _draw_real(exp, replicates, t, s.fresh_real, "fresh")
    synthetic = _draw_synthetic(exp, replicates, t, state.models[: s.from_latest])
    train = np.concatenate([state.fixed, state.pool, fresh, synthetic], axis=1)
    kept = [state.pool] + [fresh] * s.keep_real + [synthetic] * s.keep_synthetic
    if s.train_size is not None and s.train_size < train.shape[1]:
        train = _subsample(train, s.train_size, streams(exp.seed, replicates, t, "subsample"))
    return train, LoopState(t, state.fixed, np.concatenate(kept, axis=1), state.models)


def evaluate(exp: Experiment, replicates: Sequence[int], t: int, model: FittedModel) -> dict[str, np.ndarray]:
    """Every requested metric for generation ``t``: ``{name: values (R,)}``."""
    results: dict[str, np.ndarray] = {}
    by_moments = [n for n in exp.metrics if METRICS[n].needs == "moments"]
    if by_moments:
        mean, cov = model.moments()
        ref_mean, ref_cov = exp.data.moments()
        for name in by_moments:
            results[name] = np.asarray(METRICS[name].fn(mean, cov, ref_mean, ref_cov), dtype=np.float64)
    by_samples = [n for n in exp.metrics if METRICS[n].needs == "samples"]
    if by_samples:
        real = _draw_real(exp, replicates, t, exp.n_eval, "eval_real")
        bias = 1.0 if exp.unbiased_eval else exp.schedule.sampling_bias
        synthetic = model.sample(
            exp.n_eval, rng=streams(exp.seed, replicates, t, "eval_synthetic"), sampling_bias=bias
        )
        shared: dict[int, object] = {}  # metrics sharing one function are computed once
        for name in by_samples:
            metric = METRICS[name]
            if id(metric.fn) not in shared:
                shared[id(metric.fn)] = metric.fn(real, synthetic, k=exp.k)
            value = shared[id(metric.fn)]
            results[name] = np.asarray(value[metric.key] if metric.key else value, dtype=np.float64)
    return results


def run_block(
    exp: Experiment, replicates: Sequence[int], state: LoopState | None = None
) -> Iterator[tuple[LoopState, dict[str, np.ndarray]]]:
    """Run ``replicates`` from ``state`` (or from scratch) to the last generation.

    Yields, after each generation, the new state (a checkpoint) and the metric values.
    """
    s = exp.schedule
    start = 1 if state is None else state.generation + 1
    for t in range(start, exp.generations + 1):
        if t == 1:
            train = _draw_real(exp, replicates, 1, s.n_ini, "initial")
            dim = train.shape[2]
            state = LoopState(0, train[:, : s.fixed_real], np.empty((len(replicates), 0, dim)))
        else:
            train, state = _training_set(exp, replicates, state, t)
        init = state.models[0] if s.finetune and state.models else None
        model = exp.model.fit(train, rng=streams(exp.seed, replicates, t, "fit"), init=init)
        state = LoopState(t, state.fixed, state.pool, [model, *state.models][: s.from_latest])
        yield state, evaluate(exp, replicates, t, model)
