"""The linear-regression loop (spec G8): replace versus accumulate against their closed forms.

    python examples/regression.py [--out runs/regression] [--set samples=64 --set dim=8 ...]

Keys of ``autophagy.regression.RegressionOptions``; prints the table and saves the plot.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from autophagy.config import load_config
from autophagy.regression import RegressionOptions, plot_regression, run_regression


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/regression"))
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="key=value")
    args = parser.parse_args()
    result = run_regression(RegressionOptions.model_validate(load_config(None, args.overrides)))
    print("gen   replace (closed form)        accumulate (closed form)")
    for row in result.table():
        print(
            f"{row['generation']:>3}   {row['replace']:.4f} ± {row['replace_se']:.4f} "
            f"({row['replace_theory']:.4f})   {row['accumulate']:.4f} "
            f"± {row['accumulate_se']:.4f} ({row['accumulate_theory']:.4f})"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    plot_regression(result, str(args.out / "regression.png"))
    print(f"plot: {args.out / 'regression.png'}")


if __name__ == "__main__":
    main()
