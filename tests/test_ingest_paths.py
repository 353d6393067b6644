"""The write side's fast paths give exactly what the general paths give.

Ingest takes shortcuts for the common case (a run a batch brings first, metadata of scalars
and objects of scalars); each is checked here against the general rule it stands for, on
generated inputs.
"""

from __future__ import annotations

import dataclasses
import math
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from localtrace._flatten import MAX_PAIRS, flatten, iter_pairs
from localtrace._ids import canonical_uuid, uuid_text
from localtrace._ingest.merge import apply_change, new_state
from localtrace._ingest.normalize import RunProblemError, _non_finite, _plainly_finite, normalize
from localtrace._ingest.pricing import _response_model
from localtrace._ingest.state import RunState
from localtrace._usage import EMPTY_USAGE, Usage, own_usage

_KEYS = st.sampled_from(["", "a", "b", "a.b", "user", "1", "ls_model_name"])
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 5), st.floats(allow_nan=False), st.text(max_size=5)
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3),
    max_leaves=12,
)


def _general_flatten(value: Any, limit: int = MAX_PAIRS) -> list[tuple[str, str | None]]:
    """The definition: every pair of the depth-first walk, first occurrence kept."""
    pairs: list[tuple[str, str | None]] = []
    for pair in iter_pairs(value):
        if pair not in pairs:
            pairs.append(pair)
            if len(pairs) >= limit:
                break
    return pairs


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_KEYS, _JSON, max_size=5))
def test_flatten_is_the_depth_first_walk(metadata: dict[str, Any]) -> None:
    assert flatten(metadata) == _general_flatten(metadata)
    assert flatten(metadata, limit=2) == _general_flatten(metadata, limit=2)


_FIELDS = st.fixed_dictionaries(
    {"id": st.just("0e9c2d8c-3a4c-4c61-8a53-2f1e2b7c9d01")},
    optional={
        "name": st.text(max_size=4),
        "run_type": st.sampled_from(["chain", "llm", "tool"]),
        "start_time": st.just("2026-01-01T00:00:00Z"),
        "end_time": st.just("2026-01-01T00:00:01Z"),
        "inputs": st.dictionaries(_KEYS, _SCALARS, max_size=2),
        "outputs": st.dictionaries(_KEYS, _SCALARS, max_size=2),
        "events": st.lists(
            st.fixed_dictionaries(
                {"name": st.sampled_from(["new_token", "start"]), "time": st.just("2026-01-01")}
            ),
            max_size=2,
        ),
        "tags": st.lists(st.text(max_size=3), max_size=2),
        "extra": st.dictionaries(
            st.sampled_from(["metadata", "runtime"]),
            st.dictionaries(_KEYS, _SCALARS, max_size=2),
            max_size=2,
        ),
        "error": st.text(max_size=3),
        "serialized": st.dictionaries(_KEYS, _SCALARS, max_size=1),
        "revision_id": st.just("r1"),
        "session_name": st.just("p"),
        "parent_run_id": st.just("6b9a7f1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b"),
        "trace_id": st.just("6b9a7f1e-2c3d-4e5f-8a9b-0c1d2e3f4a5b"),
        "unknown_field": st.integers(),
        "attachments": st.just({"a.txt": ("text/plain", b"x")}),
    },
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["post", "patch"]), _FIELDS)
def test_a_new_run_state_is_the_merge_into_an_empty_one(kind: str, raw: dict[str, Any]) -> None:
    change = normalize(kind, raw)
    merged = RunState(id=change.run_id)
    apply_change(merged, change)
    assert dataclasses.asdict(new_state(change)) == dataclasses.asdict(merged)


_USAGE = st.builds(
    Usage,
    prompt_tokens=st.integers(0, 9),
    total_cost=st.none() | st.integers(0, 9),
    prompt_token_details=st.dictionaries(st.sampled_from(["cache_read"]), st.integers(0, 9)),
    first_token_time=st.none() | st.integers(0, 9),
)


