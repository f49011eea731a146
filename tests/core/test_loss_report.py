"""LossReport (the built-in models' reporting helper) and accepts_telemetry."""

from __future__ import annotations

import math

import numpy as np

from autophagy.core.telemetry import LossReport, accepts_telemetry, flatten


def test_loss_report_sends_the_mean_of_each_interval_and_the_last_step():
    calls = []
    losses = np.random.default_rng(0).uniform(0, 2, size=125)
    report = LossReport(lambda *a, **k: calls.append((a, k)), replicate=3, total=125)
    assert report.every == math.ceil(125 / 50) == 3
    for loss in losses:
        report.add(float(loss))
    steps = [a[1] for a, _ in calls]
    assert steps == [*range(3, 124, 3), 125]  # every third step, and the last (a short interval)
    starts = [0, *steps[:-1]]
    for (args, kwargs), start in zip(calls, starts, strict=True):
        replicate, step, mean = args
        assert replicate == 3 and kwargs["total"] == 125 and kwargs["seconds"] >= 0
        assert math.isclose(mean, losses[start:step].mean(), rel_tol=1e-12)


def test_loss_report_flush_after_an_early_stop_and_none_is_a_no_op():
    calls = []
    report = LossReport(lambda *a, **k: calls.append(a), 0, total=100, every=10)
    for loss in range(15):
        report.add(loss)
    report.flush()
    report.flush()  # nothing new: no second call
    assert calls == [(0, 10, 4.5), (0, 15, 12.0)]
    silent = LossReport(None, 0, total=10)
    silent.add(1.0)
    silent.flush()
    assert silent.step == 0


def test_loss_report_reads_tensors_only_when_a_report_is_due():
    class Tensor:  # a 0-d tensor stand-in: float() is the device sync
        reads = 0

        def __init__(self, value):
            self.value = value

        def detach(self):
            return self

        def __add__(self, other):
            return Tensor(self.value + (other.value if isinstance(other, Tensor) else other))

        __radd__ = __add__

        def __float__(self):
            Tensor.reads += 1
            return float(self.value)

    calls = []
    report = LossReport(lambda *a, **k: calls.append(a[2]), 0, total=20, every=5)
    for v in range(20):
        report.add(Tensor(float(v)))
    assert Tensor.reads == 4 and calls == [2.0, 7.0, 12.0, 17.0]


def test_accepts_telemetry_reads_the_signature():
    def plain(data, *, rng, init=None): ...

    def taking(data, *, rng, init=None, telemetry=None): ...

    def variadic(data, **kwargs): ...

    assert not accepts_telemetry(plain)
    assert accepts_telemetry(taking) and accepts_telemetry(variadic)
    assert not accepts_telemetry(len)  # no signature: never passed


def test_flatten_gives_dotted_keys():
    assert flatten({"a": 1, "loop": {"b": [1, 2], "c": {"d": None}}, "e": {}}) == {
        "a": 1,
        "loop.b": [1, 2],
        "loop.c.d": None,
        "e": {},
    }
