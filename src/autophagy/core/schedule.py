"""Loops as data schedules (spec §1).

A :class:`DataSchedule` says, for every generation t >= 2, how many samples the training
set takes from each source: the fixed real set of generation 1, fresh real draws, new
synthetic samples from the K latest models (with sampling bias lambda), and a pool that
keeps earlier fresh-real and/or synthetic samples (all of them, or a shrinking share of each
earlier synthetic batch: ``retention``); optionally the union is subsampled to a fixed size.
Every loop family in ``LOOPS`` is a preset of these knobs, and any knob set explicitly in the
config overrides the preset, which is how variants combine.

The sizes and shares (``n_real``, ``n_synthetic``, ``sampling_bias``, ``real_fraction``,
``total_size``, ``train_size``, ``retention``) may change with the generation: each may be a
schedule (steps, a ramp or a period; see :mod:`autophagy.core.varying`). The family preset is
then resolved once per generation, and the :class:`DataSchedule` carries a ``timeline`` of the
knobs that vary; :meth:`DataSchedule.at` gives generation t's knobs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, NonNegativeFloat, NonNegativeInt, PositiveInt, PrivateAttr

from autophagy.core.errors import ConfigError, did_you_mean
from autophagy.core.registry import Options
from autophagy.core.varying import scheduled, span, varying_fields


class NotApplicable(ConfigError):
    """A key that the chosen loop family does not use was set (a sweep may drop it for that cell)."""


Share = Annotated[float, Field(ge=0.0, le=1.0)]


class LoopOptions(Options):
    """The ``[loop]`` table. Sizes are samples per replicate per generation; the fields marked
    ``scheduled`` take a constant or a schedule (:mod:`autophagy.core.varying`)."""

    family: str
    n_ini: PositiveInt | None = None
    n_real: scheduled(NonNegativeInt, integer=True) = 0
    n_synthetic: scheduled(NonNegativeInt, integer=True) = 0
    sampling_bias: scheduled(NonNegativeFloat) = 1.0  # at most the model's max_bias (config.resolve)
    from_latest: PositiveInt = 1
    fixed_real: NonNegativeInt | None = None
    keep_real: bool | None = None
    keep_synthetic: bool | None = None
    train_size: scheduled(PositiveInt, integer=True, optional=True) = None
    real_fraction: scheduled(Share, optional=True) = None
    total_size: scheduled(PositiveInt, integer=True, optional=True) = None
    finetune: bool = False
    retention: scheduled(Literal["all", "linear"], numeric=False) = "all"
    _peaks: dict[str, Any] = PrivateAttr(default_factory=dict)

    def at(self, generation: int) -> LoopOptions:
        """These options with every schedule replaced by its value at ``generation``; the
        family checks that ask whether a size is ever positive still see the schedule's peak."""
        varying = varying_fields(self)
        if not varying:
            return self
        fixed = self.model_copy(update={k: v.at(generation) for k, v in varying.items()})
        fixed._peaks = {k: v.peak() for k, v in varying.items()}
        return fixed


