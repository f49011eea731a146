"""The plug-in boundary: every value a model or metric returns is checked where it enters the
engine, and a bad one is a :class:`~autophagy.core.errors.PluginError` naming the plug-in (its
kind name and module) and what is wrong with the value (exit 2), in every executor.

One home for the rules (the engine and the simulators call these at each entry point):

- samples (``model.sample``): a NumPy array of a real dtype (integers allowed, booleans and
  complex refused), shape ``(R, n, d)`` exactly, every value finite;
- moments (``model.moments()``): mean ``(R, d)`` and covariance ``(R, d, d)``, real, finite;
- metric values: shape ``(R,)`` exactly, real; NaN and +-inf are allowed (documented: an
  undefined or divergent value is a result, stored as such); a metric with a ``key`` must
  return a mapping holding that key;
- ``state_dict()``: a dict of string keys to NumPy arrays of a real or integer dtype.

:func:`stop_error` turns a ``SystemExit`` or an explicit ``raise KeyboardInterrupt`` inside
plug-in code into a plug-in error; a ``KeyboardInterrupt`` delivered by a signal (a real Ctrl-C)
is left alone, so the run still stops.
"""

from __future__ import annotations

import dis
import traceback
from collections.abc import Mapping
from typing import Any

import numpy as np

from autophagy.core.errors import PluginError
from autophagy.core.registry import METRICS, MODELS, user_modules


def who(obj: Any, kind: str = "model") -> str:
    """``model 'name' (module m)`` for a fitted model or settings object ``obj``: the registered
    kind whose provider defined its class, else the class name."""
    cls = obj if isinstance(obj, type) else type(obj)
    module = getattr(cls, "__module__", "?") or "?"
    top = module.split(".")[0]
    names = [name for name, entry in MODELS.items() if entry.provider == top] if kind == "model" else []
    label = repr(names[0]) if len(names) == 1 else cls.__qualname__
    return f"{kind} {label} ({module})"


def metric_who(name: str) -> str:
    entry = METRICS.get(name)
    module = getattr(getattr(entry, "fn", None), "__module__", None) or "?"
    return f"metric {name!r} ({module})"


def _describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    if isinstance(value, str | bytes):
        return f"a {type(value).__name__} {str(value)[:40]!r}"
    return f"a {type(value).__name__}"


def _fail(where: str, problem: str) -> PluginError:
    if "(autophagy." in where and ("NaN" in problem or "non-finite" in problem):
        problem += " (a built-in model: the data's scale overflows float64 arithmetic; rescale the data)"
    return PluginError(where, f"returned {problem}")


def _real_array(value: Any, where: str, what: str, allow_int: bool = True) -> np.ndarray:
    if not isinstance(value, np.ndarray):
        raise _fail(where, f"{_describe(value)} as {what}; expected a NumPy array")
    kinds = "fiu" if allow_int else "f"
    if value.dtype.kind not in kinds:
        kind = "complex" if value.dtype.kind == "c" else str(value.dtype)
        raise _fail(where, f"{what} of dtype {kind}; expected real numbers")
    return value


def check_samples(value: Any, replicates: int, n: int, dim: int, where: str) -> np.ndarray:
    """``value`` if it is a finite real array of shape ``(replicates, n, dim)``."""
    array = _real_array(value, where, "samples")
    if array.shape != (replicates, n, dim):
        raise _fail(
            where, f"samples of shape {array.shape}; expected (replicates, n, dim) = {(replicates, n, dim)}"
        )
    if array.dtype.kind == "f" and not np.isfinite(array).all():
        bad = int((~np.isfinite(array)).sum())
        raise _fail(where, f"{bad} non-finite sample values (NaN or inf); every sample must be finite")
    return array


