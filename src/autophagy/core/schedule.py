"""Loops as data schedules (spec §1).

A :class:`DataSchedule` says, for every generation t >= 2, how many samples the training
set takes from each source: the fixed real set of generation 1, fresh real draws, new
synthetic samples from the K latest models (with sampling bias lambda), and a pool that
keeps earlier fresh-real and/or synthetic samples (all of them, or a shrinking share of each
earlier synthetic batch: ``retention``); optionally the union is subsampled to a fixed size.
Every loop family in ``LOOPS`` is a preset of these knobs, and any knob set explicitly in the
config overrides the preset, which is how variants combine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, NonNegativeInt, PositiveInt

from autophagy.core.errors import ConfigError, did_you_mean
from autophagy.core.registry import Options


class NotApplicable(ConfigError):
    """A key that the chosen loop family does not use was set (a sweep may drop it for that cell)."""


class LoopOptions(Options):
    """The ``[loop]`` table. Sizes are samples per replicate per generation."""

    family: str
    n_ini: PositiveInt | None = None
    n_real: NonNegativeInt = 0
    n_synthetic: NonNegativeInt = 0
    sampling_bias: float = Field(1.0, ge=0.0)  # at most the model's max_bias (checked by config.resolve)
    from_latest: PositiveInt = 1
    fixed_real: NonNegativeInt | None = None
    keep_real: bool | None = None
    keep_synthetic: bool | None = None
    train_size: PositiveInt | None = None
    real_fraction: float | None = Field(None, ge=0.0, le=1.0)
    total_size: PositiveInt | None = None
    finetune: bool = False
    retention: Literal["all", "linear"] = "all"


@dataclass(frozen=True)
class DataSchedule:
    """Per-generation recipe of the training set (t >= 2); generation 1 uses ``n_ini`` real."""

    n_ini: int
    fixed_real: int  # first rows of the generation-1 real set, reused every generation
    fresh_real: int  # new real samples per generation
    synthetic: int  # new synthetic samples per generation
    sampling_bias: float  # lambda in [0, max_bias of the model] for the synthetic samples
    from_latest: int = 1  # K: synthetic samples drawn uniformly from the K latest models
    keep_real: bool = False  # fresh real samples stay in the pool for later generations
    keep_synthetic: bool = False  # synthetic samples stay in the pool for later generations
    train_size: int | None = None  # subsample the training union to this size
    finetune: bool = False  # start each fit from the previous generation's model
    retention: str = "all"  # "all" or "linear": the share of each pooled synthetic batch trained on

    def retained(self, made: int, generation: int, size: int) -> int:
        """Rows of the synthetic batch of ``size`` made at generation ``made`` that generation
        ``generation`` (> made) trains on: all of them (``"all"``), or, ``"linear"`` (Gillman et
        al.'s accumulation), the first floor((made - 1) size / (generation - 1)): a share that
        shrinks as the pool ages, 1/(t - 1) for the oldest batch, and the newest one whole."""
        if self.retention == "all":
            return size
        return (made - 1) * size // (generation - 1)

    def pool_size(self, generation: int) -> int:
        """Samples kept from earlier generations when generation ``generation`` (>= 2) trains."""
        real = self.keep_real * self.fresh_real
        return sum(
            real + self.keep_synthetic * self.retained(made, generation, self.synthetic)
            for made in range(2, generation)
        )

    def pool_rows(self, generation: int) -> np.ndarray | None:
        """Which rows of the pool generation ``generation`` trains on (None: all of them).

        The pool holds, for each earlier generation t >= 2 in order, its kept fresh-real rows then
        its synthetic rows; retention keeps a prefix of each synthetic batch."""
        if self.retention == "all" or not self.keep_synthetic:
            return None
        rows, start = [], 0
        for made in range(2, generation):
            real = self.keep_real * self.fresh_real
            rows.append(np.arange(start, start + real))
            start += real
            rows.append(np.arange(start, start + self.retained(made, generation, self.synthetic)))
            start += self.synthetic
        return np.concatenate(rows) if rows else np.arange(0)

    def union_size(self, generation: int) -> int:
        """Training samples available at ``generation`` before any subsampling."""
        if generation == 1:
            return self.n_ini
        return self.fixed_real + self.pool_size(generation) + self.fresh_real + self.synthetic

    def training_size(self, generation: int) -> int:
        """Samples the model is fitted on at ``generation``."""
        union = self.union_size(generation)
        return union if generation == 1 or self.train_size is None else min(self.train_size, union)


def _fully_synthetic(o: LoopOptions) -> dict:
    if o.n_real:
        raise NotApplicable(
            "loop.n_real", "must be 0 for fully_synthetic (fresh real data makes it fresh_data)"
        )
    return {"fixed_real": 0}


def _fresh_data(o: LoopOptions) -> dict:
    if o.n_real == 0:
        raise ConfigError(
            "loop.n_real",
            "must be positive for fresh_data: set loop.n_real (without it the loop is fully_synthetic)",
        )
    return {"fixed_real": 0}


def _real_fraction(o: LoopOptions) -> dict:
    if o.real_fraction is None or o.total_size is None:
        field = "loop.real_fraction" if o.real_fraction is None else "loop.total_size"
        raise ConfigError(field, "is required for the real_fraction family")
    for field in ("n_real", "n_synthetic"):
        if field in o.model_fields_set:
            raise NotApplicable(
                f"loop.{field}", "is derived from real_fraction and total_size; do not set it"
            )
    n_real = round(o.real_fraction * o.total_size)
    return {"fixed_real": 0, "fresh_real": n_real, "synthetic": o.total_size - n_real, "n_ini": o.total_size}


@dataclass(frozen=True)
class LoopFamily:
    """A named preset of schedule knobs; ``preset`` validates and returns the knob defaults."""

    preset: Callable[[LoopOptions], dict]
    summary: str


LOOPS: dict[str, LoopFamily] = {
    "fully_synthetic": LoopFamily(_fully_synthetic, "n_synthetic from G(t-1) only"),
    "synthetic_augmentation": LoopFamily(
        lambda o: {"fixed_real": o.n_ini}, "the fixed generation-1 real set + n_synthetic from G(t-1)"
    ),
    "fresh_data": LoopFamily(
        _fresh_data,
        "n_real fresh real samples + n_synthetic from G(t-1) (n_synthetic = 0: the real-only baseline)",
    ),
    "accumulate": LoopFamily(
        lambda o: {"fixed_real": o.n_ini, "keep_real": True, "keep_synthetic": True},
        "every real and synthetic sample so far + n_synthetic new ones",
    ),
    "accumulate_subsample": LoopFamily(
        lambda o: {"fixed_real": o.n_ini, "keep_real": True, "keep_synthetic": True, "train_size": o.n_ini},
        "accumulate, then subsample to train_size (default n_ini)",
    ),
    "synthetic_pool": LoopFamily(
        lambda o: {"fixed_real": o.n_ini, "keep_synthetic": True},
        "fixed real set + a growing pool of all synthetic samples so far ((t-1) n_synthetic)",
    ),
    "real_fraction": LoopFamily(
        _real_fraction, "data environment: real_fraction p of total_size n fresh real, the rest synthetic"
    ),
}


def resolve_schedule(o: LoopOptions) -> DataSchedule:
    """The schedule of a validated ``[loop]`` table: family preset, then explicit overrides."""
    if o.family not in LOOPS:
        raise ConfigError(
            "loop.family",
            f"unknown family {o.family!r}{did_you_mean(o.family, LOOPS)}; choose from {', '.join(LOOPS)}",
        )
    if o.family != "real_fraction":
        for field in ("real_fraction", "total_size"):
            if field in o.model_fields_set:
                raise NotApplicable(
                    f"loop.{field}", f"is only used by the real_fraction family, not {o.family}"
                )
    preset = LOOPS[o.family].preset(o)
    n_ini = preset.pop("n_ini", o.n_ini)
    if n_ini is None:
        raise ConfigError("loop.n_ini", f"is required for {o.family}")
    preset["fixed_real"] = n_ini if preset.get("fixed_real") is None else preset["fixed_real"]
    knobs = {
        "fresh_real": o.n_real,
        "synthetic": o.n_synthetic,
        "keep_real": False,
        "keep_synthetic": False,
        "train_size": None,
        **preset,
    }
    for field in ("fixed_real", "keep_real", "keep_synthetic", "train_size"):
        if field in o.model_fields_set:
            knobs[field] = getattr(o, field)
    if o.retention != "all" and not knobs["keep_synthetic"]:
        raise NotApplicable(
            "loop.retention",
            f"needs a loop that pools synthetic data ({o.family} keeps none; set keep_synthetic)",
        )
    schedule = DataSchedule(
        n_ini=n_ini,
        sampling_bias=o.sampling_bias,
        from_latest=o.from_latest,
        finetune=o.finetune,
        retention=o.retention,
        **knobs,
    )
    if schedule.fixed_real > n_ini:
        raise ConfigError("loop.fixed_real", f"cannot exceed n_ini = {n_ini}")
    if schedule.synthetic == 0 and o.family not in ("real_fraction", "fresh_data"):
        raise ConfigError("loop.n_synthetic", f"must be positive for {o.family}")
    return schedule
