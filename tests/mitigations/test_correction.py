"""Self-correction: the exact Gaussian OT map, snaps, and the gamma = 0 / gamma = 1 loop limits."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from conftest import RecordingModel, base_config

from autophagy.loop.engine import run_block
from autophagy.mitigations.correction import (
    centroid_snap,
    centroids,
    gaussian_ot,
    gaussian_ot_matrix,
    nearest_real,
)
from autophagy.running.config import resolve

Z = 4.5  # two-sided z for every statistical comparison: false-failure rate about 7e-6 per check


def half_way(synthetic, reference, gamma, rng):
    """A user correction for the import-path test: move toward the reference mean by gamma / 2."""
    return synthetic + 0.5 * gamma * (reference.mean(axis=1, keepdims=True) - synthetic)


def _spd(rng: np.random.Generator, d: int) -> np.ndarray:
    a = rng.standard_normal((d, d))
    return a @ a.T + 0.1 * np.eye(d)


def test_ot_matrix_pushes_the_source_covariance_onto_the_target():
    """T(x) = m2 + A (x - m1) has covariance A S1 A^T, which must equal S2; A is symmetric PSD."""
    rng = np.random.default_rng(0)
    s1, s2 = _spd(rng, 4), _spd(rng, 4)
    a = gaussian_ot_matrix(s1, s2)
    np.testing.assert_allclose(a @ s1 @ a.T, s2, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(a, a.T, atol=1e-12)
    assert np.linalg.eigvalsh(a).min() > 0


def test_ot_map_interpolates_linearly_in_gamma():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 30, 3))
    source = (np.zeros((2, 3)), np.stack([np.eye(3)] * 2))
    target = (np.ones(3), _spd(rng, 3))
    full = gaussian_ot(x, source, target, 1.0)
    np.testing.assert_allclose(gaussian_ot(x, source, target, 0.3), x + 0.3 * (full - x), atol=1e-12)
    np.testing.assert_array_equal(gaussian_ot(x, source, target, 0.0), x)


def test_nearest_real_snap_lands_on_reference_rows():
    rng = np.random.default_rng(2)
    x, ref = rng.standard_normal((2, 40, 2)), rng.standard_normal((2, 15, 2))
    snapped = nearest_real(x, ref, 1.0)
    for r in range(2):
        dists = np.linalg.norm(x[r][:, None] - ref[r][None], axis=-1)
        np.testing.assert_array_equal(snapped[r], ref[r][dists.argmin(axis=1)])
    np.testing.assert_allclose(nearest_real(x, ref, 0.5), 0.5 * (x + snapped), atol=1e-12)


def test_centroids_recover_well_separated_clusters():
    """Three clusters of sd 0.01 around far-apart centres: k-means centroids match the cluster means."""
    rng = np.random.default_rng(3)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    ref = (centres[np.arange(90) % 3] + 0.01 * rng.standard_normal((90, 2)))[None]
    found = centroids(ref, 3, [np.random.default_rng(4)])[0]
    means = np.stack([ref[0][np.arange(90) % 3 == j].mean(axis=0) for j in range(3)])
    order = [np.linalg.norm(found - m, axis=1).argmin() for m in means]
    np.testing.assert_allclose(found[order], means, atol=1e-9)
    snapped = centroid_snap(np.array([[[9.0, 1.0]]]), found[None], 1.0)
    np.testing.assert_allclose(snapped[0, 0], means[1], atol=1e-9)


def _run(mitigation, generations=4, replicates=range(3), **loop):
    raw = base_config(**loop)
    raw["generations"] = generations
    raw["model"] = {"kind": "gaussian", "simulator": "samples"}
    if mitigation is not None:
        raw["mitigation"] = mitigation
        raw["plugins"] = [__name__]  # a hook's module must be listed (importing runs it)
    spy = RecordingModel()
    exp = dataclasses.replace(resolve(raw)[0], model=spy)
    metrics = [m for _, m in run_block(exp, replicates)]
    return spy.fits, metrics


@pytest.mark.parametrize(
    "correct",
    [
        {"method": "gaussian_ot"},
        {"method": "gaussian_ot", "target": "moments"},
        {"method": "nearest_real"},
        {"method": "centroid", "clusters": 4},
        {"method": f"{__name__}:half_way"},
    ],
)
@pytest.mark.parametrize("family", ["fully_synthetic", "accumulate"])
def test_gamma_zero_equals_the_plain_loop(correct, family):
    """Byte-identical training sets: correction draws no random numbers from the loop's streams."""
    plain, _ = _run(None, family=family)
    corrected, _ = _run({"correct": {"gamma": 0.0, **correct}}, family=family)
    for (a, _), (b, _) in zip(plain, corrected, strict=True):
        np.testing.assert_array_equal(a, b)


