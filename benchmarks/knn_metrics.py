"""Time and peak memory of ``autophagy.metrics.prdc`` against ``prdc.compute_prdc``.

    nice -n 10 python benchmarks/knn_metrics.py           # (N, d) = (8000, 1024) and (10k, 2048), k = 5
    nice -n 10 python benchmarks/knn_metrics.py --big 50000   # also N = 50k, d = 2048 (ours only)
    python benchmarks/knn_metrics.py --quick   # N = 2k, d = 256: a smoke run

Each measurement runs in a fresh subprocess that draws the data (real ~ N(0, I), synthetic ~
N(0.02, I), float32 unless ``--float64``), reads its peak resident set (``ru_maxrss``) before
and after the metric, and reports wall time of the metric alone. Peak RSS catches every
allocation (NumPy, BLAS buffers, scikit-learn's threads), which tracemalloc would miss. The
targets compare whole processes (same inputs, same imports of NumPy): at least 4x faster at
at most 1/4 of ``prdc``'s peak; the metric's own peak (above the RSS with the inputs in memory)
is printed too. Times are the best of ``--repeat`` fresh runs per contender, as the machine
may be shared.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import resource
import subprocess
import sys
import time

import numpy as np


def _rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # Linux reports KiB


def worker(contender: str, n: int, d: int, k: int, seed: int, dtype: str) -> None:
    """Draw the data, run one contender once, print a JSON line."""
    rng = np.random.default_rng(seed)
    real = rng.standard_normal((n, d), dtype=dtype)
    synthetic = rng.standard_normal((n, d), dtype=dtype)
    synthetic += 0.02
    if contender == "prdc":
        import prdc

        def run():
            with contextlib.redirect_stdout(io.StringIO()):  # compute_prdc prints the set sizes
                return prdc.compute_prdc(real_features=real, fake_features=synthetic, nearest_k=k)
    else:
        from autophagy.metrics import prdc as ours

        def run():
            return ours(real, synthetic, k=k)

    base = _rss_gb()
    start = time.perf_counter()
    values = run()
    seconds = time.perf_counter() - start
    peak = _rss_gb()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_gb": peak,
                "own_gb": peak - base,
                **{key: float(v) for key, v in values.items()},
            }
        )
    )


def measure(contender: str, n: int, d: int, k: int, seed: int = 0, dtype: str = "float32") -> dict:
    """Run ``worker`` in a fresh interpreter and return its report."""
    cmd = [sys.executable, __file__, "--worker", contender, "--n", str(n), "--d", str(d), "--k", str(k)]
    cmd += ["--dtype", dtype]
    out = subprocess.run([*cmd, "--seed", str(seed)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def best_of(contender: str, n: int, d: int, k: int, seed: int, repeat: int, dtype: str) -> dict:
    """Fastest of ``repeat`` fresh runs (the machine may be shared); peaks are the largest seen."""
    runs = [measure(contender, n, d, k, seed, dtype) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "peak_gb": max(r["peak_gb"] for r in runs), "own_gb": max(r["own_gb"] for r in runs)}


def compare(n: int, d: int, k: int, seed: int, repeat: int, dtype: str) -> tuple[float, float]:
    """Both contenders at one size; prints their lines and returns (speedup, whole-process ratio)."""
    theirs = best_of("prdc", n, d, k, seed, repeat, dtype)
    ours = best_of("ours", n, d, k, seed, repeat, dtype)
    keys = ("precision", "recall", "density", "coverage")
    for name, r in (("prdc.compute_prdc", theirs), ("autophagy prdc", ours)):
        values = ", ".join(f"{key} {r[key]:.4f}" for key in keys)
        print(
            f"N={n} d={d} k={k} {dtype} {name:18s} {r['seconds']:8.2f}s  peak {r['peak_gb']:.3f} GB "
            f"(own {r['own_gb']:.3f} GB)  {values}"
        )
    speedup, whole = theirs["seconds"] / ours["seconds"], ours["peak_gb"] / theirs["peak_gb"]
    print(
        f"N={n} d={d}: identical values {all(ours[key] == theirs[key] for key in keys)}; "
        f"speedup {speedup:.2f}x (best of {repeat} each, target >= 4); whole-process peak ratio "
        f"{whole:.3f} (target <= 0.25); own-memory ratio {ours['own_gb'] / theirs['own_gb']:.3f}"
    )
    return speedup, whole


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 2000, d = 256: a smoke run")
    parser.add_argument("--n", type=int, default=None, help="one N instead of the two default sizes")
    parser.add_argument("--d", type=int, default=None, help="dimension with --n (default 2048)")
    parser.add_argument("--big", type=int, default=None, help="also run ours alone at this N (e.g. 50000)")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, help="fresh runs per contender; best time kept")
    parser.add_argument("--float64", action="store_true", help="float64 inputs instead of float32")
    parser.add_argument("--dtype", default="float32", help=argparse.SUPPRESS)
    parser.add_argument("--worker", choices=["ours", "prdc"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.n, args.d, args.k, args.seed, args.dtype)
        return
    dtype = "float64" if args.float64 else "float32"
    if args.quick:
        sizes = [(2000, 256)]
    elif args.n:
        sizes = [(args.n, args.d or 2048)]
    else:
        sizes = [(8000, 1024), (10_000, 2048)]
    results = [compare(n, d, args.k, args.seed, args.repeat, dtype) for n, d in sizes]
    if args.big:
        large = measure("ours", args.big, args.d or 2048, args.k, args.seed, dtype)
        print(
            f"N={args.big} d={args.d or 2048} k={args.k} {'autophagy prdc':18s} {large['seconds']:8.2f}s  "
            f"peak {large['peak_gb']:.3f} GB (own {large['own_gb']:.3f} GB)"
        )
    print(
        "; ".join(
            f"N={n} d={d}: {s:.1f}x at {m:.2f} of prdc's peak"
            for (n, d), (s, m) in zip(sizes, results, strict=True)
        )
    )


if __name__ == "__main__":
    main()
