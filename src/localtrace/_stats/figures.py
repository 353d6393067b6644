"""Statistics from numpy arrays: percentiles, means, rates and feedback score summaries.

Pure numpy, no SQL: ``_runstats`` fetches the columns and hands them over here. Definitions
(also in docs/statistics.md):

* **percentile** ``p`` of ``n`` values: sort them as ``x[0] <= ... <= x[n-1]``, let
  ``h = (n - 1) * p / 100``; the percentile is ``x[floor(h)] + (h - floor(h)) *
  (x[floor(h) + 1] - x[floor(h)])`` (linear interpolation between closest ranks, numpy's
  default ``method="linear"``). ``None`` for no values.
* **costs** are integer pico-dollars; their percentiles use the same formula in exact
  arithmetic and come back as exact ``Decimal`` USD. Percentiles and means of other integers
  (tokens, microsecond latencies) are exact too, then rounded once to a float: no noise.
* **stdev** is the population standard deviation (divides by ``n``, not ``n - 1``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from .. import _money

PERCENTILES = (50, 99)
"""The percentiles RunStats reports (p50 and p99)."""

MICROS_PER_SECOND = 1_000_000

IntArray = npt.NDArray[np.signedinteger[Any]]
"""Integer arrays: 64-bit, or 32-bit where every value fits (``scan.compact``)."""
FloatArray = npt.NDArray[np.float64]


def percentiles(values: npt.NDArray[Any], qs: Sequence[float] = PERCENTILES) -> list[float | None]:
    """Linear-interpolation percentiles of ``values`` (``None`` each when there are none).

    Integers (tokens, microseconds) are interpolated exactly, then rounded once: a p99 of
    token counts reads 36.4, not the 36.400000000000006 of float arithmetic."""
    if values.size == 0:
        return [None] * len(qs)
    if np.issubdtype(values.dtype, np.integer) and all(float(q).is_integer() for q in qs):
        exact = exact_percentiles(values, [int(q) for q in qs])
        return [None if v is None else float(v) for v in exact]
    found = np.percentile(values, list(qs), method="linear")
    return [float(v) for v in found]


def seconds_percentiles(micros: IntArray, qs: Sequence[int] = PERCENTILES) -> list[float | None]:
    """Percentiles of microsecond durations in seconds: exact, then rounded once (the float
    nearest 0.19483405, not 0.19483405000000004)."""
    return [None if v is None else float(v.scaleb(-6)) for v in exact_percentiles(micros, qs)]


def exact_percentiles(values: IntArray, qs: Sequence[int] = PERCENTILES) -> list[Decimal | None]:
    """The same percentiles over integers, computed exactly; ``Decimal`` results.

    Only the (at most two) order statistics around each rank are found (``numpy.partition``),
    then interpolated with integer arithmetic, so nothing is rounded.
    """
    n = int(values.size)
    if n == 0:
        return [None] * len(qs)
    ranks: list[tuple[int, int]] = []  # (floor(h), 100 * (h - floor(h))) for h = (n-1)*q/100
    for q in qs:
        whole, part = divmod((n - 1) * int(q), 100)
        ranks.append((whole, part))
    kth = sorted({i for whole, _ in ranks for i in (whole, min(whole + 1, n - 1))})
    ordered = np.partition(values, kth)
    result: list[Decimal | None] = []
    for whole, part in ranks:
        low = int(ordered[whole])
        high = int(ordered[min(whole + 1, n - 1)])
        hundredths = low * 100 + (high - low) * part
        result.append(Decimal(hundredths).scaleb(-2))
    return result


def pico_to_usd(value: Decimal | int) -> Decimal:
    """Pico-dollars (int or exact Decimal, e.g. an interpolated percentile) -> USD, exact,
    without trailing zeros or exponent: the read path's division (``_money.pico_to_usd``) of
    the value's exact integer ratio."""
    numerator, denominator = Decimal(value).as_integer_ratio()
    return _money.pico_to_usd(Decimal(numerator), _money.PICO * denominator)


def mean_seconds(micros: IntArray) -> float | None:
    """Mean of microsecond durations in seconds: the exact integer sum divided once, so the
    figure carries no float-summing noise."""
    if micros.size == 0:
        return None
    return float(Fraction(exact_sum(micros), int(micros.size) * MICROS_PER_SECOND))


