"""The exact Gaussian simulator on PyTorch (``model.backend = "torch"``) against the NumPy one.

Not the same draws (one random source per block, see the module), so agreement is tested in
distribution: per generation and metric, the two backends' values over R replicates pass a
two-sample Kolmogorov-Smirnov test at a family-wise level of 0.001 (Bonferroni over every
comparison of the test), in loops that exercise every branch: Bartlett factors, the singular
Wishart (fewer samples than dimensions, then a singular fit whose factor is the eigh root),
the multinomial split over K models and the pooled statistics of accumulating loops. A
negative control (lambda 0.9 against 0.8) shows the comparison has power at this R, and the
closed form E tr Sigma_t = lambda^(t - 1) d of the fully synthetic loop is checked directly.
Both code paths are checked: the CPU's (NumPy draws and BLAS on tensors) and the GPU's (torch
generators and kernels, run on the CPU with ``NUMPY_ON_CPU = False``).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from autophagy.core.errors import ConfigError
from autophagy.loop.checkpoint import decode_state, encode_state
from autophagy.loop.engine import run_block
from autophagy.running.config import resolve

pytest.importorskip("torch")
from autophagy.models import gaussian_exact_torch

stats = pytest.importorskip("scipy.stats")

R = 1000
METRICS = ["trace_cov", "mean_drift", "wasserstein2"]
LOOPS = {  # name: (dim, generations, [loop] table)
    "fully_synthetic": (
        4,
        5,
        {"family": "fully_synthetic", "n_ini": 12, "n_synthetic": 12, "sampling_bias": 0.9},
    ),
    "singular": (6, 4, {"family": "fully_synthetic", "n_ini": 10, "n_synthetic": 4, "sampling_bias": 1.0}),
    "mixed_pool": (
        3,
        4,
        {
            "family": "fresh_data",
            "n_ini": 20,
            "n_real": 5,
            "n_synthetic": 15,
            "from_latest": 3,
            "keep_synthetic": True,
            "sampling_bias": 0.8,
        },
    ),
}
COMPARISONS = sum(g for _, g, _ in LOOPS.values()) * len(METRICS) * 2  # both code paths
ALPHA = 1e-3 / COMPARISONS


def experiment(backend: str, loop: str, replicates: int = R, **changes):
    dim, generations, table = LOOPS[loop]
    raw = {
        "seed": 3,
        "replicates": replicates,
        "generations": generations,
        "block_size": replicates,
        "data": {"kind": "gaussian", "dim": dim},
        "model": {"kind": "gaussian", "simulator": "exact", "backend": backend},
        "loop": {**table, **changes},
        "metrics": {"names": METRICS},
    }
    return resolve(raw)[0]


def values(exp, replicates: int = R) -> list[dict[str, np.ndarray]]:
    """Per generation, each metric's values over the replicates of one block."""
    return [metrics for _, metrics in run_block(exp, range(replicates))]


@functools.cache
def reference(loop: str) -> list[dict[str, np.ndarray]]:
    """The NumPy backend's values (the slow side: replicate by replicate), once per loop."""
    return values(experiment("numpy", loop))


@pytest.fixture(params=["cpu_path", "gpu_path"])
def code_path(request, monkeypatch):
    monkeypatch.setattr(gaussian_exact_torch, "NUMPY_ON_CPU", request.param == "cpu_path")
    return request.param


@pytest.mark.parametrize("loop", sorted(LOOPS))
def test_torch_and_numpy_agree_in_distribution(loop, code_path):
    ours = values(experiment("torch", loop))
    for t, (a, b) in enumerate(zip(ours, reference(loop), strict=True), start=1):
        for name in METRICS:
            p = stats.ks_2samp(a[name], b[name]).pvalue
            assert p > ALPHA, f"{loop} generation {t} {name}: KS p = {p:.2e} (threshold {ALPHA:.1e})"


def test_the_comparison_detects_a_different_lambda():
    """Negative control: lambda 0.8 against 0.9 is rejected at the same R and level."""
    other = values(experiment("torch", "fully_synthetic", sampling_bias=0.8))
    pairs = zip(other, reference("fully_synthetic"), strict=True)
    p = min(stats.ks_2samp(a["trace_cov"], b["trace_cov"]).pvalue for a, b in pairs)
    assert p < ALPHA


@pytest.mark.parametrize("path", ["cpu_path", "gpu_path"])
def test_expected_trace_is_the_closed_form(path, monkeypatch):
    """Fully synthetic, unbiased fit: E tr Sigma_t = lambda^(t - 1) tr Sigma_r, within 4.5
    standard errors (a two-sided z bound at 1e-5 per generation)."""
    monkeypatch.setattr(gaussian_exact_torch, "NUMPY_ON_CPU", path == "cpu_path")
    dim, _, table = LOOPS["fully_synthetic"]
    for t, metrics in enumerate(values(experiment("torch", "fully_synthetic")), start=1):
        trace = metrics["trace_cov"]
        expected = table["sampling_bias"] ** (t - 1) * dim
        assert abs(trace.mean() - expected) < 4.5 * trace.std(ddof=1) / np.sqrt(R), (
            t,
            trace.mean(),
            expected,
        )


def test_a_run_repeats_and_a_resumed_block_continues_exactly():
    exp = experiment("torch", "mixed_pool", replicates=50)
    first = values(exp, 50)
    assert all(
        np.array_equal(a[m], b[m]) for a, b in zip(first, values(exp, 50), strict=True) for m in METRICS
    )
    states = list(run_block(exp, range(50)))
    restored = decode_state(encode_state(states[1][0]), exp.model)  # NumPy arrays, as a checkpoint holds
    resumed = [metrics for _, metrics in run_block(exp, range(50), restored)]
    for a, b in zip(first[2:], resumed, strict=True):
        assert all(np.array_equal(a[m], b[m]) for m in METRICS)


@pytest.mark.parametrize(
    ("model", "metrics", "field", "words"),
    [
        ({"backend": "torch", "simulator": "samples"}, ["trace_cov"], "model.backend", "exact simulator"),
        ({"backend": "torch"}, ["trace_cov", "precision"], "model.backend", "precision"),
        ({"device": "cuda"}, ["trace_cov"], "model.device", "backend = 'torch'"),
    ],
)
def test_backend_misuse_is_a_config_error(model, metrics, field, words):
    raw = {
        "data": {"kind": "gaussian", "dim": 2},
        "model": {"kind": "gaussian", **model},
        "loop": {"family": "fully_synthetic", "n_ini": 10, "n_synthetic": 10},
        "metrics": {"names": metrics, "n_eval": 20},
    }
    with pytest.raises(ConfigError) as info:
        resolve(raw)
    assert info.value.field == field and words in info.value.message
