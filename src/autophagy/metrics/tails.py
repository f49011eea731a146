"""Tail mass: how much of the synthetic distribution lies where P_r keeps its rarest samples.

The tail region is the outside of the Mahalanobis ball (in the real samples' mean and
covariance) that holds ``level`` of the real samples. A model matching P_r puts ~1 - level of
its samples there; a model that lost its tails (paper fig. 17) puts fewer.
"""

from __future__ import annotations

import numpy as np

from autophagy.core.linalg import unbiased_moments
from autophagy.metrics.inputs import cap_samples, finish, paired


def tail_share(
    real: np.ndarray,
    synthetic: np.ndarray,
    *,
    level: float = 0.95,
    max_samples: int | None = None,
    rng: np.random.Generator | None = None,
) -> np.ndarray | float:
    """Share of ``synthetic`` ``(R, m, d)`` outside the real ``level`` Mahalanobis quantile ``(R,)``.

    ``real`` ``(R, n, d)`` (or unbatched ``(n, d)`` pairs, giving a float) defines the metric and
    the radius; higher is more tail, 1 - level when the two distributions match.
    """
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    x, y, single = paired(real, synthetic)
    x = cap_samples(x, max_samples, rng, "real").astype(np.float64, copy=False)
    y = cap_samples(y, max_samples, rng, "synthetic").astype(np.float64, copy=False)
    if x.shape[1] <= x.shape[2]:
        raise ValueError(f"need more real samples than dimensions, got {x.shape[1]} for d = {x.shape[2]}")
    mean, cov = unbiased_moments(x)
    precision = np.linalg.pinv(cov, hermitian=True)

    def distance2(z: np.ndarray) -> np.ndarray:
        centred = z - mean[:, None, :]
        return np.einsum("rnd,rde,rne->rn", centred, precision, centred)

    radius2 = np.quantile(distance2(x), level, axis=1)
    return finish({"share": np.mean(distance2(y) > radius2[:, None], axis=1)}, single)["share"]
