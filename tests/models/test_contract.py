"""Every registered model passes the shared contract (:func:`autophagy.testing.check_model`), and
the check catches models that break it, naming the item at fault."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from autophagy.core.errors import ConfigError
from autophagy.core.registry import MODELS, Options, register_model
from autophagy.models.gaussian import FittedGaussian, GaussianModel
from autophagy.testing import ITEMS, case_of, check_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_registered_model_passes_the_contract(name):
    if case_of(name).torch:
        pytest.importorskip("torch")
    if name == "hf_causal_lm":
        pytest.importorskip("transformers")
    report = check_model(name)
    assert [item.name for item in report.failures()] == [], str(report)
    assert report.passed
    assert [item.name for item in report.items] == [name for name, _ in ITEMS]


# -- deliberately broken models: each breaks one promise --------------------------------------


@dataclass(frozen=True)
class NoRng(FittedGaussian):
    """Samples from the global numpy generator instead of the rngs it is given."""

    def sample(self, n, *, rng, sampling_bias):
        noise = np.random.default_rng().standard_normal((len(self.mean), n, self.mean.shape[1]))
        return self.mean[:, None, :] + np.sqrt(sampling_bias) * noise


@dataclass(frozen=True)
class WrongShape(FittedGaussian):
    """Returns samples as (n, R, d), replicates second."""

    def sample(self, n, *, rng, sampling_bias):
        return np.swapaxes(super().sample(n, rng=rng, sampling_bias=sampling_bias), 0, 1)


@dataclass(frozen=True)
class Widening(FittedGaussian):
    """Reads lambda backwards: lambda -> 0 widens the samples."""

    def sample(self, n, *, rng, sampling_bias):
        return super().sample(n, rng=rng, sampling_bias=1.0 + (1.0 - sampling_bias))


@dataclass(frozen=True)
class LossyState(FittedGaussian):
    """Forgets the mean in its checkpoint."""

    def state_dict(self):
        return {"mean": np.zeros_like(self.mean), "cov": self.cov}


@dataclass(frozen=True)
class Broken(GaussianModel):
    fitted: type = FittedGaussian

    def fit(self, data, *, rng, init=None):
        model = super().fit(data, rng=rng, init=init)
        return self.fitted(model.mean, model.cov)

    def load(self, state):
        return self.fitted(state["mean"], state["cov"])


class NoOptions(Options):
    pass


@pytest.fixture
def broken():
    """Register a broken model for one test, then remove it."""
    names = []

    def make(name, fitted, **flags):
        register_model(name, options=NoOptions, build=lambda o: Broken(fitted=fitted), replace=True, **flags)
        names.append(name)
        return name

    yield make
    for name in names:
        MODELS.pop(name, None)


def _only_failure(report, item):
    failed = [i.name for i in report.failures()]
    assert item in failed, str(report)
    return report[item].detail


def test_model_ignoring_its_rng_fails_determinism(broken):
    report = check_model(broken("no_rng", NoRng))
    assert not report.passed
    detail = _only_failure(report, "determinism")
    assert "identically seeded rngs gave different samples" in detail
    assert report["shape"].passed and report["bias_narrows"].passed  # the rest of the contract holds


def test_wrong_shape_fails_shape_with_the_shapes(broken):
    report = check_model(broken("wrong_shape", WrongShape))
    detail = _only_failure(report, "shape")
    assert "shape (7, 3, 3), expected (3, 7, 3)" in detail


def test_bias_that_widens_fails_bias_narrows(broken):
    report = check_model(broken("widening", Widening))
    detail = _only_failure(report, "bias_narrows")
    assert "not below" in detail and "lambda = 1" in detail


def test_lossy_checkpoint_fails_state_dict(broken):
    report = check_model(broken("lossy", LossyState))
    detail = _only_failure(report, "state_dict")
    assert "load(state_dict()) samples differently" in detail
    assert [i.name for i in report.failures()] == ["state_dict"]


def test_undeclared_capability_fails_its_item(broken):
    """Declaring has_log_prob on a model without log_prob is a contract failure, not a crash."""

    @dataclass(frozen=True)
    class NoLogProb:
        inner: FittedGaussian

        def sample(self, n, *, rng, sampling_bias):
            return self.inner.sample(n, rng=rng, sampling_bias=sampling_bias)

        def state_dict(self):
            return self.inner.state_dict()

        def moments(self):
            return self.inner.moments()

    report = check_model(broken("liar", lambda m, c: NoLogProb(FittedGaussian(m, c)), has_log_prob=True))
    assert (
        _only_failure(report, "log_prob")
        == "declared has_log_prob=True but the fitted model has no log_prob(x) method"
    )
    assert [i.name for i in report.failures()] == ["log_prob"]


def test_build_failure_skips_the_rest_with_a_reason():
    register_model("explodes", options=NoOptions, build=lambda o: 1 / 0, replace=True)
    try:
        report = check_model("explodes")
    finally:
        MODELS.pop("explodes")
    assert report["build"].detail == "raised ZeroDivisionError: division by zero"
    assert all("not checked: build failed" in i.detail for i in report.items[1:])
    assert not report.passed


def test_unknown_model_is_a_config_error():
    with pytest.raises(ConfigError, match="model: unknown model 'nope'"):
        check_model("nope")


def test_options_and_data_override_the_case():
    """Explicit options and data replace the family's case: a 2-component mixture on 1-d rows."""
    rows = np.random.default_rng(0).normal(size=(2, 40, 1))
    report = check_model("gmm", options={"components": 2}, data=rows)
    assert report.passed, str(report)
    assert "data (2, 40, 1)" in report["build"].detail
    bad = check_model("gmm", options={"components": 0})
    assert not bad.passed and "components" in bad["build"].detail


# -- the item table ---------------------------------------------------------------------------


def test_every_built_in_model_registers_its_own_contract_case():
    """The cases live with the registrations (``register_model(..., contract=)``), not in testing."""
    built_in = [name for name, entry in MODELS.items() if entry.provider == "autophagy"]
    assert len(built_in) >= 13
    assert [name for name in built_in if MODELS[name].contract is None] == []
    assert case_of("gaussian") is MODELS["gaussian"].contract


def test_the_report_runs_exactly_the_items_of_the_table():
    report = check_model("gaussian", items=["shape"])
    assert [i.name for i in report.items] == ["build", "fit", "shape"]  # the gates run first
    assert report.passed, str(report)


def test_no_items_is_a_failure_not_an_empty_pass():
    report = check_model("gaussian", items=[])
    assert not report.passed
    assert [(i.name, i.passed) for i in report.items] == [("items", False)]
    with pytest.raises(ValueError, match="unknown contract items"):
        check_model("gaussian", items=["shapes"])


def test_a_report_missing_an_expected_item_does_not_pass():
    report = check_model("gaussian", items=["shape"])
    report.items.pop()  # an item that never ran cannot count as passed
    assert all(i.passed for i in report.items) and not report.passed
