"""Statistics from numpy arrays: percentiles, means, rates and feedback score summaries.

Pure numpy, no SQL: ``_runstats`` fetches the columns and hands them over here. Definitions
(also in docs/statistics.md):

* **percentile** ``p`` of ``n`` values: sort them as ``x[0] <= ... <= x[n-1]``, let
  ``h = (n - 1) * p / 100``; the percentile is ``x[floor(h)] + (h - floor(h)) *
  (x[floor(h) + 1] - x[floor(h)])`` (linear interpolation between closest ranks, numpy's
  default ``method="linear"``). ``None`` for no values.
* **costs** are integer pico-dollars; their percentiles use the same formula in exact
  arithmetic and come back as exact ``Decimal`` USD.
* **stdev** is the population standard deviation (divides by ``n``, not ``n - 1``).
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from decimal import Decimal
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
    """Linear-interpolation percentiles of ``values`` (``None`` each when there are none)."""
    if values.size == 0:
        return [None] * len(qs)
    found = np.percentile(values, list(qs), method="linear")
    return [float(v) for v in found]


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


def seconds(micros: IntArray) -> FloatArray:
    """Microsecond durations -> seconds (each the correctly rounded quotient)."""
    return micros.astype(np.float64) / MICROS_PER_SECOND


def mean(values: npt.NDArray[Any]) -> float | None:
    """Arithmetic mean, ``None`` for no values."""
    if values.size == 0:
        return None
    return float(np.mean(values))


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` as a fraction, ``None`` when ``whole`` is 0."""
    return part / whole if whole else None


def duration_metrics(prefix: str, micros: IntArray, wanted: AbstractSet[str]) -> dict[str, Any]:
    """``{prefix}_p50``, ``{prefix}_p99`` (and ``{prefix}_avg``) in seconds, those wanted."""
    names = [f"{prefix}_p{q}" for q in PERCENTILES]
    out: dict[str, Any] = {}
    if any(name in wanted for name in names):
        values = seconds(micros)
        for name, value in zip(names, percentiles(values), strict=True):
            if name in wanted:
                out[name] = value
        if f"{prefix}_avg" in wanted:
            out[f"{prefix}_avg"] = mean(values)
    elif f"{prefix}_avg" in wanted:
        out[f"{prefix}_avg"] = mean(seconds(micros))
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


def score_summary(scores: FloatArray) -> dict[str, float | None]:
    """``avg``, ``stdev`` (population), ``min`` and ``max`` of numeric feedback scores."""
    if scores.size == 0:
        return {"avg": None, "stdev": None, "min": None, "max": None}
    avg = float(np.mean(scores))
    stdev = float(np.sqrt(np.mean(np.square(scores - avg)))) if np.isfinite(avg) else None
    return {
        "avg": avg if np.isfinite(avg) else None,
        "stdev": stdev if stdev is not None and np.isfinite(stdev) else None,
        "min": float(np.min(scores)),
        "max": float(np.max(scores)),
    }
