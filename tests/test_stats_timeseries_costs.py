"""``Client.time_series`` bucket costs are exact: each bucket's ``total_cost`` is the ``Decimal``
sum of its runs' costs (as ``get_run_stats`` gives), at either level, grouped or not, with or
without the latency figures (two reading paths). A float of pico-dollars would lose the last
pico-dollar of a bucket above $8,192 and print ``5e-12`` for ``5E-12``.

The oracle is the ``Decimal`` sum of the costs each run was sent with.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import localtrace
from runs_factory import T0, make_run

PICO = Decimal(10) ** 12
STRIDE = dt.timedelta(minutes=30)
WINDOW = {"min_start_time": T0, "max_start_time": T0 + 4 * STRIDE}

# (minute into the two-hour window, cost in pico-dollars, up to $1,000,000 a run: a store
# holds up to $9,223,372 a cost) per trace: a chain with an llm child
traces = st.lists(st.tuples(st.integers(0, 119), st.integers(0, 10**18)), min_size=0, max_size=8)


def _store(db: Path, sent: list[tuple[int, int]]) -> list[tuple[dt.datetime, Decimal]]:
    runs, costs = [], []
    for minute, pico in sent:
        start = T0 + dt.timedelta(minutes=minute)
        cost = Decimal(pico) / PICO
        root = make_run("agent", start=start, project="p", id=uuid.uuid4())
        usage = {
            "input_tokens": 1,
            "output_tokens": 1,
            "total_tokens": 2,
            "total_cost": str(cost),
        }
        runs += [root, make_run("model", "llm", parent=root, usage=usage, project="p")]
        costs.append((start, cost))
    with localtrace.Client(db) as client:
        if runs:
            client.batch_ingest_runs(create=runs)
        else:
            client.create_project("p")
    return costs


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sent=traces)
@example(sent=[(0, 10**16 + 1), (1, 5)])  # above $8,192: a float forgets the odd pico-dollar
@example(sent=[(0, 5)])
@example(sent=[])
def test_bucket_costs_are_the_exact_sums_of_their_runs(
    tmp_path: Path, sent: list[tuple[int, int]]
) -> None:
    db = tmp_path / f"{uuid.uuid4()}.db"
    costs = _store(db, sent)
    with localtrace.Client(db) as client:
        if costs:
            assert client.get_run_stats(project_names=["p"], is_root=True).total_cost == sum(
                c for _, c in costs
            )
        for level in ("traces", "runs"):
            for group_by in (None, "run_type"):
                for select in (None, ["total_cost"]):
                    series = client.time_series(
                        project_name="p",
                        stride=STRIDE,
                        level=level,
                        group_by=group_by,
                        select=select,
                        **WINDOW,
                    )
                    # the cost is the chain's (its trace's) at the trace level, the llm's below
                    costed = None if group_by is None else "chain" if level == "traces" else "llm"
                    found = [g for g in series.groups if g.group == costed]
                    if not found:
                        assert not costs
                        continue
                    (group,) = found
                    for bucket in group.buckets:
                        inside = [
                            c
                            for t, c in costs
                            if bucket.start_time <= t < bucket.start_time + STRIDE
                        ]
                        assert isinstance(bucket.total_cost, Decimal)
                        assert bucket.total_cost == sum(inside, Decimal(0))
                        assert str(bucket.total_cost) == str(_lowest(sum(inside, Decimal(0))))
                    assert sum(b.total_cost or 0 for b in group.buckets) == sum(
                        (c for _, c in costs), Decimal(0)
                    )


def _lowest(value: Decimal) -> Decimal:
    """``value`` as the store reads a cost back: no trailing zeros, no exponent for whole
    dollars (``"0"``, ``"100"``, ``"5E-12"``)."""
    if value == 0:
        return Decimal(0)
    reduced = value.normalize()
    return reduced.quantize(Decimal(1)) if reduced == reduced.to_integral_value() else reduced
