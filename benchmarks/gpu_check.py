"""One GPU, about 8 minutes: the three checks of issue 28 item 5, printed as one table.

1. ``exact``: ``benchmarks/exact_backends.py`` with the torch backend on the GPU (a block of
   1,024 replicates) against NumPy on the CPU, per (replicate x generation) at d = 10, 100, 400.
2. ``N4``: ``autophagy reproduce N4 --profile full`` (the cheapest image recipe at its full
   profile: 100 DDPM fits of 3,000 steps, like N1 and N6, but 500 synthetic images a generation
   instead of 1,797); its DDPM and LeNet take ``device = "auto"``, so they run on the GPU.
3. ``hf``: a loop of ``hf_causal_lm`` with a GPT-2-small-sized network built from its config
   (12 layers, width 768, 12 heads, context 1,024; byte-level BPE of 8,000 tokens trained on the
   bundled corpus: nothing is downloaded), 2 generations of 100 AdamW steps on 256-token rows.

``--dry`` runs the same three steps on the CPU at toy sizes (the bench's ``--quick``, the N4
config through ``autophagy run`` with a few optimiser steps, a 2-layer GPT-2), to check the
script itself in a minute or two. Each step has a time limit; a step that fails or runs out of
time is a row saying so, and the next step still runs. Outputs go under ``--out`` (default
``$OUT`` or a temporary folder). Exit status 0 when every step finished.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
N4_CONFIG = ROOT / "src" / "autophagy" / "reproduce" / "configs" / "N4.toml"


def timed(command: list[str], limit: float, log: Path) -> tuple[float, int | None, str]:
    """Run ``command`` with output to ``log``; (seconds, exit status or None on timeout, last line)."""
    start = time.perf_counter()
    with open(log, "w") as out:
        try:
            status: int | None = subprocess.run(
                command, stdout=out, stderr=subprocess.STDOUT, timeout=limit
            ).returncode
        except subprocess.TimeoutExpired:
            status = None
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return time.perf_counter() - start, status, lines[-1] if lines else ""


def exact_step(dry: bool, out: Path) -> tuple[float, str]:
    args = (
        ["--quick", "--device", "cpu", "--repeats", "1"]
        if dry
        else ["--device", "cuda", "--torch-replicates", "1024", "--repeats", "2"]
    )
    seconds, status, last = timed(
        [sys.executable, str(ROOT / "benchmarks" / "exact_backends.py"), *args], 150, out / "exact.log"
    )
    return (
        seconds,
        last if status == 0 else f"failed ({'timed out' if status is None else f'exit {status}'}): {last}",
    )


def recipe_step(dry: bool, out: Path) -> tuple[float, str]:
    if dry:  # the recipe's own config, through `autophagy run`, a few steps of everything
        tiny = {
            "replicates": 1,
            "generations": 2,
            "model.train_steps": 4,
            "model.steps": 4,
            "model.width": 16,
            "model.depth": 1,
            "loop.n_real": 20,
            "loop.n_synthetic": 20,
            "metrics.n_eval": 30,
            "plots.generations": "[1, 2]",
            "plots.n_samples": 20,
            "sweep.grid": '{ "loop.n_ini" = [30] }',
            "data.classifier.epochs": 1,
            "data.classifier.cache_dir": f'"{out / "cache"}"',
        }
        sets = [f"--set={key}={value}" for key, value in tiny.items()]
        command = [
            sys.executable,
            "-m",
            "autophagy",
            "run",
            str(N4_CONFIG),
            "--out",
            str(out / "N4"),
            "--quiet",
            *sets,
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "autophagy",
            "reproduce",
            "N4",
            "--profile",
            "full",
            "--out",
            str(out / "N4"),
        ]
        command += ["--json", str(out / "N4.json")]
    seconds, status, last = timed(command, 330, out / "N4.log")
    if status is None:
        return seconds, "timed out (330 s)"
    verdict = {0: "PASS" if not dry else "ran", 1: "FAIL"}.get(status, f"error (exit {status})")
    return seconds, f"{verdict}: {last}"


def hf_step(dry: bool, out: Path) -> tuple[float, str]:
    import autophagy as ap

    size = (
        {"layers": 2, "width": 64, "heads": 2, "context": 128, "vocab_size": 500, "steps": 3}
        if dry
        else {"layers": 12, "width": 768, "heads": 12, "context": 1024, "vocab_size": 8000, "steps": 100}
    )
    config = {
        "name": "gpt2-small",
        "replicates": 1,
        "generations": 2,
        "block_size": 1,
        "data": {"kind": "documents", "max_bytes": 1024},
        "model": {
            "kind": "hf_causal_lm",
            "architecture": "gpt2",
            **size,
            "seq_length": 128 if dry else 256,
            "batch_size": 8,
            "lr": 3e-4,
            "max_new_tokens": 16 if dry else 128,
            "generate_batch_size": 64,
            "device": "auto",
        },
        "loop": {"family": "fully_synthetic", "n_ini": 256, "n_synthetic": 16 if dry else 64},
        "metrics": {"names": ["perplexity", "generated_distinct_2"], "n_eval": 8, "k": 2},
    }
    start = time.perf_counter()
    try:
        run = ap.run(config, out / "hf", executor="inline", progress=False, plots=False)
    except Exception as exc:  # a row of the table, not the end of the check
        return time.perf_counter() - start, f"failed: {type(exc).__name__}: {exc}"[:200]
    seconds = time.perf_counter() - start
    table = run.table()
    last = table[table["generation"] == table["generation"].max()]
    values = ", ".join(f"{m} {v:.3g}" for m, v in last.groupby("metric")["value"].mean().items())
    return seconds, f"{parameters(config)} parameters; generation 2: {values}"


def parameters(config: dict) -> str:
    """The network's parameter count (its architecture as the config builds it)."""
    from transformers import AutoModelForCausalLM

    from autophagy.running.config import resolve

    settings = resolve(config)[0].model

    count = sum(p.numel() for p in AutoModelForCausalLM.from_config(settings.config()).parameters())
    return f"{count / 1e6:.1f} M"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry", action="store_true", help="the same steps on the CPU at toy sizes")
    parser.add_argument("--out", type=Path, default=Path(os.environ.get("OUT") or tempfile.mkdtemp()))
    parser.add_argument("--steps", default="exact,N4,hf", help="which steps, comma-separated")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    print(f"torch {torch.__version__}, GPU: {gpu}, load average {os.getloadavg()[0]:.1f}, out {args.out}")
    if not args.dry and gpu == "none":
        print("no GPU: run with --dry for the CPU smoke version")
        return 3
    rows = []
    steps = {"exact": exact_step, "N4": recipe_step, "hf": hf_step}
    for name in args.steps.split(","):
        step = steps[name]
        start = time.perf_counter()
        try:
            seconds, result = step(args.dry, args.out)
        except Exception as exc:  # a row of the table, not the end of the check
            seconds, result = time.perf_counter() - start, f"failed: {type(exc).__name__}: {exc}"[:200]
        rows.append((name, seconds, result))
        print(f"[{name}] {seconds:.1f} s: {result}", flush=True)
    device = "cpu (dry)" if args.dry else "cuda"
    print("\n| step | device | seconds | result |\n|---|---|---|---|")
    for name, seconds, result in rows:
        print(f"| {name} | {device} | {seconds:.1f} | {result} |")
    return 0 if all(not r.startswith(("failed", "timed out", "error", "FAIL")) for _, _, r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