def check_moments(value: Any, replicates: int, dim: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """``(mean (R, d), cov (R, d, d))`` if ``value`` is that pair, real and finite."""
    if not isinstance(value, tuple | list) or len(value) != 2:
        raise _fail(where, f"{_describe(value)} from moments(); expected (mean, covariance)")
    mean = _real_array(value[0], where, "a moments mean")
    cov = _real_array(value[1], where, "a moments covariance")
    expected = ((mean, (replicates, dim), "mean"), (cov, (replicates, dim, dim), "covariance"))
    for array, shape, what in expected:
        if array.shape != shape:
            raise _fail(where, f"a moments {what} of shape {array.shape}; expected {shape}")
        if not np.isfinite(array).all():
            raise _fail(where, f"a moments {what} with NaN or inf values")
    return mean, cov


def check_metric(value: Any, replicates: int, where: str, key: str | None = None) -> np.ndarray:
    """The metric values as float64 ``(R,)``; NaN and +-inf are allowed (see the module doc)."""
    if key is not None:
        if not isinstance(value, Mapping) or key not in value:
            raise _fail(where, f"{_describe(value)}; expected a mapping with the key {key!r}")
        value = value[key]
    if isinstance(value, list | tuple):
        try:
            value = np.asarray(value)
        except (ValueError, TypeError):
            raise _fail(where, "a ragged sequence; expected one number per replicate") from None
    if isinstance(value, np.ndarray) and value.dtype.kind == "b":
        raise _fail(where, "booleans; expected one real number per replicate")
    array = _real_array(value, where, "metric values")
    if array.shape != (replicates,):
        shape = array.shape
        raise _fail(where, f"metric values of shape {shape}; expected ({replicates},), one per replicate")
    return array.astype(np.float64)


def check_state(value: Any, where: str) -> dict[str, np.ndarray]:
    """A ``state_dict()``: string keys to real or integer NumPy arrays."""
    if not isinstance(value, Mapping):
        raise _fail(where, f"{_describe(value)} from state_dict(); expected a dict of arrays")
    for key, array in value.items():
        if not isinstance(key, str):
            raise _fail(where, f"a state_dict key {key!r}; keys must be strings")
        _real_array(array, where, f"state_dict[{key!r}]")
    return dict(value)


def _plugin_frame(tb: Any) -> str | None:
    """The module of the innermost frame of ``tb`` that belongs to a user plug-in, or None."""
    users = user_modules()
    found = None
    for frame, _ in traceback.walk_tb(tb):
        module = frame.f_globals.get("__name__", "")
        if module.split(".")[0] in users:
            found = module
    return found


def _explicit_raise(tb: Any) -> bool:
    """Whether the innermost frame of ``tb`` stopped on a ``raise`` statement (not a signal)."""
    last = tb
    while last.tb_next is not None:
        last = last.tb_next
    for instruction in dis.get_instructions(last.tb_frame.f_code):
        if instruction.offset == last.tb_lasti:
            return instruction.opname in ("RAISE_VARARGS", "RERAISE")
    return False


def stop_error(exc: BaseException) -> PluginError | None:
    """A :class:`PluginError` for ``SystemExit`` raised in plug-in code, or ``KeyboardInterrupt``
    raised there by a ``raise`` statement; None otherwise (a real Ctrl-C keeps stopping)."""
    module = _plugin_frame(exc.__traceback__)
    if module is None:
        return None
    if isinstance(exc, SystemExit):
        return PluginError(f"plugin {module}", f"called sys.exit({exc.code!r}) inside the loop")
    innermost = exc.__traceback__
    while innermost is not None and innermost.tb_next is not None:
        innermost = innermost.tb_next
    raised_there = innermost is not None and innermost.tb_frame.f_globals.get("__name__", "") == module
    if isinstance(exc, KeyboardInterrupt) and raised_there and _explicit_raise(exc.__traceback__):
        return PluginError(f"plugin {module}", "raised KeyboardInterrupt inside the loop")
    return None  # e.g. a signal handler's KeyboardInterrupt (a real Ctrl-C): the run stops
