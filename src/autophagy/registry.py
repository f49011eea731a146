"""Explicit plug-in registries: a config's ``kind`` is a key of one of these dicts.

Each entry pairs a pydantic options model (the config keys the plug-in accepts, unknown
keys rejected) with a builder that turns validated options into the plug-in object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict


class Options(BaseModel):
    """Base of every plug-in's options: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Plugin:
    """A registered model or data source: its options schema, builder and one-line summary."""

    options: type[Options]
    build: Callable[[Any], Any]
    summary: str
    has_moments: bool = False  # models only: fitted models expose closed-form ``moments()``
    has_log_prob: bool = False  # models only: fitted models score samples with ``log_prob(x)``
    zero_bias: bool = True  # models only: sampling_bias = 0 is defined (the modes)
