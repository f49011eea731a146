"""The fresh-data phase maps (figs. 11, 12) at d = 100: today's path against the previous one.

    nice -n 10 python benchmarks/phase_map.py            # 6 cells, 200 replicates, d = 100
    nice -n 10 python benchmarks/phase_map.py --quick    # smoke run: d = 10, 40 replicates
    nice -n 10 python benchmarks/phase_map.py --full fig11   # also the whole default map (new path)

The previous path (kept below, for comparison only) computed W2 with the general Gaussian
formula at every generation and guessed the burn-in as ``4 / (1 - rho^2)`` generations capped
at 400. Today's path (``autophagy.admissible.maps.limits``) runs the loop without metrics, measures
W2 against N(0, I) with one ``eigvalsh`` only on the windows the stationarity test reads, stops
at the first flat window and splits cells over ``--workers`` processes. Both run on the same
cells in one process tree, one after the other, BLAS threads pinned to 1 in both (unpinned
BLAS threads only slow the previous path on a shared machine; ``--old-threads`` changes it).
Printed: per cell both limits and n_e / n_r with 95 % intervals and burn-ins, the total wall
time of each path, and ``speedup <ratio>x`` (previous / today's) on the last line.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
from joblib.externals.loky import get_reusable_executor
from threadpoolctl import threadpool_limits

from autophagy.admissible.maps import PhaseMapOptions, limits, phase_map
from autophagy.admissible.phase import Curve, Estimate, effective_ratio, real_only_curve
from autophagy.core.schedule import DataSchedule
from autophagy.data import GaussianData
from autophagy.loop.engine import Experiment, run_block
from autophagy.models import GaussianModel

Z95 = 1.959964


# --- the previous implementation (phase.py before stationarity detection), for comparison only ---
def _old_w2(dim: int, schedule: DataSchedule, generations: int, replicates: int, seed: int) -> np.ndarray:
    data = GaussianData(np.zeros(dim), np.eye(dim))
    exp = Experiment(seed, generations, schedule, GaussianModel(), data, ("wasserstein2",), simulator="exact")
    return np.stack([m["wasserstein2"] for _, m in run_block(exp, range(replicates))], axis=1)


def _old_burn_in(n_real: int, n_synthetic: int, k: int, burn_factor: float, cap: int) -> int:
    memory = min(1.0, k * n_synthetic / (n_real + n_synthetic))
    return cap if memory >= 1 else min(cap, math.ceil(burn_factor / (1 - memory**2)))


def old_fresh_limit(dim, n_real, n_synthetic, bias, replicates, seed, tail=20, cap=400) -> Estimate:
    burn = _old_burn_in(n_real, n_synthetic, 1, 4.0, cap)
    schedule = DataSchedule(
        n_ini=n_real + n_synthetic, fixed_real=0, fresh_real=n_real, synthetic=n_synthetic, sampling_bias=bias
    )
    per = _old_w2(dim, schedule, burn + tail, replicates, seed)[:, burn:].mean(axis=1)
    half = Z95 * per.std(ddof=1) / math.sqrt(replicates)
    return Estimate(float(per.mean()), float(per.mean() - half), float(per.mean() + half))


def old_curve(dim: int, sizes: np.ndarray, replicates: int, seed: int) -> Curve:
    means, ses = [], []
    for n in sizes:
        schedule = DataSchedule(n_ini=int(n), fixed_real=0, fresh_real=0, synthetic=0, sampling_bias=1.0)
        w2 = _old_w2(dim, schedule, 1, replicates, seed)[:, 0]
        means.append(w2.mean())
        ses.append(w2.std(ddof=1) / math.sqrt(replicates))
    return Curve(np.asarray(sizes, dtype=np.float64), np.asarray(means), np.asarray(ses))


# --- side by side -----------------------------------------------------------------------
CELLS = [  # (n_r, n_s, lambda): fig. 11 cells (lambda = 0.9) and fig. 12 cells (n_r = 100)
    (12, 6400, 0.9),
    (50, 1600, 0.9),
    (400, 400, 0.9),
    (1600, 50, 0.9),
    (100, 6400, 1.0),
    (100, 800, 0.95),
]


def _curve_sizes(cells) -> np.ndarray:
    largest = max(nr + ns for nr, ns, _ in cells)
    return np.unique(
        np.concatenate([np.geomspace(2, 4 * largest, 48).round().astype(int), [c[0] for c in cells]])
    )


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="d = 10, 40 replicates: a smoke run")
    parser.add_argument("--dim", type=int, default=None)
    parser.add_argument("--replicates", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--old-threads", type=int, default=1, help="BLAS threads of the previous path")
    parser.add_argument("--full", choices=["fig11", "fig12"], action="append", default=[])
    args = parser.parse_args()
    dim = args.dim or (10 if args.quick else 100)
    reps = args.replicates or (40 if args.quick else 200)
    cells = CELLS[2:4] if args.quick else CELLS
    sizes = _curve_sizes(cells)
    options = PhaseMapOptions(dim=dim, replicates=reps, workers=args.workers)

    start, cpu = time.perf_counter(), time.process_time()
    with threadpool_limits(limits=args.old_threads, user_api="blas"):
        curve = old_curve(dim, sizes, reps, 1)
        old = [old_fresh_limit(dim, nr, ns, b, reps, 0) for nr, ns, b in cells]
    old_s, old_cpu = time.perf_counter() - start, time.process_time() - cpu

    start, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
    new_curve = real_only_curve(dim, sizes, reps, 1, workers=args.workers)
    new = limits(options, [(nr, ns, b, 1) for nr, ns, b in cells])
    new_s = time.perf_counter() - start
    get_reusable_executor().shutdown(wait=True)  # reaped workers report their CPU time
    new_cpu = time.process_time() - cpu + _children_cpu() - children

    agree = 0
    for (nr, ns, b), lo, ln in zip(cells, old, new, strict=True):
        ro, rn = effective_ratio(lo, nr, curve), effective_ratio(ln, nr, new_curve)
        overlap = ro.low <= rn.high and rn.low <= ro.high
        agree += overlap
        print(
            f"n_r={nr:5d} n_s={ns:5d} lambda={b:4.2f}  W2 old {lo.value:.4f} [{lo.low:.4f}, {lo.high:.4f}] "
            f"burn {_old_burn_in(nr, ns, 1, 4.0, 400):3d} | new {ln.value:.4f} [{ln.low:.4f}, {ln.high:.4f}] "
            f"burn {ln.burn_in:3d}{'' if ln.flat else ' (cap)'}  n_e/n_r old {ro.value:.3f} "
            f"[{ro.low:.3f}, {ro.high:.3f}] new {rn.value:.3f} [{rn.low:.3f}, {rn.high:.3f}]"
        )
    gap = float(np.max(np.abs(new_curve.mean / curve.mean - 1)))
    print(
        f"n_e / n_r intervals overlap in {agree} of {len(cells)} cells; real-only curves (same draws) "
        f"differ by at most {gap:.1e} relative"
    )
    print(
        f"d={dim}, {reps} replicates, {len(cells)} cells: previous {old_s:.1f}s wall, {old_cpu:.1f}s CPU "
        f"({args.old_threads} BLAS thread); today's {new_s:.1f}s wall, {new_cpu:.1f}s CPU ({args.workers} "
        f"workers); CPU ratio {old_cpu / new_cpu:.2f}x"
    )
    for kind in args.full:
        start, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
        with tempfile.TemporaryDirectory() as folder:
            phase_map(kind, options, Path(folder))
        seconds = time.perf_counter() - start
        get_reusable_executor().shutdown(wait=True)
        used = time.process_time() - cpu + _children_cpu() - children
        print(
            f"{kind} default grid, d={dim}, {reps} replicates, {args.workers} workers: {seconds:.1f}s wall, "
            f"{used:.1f}s CPU (1-minute load average at the end {os.getloadavg()[0]:.1f})"
        )
    print(f"speedup {old_s / new_s:.1f}x (wall; CPU {old_cpu / new_cpu:.1f}x)")


if __name__ == "__main__":
    main()
