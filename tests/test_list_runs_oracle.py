"""list_runs end to end against the pure-Python reference evaluator of the filter language.

Hypothesis generates traces (tags, nested metadata, unicode, bare-list payloads, feedback,
errors, unfinished runs, nulls) and filter trees. The runs go in through
``Client.batch_ingest_runs`` the way the SDK sends them, are read back with ``list_runs``,
and for every filter the ids ``list_runs(filter=|trace_filter=|tree_filter=)`` returns must
equal what the oracle computes over the runs as read back.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import localtrace
from filters.oracle import matching_ids
from filters.strategies import filters, populations
from localtrace._time import from_micros, to_micros
from localtrace.filters import parse
from runs_factory import segment

PROFILE = settings(
    max_examples=int(os.environ.get("LOCALTRACE_LIST_EXAMPLES", "40")),
    deadline=None,
    derandomize=bool(os.environ.get("CI")),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _cost(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def sdk_dicts(population: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The oracle's runs as the SDK would post them."""
    dotted: dict[str, str] = {}
    posts = []
    for run in population:
        own = segment(from_micros(run["start_time"]), run["id"])
        parent = run["parent_run_id"]
        dotted[run["id"]] = f"{dotted[parent]}.{own}" if parent else own
        metadata = dict(run["metadata"])
        if run["thread_id"] is not None:
            metadata["thread_id"] = run["thread_id"]
        metadata["usage_metadata"] = {
            "input_tokens": run["prompt_tokens"],
            "output_tokens": run["completion_tokens"],
            "input_cost": _cost(run["prompt_cost"]),
            "output_cost": _cost(run["completion_cost"]),
            "total_cost": _cost(run["total_cost"]),
        }
        post: dict[str, Any] = {
            "id": run["id"],
            "trace_id": run["trace_id"],
            "parent_run_id": parent,
            "dotted_order": dotted[run["id"]],
            "name": run["name"],
            "run_type": run["run_type"],
            "start_time": from_micros(run["start_time"]),
            "end_time": from_micros(run["end_time"]) if run["end_time"] is not None else None,
            "error": run["error"],
            "tags": run["tags"],
            "inputs": run["inputs"],
            "outputs": run["outputs"],
            "extra": {"metadata": metadata},
            "session_id": run["session_id"],
            "reference_example_id": run["reference_example_id"],
        }
        if run["first_token_time"] is not None:
            post["events"] = [{"name": "new_token", "time": from_micros(run["first_token_time"])}]
        posts.append(post)
    return posts


def _micros(value: dt.datetime | None) -> int | None:
    return None if value is None else to_micros(value)


def read_back(client: localtrace.Client) -> list[dict[str, Any]]:
    """Every stored run in the oracle's plain-dict shape, from the public API only."""
    feedback: dict[str, list[dict[str, Any]]] = {}
    for item in client.list_feedback():
        feedback.setdefault(str(item.run_id), []).append(
            {"key": item.key, "score": item.score, "value": item.value}
        )
    runs = []
    for run in client.list_runs():
        runs.append(
            {
                "id": str(run.id),
                "trace_id": str(run.trace_id),
                "parent_run_id": str(run.parent_run_id) if run.parent_run_id else None,
                "session_id": str(run.session_id),
                "name": run.name,
                "run_type": run.run_type,
                "status": run.status,
                "start_time": _micros(run.start_time),
                "end_time": _micros(run.end_time),
                "first_token_time": _micros(run.first_token_time),
                "reference_example_id": str(run.reference_example_id)
                if run.reference_example_id
                else None,
                "thread_id": run.metadata.get("thread_id"),
                "tags": run.tags or [],
                "metadata": run.metadata,
                "inputs": run.inputs,
                "outputs": run.outputs,
                "error": run.error,
                "feedback": feedback.get(str(run.id), []),
                "prompt_tokens": run.prompt_tokens,
                "completion_tokens": run.completion_tokens,
                "total_tokens": run.total_tokens,
                "prompt_cost": run.prompt_cost,
                "completion_cost": run.completion_cost,
                "total_cost": run.total_cost,
            }
        )
    return runs


@PROFILE
@given(populations(), st.lists(filters, min_size=1, max_size=4))
def test_list_runs_matches_the_oracle(population: list[dict[str, Any]], texts: list[str]) -> None:
    with localtrace.Client(":memory:") as client:
        client.batch_ingest_runs(create=sdk_dicts(population))
        client.flush()
        for run in population:
            for item in run["feedback"]:
                client.create_feedback(
                    run["id"], item["key"], score=item["score"], value=item["value"]
                )
        stored = read_back(client)
        assert len(stored) == len(population)
        for text in texts:
            node = parse(text)
            for scope, argument in (
                ("filter", "filter"),
                ("trace", "trace_filter"),
                ("tree", "tree_filter"),
            ):
                got = {str(r.id) for r in client.list_runs(**{argument: text})}
                assert got == matching_ids(node, stored, scope), f"{argument}={text}"
