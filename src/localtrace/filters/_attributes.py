"""The allow-list: every attribute and function the filter language knows.

This table is the only source of column names that reach SQL, and it feeds the documentation
and the "did you mean" hints. ``kind`` groups attributes that convert and compile alike.
"""

from __future__ import annotations

from dataclasses import dataclass

ORDERING = ("eq", "neq", "gt", "gte", "lt", "lte")


@dataclass(frozen=True)
class Attribute:
    """One attribute: its user-facing ``type``, the operators it takes, and where it lives.

    ``family``/``role`` mark the key/value attributes whose conditions pair up inside one
    ``and(...)`` (metadata, input, output, feedback).
    """

    name: str
    type: str
    kind: str
    ops: tuple[str, ...]
    description: str
    column: str | None = None
    nullable: bool = False
    family: str | None = None
    role: str | None = None


def _a(
    name: str,
    type_: str,
    kind: str,
    ops: tuple[str, ...],
    description: str,
    column: str | None = None,
    nullable: bool = False,
    family: str | None = None,
    role: str | None = None,
) -> Attribute:
    return Attribute(name, type_, kind, ops, description, column, nullable, family, role)


_ID_OPS = ("eq", "neq", "in", "search")
_TEXT_OPS = (*ORDERING, "in", "search")

_TABLE = [
    _a("id", "uuid", "id", _ID_OPS, "the run's id", "id"),
    _a("trace_id", "uuid", "id", _ID_OPS, "id of the trace (its root run's id)", "trace_id"),
    _a(
        "parent_run_id",
        "uuid",
        "id",
        _ID_OPS,
        "id of the parent run; null for roots",
        "parent_run_id",
        nullable=True,
    ),
    _a(
        "reference_example_id",
        "uuid",
        "id",
        _ID_OPS,
        "dataset example the run evaluated",
        "reference_example_id",
        nullable=True,
    ),
    _a("session_id", "uuid", "id", _ID_OPS, "id of the project (tracer session)", "session_id"),
    _a("name", "string", "text", _TEXT_OPS, "the run's name", "name"),
    _a("run_type", "string", "text", _TEXT_OPS, "llm, chain, tool, retriever, ...", "run_type"),
    _a("status", "string", "text", _TEXT_OPS, "pending, success or error", "status"),
    _a(
        "thread_id",
        "string",
        "text",
        _TEXT_OPS,
        "conversation id from metadata thread_id / session_id / conversation_id",
        "thread_id",
        nullable=True,
    ),
    _a("start_time", "time", "time", ORDERING, "when the run started", "start_time"),
    _a(
        "end_time",
        "time",
        "time",
        ORDERING,
        "when the run ended; null while running",
        "end_time",
        nullable=True,
    ),
    _a(
        "first_token_time",
        "time",
        "time",
        ORDERING,
        "first streamed token in the run's subtree",
        "first_token_time",
        nullable=True,
    ),
    _a(
        "latency",
        "duration",
        "duration",
        ORDERING,
        "end_time - start_time in seconds; null while running",
    ),
    _a(
        "total_tokens",
        "integer",
        "count",
        (*ORDERING, "in"),
        "prompt + completion tokens",
        "total_tokens",
    ),
    _a("prompt_tokens", "integer", "count", (*ORDERING, "in"), "input tokens", "prompt_tokens"),
    _a(
        "completion_tokens",
        "integer",
        "count",
        (*ORDERING, "in"),
        "output tokens",
        "completion_tokens",
    ),
    _a(
        "total_cost",
        "cost (USD)",
        "cost",
        ORDERING,
        "prompt + completion cost; null if unknown",
        "total_cost",
        nullable=True,
    ),
    _a(
        "prompt_cost",
        "cost (USD)",
        "cost",
        ORDERING,
        "cost of the input tokens",
        "prompt_cost",
        nullable=True,
    ),
    _a(
        "completion_cost",
        "cost (USD)",
        "cost",
        ORDERING,
        "cost of the output tokens",
        "completion_cost",
        nullable=True,
    ),
    _a("is_root", "boolean", "is_root", ("eq", "neq"), "true for the root run of a trace"),
    _a(
        "execution_order",
        "integer",
        "execution_order",
        ORDERING,
        "1 for the root run; runs below the root count as 2 or more",
    ),
    _a(
        "error",
        "string",
        "error",
        ("eq", "neq", "search"),
        "the error text; eq(error, null) = no error, neq(error, null) = failed",
    ),
    _a("tags", "list of strings", "tags", ("has", "eq", "neq", "in", "search"), "the run's tags"),
    _a(
        "metadata",
        "JSON object",
        "metadata",
        ("has", "exists"),
        'extra.metadata: has(metadata, \'{"k": "v"}\') or exists(metadata, "k")',
    ),
    _a("inputs", "JSON text", "payload", ("search",), "the run's inputs as JSON text", "inputs"),
    _a("outputs", "JSON text", "payload", ("search",), "the run's outputs as JSON text", "outputs"),
    _a(
        "metadata_key",
        "key",
        "pair_key",
        _TEXT_OPS,
        "a flattened metadata key (dot path)",
        family="metadata",
        role="key",
    ),
    _a(
        "metadata_value",
        "value",
        "pair_value",
        _TEXT_OPS,
        "a flattened metadata value",
        family="metadata",
        role="value",
    ),
    _a(
        "input_key",
        "key",
        "pair_key",
        _TEXT_OPS,
        "a flattened inputs key (dot path)",
        family="input",
        role="key",
    ),
    _a(
        "input_value",
        "value",
        "pair_value",
        _TEXT_OPS,
        "a flattened inputs value",
        family="input",
        role="value",
    ),
    _a(
        "output_key",
        "key",
        "pair_key",
        _TEXT_OPS,
        "a flattened outputs key (dot path)",
        family="output",
        role="key",
    ),
    _a(
        "output_value",
        "value",
        "pair_value",
        _TEXT_OPS,
        "a flattened outputs value",
        family="output",
        role="value",
    ),
    _a(
        "feedback_key",
        "key",
        "pair_key",
        _TEXT_OPS,
        "key of a feedback on the run",
        family="feedback",
        role="key",
    ),
    _a(
        "feedback_score",
        "number",
        "feedback_score",
        (*ORDERING, "in"),
        "score of that feedback",
        family="feedback",
        role="value",
    ),
    _a(
        "feedback_value",
        "value",
        "feedback_value",
        _TEXT_OPS,
        "value (label) of that feedback",
        family="feedback",
        role="value",
    ),
]