def _peak(o: LoopOptions, name: str) -> Any:
    """The largest value ``name`` takes over the run (the value itself when constant)."""
    return o._peaks.get(name, getattr(o, name))


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
    timeline: tuple[tuple[str, tuple], ...] = ()  # (knob, its values at generations 1..G) if it varies

    @cached_property
    def _timeline(self) -> dict[str, tuple]:
        return dict(self.timeline)

    def value(self, name: str, generation: int) -> Any:
        """Knob ``name`` at ``generation`` (past the timeline's end: its last value)."""
        values = self._timeline.get(name)
        return getattr(self, name) if values is None else values[min(generation, len(values)) - 1]

    def values(self, name: str) -> tuple:
        """Every value knob ``name`` takes over the run (one, unless it varies)."""
        return self._timeline.get(name, (getattr(self, name),))

    def at(self, generation: int) -> DataSchedule:
        """This schedule with the knobs of ``generation`` in its fields (itself when nothing varies);
        the timeline is kept, so pool sizes still see every earlier generation's sizes."""
        if not self.timeline:
            return self
        return dataclasses.replace(self, **{k: self.value(k, generation) for k in self._timeline})

    def retained(self, made: int, generation: int, size: int) -> int:
        """Rows of the synthetic batch of ``size`` made at generation ``made`` that generation
        ``generation`` (> made) trains on: all of them (``"all"``), or, ``"linear"`` (Gillman et
        al.'s accumulation), the first floor((made - 1) size / (generation - 1)): a share that
        shrinks as the pool ages, 1/(t - 1) for the oldest batch, and the newest one whole.
        The retention of ``generation`` decides."""
        if self.value("retention", generation) == "all":
            return size
        return (made - 1) * size // (generation - 1)

    def pool_size(self, generation: int) -> int:
        """Samples kept from earlier generations when generation ``generation`` (>= 2) trains."""
        return sum(
            self.keep_real * self.value("fresh_real", made)
            + self.keep_synthetic * self.retained(made, generation, self.value("synthetic", made))
            for made in range(2, generation)
        )

    def pool_rows(self, generation: int) -> np.ndarray | None:
        """Which rows of the pool generation ``generation`` trains on (None: all of them).

        The pool holds, for each earlier generation t >= 2 in order, its kept fresh-real rows then
        its synthetic rows; retention keeps a prefix of each synthetic batch."""
        if self.value("retention", generation) == "all" or not self.keep_synthetic:
            return None
        rows, start = [], 0
        for made in range(2, generation):
            real = self.keep_real * self.value("fresh_real", made)
            rows.append(np.arange(start, start + real))
            start += real
            synthetic = self.value("synthetic", made)
            rows.append(np.arange(start, start + self.retained(made, generation, synthetic)))
            start += synthetic
        return np.concatenate(rows) if rows else np.arange(0)

    def union_size(self, generation: int) -> int:
        """Training samples available at ``generation`` before any subsampling."""
        if generation == 1:
            return self.n_ini
        fresh, synthetic = self.value("fresh_real", generation), self.value("synthetic", generation)
        return self.fixed_real + self.pool_size(generation) + fresh + synthetic

    def training_size(self, generation: int) -> int:
        """Samples the model is fitted on at ``generation``."""
        union, cap = self.union_size(generation), self.value("train_size", generation)
        return union if generation == 1 or cap is None else min(cap, union)

    def checked_generations(self, generations: int) -> range:
        """The generations whose sizes bound every generation's: the first three of a constant
        schedule (sizes only grow after generation 2), every one of a varying one."""
        return range(1, (generations if self.timeline else min(generations, 3)) + 1)


def _fully_synthetic(o: LoopOptions) -> dict:
    if _peak(o, "n_real"):
        raise NotApplicable(
            "loop.n_real", "must be 0 for fully_synthetic (fresh real data makes it fresh_data)"
        )
    return {"fixed_real": 0}


def _fresh_data(o: LoopOptions) -> dict:
    if _peak(o, "n_real") == 0:
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


TIMED = ("fresh_real", "synthetic", "sampling_bias", "train_size", "retention")
"""The :class:`DataSchedule` knobs a time-varying ``[loop]`` table may change per generation."""


def resolve_schedule(o: LoopOptions, generations: int | None = None) -> DataSchedule:
    """The schedule of a validated ``[loop]`` table: family preset, then explicit overrides.

    A table with schedules (see :mod:`autophagy.core.varying`) is resolved at every generation
    1..``generations`` (required then); the result holds generation 1's knobs and a ``timeline``
    of those that vary. An error found at one generation says which."""
    varying = varying_fields(o)
    if not varying:
        return _resolve(o)
    if generations is None:
        raise ValueError("a time-varying [loop] table needs the number of generations")
    for name, v in varying.items():
        gap = v.covers(generations)
        if gap is not None:
            raise ConfigError(
                f"loop.{name}[{len(v.steps) - 1}].to",
                f"leaves {span(gap, generations)} without a value",
            )
    per = []
    for t in range(1, generations + 1):
        try:
            per.append(_resolve(o.at(t)))
        except ConfigError as exc:
            if t == 1:  # generation 1 is resolved first: an error that holds throughout stops here
                raise
            raise type(exc)(exc.field, f"{exc.message} (at generation {t})") from None
    timeline = []
    for knob in TIMED:
        values = tuple(getattr(s, knob) for s in per)
        if len(set(values)) > 1:
            timeline.append((knob, values))
    return dataclasses.replace(per[0], timeline=tuple(timeline))


def _resolve(o: LoopOptions) -> DataSchedule:
    """:func:`resolve_schedule` of options whose values are all constants."""
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
    if _peak(o, "n_synthetic") == 0 and o.family not in ("real_fraction", "fresh_data"):
        raise ConfigError("loop.n_synthetic", f"must be positive for {o.family}")
    return schedule