def test_user_correction_is_applied():
    plain, _ = _run(None, generations=2)
    moved, _ = _run({"correct": {"gamma": 1.0, "method": f"{__name__}:half_way"}}, generations=2)
    reference = plain[0][0]  # fully synthetic: the generation-1 training set is the reference set
    expected = half_way(plain[1][0], reference, 1.0, None)
    np.testing.assert_allclose(moved[1][0], expected, atol=1e-12)


def _w2(mitigation, reps, gens, bias=1.0):
    raw = base_config(n_ini=10, n_synthetic=10, sampling_bias=bias)
    raw.update(generations=gens, data={"kind": "gaussian", "dim": 2, "covariance": [[2.0, 0.5], [0.5, 1.0]]})
    raw["metrics"] = {"names": ["wasserstein2"]}
    if mitigation is not None:
        raw["mitigation"] = mitigation
    exp = resolve(raw)[0]
    return np.stack([m["wasserstein2"] for _, m in run_block(exp, range(reps))], axis=1)  # (R, G)


def test_gamma_one_toward_p_r_makes_every_generation_a_fresh_real_fit():
    """With target P_r, T maps the exact sampling law N(mu, lambda Sigma) onto P_r, so each
    generation's fit is a fit to n i.i.d. real samples, independent of the earlier ones: W2 at the
    last generation has generation 1's distribution (two-sample z test), while the plain loop's grows."""
    reps, gens = 400, 8
    w2 = _w2({"correct": {"gamma": 1.0, "target": "moments"}}, reps, gens, bias=0.9)
    first, last = w2[:, 0], w2[:, -1]
    se = np.sqrt(first.var(ddof=1) / reps + last.var(ddof=1) / reps)
    assert abs(last.mean() - first.mean()) <= Z * se
    plain = _w2(None, reps, gens, bias=0.9)[:, -1]
    assert plain.mean() - last.mean() > Z * np.sqrt(plain.var(ddof=1) / reps + last.var(ddof=1) / reps)


def test_gamma_one_toward_the_reference_fit_does_not_grow():
    """With target the generation-1 fit G1, every later generation fits n samples of G1 itself, so
    W2(G_t, P_r) has one conditional law for all t >= 2 given G1: the paired mean difference between
    the last generation and generation 2 is zero within its standard error."""
    reps, gens = 400, 8
    w2 = _w2({"correct": {"gamma": 1.0}}, reps, gens)
    diff = w2[:, -1] - w2[:, 1]
    assert abs(diff.mean()) <= Z * diff.std(ddof=1) / np.sqrt(reps)


def _mixture_recursion(weight: float, n_ini: int, n: int, generations: int, total: float, mle: bool):
    """E tr(Sigma_t) and E |mu_t - mu_r|^2 of the fully synthetic Gaussian loop whose synthetic
    batch is drawn from (1 - w) N(mu, Sigma) + w P_r (lambda = 1). With a = E tr Sigma,
    b = E |mu - mu_r|^2 and the mixture's trace c = (1 - w) a + w tr Sigma_r + w (1 - w) b:
    a' = c (times (n - 1)/n for the MLE), b' = (1 - w)^2 b + c / n (all linear, so exact)."""
    shrink = (n - 1) / n if mle else 1.0
    a, b = total * ((n_ini - 1) / n_ini if mle else 1.0), total / n_ini
    out = [(a, b)]
    for _ in range(generations - 1):
        c = (1 - weight) * a + weight * total + weight * (1 - weight) * b
        a, b = c * shrink, (1 - weight) ** 2 * b + c / n
        out.append((a, b))
    return np.array(out)  # (G, 2)


