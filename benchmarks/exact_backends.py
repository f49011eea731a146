"""The exact Gaussian simulator's two backends side by side: time per (replicate x generation).

Workload, at d = 10, 100 and 400: the fresh-data loop with n_r = n_s = 1,000 (every group has
more samples than dimensions), lambda = 0.9, one block of R replicates run generation by
generation through the engine (``run_block``); the metric (``trace_cov``) is evaluated at the
last generation only, so the time is the simulator's: real and synthetic Wishart draws, pooling,
the fit and the covariance factor of the next generation. Both backends run in this process,
alternately, ``--repeats`` times, and the best of each is reported (less exposed to other load).

Time: on the CPU, the CPU time of this process (``time.process_time``) with ``--threads`` BLAS
and torch threads (default 1): the work done, which other load on a shared machine does not
inflate as it does wall time; on a GPU (``--device cuda``), wall time (the metric's read-back at
the last generation waits for the device). ``--torch-replicates`` sets the torch block larger
than NumPy's on a GPU, which only a large batch fills (per-replicate cost is what is compared).

Prints one row per d, then ``ratio d=10 <x>, d=100 <y>, d=400 <z>`` (NumPy time / torch time:
above 1, torch is faster). ``--quick`` shrinks everything for a smoke run.
"""

from __future__ import annotations

import argparse
import os
import time


def limit_threads(threads: int) -> None:
    """Pin BLAS and OpenMP pools (before NumPy and torch start theirs) and torch's own pool."""
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)


def config(backend: str, dim: int, replicates: int, generations: int, device: str, n: int) -> dict:
    return {
        "replicates": replicates,
        "generations": generations,
        "block_size": replicates,
        "data": {"kind": "gaussian", "dim": dim},
        "model": {"kind": "gaussian", "simulator": "exact", "backend": backend}
        | ({"device": device} if backend == "torch" else {}),
        "loop": {"family": "fresh_data", "n_ini": 2 * n, "n_real": n, "n_synthetic": n, "sampling_bias": 0.9},
        "metrics": {"names": ["trace_cov"], "generations": [generations]},
    }


def per_unit(raw: dict, clock) -> float:
    """Seconds per (replicate x generation) of one block run through the engine."""
    from autophagy.loop.engine import run_block
    from autophagy.running.config import resolve

    exp = resolve(raw)[0]
    replicates = raw["replicates"]
    start = clock()
    for _ in run_block(exp, range(replicates)):
        pass
    return (clock() - start) / (replicates * raw["generations"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--device", default="cpu", choices=("auto", "cpu", "cuda"), help="torch backend's device"
    )
    parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads on the CPU")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dims", default="10,100,400")
    parser.add_argument(
        "--torch-replicates", type=int, default=None, help="torch block size (default: NumPy's)"
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    limit_threads(args.threads)
    import torch

    from autophagy.core.device import resolve_device

    torch.set_num_threads(args.threads)
    device = resolve_device(args.device, "--device")
    clock = time.process_time if device == "cpu" else time.perf_counter
    sizes = {10: (256, 20), 100: (64, 6), 400: (16, 3)}  # NumPy's R and generations per d
    if args.quick:
        sizes = {10: (16, 3), 100: (4, 2), 400: (2, 2)}
    n = 200 if args.quick else 1000
    load = os.getloadavg()[0]
    print(
        f"exact simulator, fresh data n_r = n_s = {n}, lambda 0.9; torch on {device}; load average {load:.1f}"
    )
    print(f"{'d':>5} {'R numpy':>8} {'R torch':>8} {'numpy us':>10} {'torch us':>10} {'ratio':>6}")
    ratios = {}
    for dim in (int(d) for d in args.dims.split(",")):
        replicates, generations = sizes.get(dim, (16, 3))
        torch_replicates = args.torch_replicates or replicates
        best = {"numpy": float("inf"), "torch": float("inf")}
        for _ in range(args.repeats):
            for backend, reps in (("numpy", replicates), ("torch", torch_replicates)):
                raw = config(backend, dim, reps, generations, device, n)
                best[backend] = min(best[backend], per_unit(raw, clock))
        ratios[dim] = best["numpy"] / best["torch"]
        print(
            f"{dim:>5} {replicates:>8} {torch_replicates:>8} {best['numpy'] * 1e6:>10.1f} "
            f"{best['torch'] * 1e6:>10.1f} {ratios[dim]:>6.2f}"
        )
    print("ratio " + ", ".join(f"d={d} {r:.2f}" for d, r in ratios.items()))


if __name__ == "__main__":
    main()
