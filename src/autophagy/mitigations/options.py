"""The ``[mitigation]`` config table: curation, self-correction and filtering, each optional.

Built-in choices are plain names; a user-supplied function is a ``"module:function"`` import
path. Importing runs code, so the module must be listed in the config's top-level
``plugins`` (which imports it before validation); a typo fails before any work starts.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Literal

from pydantic import Field, PositiveInt, ValidationInfo, field_validator

from autophagy.core.registry import Options

CURATION_SCORES = ("likelihood", "nearest_real", "real_mean")
CORRECTIONS = ("gaussian_ot", "nearest_real", "centroid", "mixture")
DETECTORS = ("logistic", "quadratic", "knn", "watermark")


def import_function(path: str) -> Callable:
    """The callable named by ``"module:function"`` (dots allowed in both parts)."""
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        raise ValueError(f"expected 'module:function', got {path!r}")
    try:
        target = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"cannot import module {module_name!r} ({exc})") from None
    for part in attribute.split("."):
        target = getattr(target, part, None)
        if target is None:
            raise ValueError(f"module {module_name!r} has no attribute {attribute!r}")
    if not callable(target):
        raise ValueError(f"{path!r} is not callable")
    return target


def _builtin_or_import(value: str, builtins: tuple[str, ...], info: ValidationInfo) -> str:
    if ":" in value:
        module = value.partition(":")[0]
        if module not in (info.context or {}).get("plugins", ()):
            raise ValueError(
                f"hook module {module!r} is not listed in plugins; a hook runs code, so name its module "
                f"in the config's top-level plugins = [{module!r}] (or pass --plugin {module})"
            )
        import_function(value)
        return value
    if value not in builtins:
        raise ValueError(f"unknown choice {value!r}; choose from {', '.join(builtins)} or 'module:function'")
    return value


class CurationOptions(Options):
    """Draw ceil(n_synthetic / keep_fraction) samples, keep the n_synthetic best under ``score``.

    ``score``: "likelihood" (the generating models' own log-density), "nearest_real" (minus the
    distance to the nearest real reference sample), "real_mean" (minus the distance to the real
    reference mean), or "module:function" with ``fn(synthetic (R, n, d), reference (R, m, d))
    -> scores (R, n)``, higher kept.
    """

    keep_fraction: float = Field(gt=0.0, le=1.0)
    score: str = "likelihood"

    @field_validator("score")
    @classmethod
    def _score(cls, v: str, info: ValidationInfo) -> str:
        return _builtin_or_import(v, CURATION_SCORES, info)


class CorrectionOptions(Options):
    """Self-correction of each synthetic batch before training (Gillman et al. 2024).

    Point maps move each synthetic sample x to (1 - gamma) x + gamma c(x), gamma in [0, 1]:
    ``method`` "gaussian_ot" (c = the optimal-transport map from the synthetic distribution's
    Gaussian to the real Gaussian), "nearest_real" (c = the nearest real reference sample),
    "centroid" (c = the nearest of ``clusters`` k-means centroids of the real reference), or
    "module:function" with ``fn(synthetic (R, n, d), reference (R, m, d), gamma, rng) -> (R, n, d)``.

    "mixture" is Gillman et al.'s own convention: the corrected batch is drawn from the mixture
    pi_gamma = 1/(1 + gamma) p_model + gamma/(1 + gamma) p_target, gamma in [0, inf) (their
    "correction strength"; gamma = 1 is an even mixture): each synthetic sample is independently
    replaced, with probability gamma / (1 + gamma), by a draw from the target.

    ``target``: "reference" uses the loop's generation-1 real set (gaussian_ot: its Gaussian fit;
    mixture: its rows, resampled with replacement); "truth" uses P_r itself, an oracle as in
    Gillman et al.'s toy (gaussian_ot: P_r's moments; mixture: fresh draws from the data source);
    "moments" is gaussian_ot's older name for "truth".
    """

    method: str = "gaussian_ot"
    gamma: float = Field(ge=0.0)
    target: Literal["reference", "truth", "moments"] = "reference"
    clusters: PositiveInt = 25

    @field_validator("method")
    @classmethod
    def _method(cls, v: str, info: ValidationInfo) -> str:
        return _builtin_or_import(v, CORRECTIONS, info)

    @field_validator("gamma")
    @classmethod
    def _gamma(cls, v: float, info: ValidationInfo) -> float:
        method = info.data.get("method", "gaussian_ot")
        if method != "mixture" and v > 1.0:
            raise ValueError(f"must be in [0, 1] for method {method!r} (only 'mixture' takes gamma > 1)")
        return v

    @field_validator("target")
    @classmethod
    def _target(cls, v: str, info: ValidationInfo) -> str:
        if info.data.get("method") == "mixture" and v == "moments":
            raise ValueError("'moments' is for gaussian_ot; the mixture's oracle target is 'truth'")
        return v


class FilterOptions(Options):
    """Drop the new synthetic samples a detector rates most synthetic, capping their share.

    After filtering, synthetic rows (new and pooled) make up at most ``target_share`` of the
    training set. ``detector``: "logistic" / "quadratic" (logistic regression on linear /
    quadratic features), "knn" (share of synthetic among the ``k`` nearest held-out samples),
    trained per replicate on ``n_holdout`` held-out real and synthetic samples (half to fit, half
    to measure accuracy); "watermark" (the sampler tags its samples: a perfect detector).
    """

    target_share: float = Field(ge=0.0, le=1.0)
    detector: Literal["logistic", "quadratic", "knn", "watermark"] = "quadratic"
    n_holdout: int = Field(200, ge=4)
    k: PositiveInt = 10
    regularization: float = Field(1e-3, gt=0.0)


class MitigationOptions(Options):
    """The ``[mitigation]`` table; applied in the order curate, correct, filter."""

    curate: CurationOptions | None = None
    correct: CorrectionOptions | None = None
    filter: FilterOptions | None = None

    @property
    def active(self) -> bool:
        return any(part is not None for part in (self.curate, self.correct, self.filter))
