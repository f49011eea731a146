"""What a SLURM task costs: the round trip of empty jobs, and a 2-cell sweep inline versus SLURM.

Needs a cluster that answers (``.ci/slurm-up`` starts a one-node one on this host) and
submitit. Prints the time from submitting an array of ``n`` empty jobs until their results
are read (scheduling, start of a fresh interpreter, submitit's pickles), then a small 2-cell
sweep (one job per cell) run inline and with ``--executor slurm``: both wall times, their
difference and whether the two stores hold identical rows.
Usage: ``python benchmarks/slurm.py [--jobs N]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from concurrent.futures import wait
from pathlib import Path

from autophagy.api import run
from autophagy.running.slurm import SlurmExecutor


def sweep_config() -> dict:
    return {
        "name": "bench",
        "replicates": 8,
        "generations": 5,
        "block_size": 8,
        "data": {"kind": "gaussian", "dim": 3},
        "loop": {"family": "fully_synthetic", "n_ini": 50, "n_synthetic": 50},
        "metrics": {"names": ["wasserstein2", "trace_cov"], "n_eval": 100},
        "sweep": {"grid": {"loop.sampling_bias": [0.9, 1.0]}},
    }


def empty_jobs(folder: Path, n: int) -> float:
    """Seconds from submitting ``n`` empty jobs as one array until every result is read."""
    pool = SlurmExecutor(tasks=n, poll_s=0.1, queue_s=1.0, grace_s=5.0)
    pool.bind(folder)
    start = time.perf_counter()
    futures = pool.submit_many(abs, [-1] * n)
    wait(futures)
    seconds = time.perf_counter() - start
    pool.shutdown()
    assert all(f.result() == 1 for f in futures)
    return seconds


def timed_run(out: Path, executor: str) -> float:
    start = time.perf_counter()
    run(sweep_config(), out, executor=executor, progress=False, plots=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4, help="empty jobs in the array (default 4)")
    jobs = parser.parse_args().jobs
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        one = empty_jobs(tmp / "one", 1)
        print(f"one empty job, submit to result: {one:.1f} s")
        many = empty_jobs(tmp / "many", jobs)
        print(f"{jobs} empty jobs in one array:    {many:.1f} s ({many / jobs:.1f} s per job)")
        inline = timed_run(tmp / "inline", "inline")
        slurm = timed_run(tmp / "slurm", "slurm")
        print(f"2-cell sweep, inline: {inline:.1f} s; slurm (2 jobs): {slurm:.1f} s")
        print(f"overhead of SLURM for the sweep (2 jobs side by side): {slurm - inline:.1f} s")
        from autophagy.results.run import open_run

        same = open_run(tmp / "inline").rows() == open_run(tmp / "slurm").rows()
        print(f"rows identical: {same}")


if __name__ == "__main__":
    main()
