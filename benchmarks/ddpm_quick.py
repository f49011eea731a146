"""Wall time of the ``quick`` profile (examples/quick.toml): digits DDPM, fully synthetic, 5 generations.

Runs the profile as ``autophagy run`` would (engine, metrics, per-generation pictures) into a
temporary folder and prints the LeNet preparation time, each generation's seconds and the
total. The LeNet is trained into a fresh cache unless ``--warm-cache`` reuses the default one.
Target: under 10 minutes on 2 CPU cores.

    python benchmarks/ddpm_quick.py [--warm-cache] [--set model.train_steps=1000 ...]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from autophagy.config import load_config
from autophagy.engine import run_block
from autophagy.pictures import draw_generation
from autophagy.runner import plan_run

PROFILE = Path(__file__).resolve().parents[1] / "examples" / "quick.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm-cache", action="store_true", help="reuse the default LeNet cache")
    parser.add_argument("--set", action="append", default=[], help="config override key=value")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        overrides = list(args.set)
        if not args.warm_cache:
            overrides.append(f"data.classifier.cache_dir={str(Path(tmp) / 'cache')!r}")
        start = time.perf_counter()
        plan = plan_run(load_config(PROFILE, overrides), Path(tmp) / "run")
        exp = plan.experiment
        exp.data.classifier()
        lenet = time.perf_counter() - start
        print(f"LeNet ready in {lenet:.1f}s (held-out accuracy {exp.data.classifier().accuracy:.3f})")
        mark, seconds = time.perf_counter(), []
        for block in plan.blocks():
            for state, metrics in run_block(exp, block):
                draw_generation(exp, block, state, plan.out / "plots")
                seconds.append(time.perf_counter() - mark)
                mark = time.perf_counter()
                values = ", ".join(f"{k} {v.mean():.3f}" for k, v in metrics.items())
                print(f"generation {state.generation}: {seconds[-1]:.1f}s  {values}", flush=True)
        wall = time.perf_counter() - start
    per_generation = sum(seconds) / len(seconds)
    print(
        f"quick profile: wall {wall:.1f}s, {per_generation:.1f}s per generation ({len(seconds)} generations)"
    )


if __name__ == "__main__":
    main()