ATTRIBUTES: dict[str, Attribute] = {attribute.name: attribute for attribute in _TABLE}
"""Every attribute by name."""


@dataclass(frozen=True)
class Function:
    """One function of the language: how it is called and what it means."""

    name: str
    signature: str
    description: str
    min_args: int
    max_args: int | None


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in [
        Function("and", "and(cond, ...)", "every condition holds", 1, None),
        Function("or", "or(cond, ...)", "at least one condition holds", 1, None),
        Function("not", "not(cond)", "the condition does not hold", 1, 1),
        Function("eq", "eq(attribute, value)", "equal", 2, 2),
        Function("neq", "neq(attribute, value)", "present and not equal", 2, 2),
        Function("gt", "gt(attribute, value)", "greater than", 2, 2),
        Function("gte", "gte(attribute, value)", "greater than or equal", 2, 2),
        Function("lt", "lt(attribute, value)", "less than", 2, 2),
        Function("lte", "lte(attribute, value)", "less than or equal", 2, 2),
        Function("has", "has(tags|metadata, value)", "tag present / metadata contains", 2, 2),
        Function("in", "in(attribute, [value, ...])", "equal to one of the values", 2, 2),
        Function("exists", "exists(metadata, key)", "the metadata key is present", 2, 2),
        Function(
            "search",
            "search(text) | search(attribute, text)",
            "full-text search / case-insensitive substring",
            1,
            2,
        ),
    ]
}
"""Every function by name."""

LOGICAL = ("and", "or", "not")
COMPARATORS = ("eq", "neq", "gt", "gte", "lt", "lte", "has", "in", "exists", "search")
