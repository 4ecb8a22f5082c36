"""``Math`` for Worker code that reaches it through ``js``: JS semantics where they differ from Python's.

Results are numbers as Pyodide hands them over (an integral value in the safe range is an ``int``); where
Python raises (``sqrt(-1)``, ``log(0)``, overflow) JS answers ``NaN`` or an infinity, and so does this;
``Math.round`` rounds halves up (``round(-2.5) == -2``).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from typing import Any


def _number(value: Any) -> Any:
    """A JS number as Pyodide hands it to Python: integral values (in the safe range) become ``int``."""
    if isinstance(value, float) and value.is_integer() and abs(value) <= 2**53:
        return int(value)
    return value


def _numeric(function: Callable[..., float]) -> staticmethod[..., Any]:
    def call(*args: Any) -> Any:
        try:
            return _number(function(*(float(a) for a in args)))
        except ValueError:
            return math.nan  # a domain error: NaN in JS
        except OverflowError:
            return math.inf
    return staticmethod(call)


def _js_round(x: float) -> float:
    return float(math.floor(x + 0.5)) if math.isfinite(x) else x  # JS rounds halves up: round(-2.5) == -2


def _js_pow(x: float, y: float) -> float:
    if x == 0 and y < 0:
        return math.inf
    if x < 0 and math.isfinite(y) and not y.is_integer():
        return math.nan
    try:
        return float(x ** y)
    except OverflowError:
        return math.inf


def _js_sign(x: float) -> float:
    return x if x == 0 or math.isnan(x) else math.copysign(1.0, x)


def _extreme(pick: Callable[[list[float]], float], empty: float) -> staticmethod[..., Any]:
    def call(*args: Any) -> Any:
        values = [float(a) for a in args]
        if any(math.isnan(v) for v in values):
            return math.nan
        return _number(pick(values)) if values else empty
    return staticmethod(call)


class Math:
    PI, E, LN2, LN10, LOG2E, LOG10E, SQRT2, SQRT1_2 = (
        math.pi, math.e, math.log(2), math.log(10), 1 / math.log(2), 1 / math.log(10), math.sqrt(2),
        math.sqrt(0.5))
    floor = _numeric(lambda x: x if not math.isfinite(x) else float(math.floor(x)))
    ceil = _numeric(lambda x: x if not math.isfinite(x) else float(math.ceil(x)))
    trunc = _numeric(lambda x: x if not math.isfinite(x) else float(math.trunc(x)))
    round = _numeric(_js_round)
    sign = _numeric(_js_sign)
    abs = _numeric(abs)
    sqrt = _numeric(math.sqrt)
    cbrt = _numeric(lambda x: math.copysign(abs(x) ** (1 / 3), x))
    pow = _numeric(_js_pow)
    exp = _numeric(math.exp)
    log = _numeric(lambda x: -math.inf if x == 0 else math.log(x))
    log2 = _numeric(lambda x: -math.inf if x == 0 else math.log2(x))
    log10 = _numeric(lambda x: -math.inf if x == 0 else math.log10(x))
    sin, cos, tan = _numeric(math.sin), _numeric(math.cos), _numeric(math.tan)
    asin, acos, atan = _numeric(math.asin), _numeric(math.acos), _numeric(math.atan)
    atan2 = _numeric(math.atan2)
    hypot = _numeric(lambda *xs: math.hypot(*xs))
    max = _extreme(max, -math.inf)
    min = _extreme(min, math.inf)

    @staticmethod
    def random() -> float:
        return random.random()
