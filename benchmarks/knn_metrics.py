"""Time and peak memory of ``autophagy.metrics.prdc`` against ``prdc.compute_prdc``.

    python benchmarks/knn_metrics.py           # N = 10k and 50k, d = 2048, k = 5 (minutes)
    python benchmarks/knn_metrics.py --quick   # N = 2k and 4k, d = 256: a smoke run

Each measurement runs in a fresh subprocess that draws the data (real ~ N(0, I), synthetic ~
N(0.02, I), float64), reads its peak resident set (``ru_maxrss``) before and after the
metric, and reports wall time of the metric alone. Peak RSS catches every allocation (NumPy,
BLAS buffers, scikit-learn's threads), which tracemalloc would miss. ``memory`` in the last line
compares the metric's own peak, the peak RSS above the RSS with the inputs already in memory;
the whole-process ratio is printed too. The N = 50k figure is the whole-process peak. Times
are the best of ``--repeat`` fresh runs per contender, as the machine may be shared.
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


def worker(contender: str, n: int, d: int, k: int, seed: int) -> None:
    """Draw the data, run one contender once, print a JSON line."""
    rng = np.random.default_rng(seed)
    real = rng.standard_normal((n, d))
    synthetic = rng.standard_normal((n, d))
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


def measure(contender: str, n: int, d: int, k: int, seed: int = 0) -> dict:
    """Run ``worker`` in a fresh interpreter and return its report."""
    cmd = [sys.executable, __file__, "--worker", contender, "--n", str(n), "--d", str(d), "--k", str(k)]
    out = subprocess.run([*cmd, "--seed", str(seed)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def best_of(contender: str, n: int, d: int, k: int, seed: int, repeat: int) -> dict:
    """Fastest of ``repeat`` fresh runs (the machine may be shared); peaks are the largest seen."""
    runs = [measure(contender, n, d, k, seed) for _ in range(repeat)]
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "peak_gb": max(r["peak_gb"] for r in runs), "own_gb": max(r["own_gb"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small N and d for a smoke run")
    parser.add_argument("--n", type=int, default=None, help="N for the comparison (default 10000)")
    parser.add_argument("--big", type=int, default=None, help="N for the large run (default 50000)")
    parser.add_argument("--d", type=int, default=None, help="dimension (default 2048)")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=2, help="fresh runs per contender at N; best time kept")
    parser.add_argument("--worker", choices=["ours", "prdc"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.n or (2000 if args.quick else 10_000)
    big = args.big or (4000 if args.quick else 50_000)
    d = args.d or (256 if args.quick else 2048)
    if args.worker:
        worker(args.worker, n, d, args.k, args.seed)
        return

    theirs = best_of("prdc", n, d, args.k, args.seed, args.repeat)
    ours = best_of("ours", n, d, args.k, args.seed, args.repeat)
    keys = ("precision", "recall", "density", "coverage")
    for name, r in (("prdc.compute_prdc", theirs), ("autophagy prdc", ours)):
        values = ", ".join(f"{key} {r[key]:.4f}" for key in keys)
        print(
            f"N={n} d={d} k={args.k} {name:18s} {r['seconds']:8.2f}s  peak {r['peak_gb']:.3f} GB "
            f"(own {r['own_gb']:.3f} GB)  {values}"
        )
    print(f"identical values: {all(ours[key] == theirs[key] for key in keys)}")
    speedup = theirs["seconds"] / ours["seconds"]
    memory = ours["own_gb"] / theirs["own_gb"]
    print(
        f"speedup {speedup:.2f}x (best of {args.repeat} each); own-memory ratio {memory:.3f}; "
        f"whole-process ratio {ours['peak_gb'] / theirs['peak_gb']:.3f}"
    )
    large = measure("ours", big, d, args.k, args.seed)
    print(
        f"N={big} d={d} k={args.k} {'autophagy prdc':18s} {large['seconds']:8.2f}s  "
        f"peak {large['peak_gb']:.3f} GB (own {large['own_gb']:.3f} GB)"
    )
    print(
        f"speedup {speedup:.1f}x, memory {memory:.2f}, n{big // 1000}k {large['seconds']:.0f}s "
        f"{large['peak_gb']:.1f}GB"
    )


if __name__ == "__main__":
    main()