def _mixture_run(gamma: float, reps: int = 1000, generations: int = 6):
    raw = base_config(n_ini=10, n_synthetic=10, sampling_bias=1.0)
    raw.update(
        replicates=reps,
        generations=generations,
        block_size=reps,
        seed=21,
        data={"kind": "gaussian", "dim": 3, "mean": [1.0, -1.0, 0.5], "covariance": [2.0, 1.0, 0.5]},
        model={"kind": "gaussian", "estimator": "mle"},
        metrics={"names": ["trace_cov", "mean_drift"], "n_eval": 10},
        mitigation={"correct": {"method": "mixture", "gamma": gamma, "target": "truth"}},
    )
    exp = resolve(raw)[0]
    per_generation = [m for _, m in run_block(exp, range(reps))]
    trace = np.stack([m["trace_cov"] for m in per_generation], axis=1)
    drift2 = np.stack([m["mean_drift"] for m in per_generation], axis=1) ** 2
    return trace, drift2


def _holm_passes(samples: list[np.ndarray], expected: list[float], alpha: float = 1e-3) -> bool:
    """One-sample Student-t tests of every replicate column against its closed form; Holm's
    procedure rejects nothing iff the smallest p-value exceeds alpha / m."""
    from scipy import stats

    p = [stats.ttest_1samp(x, e).pvalue for x, e in zip(samples, expected, strict=True)]
    return min(p) > alpha / len(p)


@pytest.mark.parametrize("gamma", [0.5, 3.0])
def test_mixture_correction_follows_gillman_gamma_convention(gamma):
    """Gillman et al.'s pi_gamma = 1/(1+gamma) p_model + gamma/(1+gamma) P_r, gamma > 1 allowed:
    trace and squared mean error match the mixture recursion at every generation (Holm over all)."""
    trace, drift2 = _mixture_run(gamma)
    generations = trace.shape[1]
    columns = [trace[:, g] for g in range(generations)] + [drift2[:, g] for g in range(generations)]

    def closed(weight: float) -> list[float]:
        ab = _mixture_recursion(weight, 10, 10, generations, total=3.5, mle=True)
        return list(ab[:, 0]) + list(ab[:, 1])

    assert _holm_passes(columns, closed(gamma / (1 + gamma)))
    # negative controls: the roles of model and target swapped (weight 1 / (1 + gamma)), no correction
    assert not _holm_passes(columns, closed(1 / (1 + gamma)))
    assert not _holm_passes(columns, closed(0.0))


def test_mixture_correction_at_gamma_zero_is_the_plain_loop():
    """gamma = 0 replaces nothing: the trained batches are the plain loop's, draw for draw."""
    plain, corrected = RecordingModel(), RecordingModel()
    for spy, mitigation in ((plain, None), (corrected, {"correct": {"method": "mixture", "gamma": 0.0}})):
        raw = base_config()
        if mitigation:
            raw["mitigation"] = mitigation
        exp = dataclasses.replace(resolve(raw)[0], model=spy, simulator="samples")
        list(run_block(exp, range(3)))
    for (a, _), (b, _) in zip(plain.fits, corrected.fits, strict=True):
        np.testing.assert_array_equal(a, b)


def test_mixture_reference_target_draws_reference_rows():
    """target = 'reference' replaces samples by rows of the generation-1 real set (resampled)."""
    spy = RecordingModel()
    raw = base_config(n_ini=15, n_synthetic=40)
    raw["mitigation"] = {"correct": {"method": "mixture", "gamma": 1e9, "target": "reference"}}
    exp = dataclasses.replace(resolve(raw)[0], model=spy, simulator="samples")
    list(run_block(exp, range(2)))
    reference = spy.fits[0][0]  # generation 1 trains on exactly the reference set
    for data, _ in spy.fits[1:]:
        for r in range(2):
            rows = {tuple(x) for x in reference[r]}
            assert all(tuple(x) in rows for x in data[r])
