"""Property-based fuzzing of the command line (Hypothesis, in process through typer's runner):
whatever the config text, ``--set`` overrides, data file or arguments, a command ends with a
documented exit status (0 done, 2 bad input, 3 environment), never with a traceback, and a
failure prints exactly one ``error: ...`` line.

The loop itself is replaced by a stub that creates the store (valid configs still pass the
size budget, the folder lock and the atomic manifest write, then plot an empty folder), so
each example costs milliseconds; the loop's own faults are covered by test_hardening.py and
the kill tests. The default suite runs a bounded number of examples; ``-m slow`` runs many.
"""

from __future__ import annotations

import json
import shutil
import string
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hardening import TINY
from typer.testing import CliRunner

import autophagy.running.runner
from autophagy.cli import app
from autophagy.storage.store import RunStore

runner = CliRunner()
STATUSES = {0, 2, 3}
FAST = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=500, deadline=None, suppress_health_check=list(HealthCheck))
FUZZED: dict[str, int] = {}  # examples run per fuzzer (read by the reliability figures)

KEYS = [
    "name", "seed", "replicates", "generations", "block_size", "plugins", "data", "data.kind",
    "data.dim", "data.mean", "data.covariance", "data.path", "model.kind", "model.simulator",
    "loop.family", "loop.n_ini", "loop.n_real", "loop.n_synthetic", "loop.sampling_bias",
    "loop.train_size", "loop.real_fraction", "loop.total_size", "metrics.names", "metrics.n_eval",
    "metrics.k", "metrics.unbiased_eval", "plots.generations", "mitigation.curation.score",
    "sweep.grid", "sweep.zip", "sweep.seeds", "[/]", "a.b.c", "$x$",
]  # fmt: skip
WEIRD = [
    "[/]",
    "[bold]",
    "$\\frac{$",
    "..",
    ".",
    "/",
    "../../x",
    "é",
    "\x00",
    "inf",
    "nan",
    "1e400",
    "os:system",
]
toml_scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: repr(f).replace("inf", "inf")),
    st.sampled_from(
        ["true", "false", "[]", "{}", "[1, 2]", "[[1.0, 0.0], [0.0, 1.0]]", "'gaussian'", "'file'"]
    ),
    st.text(max_size=20).map(json.dumps),
    st.sampled_from(WEIRD),
    st.text(alphabet=string.printable, max_size=30),  # raw text: the TOML parse may fail
)
overrides = st.lists(
    st.tuples(st.one_of(st.sampled_from(KEYS), st.text(max_size=12)), toml_scalars).map(
        lambda kv: f"{kv[0]}={kv[1]}"
    ),
    max_size=4,
)


def _stub_execute(plan, pool, progress, task_seconds, stop):
    RunStore(plan.out / "results.sqlite").close()
    return 0, 0, None  # (done, planned, tracking session)


def check(result) -> None:
    assert result.exit_code in STATUSES, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output, result.output
    if result.exit_code != 0:
        lines = [line for line in result.output.splitlines() if line.startswith("error: ")]
        assert len(lines) == 1, result.output


def _run(args: list[str], name: str) -> None:
    FUZZED[name] = FUZZED.get(name, 0) + 1
    with tempfile.TemporaryDirectory() as tmp:
        full = [a.replace("{TMP}", tmp) for a in args]
        check(runner.invoke(app, full))


@pytest.fixture(autouse=True)
def stubbed_loop(monkeypatch):
    monkeypatch.setattr(autophagy.running.runner, "_execute", _stub_execute)


