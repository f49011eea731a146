"""Executor overhead and sweep speed-up, measured side by side in one run.

Prints the round-trip cost of an empty task through each executor, then the wall time of
one sweep (the README's example form, scaled) run inline and on the local loky pool, the
ratio, and whether the two exports are identical.
Usage: ``python benchmarks/executors.py [--quick]``
"""

from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import wait
from pathlib import Path

from autophagy.results.run import open_run
from autophagy.running.executors import InlineExecutor, LokyExecutor, RayExecutor, cpu_count
from autophagy.running.runner import execute, plan_run


def empty_task_seconds(executor, n: int) -> float:
    """Mean wall time per empty task when ``n`` are submitted at once."""
    wait([executor.submit(abs, -1) for _ in range(min(n, 50))])  # warm the workers
    start = time.perf_counter()
    wait([executor.submit(abs, -1) for _ in range(n)])
    return (time.perf_counter() - start) / n


def sweep_config(quick: bool) -> dict:
    return {
        "name": "bench",
        "replicates": 32 if quick else 128,
        "generations": 15 if quick else 30,
        "block_size": 16,
        "data": {"kind": "gaussian", "dim": 10},
        "loop": {"family": "fresh_data", "n_ini": 100, "n_real": 50, "n_synthetic": 450},
        "metrics": {"names": ["wasserstein2", "precision", "recall"], "n_eval": 200},
        "sweep": {
            "grid": {"loop.sampling_bias": [1.0, 0.7], "loop.family": ["fresh_data", "fully_synthetic"]},
            "zip": {"loop.n_real": [50, 100], "loop.n_synthetic": [450, 900]},
            "seeds": [0, 1],
        },
    }


def main() -> None:
    quick = "--quick" in sys.argv
    print(f"cores: {cpu_count()}")
    n = 500 if quick else 2000
    print(f"empty task, inline: {empty_task_seconds(InlineExecutor(), n) * 1e6:.1f} us")
    print(f"empty task, loky:   {empty_task_seconds(LokyExecutor(), n) * 1e6:.1f} us")
    try:
        start = time.perf_counter()
        ray = RayExecutor(workers=cpu_count())
        print(f"ray start: {time.perf_counter() - start:.1f} s")
        print(f"empty task, ray:    {empty_task_seconds(ray, n // 4) * 1e6:.1f} us")
        ray.shutdown()
    except ValueError as exc:
        print(f"ray: skipped ({exc})")
    with tempfile.TemporaryDirectory() as tmp:
        times, tables = {}, {}
        for name in ("inline", "local"):
            plan = plan_run(sweep_config(quick), Path(tmp) / name)
            start = time.perf_counter()
            execute(plan, executor=name, progress=False, plots=False)
            times[name] = time.perf_counter() - start
            path, _ = open_run(plan.out).export(Path(tmp) / f"{name}.csv", "csv")
            tables[name] = path.read_bytes()
        tasks = sum(len(plan.blocks(c)) for c in plan.cells)
        print(
            f"sweep: {len(plan.cells)} cells, {tasks} blocks, {plan.cells[0].config.generations} generations"
        )
        print(
            f"sweep inline: {times['inline']:.1f} s, local: {times['local']:.1f} s, "
            f"speed-up {times['inline'] / times['local']:.2f}x on {cpu_count()} cores"
        )
        print(f"exports identical: {tables['inline'] == tables['local']}")


if __name__ == "__main__":
    main()