def exact_sum(values: IntArray) -> int:
    """The sum of integers, exact: in 64 bits when it cannot overflow, else in Python ints."""
    n = int(values.size)
    if n == 0:
        return 0
    bound = max(abs(int(values.max())), abs(int(values.min())))
    if bound * n < 2**63:
        return int(values.sum(dtype=np.int64))
    return sum(int(v) for v in values.tolist())


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` as a fraction, ``None`` when ``whole`` is 0."""
    return part / whole if whole else None


def duration_metrics(prefix: str, micros: IntArray, wanted: AbstractSet[str]) -> dict[str, Any]:
    """``{prefix}_p50``, ``{prefix}_p99`` (and ``{prefix}_avg``) in seconds, those wanted."""
    names = [f"{prefix}_p{q}" for q in PERCENTILES]
    out: dict[str, Any] = {}
    if any(name in wanted for name in names):
        for name, value in zip(names, seconds_percentiles(micros), strict=True):
            if name in wanted:
                out[name] = value
    if f"{prefix}_avg" in wanted:
        out[f"{prefix}_avg"] = mean_seconds(micros)
    return out


def count_metrics(
    names: tuple[str, str], values: IntArray, wanted: AbstractSet[str]
) -> dict[str, Any]:
    """p50/p99 of per-run counts (tokens) under the two given field names, those wanted."""
    if not any(name in wanted for name in names):
        return {}
    found = percentiles(values)
    return {name: value for name, value in zip(names, found, strict=True) if name in wanted}


def cost_metrics(pico: IntArray, wanted: AbstractSet[str]) -> dict[str, Any]:
    """``cost_p50``/``cost_p99`` (exact USD) from per-run total costs in pico-dollars."""
    names = ("cost_p50", "cost_p99")
    if not any(name in wanted for name in names):
        return {}
    found = exact_percentiles(pico)
    return {
        name: None if value is None else pico_to_usd(value)
        for name, value in zip(names, found, strict=True)
        if name in wanted
    }


EXACT_BELOW = 1_000
"""Up to this many values a mean is summed in rationals; above, in two compensated passes."""


def exact_mean(values: FloatArray | Sequence[float]) -> float:
    """The mean of finite floats rounded once: six scores of 0.7 average 0.7, not the
    0.7000000000000001 of summing in floats.

    When the exact sum is itself a float (one score, whole-number scores, most pairs: ``fsum``
    leaves nothing over) the division is the only rounding. Otherwise small arrays are summed
    exactly (``Fraction``, a few µs per value); large ones take ``fsum``'s correctly rounded sum
    plus what it left over (the rest is off by 2**-106 of the sum at most)."""
    numbers = values.tolist() if isinstance(values, np.ndarray) else list(values)
    n = len(numbers)
    try:
        total = math.fsum(numbers)
        rest = math.fsum([*numbers, -total])
    except OverflowError:  # a sum past a float's range: only the rationals hold it
        return float(sum(map(Fraction, numbers), Fraction(0)) / n)
    if rest == 0:
        return total / n
    if n <= EXACT_BELOW:
        return float(sum(map(Fraction, numbers), Fraction(0)) / n)
    return float((Fraction(total) + Fraction(rest)) / n)


def _spread(deviations: FloatArray) -> float | None:
    """The population spread of ``deviations``, computed on them divided by the largest, so
    that no square overflows past 1e308 or vanishes below 1e-308 (scores of 1e200 have a
    spread, and so do scores 1e-170 apart); ``None`` when a deviation itself is past a
    float's range."""
    scale = float(np.max(np.abs(deviations)))
    if scale == 0.0:
        return 0.0
    if not np.isfinite(scale):
        return None
    return scale * float(np.sqrt(np.mean(np.square(deviations / scale))))


def score_summary(scores: FloatArray) -> dict[str, float | None]:
    """``avg``, ``stdev`` (population), ``min`` and ``max`` of numeric feedback scores."""
    if scores.size == 0:
        return {"avg": None, "stdev": None, "min": None, "max": None}
    with np.errstate(over="ignore", invalid="ignore"):  # inf and -inf together: no mean
        avg = exact_mean(scores) if bool(np.isfinite(scores).all()) else float(np.mean(scores))
        stdev = _spread(scores - avg) if np.isfinite(avg) else None
    return {
        "avg": avg if np.isfinite(avg) else None,
        "stdev": stdev if stdev is not None and np.isfinite(stdev) else None,
        "min": float(np.min(scores)),
        "max": float(np.max(scores)),
    }
