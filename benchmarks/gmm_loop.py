"""Batched EM versus one scikit-learn ``GaussianMixture`` fit per replicate, in the same loop.

Workload (issue 5): d = 2, 3 components (full covariance), a fully synthetic loop of 50
generations on a ring of 3 Gaussians, 1,000 samples per generation, 256 replicates. The
batched model runs the whole workload in one block; scikit-learn (same tol, max_iter,
reg_covar, k-means init, one init) runs a measured fraction of the replicates through the same
engine, and its time is extrapolated per fit to the whole workload. Both paths share the
engine and the sampling code, so the ratio is that of the fits.
Last line: ``speedup <ratio>x``. ``--quick`` shrinks the workload for a smoke run.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from autophagy.core.rng import Rngs
from autophagy.loop.engine import run_block
from autophagy.models.mixture import FittedMixture
from autophagy.running.config import resolve


@dataclass(frozen=True)
class SklearnMixture:
    """The reference: one ``sklearn.mixture.GaussianMixture`` fit per replicate, seeded from rng[i]."""

    components: int = 3
    min_samples: int = 3

    def fit(self, data: np.ndarray, *, rng: Rngs, init: FittedMixture | None = None) -> FittedMixture:
        from sklearn.mixture import GaussianMixture

        fits = [
            GaussianMixture(self.components, random_state=int(g.integers(2**31))).fit(x)
            for x, g in zip(data, rng, strict=True)
        ]
        return FittedMixture(
            np.stack([f.weights_ for f in fits]),
            np.stack([f.means_ for f in fits]),
            np.stack([f.covariances_ for f in fits]),
        )


def loop_time(model: object | None, replicates: int, generations: int, n: int) -> float:
    """Seconds for ``replicates`` x ``generations`` of the fully synthetic loop in one block."""
    raw = {
        "replicates": replicates,
        "generations": generations,
        "block_size": replicates,
        "data": {"kind": "ring", "count": 3, "radius": 2.0, "std": 0.3},
        "model": {"kind": "gmm", "components": 3},
        "loop": {"family": "fully_synthetic", "n_ini": n, "n_synthetic": n},
        "metrics": {"names": []},
    }
    exp = resolve(raw)[0]
    if model is not None:
        exp = dataclasses.replace(exp, model=model)
    start = time.perf_counter()
    list(run_block(exp, range(replicates)))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    reps, gens, n = (32, 5, 1000) if args.quick else (256, 50, 1000)
    sk_reps, sk_gens = (4, 5) if args.quick else (16, 50)
    batched = loop_time(None, reps, gens, n)
    sklearn = loop_time(SklearnMixture(), sk_reps, sk_gens, n)
    per_fit = sklearn / (sk_reps * sk_gens)
    extrapolated = per_fit * reps * gens
    print(f"workload: d=2, 3 components, n={n} per generation, {reps} replicates x {gens} generations")
    print(f"batched EM: {batched:.1f}s ({1e3 * batched / (reps * gens):.2f} ms per replicate-generation)")
    print(
        f"scikit-learn: {sklearn:.1f}s measured on {sk_reps} x {sk_gens} = {sk_reps * sk_gens} fits "
        f"({1e3 * per_fit:.1f} ms per fit), extrapolated to {extrapolated:.0f}s for the workload"
    )
    print(f"speedup {extrapolated / batched:.1f}x")


if __name__ == "__main__":
    main()
