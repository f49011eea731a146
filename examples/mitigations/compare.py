"""Run mitigation example configs side by side and plot them on shared axes.

    python examples/mitigations/compare.py                      # the Gaussian comparison
    python examples/mitigations/compare.py mixture              # the 25-mode mixture (needs gmm / mode_grid)
    python examples/mitigations/compare.py gaussian --set replicates=20

Each ``<prefix>_<label>.toml`` beside this file runs into ``runs/mitigations/<prefix>/<label>``
(resuming if already there); one figure per metric goes to ``runs/mitigations/<prefix>/plots``,
and the mean of each metric at the last generation is printed per config.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from autophagy.results.plots import curves, plot_comparison
from autophagy.results.run import open_run
from autophagy.running.config import load_config
from autophagy.running.runner import execute, plan_run

HERE = Path(__file__).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefix", nargs="?", default="gaussian", help="config prefix: gaussian, mixture")
    parser.add_argument("--set", action="append", default=[], help="key=value override for every config")
    parser.add_argument("--out", type=Path, default=Path("runs/mitigations"))
    args = parser.parse_args()

    runs = {}
    for path in sorted(HERE.glob(f"{args.prefix}_*.toml")):
        label = path.stem.removeprefix(f"{args.prefix}_")
        plan = plan_run(load_config(path, args.set), args.out / args.prefix / label)
        runs[label] = open_run(execute(plan, progress=False, plots=False)).rows(0)
    if not runs:
        raise SystemExit(f"no {args.prefix}_*.toml configs in {HERE}")
    figures = plot_comparison(runs, args.out / args.prefix / "plots", title=f"{args.prefix}: mitigations")

    metrics = sorted({m for rows in runs.values() for m in curves(rows)})
    print(f"{'config':<16}" + "".join(f"{m:>19}" for m in metrics))
    for label, rows in runs.items():
        table = curves(rows)
        last = {m: np.nanmean(table[m][1][:, -1]) for m in metrics if m in table}
        print(f"{label:<16}" + "".join(f"{last.get(m, np.nan):>19.4f}" for m in metrics))
    print(f"(mean over replicates at the last generation; figures: {figures[0].parent})")


if __name__ == "__main__":
    main()
