"""Exact sufficient-statistic simulator versus drawing every sample, measured side by side.

1. One fresh-data generation step at n_r = 1e3, n_s = 1e4, d = 100 (target: exact >= 30x faster).
2. Wall time of a fig. 11 map: a 10 x 10 (n_r, n_s) grid, 200 replicates, each cell run to
   its stationary tail (target: under 5 minutes on 2 cores).
Last line: ``speedup <ratio>x, fig11 <seconds>s``. ``--quick`` shrinks both for a smoke run.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from autophagy.admissible.maps import PhaseMapOptions, phase_map
from autophagy.loop.engine import run_block
from autophagy.running.config import resolve


def step_time(
    simulator: str, replicates: int, generations: int, dim: int, n_real: int, n_synthetic: int
) -> float:
    raw = {
        "replicates": replicates,
        "generations": generations,
        "block_size": replicates,
        "data": {"kind": "gaussian", "dim": dim},
        "model": {"kind": "gaussian", "simulator": simulator},
        "loop": {
            "family": "fresh_data",
            "n_ini": n_real + n_synthetic,
            "n_real": n_real,
            "n_synthetic": n_synthetic,
            "sampling_bias": 0.9,
        },
        "metrics": {"names": ["wasserstein2", "trace_cov"], "n_eval": 10},
    }
    exp = resolve(raw)[0]
    start = time.perf_counter()
    list(run_block(exp, range(replicates)))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    reps, gens = (4, 2) if args.quick else (16, 3)
    exact = step_time("exact", reps, gens, 100, 1000, 10_000)
    samples = step_time("samples", reps, gens, 100, 1000, 10_000)
    speedup = samples / exact
    print(
        f"fresh data d=100 n_r=1e3 n_s=1e4, {reps} replicates x {gens} generations: "
        f"samples {samples:.2f}s, exact {exact:.3f}s"
    )
    options = (
        PhaseMapOptions(replicates=20, n_real=[12, 100], n_synthetic=[10, 100])
        if args.quick
        else PhaseMapOptions()
    )
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        phase_map("fig11", options, Path(folder))
    fig11 = time.perf_counter() - start
    print(
        f"fig11: {len(options.n_real)} x {len(options.n_synthetic)} grid, {options.replicates} replicates, "
        f"d={options.dim}, lambda={options.sampling_bias}: {fig11:.1f}s"
    )
    print(f"speedup {speedup:.1f}x, fig11 {fig11:.1f}s")


if __name__ == "__main__":
    main()
