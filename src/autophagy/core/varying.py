"""Values that change with the generation: time-varying loop sizes, shares and model settings.

A schedulable config value (``loop.n_real``, ``loop.n_synthetic``, ``loop.sampling_bias``,
``loop.real_fraction``, ``loop.total_size``, ``loop.train_size``, ``loop.retention``, and model
settings that declare it, such as ``model.ridge`` of ``ols`` or ``model.train_steps`` of
``ddpm``) is either a constant or one of three forms, written in TOML:

- **steps**, a list of generation ranges, in generation order, the first from generation 1::

      n_synthetic = [{from = 1, value = 500}, {from = 6, value = 0}]
      n_real = [{from = 1, to = 5, value = 0}, {from = 6, value = 500}]

  a step holds from its ``from`` up to its ``to`` (inclusive) if given, else up to the next
  step's ``from`` (or the last generation). Ranges may not overlap, leave a gap, or come out of
  order; steps starting after the last generation never apply.
- **ramp**, a piecewise-linear function through ``[generation, value]`` knots, constant before
  the first knot and after the last one (numbers only; sizes are rounded half up)::

      sampling_bias = {ramp = [[1, 1.0], [10, 0.6]]}

- **every**, a period: ``value`` at generations k, 2k, 3k, ... and ``otherwise`` elsewhere::

      n_real = {every = 3, value = 300, otherwise = 0}

Every value of a form is checked like the constant it replaces (a negative size or a share
outside [0, 1] is refused), and an error names the entry at fault
(``loop.n_synthetic[1].from``, ``loop.sampling_bias.ramp[0]``). A validated form becomes a
:class:`Varying`; :meth:`Varying.raw` writes it back in the canonical form above, which is what
``config.json`` records, so a resume and a sweep cell compare schedules by their text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, TypeAdapter, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

FORMS = ("steps", "ramp", "every")


@dataclass(frozen=True)
class Varying:
    """A value per generation (1-based): ``steps`` ``((from, to or None, value), ...)``, a
    ``ramp`` through ``knots`` ``((generation, value), ...)`` (``integer``: rounded half up), or
    ``every`` ``period`` generations ``value``, else ``otherwise``."""

    form: str
    steps: tuple[tuple[int, int | None, Any], ...] = ()
    knots: tuple[tuple[int, float], ...] = ()
    integer: bool = False
    period: int = 0
    value: Any = None
    otherwise: Any = None

    def at(self, generation: int) -> Any:
        """The value at ``generation`` (>= 1); ``ValueError`` in a gap after a last ``to``."""
        if self.form == "every":
            return self.value if generation % self.period == 0 else self.otherwise
        if self.form == "ramp":
            return self._ramp(generation)
        for start, stop, value in reversed(self.steps):
            if start <= generation:
                if stop is not None and generation > stop:
                    raise ValueError(f"generation {generation} is after the last step's to = {stop}")
                return value
        raise ValueError(f"generation {generation} is before the first step")  # first from is 1

    def _ramp(self, generation: int) -> Any:
        knots = self.knots
        if generation <= knots[0][0]:
            value = knots[0][1]
        elif generation >= knots[-1][0]:
            value = knots[-1][1]
        else:
            i = next(i for i in range(1, len(knots)) if generation <= knots[i][0])
            (g0, v0), (g1, v1) = knots[i - 1], knots[i]
            value = v0 + (v1 - v0) * (generation - g0) / (g1 - g0)
        return math.floor(value + 0.5) if self.integer else float(value)

    def values(self, generations: int) -> list[Any]:
        """The values at generations 1..``generations``."""
        return [self.at(t) for t in range(1, generations + 1)]

    def covers(self, generations: int) -> int | None:
        """The first generation in 1..``generations`` without a value (after a last ``to``), or None."""
        if self.form == "steps" and self.steps[-1][1] is not None and self.steps[-1][1] < generations:
            return self.steps[-1][1] + 1
        return None

    def peak(self) -> Any:
        """The largest value the schedule can take (strings: any non-default one sorts last)."""
        if self.form == "ramp":
            return max(v for _, v in self.knots)
        candidates = [v for _, _, v in self.steps] if self.form == "steps" else [self.value, self.otherwise]
        return max(candidates, key=lambda v: (isinstance(v, str), v))

    def raw(self) -> Any:
        """The canonical TOML/JSON form (see the module docstring)."""
        if self.form == "every":
            return {"every": self.period, "value": self.value, "otherwise": self.otherwise}
        if self.form == "ramp":
            return {"ramp": [[g, v] for g, v in self.knots]}
        return [{"from": a, **({} if b is None else {"to": b}), "value": v} for a, b, v in self.steps]

    def text(self) -> str:
        """A short label: ``500 from 1, 0 from 6``, ``ramp 1: 1.0 -> 10: 0.6``, ``300 every 3, else 0``."""
        if self.form == "every":
            return f"{_fmt(self.value)} every {self.period}, else {_fmt(self.otherwise)}"
        if self.form == "ramp":
            return "ramp " + " -> ".join(f"{g}: {_fmt(v)}" for g, v in self.knots)
        return ", ".join(f"{_fmt(v)} from {a}" + ("" if b is None else f" to {b}") for a, b, v in self.steps)


def span(first: int, last: int) -> str:
    """``generation 5`` or ``generations 5..9``."""
    return f"generation {first}" if first == last else f"generations {first}..{last}"


def _fmt(value: Any) -> str:
    return str(value)  # the shortest text that reads back as the same number: labels stay distinct


# -- parsing: raw TOML values in, Varying (or the constant) out, errors naming the entry -----------


class _Invalid(Exception):
    """One problem at ``loc`` (relative to the value), raised as a ValidationError by :func:`parse`."""

    def __init__(self, loc: tuple, message: str, kind: str = "value_error", value: Any = None) -> None:
        super().__init__(message)
        self.loc, self.message, self.kind, self.value = loc, message, kind, value


def _check(adapter: TypeAdapter, value: Any, loc: tuple) -> Any:
    """``value`` validated strictly as the constant it stands for, or ``_Invalid`` at ``loc``."""
    try:
        return adapter.validate_python(value, strict=True)
    except ValidationError as exc:
        err = exc.errors()[0]
        inner = tuple(f"[{p}]" if isinstance(p, int) else p for p in err["loc"])
        raise _Invalid(loc + inner, err["msg"], err["type"], err.get("input")) from None


def _generation(value: Any, loc: tuple) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _Invalid(loc, f"must be a generation (an integer >= 1), got {value!r}")
    return value


def _steps(raw: list, adapter: TypeAdapter) -> Varying:
    if not raw:
        raise _Invalid((), "is an empty list of steps; give at least {from = 1, value = ...}")
    steps: list[tuple[int, int | None, Any]] = []
    for i, step in enumerate(raw):
        where = (f"[{i}]",)
        if not isinstance(step, dict):
            raise _Invalid(where, f"must be a table {{from = ..., value = ...}}, got {step!r}")
        unknown = sorted(set(step) - {"from", "to", "value"})
        if unknown:
            raise _Invalid((*where, unknown[0]), "unknown key (a step has from, to and value)")
        for key in ("from", "value"):
            if key not in step:
                raise _Invalid((*where, key), "is required")
        start = _generation(step["from"], (*where, "from"))
        stop = None if step.get("to") is None else _generation(step["to"], (*where, "to"))
        if stop is not None and stop < start:
            raise _Invalid((*where, "to"), f"{stop} is before from = {start}")
        value = _check(adapter, step["value"], (*where, "value"))
        if i == 0 and start != 1:
            raise _Invalid((*where, "from"), f"the first step must start at generation 1, got {start}")
        if steps:
            before, end = steps[-1][0], steps[-1][1]
            if start <= before:
                raise _Invalid(
                    (*where, "from"),
                    f"{start} is not after step [{i - 1}]'s from = {before} (steps go in order)",
                )
            if end is not None and start <= end:
                raise _Invalid(
                    (*where, "from"), f"{start} overlaps step [{i - 1}] (generations {before}..{end})"
                )
            if end is not None and start > end + 1:
                raise _Invalid((f"[{i - 1}]", "to"), f"leaves {span(end + 1, start - 1)} without a value")
        steps.append((start, stop, value))
    return Varying("steps", steps=tuple(steps))


def _ramp(raw: Any, adapter: TypeAdapter, integer: bool) -> Varying:
    if not isinstance(raw, list) or not raw:
        raise _Invalid(("ramp",), "must be a non-empty list of [generation, value] knots")
    knots: list[tuple[int, float]] = []
    for i, knot in enumerate(raw):
        where = ("ramp", f"[{i}]")
        if not isinstance(knot, list) or len(knot) != 2:
            raise _Invalid(where, f"must be a [generation, value] pair, got {knot!r}")
        g = _generation(knot[0], (*where, "[0]"))
        value = _check(adapter, knot[1], (*where, "[1]"))
        if knots and g <= knots[-1][0]:
            raise _Invalid((*where, "[0]"), f"generation {g} is not after the previous knot's {knots[-1][0]}")
        knots.append((g, value))
    return Varying("ramp", knots=tuple(knots), integer=integer)


def _every(raw: dict, adapter: TypeAdapter) -> Varying:
    unknown = sorted(set(raw) - {"every", "value", "otherwise"})
    if unknown:
        raise _Invalid((unknown[0],), "unknown key (a period has every, value and otherwise)")
    for key in ("value", "otherwise"):
        if key not in raw:
            raise _Invalid((key,), "is required with every")
    period = _generation(raw["every"], ("every",))
    value, otherwise = (_check(adapter, raw[k], (k,)) for k in ("value", "otherwise"))
    return Varying("every", period=period, value=value, otherwise=otherwise)


def parse(raw: Any, kind: Any, *, numeric: bool = True, integer: bool = False) -> Any:
    """``raw`` as a constant of type ``kind`` (validated strictly) or a :class:`Varying`.

    Raises ``pydantic.ValidationError`` whose location names the entry at fault relative to the
    value (``[1]``, ``from``), so a config error reads ``loop.n_synthetic[1].from: ...``.
    """
    if isinstance(raw, Varying):
        return raw
    adapter = TypeAdapter(kind)
    try:
        if isinstance(raw, list):
            return _steps(raw, adapter)
        if isinstance(raw, dict) and "ramp" in raw:
            if not numeric:
                raise _Invalid(("ramp",), "only numbers can ramp; use steps")
            if set(raw) != {"ramp"}:
                raise _Invalid((sorted(set(raw) - {"ramp"})[0],), "unknown key next to ramp")
            return _ramp(raw["ramp"], adapter, integer)
        if isinstance(raw, dict) and "every" in raw:
            return _every(raw, adapter)
        if isinstance(raw, dict):
            raise _Invalid((), "a schedule table needs ramp = [...] or every = k (or give a list of steps)")
        return _check(adapter, raw, ())
    except _Invalid as bad:
        error = PydanticCustomError(bad.kind, bad.message)
        details: InitErrorDetails = {"type": error, "loc": bad.loc, "input": bad.value}
        raise ValidationError.from_exception_data("schedule", [details]) from None


def scheduled(kind: Any, *, numeric: bool = True, integer: bool = False, optional: bool = False) -> Any:
    """An annotation for an options field holding a constant of ``kind`` or a schedule of them
    (see the module docstring); ``None`` passes when ``optional``. Serialises to the canonical form."""

    def validate(raw: Any) -> Any:
        if raw is None and optional:
            return None
        return parse(raw, kind, numeric=numeric, integer=integer)

    def dump(value: Any) -> Any:
        return value.raw() if isinstance(value, Varying) else value

    return Annotated[Any, BeforeValidator(validate), PlainSerializer(dump)]


def varying_fields(options: Any) -> dict[str, Varying]:
    """The fields of a validated options model that hold a schedule: ``{name: Varying}``."""
    return {name: v for name, v in dict(options).items() if isinstance(v, Varying)}


def first_values(options: Any) -> Any:
    """``options`` with every schedule replaced by its generation-1 value."""
    varying = varying_fields(options)
    return options.model_copy(update={k: v.at(1) for k, v in varying.items()}) if varying else options


def schedule_of(raw: Any) -> Varying | None:
    """The :class:`Varying` a resolved (canonical) config value describes, or None for a constant.

    For readers of stored configs (plots); the value was validated when the run was planned."""
    if isinstance(raw, list) and raw and all(isinstance(s, dict) and "from" in s for s in raw):
        return Varying("steps", steps=tuple((s["from"], s.get("to"), s["value"]) for s in raw))
    if isinstance(raw, dict) and set(raw) == {"ramp"} and isinstance(raw["ramp"], list):
        knots = tuple((g, v) for g, v in raw["ramp"])
        return Varying("ramp", knots=knots, integer=all(isinstance(v, int) for _, v in knots))
    if isinstance(raw, dict) and set(raw) == {"every", "value", "otherwise"}:
        return Varying("every", period=raw["every"], value=raw["value"], otherwise=raw["otherwise"])
    return None