@given(_USAGE, st.sampled_from([1, -1]))
def test_combining_with_nothing_changes_nothing(usage: Usage, sign: int) -> None:
    assert usage.combine(EMPTY_USAGE, sign) == usage.combine(Usage(), sign) == usage
    assert EMPTY_USAGE.combine(usage) == Usage().combine(usage)


def test_a_non_finite_number_deep_in_usage_is_named_by_its_whole_path() -> None:
    usage = {"input_tokens": 3, "input_token_details": {"cache_read": 1, "audio": math.inf}}
    raw = {"id": "0e9c2d8c-3a4c-4c61-8a53-2f1e2b7c9d01", "extra": {"metadata": {}}}
    raw["extra"]["metadata"]["usage_metadata"] = usage
    with pytest.raises(RunProblemError) as refused:
        normalize("post", raw)
    assert refused.value.problem.field == (
        "extra.metadata.usage_metadata.input_token_details.audio"
    )
    assert refused.value.problem.reason == "inf is not a finite number"


_NUMBERS = (
    st.integers()
    | st.floats()
    | st.sampled_from([math.nan, math.inf, -math.inf, 1e308])
    | st.booleans()
    | st.decimals(allow_nan=False)
)
_USAGE_VALUES = st.recursive(
    _NUMBERS | st.none() | st.text(max_size=3),
    lambda inner: st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)


@given(st.dictionaries(st.text(max_size=5), _USAGE_VALUES, max_size=6))
@example({"input_tokens": 3, "output_tokens": math.nan})
@example({"input_tokens": math.inf, "output_tokens": -math.inf})
@example({"input_tokens": 3, "input_token_details": {"audio": math.inf}})
@example({"input_tokens": Decimal("Infinity"), "output_tokens": Decimal("-Infinity")})
def test_the_quick_finiteness_test_never_passes_a_non_finite_number(usage: dict) -> None:
    """check_usage_numbers looks closely only when the one-sum test fails: that test must never
    pass a usage the close look refuses."""
    if _plainly_finite(usage):
        assert _non_finite(usage) is None


_USAGE_LIKE = st.fixed_dictionaries(
    {"input_tokens": st.integers(0, 9), "output_tokens": st.integers(0, 9)}
)
_HINTED = st.sampled_from(["usage_metadata", "generations", "llm_output", "answer", "x"])
_OUTPUT_VALUES = st.recursive(
    st.none() | st.integers(0, 9) | _HINTED | _USAGE_LIKE,
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(
            _HINTED | st.sampled_from(["message", "kwargs", "token_usage"]), inner, max_size=3
        )
    ),
    max_leaves=8,
)


@given(st.dictionaries(_HINTED, _OUTPUT_VALUES, max_size=3))
@example({"answer": {"usage_metadata": {"input_tokens": 3, "output_tokens": 1}}})
@example({"usage_metadata": {"input_tokens": 3, "output_tokens": 1}})
@example({"llm_output": {"token_usage": {"input_tokens": 3, "output_tokens": 1}}})
@example({"llm_output": {"model_name": "gpt-4o"}})
@example({"generations": [[{"message": {"usage_metadata": {"input_tokens": 3}}}]]})
def test_outputs_without_a_usage_key_at_the_top_hold_no_usage_and_no_model(
    outputs: dict[str, Any],
) -> None:
    """Ingest parses outputs again only when their object has a usage key at its top
    (``Change.outputs_usage``): any other outputs give the same usage and model as none."""
    change = normalize("post", {"id": str(uuid.uuid4()), "outputs": outputs})
    if not change.outputs_usage:
        assert own_usage(None, outputs) == own_usage(None, None)
        assert _response_model(outputs) is None


class _MyUUID(uuid.UUID):
    """A UUID subclass (some libraries return one): its own ``__str__`` must still be used."""

    def __str__(self) -> str:
        return "custom-" + super().__str__()


@settings(max_examples=300, deadline=None)
@given(st.uuids())
def test_uuid_text_is_str_of_the_uuid(value: uuid.UUID) -> None:
    assert uuid_text(value) == str(value) == canonical_uuid(value, "id")
    odd = _MyUUID(int=value.int)
    assert uuid_text(odd) == str(odd)
