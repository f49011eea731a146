"""Wall time of the ``quick`` profile (examples/images/quick.toml): digits DDPM, fully synthetic.

Runs the profile as ``autophagy run`` would (engine, metrics, per-generation pictures) into a
temporary folder and prints the LeNet preparation time, each generation's seconds and the
total, as wall time and as this process's CPU time (the wall time a machine shared with other
jobs would show alone: with OMP_NUM_THREADS=1 the two agree on an idle machine). The LeNet
is trained into a fresh cache unless ``--warm-cache`` reuses the default one.
Target: under 10 minutes on 2 CPU cores.

    python benchmarks/ddpm_quick.py [--warm-cache] [--set model.train_steps=1000 ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from autophagy.loop.engine import run_block
from autophagy.results.pictures import draw_snapshots
from autophagy.running.config import load_config
from autophagy.running.runner import plan_run
from autophagy.running.tasks import snapshot

PROFILE = Path(__file__).resolve().parents[1] / "examples" / "images" / "quick.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-cache", action="store_true", help="reuse the default LeNet cache")
    parser.add_argument("--set", action="append", default=[], help="config override key=value")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        overrides = list(args.set)
        if not args.warm_cache:
            overrides.append(f"data.classifier.cache_dir={str(Path(tmp) / 'cache')!r}")
        start, cpu_start = time.perf_counter(), time.process_time()
        plan = plan_run(load_config(PROFILE, overrides), Path(tmp) / "run")
        cell = plan.cells[0]
        exp = cell.experiment
        pictured, n_pictured = cell.config.plots.chosen(exp.data, exp.generations)
        exp.data.classifier()
        lenet, lenet_cpu = time.perf_counter() - start, time.process_time() - cpu_start
        accuracy = exp.data.classifier().accuracy
        print(f"LeNet ready in {lenet:.1f}s wall, {lenet_cpu:.1f}s CPU (held-out accuracy {accuracy:.3f})")
        mark, cpu_mark, seconds, cpu_seconds = time.perf_counter(), time.process_time(), [], []
        for block in plan.blocks(cell):
            for state, metrics in run_block(exp, block):
                if block[0] == 0 and state.generation in pictured:
                    kept = {state.generation: snapshot(exp, block, state, n_pictured)}
                    draw_snapshots(cell.resolved, kept, plan.out / "plots")
                seconds.append(time.perf_counter() - mark)
                cpu_seconds.append(time.process_time() - cpu_mark)
                mark, cpu_mark = time.perf_counter(), time.process_time()
                values = ", ".join(f"{k} {v.mean():.3f}" for k, v in metrics.items())
                took = f"{seconds[-1]:.1f}s wall, {cpu_seconds[-1]:.1f}s CPU"
                print(f"generation {state.generation}: {took}  {values}", flush=True)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    g = len(seconds)
    print(
        f"quick profile: wall {wall:.1f}s, {sum(seconds) / g:.1f}s per generation; "
        f"CPU {cpu:.1f}s, {sum(cpu_seconds) / g:.1f}s per generation ({g} generations)"
    )


if __name__ == "__main__":
    main()
