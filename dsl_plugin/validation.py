"""Checkers for hyper-parameter tables: each one normalises a value or raises ``ValueError`` naming the parameter,
the allowed range and the value (``num_samples must be an integer >= 1, got -1``).

A checker is ``check(name, value) -> value``. Normalisation makes values from OCTIS's / skopt's optimisers
safe to store and to write to JSON: numpy scalars become Python scalars, sequences become tuples.
Integers accept whole floats (``20.0`` from a ``skopt.space.Real`` or a JSON file becomes ``20``) but not
fractional ones (``2.7`` is refused, never truncated) nor booleans.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any, Callable

import numpy as np

Checker = Callable[[str, Any], Any]


def _fail(name: str, allowed: str, value: Any) -> ValueError:
    return ValueError(f"{name} must be {allowed}, got {value!r}")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _as_int(value: Any) -> int | None:
    value = _plain(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _as_float(value: Any) -> float | None:
    value = _plain(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def integer(minimum: int, maximum: int | None = None) -> Checker:
    allowed = f"an integer >= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")

    def check(name, value):
        v = _as_int(value)
        if v is None or v < minimum or (maximum is not None and v > maximum):
            raise _fail(name, allowed, value)
        return v
    return check


def real(low: float | None = None, high: float | None = None, low_open: bool = False, high_open: bool = False,
         ) -> Checker:
    """A finite number in the given (half-)open interval."""
    if low is not None and high is not None:
        allowed = f"a finite number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    elif low is not None:
        allowed = f"a finite number {'>' if low_open else '>='} {low:g}"
    else:
        allowed = "a finite number"

    def check(name, value):
        v = _as_float(value)
        if (v is None or (low is not None and (v <= low if low_open else v < low))
                or (high is not None and (v >= high if high_open else v > high))):
            raise _fail(name, allowed, value)
        return v
    return check


def choice(*options: Any) -> Checker:
    allowed = f"one of {list(options)}"

    def check(name, value):
        value = _plain(value)
        if isinstance(value, str) or value is None:
            for o in options:
                if value == o:
                    return o
        raise _fail(name, allowed, value)
    return check


_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


def boolean(name: str, value: Any) -> bool:
    """True/False, numpy booleans, 0/1 and the strings true/false/yes/no/1/0 (OCTIS categorical values)."""
    value = _plain(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE | _FALSE:
        return value.strip().lower() in _TRUE
    raise _fail(name, "a boolean (True/False)", value)


def exact_boolean(name: str, value: Any) -> bool:
    """Only True/False (or numpy booleans): for parameters where a number means something else."""
    value = _plain(value)
    if not isinstance(value, bool):
        raise _fail(name, "True or False", value)
    return value


def text(contains: str | None = None, path: bool = False) -> Checker:
    """A non-empty string (``path=True``: also a path-like, stored as ``str``), containing ``contains`` once."""
    allowed = "a non-empty string" + (f" containing {contains!r} exactly once" if contains else "")

    def check(name, value):
        value = _plain(value)
        if path and isinstance(value, os.PathLike):
            value = os.fspath(value)
        if not isinstance(value, str) or not value or (contains and value.count(contains) != 1):
            raise _fail(name, allowed, value)
        return value
    return check


def optional(inner: Checker) -> Checker:
    def check(name, value):
        return None if value is None else inner(name, value)
    return check


def sequence_of(inner: Checker, allowed: str, length: int | None = None) -> Checker:
    """A list/tuple/array of values each passing ``inner``, as a tuple."""
    def check(name, value):
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__") or hasattr(value, "keys"):
            raise _fail(name, allowed, value)
        items = list(value)
        if length is not None and len(items) != length:
            raise _fail(name, allowed, value)
        try:
            checked = tuple(inner(name, v) for v in items)
        except ValueError:
            raise _fail(name, allowed, value) from None
        # a valid tuple is kept as the same object (scikit-learn's clone checks parameters by identity)
        same = isinstance(value, tuple) and all(type(a) is type(b) and a == b for a, b in zip(checked, value))
        return value if same else checked
    return check


def either(first: Checker, second: Checker, allowed: str) -> Checker:
    def check(name, value):
        for c in (first, second):
            try:
                return c(name, value)
            except ValueError:
                pass
        raise _fail(name, allowed, value)
    return check


def has_method(method: str, allowed: str) -> Checker:
    def check(name, value):
        if isinstance(value, (str, bytes)) or not callable(getattr(value, method, None)):  # str has .encode
            raise _fail(name, allowed, value)
        return value
    return check


def torch_device(name: str, value: Any) -> str:
    """``"auto"`` or anything ``torch.device`` parses (``cpu``, ``cuda``, ``cuda:1``, ``mps``)."""
    import torch

    value = _plain(value)
    if isinstance(value, torch.device):
        value = str(value)
    if isinstance(value, str):
        if value == "auto":
            return value
        try:
            torch.device(value)
            return value
        except (RuntimeError, ValueError):
            pass
    raise _fail(name, "'auto' or a torch device name (cpu, cuda, cuda:0, mps)", value)


def validate(table: dict[str, tuple[Any, Checker]], values: dict[str, Any], owner: str) -> dict[str, Any]:
    """Check every ``values[name]`` with ``table[name][1]``; unknown names raise ``ValueError``."""
    unknown = sorted(set(values) - set(table))
    if unknown:
        raise ValueError(f"unknown {owner} hyper-parameter(s): {unknown}")
    return {k: table[k][1](k, v) for k, v in values.items()}