def _overrides_case(sets: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "c.toml"
        config.write_text(TINY)
        args = ["run", str(config), "--out", f"{tmp}/out", "--quiet", "--executor", "inline"]
        for s in sets:
            args += ["--set", s]
        FUZZED["overrides"] = FUZZED.get("overrides", 0) + 1
        check(runner.invoke(app, args))


def _config_text_case(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "c.toml"
        config.write_bytes(data)
        FUZZED["config-text"] = FUZZED.get("config-text", 0) + 1
        check(
            runner.invoke(app, ["run", str(config), "--out", f"{tmp}/out", "--quiet", "--executor", "inline"])
        )


def _mutated(data: st.DataObject) -> bytes:
    """TINY with a few bytes replaced, deleted or inserted, or arbitrary bytes."""
    text = bytearray(TINY.encode())
    for _ in range(data.draw(st.integers(0, 4))):
        at = data.draw(st.integers(0, len(text)))
        op = data.draw(st.sampled_from(["replace", "delete", "insert"]))
        byte = data.draw(st.binary(min_size=1, max_size=3))
        if op == "replace":
            text[at : at + len(byte)] = byte
        elif op == "delete":
            del text[at : at + len(byte)]
        else:
            text[at:at] = byte
    return bytes(text)


arrays = st.one_of(
    st.tuples(st.integers(0, 6), st.integers(0, 4)).map(lambda s: np.ones(s)),
    st.sampled_from(
        [
            np.ones((20, 2)) + 1j,
            np.array([[np.nan, 1.0]] * 5),
            np.array([[np.inf, 1.0]] * 5),
            np.array(["a", "b"] * 5).reshape(5, 2),
            np.ones((3, 3, 3)),
            np.ones(40),
            np.arange(40, dtype=np.int8).reshape(20, 2),
            np.ones((20, 2), dtype=bool),
            np.zeros((0,)),
        ]
    ),
)


def _data_case(array: np.ndarray | None, csv: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "c.toml"
        config.write_text(TINY)
        if array is not None:
            path = Path(tmp) / "d.npy"
            np.save(path, array, allow_pickle=False)
        else:
            path = Path(tmp) / "d.csv"
            path.write_text(csv or "", encoding="utf-8", errors="surrogatepass")
        args = ["run", str(config), "--out", f"{tmp}/out", "--quiet", "--executor", "inline"]
        args += ["--set", f"data={{kind='file', path='{path}'}}"]
        FUZZED["data-files"] = FUZZED.get("data-files", 0) + 1
        check(runner.invoke(app, args))


ARG_WORDS = [
    "run", "export", "plot", "report", "reproduce", "phase-map", "list", "--out", "--set", "--workers",
    "--executor", "--task-seconds", "--quiet", "--format", "--output", "--salvage", "--address", "--list",
    "--profile", "--version", "--help", "{TMP}/c.toml", "{TMP}/out", "{TMP}", "{TMP}/nope", "0", "-1", "2",
    "nan", "inf", "1e9", "csv", "parquet", "xml", "inline", "local", "ray", "slurm", "G1", "G9", "fig10",
    "[/]", "$x$", "..", "",
]  # fmt: skip


def _args_case(words: list[str]) -> None:
    if any(w in ("--help", "--list") for w in words) or words[:1] in (["reproduce"], ["phase-map"]):
        words = [w for w in words if w not in ("reproduce", "phase-map")]  # never start a long job
        if words[:1] not in (["run"], ["export"], ["plot"], ["report"], ["list"]):
            words = ["list", *words]
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "c.toml").write_text(TINY)
        FUZZED["cli-args"] = FUZZED.get("cli-args", 0) + 1
        check(runner.invoke(app, [w.replace("{TMP}", tmp) for w in words]))


def _folder_case(manifest: bytes, metric: str, run: int) -> None:
    """A hostile run folder for export / plot / report: any manifest bytes, any metric name,
    rows of any cell."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "run"
        folder.mkdir()
        (folder / "config.json").write_bytes(manifest)
        with RunStore(folder / "results.sqlite") as store:
            store.commit_task(run, 0, 1, b"", [(0, 1, metric, 1.0), (1, 1, metric, 2.0)])
        FUZZED["folders"] = FUZZED.get("folders", 0) + 3
        for args in (
            ["export", folder, "--output", Path(tmp) / "t.csv"],
            ["plot", folder],
            ["report", folder],
        ):
            check(runner.invoke(app, [str(a) for a in args]))
        leaked = [p for p in Path(tmp).rglob("*") if not p.is_relative_to(folder) and p.name != "t.csv"]
        assert not leaked, leaked
        shutil.rmtree(folder)


manifests = st.one_of(
    st.binary(max_size=40),
    st.just(b'{"name": "x", "replicates": 2, "generations": 1}'),
    st.just(b"[]"),
    st.just(b'{"name": "[/]$x$"}'),
)
metrics = st.one_of(st.text(max_size=30), st.sampled_from(["../../x", "/abs", "$\\frac{$", "[/]", ".."]))


@FAST
@given(overrides)
def test_fuzz_overrides(sets):
    _overrides_case(sets)


@FAST
@given(st.data())
def test_fuzz_config_text(data):
    _config_text_case(_mutated(data))


@FAST
@given(st.one_of(arrays.map(lambda a: (a, None)), st.text(max_size=80).map(lambda t: (None, t))))
def test_fuzz_data_files(case):
    _data_case(*case)


@FAST
@given(st.lists(st.sampled_from(ARG_WORDS), min_size=1, max_size=7))
def test_fuzz_cli_args(words):
    _args_case(words)


@FAST
@given(manifests, metrics, st.integers(-3, 3))
def test_fuzz_folders(manifest, metric, run):
    _folder_case(manifest, metric, run)


@pytest.mark.slow
@SLOW
@given(overrides, st.data())
def test_fuzz_long(sets, data):
    _overrides_case(sets)
    _config_text_case(_mutated(data))
    _args_case(data.draw(st.lists(st.sampled_from(ARG_WORDS), min_size=1, max_size=7)))
    _data_case(data.draw(arrays), None)
    _folder_case(data.draw(manifests), data.draw(metrics), data.draw(st.integers(-3, 3)))
