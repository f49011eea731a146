"""Run the Zipf scaling experiments T1-T4 from TOML configs; print fitted slopes, save plots.

    python examples/tails.py examples/tails/t1_clean.toml [more.toml ...] [--out runs/tails]
        [--set beta=1.5 --set n_items=1000000]

Each config holds the keys of ``autophagy.tails.TailsOptions``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from autophagy.config import load_config
from autophagy.tails import TailsOptions, plot_tails, run_tails


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("runs/tails"))
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="key=value")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in args.configs:
        result = run_tails(TailsOptions.model_validate(load_config(path, args.overrides)))
        print(f"{path.stem}: {', '.join(f'{k} = {v:.4g}' for k, v in result.reference.items())}")
        for row in result.table():
            print(
                f"  {row['curve']:<28} slope {row['slope']:+.3f} ± {row['slope_se']:.3f}   "
                f"error at T = {result.sizes[-1]}: {row['final_error']:.4g} "
                f"(expected {row['expected_final']:.4g})"
            )
        figure = args.out / f"{path.stem}.png"
        plot_tails(result, str(figure))
        print(f"  plot: {figure}")


if __name__ == "__main__":
    main()
