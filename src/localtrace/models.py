"""Pydantic models with the field names and types of ``langsmith.schemas``.

A ``localtrace.Run`` can be used wherever code reads a ``langsmith.schemas.Run``: same fields,
same aliases (``input_tokens``, ``output_cost``, ...), same ``latency`` and ``metadata``
properties. ``Project`` mirrors ``TracerSessionResult``; ``Feedback`` mirrors ``Feedback``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_serializer,
)

# the models' field type and its values, kept importable from here
from ._run_types import RUN_TYPES as RUN_TYPES
from ._run_types import RunType as RunType

TENANT_ID = UUID("00000000-0000-4000-8000-00000000a11e")
"""The one tenant of a local store (LangSmith objects always carry a tenant id)."""


class DeferredFields(Protocol):
    """Where a read run's deferred fields come from (``_query/rows.py`` provides it)."""

    def value(self, data: Any, name: str) -> Any:
        """One deferred field's value, from the stored ``data`` of the run."""

    def fill(self, run: Run, data: Any) -> None:
        """Every field into ``run.__dict__``, in declaration order (what ``__dict__`` readers,
        serialisation and comparison need)."""


def files_without_bytes(files: dict[str, Any]) -> dict[str, Any]:
    """Attachments for a JSON dump, which cannot hold a reader: each file is its URL and media
    type (the SDK's ``Run`` and ``Example`` carry a ``BytesIO`` per file)."""
    return {
        str(name): (
            {k: v for k, v in info.items() if k != "reader"}
            if isinstance(info, dict)
            else str(info)
        )
        for name, info in files.items()
    }


class Run(BaseModel):
    """A run (span): one unit of work of an LLM application, as LangSmith returns it.

    A run read from the store defers its typed fields (ids, times, costs, ``app_path``): the
    first read of one converts it from the stored value, serialising, comparing, copying or
    pickling converts all of them. A page of runs whose times and costs nobody reads never
    pays for them; to every reader the run is the same as one built with every field set.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    _deferred: tuple[DeferredFields, Any] | None = PrivateAttr(default=None)
    """(source, stored data) of the fields still left out of ``__dict__``; ``None`` once all are
    in (and for runs built any other way)."""

    id: UUID
    """Unique identifier of the run."""
    name: str
    """Human-readable name (function name for ``@traceable``)."""
    start_time: dt.datetime
    """When the run started (UTC)."""
    run_type: str
    """One of tool, chain, llm, retriever, embedding, prompt, parser."""
    end_time: dt.datetime | None = None
    """When the run ended; ``None`` while it is still running."""
    extra: dict[str, Any] | None = Field(default_factory=lambda: {"metadata": {}})
    """Additional data: ``metadata``, ``runtime``, ``invocation_params``..."""
    error: str | None = None
    """Error text (``repr(exc)`` and traceback for ``@traceable``)."""
    serialized: dict[str, Any] | None = None
    """Serialized form of what ran (llm and prompt runs only)."""
    events: list[dict[str, Any]] | None = None
    """Events such as ``new_token`` (streaming) or ``start``/``end``."""
    inputs: dict[str, Any] = Field(default_factory=dict)
    """Inputs of the run."""
    outputs: dict[str, Any] | None = None
    """Outputs of the run, once it ended."""
    reference_example_id: UUID | None = None
    """Dataset example this run was evaluated on."""
    parent_run_id: UUID | None = None
    """The parent run; ``None`` for the root of a trace."""
    tags: list[str] | None = None
    """Tags of the run."""
    session_id: UUID | None = None
    """Id of the project the run belongs to."""
    child_run_ids: list[UUID] | None = None
    """Deprecated in LangSmith; always ``None`` here."""
    child_runs: list[Run] | None = None
    """Children in execution order, when loaded with ``load_child_runs=True``/``read_trace``."""
    feedback_stats: dict[str, Any] | None = None
    """Per feedback key: ``{n, avg, stdev, min, max, values, ...}``."""
    app_path: str | None = None
    """Path of the run in a LangSmith-style UI: ``/o/{tenant}/projects/p/{session}/r/{id}...``."""
    manifest_id: UUID | None = None
    """Unused locally; kept for field compatibility."""
    status: str | None = None
    """``error`` if the run has an error, ``success`` if it ended, else ``pending``."""
    prompt_tokens: int | None = None
    """Input tokens (llm runs: their own; other runs: the sum over their subtree)."""
    completion_tokens: int | None = None
    """Output tokens (rolled up like ``prompt_tokens``)."""
    total_tokens: int | None = None
    """Total tokens (rolled up like ``prompt_tokens``)."""
    prompt_token_details: dict[str, int] | None = None
    """Input tokens by category, e.g. ``{"cache_read": 12}``."""
    completion_token_details: dict[str, int] | None = None
    """Output tokens by category, e.g. ``{"reasoning": 40}``."""
    first_token_time: dt.datetime | None = None
    """Time of the first streamed token (for ancestors: the earliest in the subtree)."""
    total_cost: Decimal | None = None
    """Cost in USD (exact)."""
    prompt_cost: Decimal | None = None
    """Cost of the input tokens in USD."""
    completion_cost: Decimal | None = None
    """Cost of the output tokens in USD."""
    prompt_cost_details: dict[str, Decimal] | None = None
    """Input cost by category."""
    completion_cost_details: dict[str, Decimal] | None = None
    """Output cost by category."""
    parent_run_ids: list[UUID] | None = None
    """All ancestors, root first (from ``dotted_order``)."""
    trace_id: UUID
    """Id of the root run of the trace."""
    dotted_order: str = ""
    """``<timestamp>Z<id>`` segments from the root down to this run; sorts in execution order."""
    in_dataset: bool | None = None
    """Whether the run is in a dataset (never, locally)."""
    thread_id: str | None = None
    """The thread (conversation) of the run: its metadata ``thread_id``, ``session_id`` or
    ``conversation_id``, the keys LangSmith reads; what the SDK's ``list_threads`` groups by."""
    repair: str | None = None
    """localtrace only: why ingest or tree building had to repair this run (orphan, ...)."""
    cost_source: str | None = None
    """localtrace only: where the run's own cost came from: ``"sent"`` by the application,
    ``"genai-prices/<provider>/<model>"`` from the price catalogue, ``"custom/<price id>"``
    from a custom model price; ``None`` when the run has no own cost (docs/costs.md)."""
    price_model_id: UUID | None = None
    """The custom model price (``list_model_prices``) that priced this run, as LangSmith's
    field of that name; ``None`` for sent or catalogue costs."""
    attachments: dict[str, Any] = Field(default_factory=dict)
    """Files attached to the run, by name, as the SDK's ``Run.attachments`` gives them:
    ``{"presigned_url", "mime_type", "reader"}``, ``reader`` a ``BytesIO`` of the bytes and
    ``presigned_url`` the path ``localtrace serve`` downloads them from. JSON dumps leave the
    bytes out."""

    @field_serializer("attachments", when_used="json")
    def _attachments_without_bytes(self, value: dict[str, Any]) -> dict[str, Any]:
        return files_without_bytes(value)

    @property
    def metadata(self) -> dict[str, Any]:
        """``extra["metadata"]`` (created empty if missing), as on the SDK's Run."""
        if self.extra is None:
            self.extra = {}
        metadata: dict[str, Any] = self.extra.setdefault("metadata", {})
        return metadata

    @property
    def revision_id(self) -> Any:
        """``metadata["revision_id"]`` if set."""
        return self.metadata.get("revision_id")

    @property
    def latency(self) -> float | None:
        """Seconds from start to end; ``None`` while running."""
        if self.end_time is None:
            return None
        return (self.end_time - self.start_time).total_seconds()

    @property
    def input_tokens(self) -> int | None:
        """Alias of ``prompt_tokens``."""
        return self.prompt_tokens

    @property
    def output_tokens(self) -> int | None:
        """Alias of ``completion_tokens``."""
        return self.completion_tokens

    @property
    def input_cost(self) -> Decimal | None:
        """Alias of ``prompt_cost``."""
        return self.prompt_cost

    @property
    def output_cost(self) -> Decimal | None:
        """Alias of ``completion_cost``."""
        return self.completion_cost

    @property
    def input_token_details(self) -> dict[str, int] | None:
        """Alias of ``prompt_token_details``."""
        return self.prompt_token_details

    @property
    def output_token_details(self) -> dict[str, int] | None:
        """Alias of ``completion_token_details``."""
        return self.completion_token_details

    @property
    def input_cost_details(self) -> dict[str, Decimal] | None:
        """Alias of ``prompt_cost_details``."""
        return self.prompt_cost_details

    @property
    def output_cost_details(self) -> dict[str, Decimal] | None:
        """Alias of ``completion_cost_details``."""
        return self.completion_cost_details

    @property
    def url(self) -> str | None:
        """Relative URL of the run (there is no host locally)."""
        return self.app_path

    def walk(self) -> list[Run]:
        """This run and every loaded descendant, in execution order (depth first)."""
        found: list[Run] = [self]
        for child in self.child_runs or []:
            found.extend(child.walk())
        return found

    def __repr__(self) -> str:
        return f"Run(id={self.id}, name={self.name!r}, run_type={self.run_type!r})"

    def _fill(self) -> None:
        """Convert every deferred field now (a no-op for runs that have them all)."""
        private = self.__pydantic_private__
        deferred = private.get("_deferred") if private else None
        if private is not None and deferred is not None:
            source, data = deferred
            source.fill(self, data)
            private["_deferred"] = None  # after: a fill that raises is tried again next time

    def __eq__(self, other: object) -> bool:
        self._fill()  # pydantic compares the private attributes, the deferred state with them
        if isinstance(other, Run):
            other._fill()
        return super().__eq__(other)

    def __getstate__(self) -> dict[Any, Any]:
        self._fill()  # pydantic takes the private attributes first
        return super().__getstate__()

    @property
    def __dict__(self) -> dict[str, Any]:
        """Every field, the deferred ones converted first. pydantic's dumps (of this run or of
        anything holding it), comparisons, copies, pickles, ``dict(run)`` and ``vars(run)``
        read ``__dict__``; attribute access and the readers that build runs use the real dict
        (``raw_dict``) and never come here."""
        private = self.__pydantic_private__
        if private and private.get("_deferred") is not None:
            self._fill()
        fields: dict[str, Any] = raw_dict(self)
        return fields

    @__dict__.setter
    def __dict__(self, fields: dict[str, Any]) -> None:
        _set_raw_dict(self, fields)


raw_dict: Any = BaseModel.__dict__["__dict__"].__get__
"""A model's own ``__dict__``, as it is: for a ``Run``, without filling its deferred fields."""
_set_raw_dict: Any = BaseModel.__dict__["__dict__"].__set__


class _Deferred:
    """A ``Run`` field a read left out of ``__dict__``: converted on its first read.

    A non-data descriptor, so it is consulted only while the field is missing from the run's
    ``__dict__``; runs built any other way have every field there and never reach it.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, run: Run | None, owner: type | None = None) -> Any:
        if run is None:  # as for any pydantic field: the class has no such attribute
            raise AttributeError(self.name)
        private = run.__pydantic_private__
        deferred = private.get("_deferred") if private else None
        if deferred is None:
            raise AttributeError(f"{type(run).__name__!r} object has no attribute {self.name!r}")
        source, data = deferred
        value = raw_dict(run)[self.name] = source.value(data, self.name)
        return value


assert Run.__pydantic_complete__  # descriptors must not be taken for defaults by a rebuild
for _name in Run.model_fields:
    setattr(Run, _name, _Deferred(_name))
del _name


def metadata_of(extra: dict[str, Any] | None) -> dict[str, Any]:
    """``extra["metadata"]`` or ``{}``: the SDK's ``metadata`` property of a project, an
    experiment or a comparison."""
    if not extra or "metadata" not in extra:
        return {}
    metadata: dict[str, Any] = extra["metadata"]
    return metadata


class Project(BaseModel):
    """A project (LangSmith "tracer session"), with ``TracerSessionResult`` statistics."""

    id: UUID
    """Project id."""
    name: str
    """Unique project name."""
    start_time: dt.datetime
    """When the project was created."""
    end_time: dt.datetime | None = None
    """When the project was closed, if ever."""
    description: str | None = None
    """Free text."""
    extra: dict[str, Any] | None = None
    """``{"metadata": {...}, "tags": [...]}`` and anything else given at creation."""
    tenant_id: UUID = TENANT_ID
    """The one local tenant."""
    reference_dataset_id: UUID | None = None
    """Dataset this project evaluates, if any."""
    run_count: int | None = None
    """Statistics (``include_stats=True``): number of traces (root runs)."""
    latency_p50: dt.timedelta | None = None
    """Median root latency."""
    latency_p99: dt.timedelta | None = None
    """99th percentile root latency."""
    first_token_p50: dt.timedelta | None = None
    """Median time to first token over streamed traces."""
    first_token_p99: dt.timedelta | None = None
    """99th percentile time to first token."""
    total_tokens: int | None = None
    """Tokens over all traces."""
    prompt_tokens: int | None = None
    """Input tokens over all traces."""
    completion_tokens: int | None = None
    """Output tokens over all traces."""
    total_cost: Decimal | None = None
    """Cost over all traces (USD)."""
    prompt_cost: Decimal | None = None
    """Input cost over all traces."""
    completion_cost: Decimal | None = None
    """Output cost over all traces."""
    error_rate: float | None = None
    """Fraction of traces whose root errored."""
    streaming_rate: float | None = None
    """Fraction of traces that streamed."""
    last_run_start_time: dt.datetime | None = None
    """Start of the newest trace."""
    feedback_stats: dict[str, Any] | None = None
    """Feedback on the project's root runs, per key."""
    session_feedback_stats: dict[str, Any] | None = None
    """Feedback attached to the project itself (no run), per key."""
    run_facets: list[dict[str, Any]] | None = None
    """Top values per dimension, each with a filter ``query`` to drill down."""

    @property
    def metadata(self) -> dict[str, Any]:
        """``extra["metadata"]`` or ``{}``."""
        return metadata_of(self.extra)

    @property
    def tags(self) -> list[str]:
        """``extra["tags"]`` or ``[]``."""
        if not self.extra or "tags" not in self.extra:
            return []
        tags: list[str] = self.extra["tags"]
        return tags

    @property
    def url(self) -> str:
        """Relative URL of the project in a LangSmith-style UI."""
        return f"/o/{self.tenant_id}/projects/p/{self.id}"


TracerSession = Project
TracerSessionResult = Project


class Dataset(BaseModel):
    """A dataset of examples, as ``langsmith.schemas.Dataset``."""

    id: UUID
    """Dataset id."""
    name: str
    """Unique dataset name."""
    description: str | None = None
    """Free text."""
    data_type: str | None = "kv"
    """``kv`` (dict inputs and outputs), ``llm`` or ``chat``."""
    created_at: dt.datetime
    """When the dataset was created."""
    modified_at: dt.datetime | None = None
    """When the dataset or one of its examples last changed (its latest version)."""
    example_count: int | None = None
    """Examples in the current version."""
    session_count: int | None = None
    """Experiments (projects) run against the dataset."""
    last_session_start_time: dt.datetime | None = None
    """Start of the newest experiment."""
    inputs_schema: dict[str, Any] | None = None
    """JSON schema the inputs follow, if given."""
    outputs_schema: dict[str, Any] | None = None
    """JSON schema the outputs follow, if given."""
    transformations: list[dict[str, Any]] | None = None
    """As given at creation (kept, not applied)."""
    metadata: dict[str, Any] | None = None
    """Free-form metadata."""
    tenant_id: UUID = TENANT_ID
    """The one local tenant."""
    _host_url: str | None = PrivateAttr(default=None)
    _tenant_id: UUID | None = PrivateAttr(default=None)
    _public_path: str | None = PrivateAttr(default=None)

    @property
    def url(self) -> str:
        """Relative URL of the dataset in a LangSmith-style UI."""
        return f"/o/{self.tenant_id}/datasets/{self.id}"


class Example(BaseModel):
    """One example of a dataset, as ``langsmith.schemas.Example``."""

    id: UUID
    """Example id (the same across versions)."""
    dataset_id: UUID = UUID(int=0)
    """The dataset it belongs to (the nil UUID, as in the SDK, when a ``select`` left it out)."""
    inputs: dict[str, Any] | None = None
    """What the target is called with."""
    outputs: dict[str, Any] | None = None
    """Reference outputs evaluators compare with."""
    metadata: dict[str, Any] | None = None
    """Free-form metadata; ``dataset_split`` lists the splits it is in."""
    created_at: dt.datetime = dt.datetime.fromtimestamp(0, tz=dt.timezone.utc)
    """When the example was first created (the epoch, as in the SDK, when a ``select`` left it
    out)."""
    modified_at: dt.datetime | None = None
    """When this version of it was written."""
    source_run_id: UUID | None = None
    """The run it was made from, if any."""
    attachments: dict[str, Any] | None = None
    """Files of the example, by name, as the SDK's ``Example.attachments`` gives them:
    ``{"presigned_url", "mime_type", "reader"}`` (``reader`` a ``BytesIO`` of the bytes);
    ``None`` unless read with them (``read_example``, ``list_examples(include_attachments=
    True)``). JSON dumps leave the bytes out."""
    _host_url: str | None = PrivateAttr(default=None)
    _tenant_id: UUID | None = PrivateAttr(default=None)

    @field_serializer("attachments", when_used="json")
    def _attachments_without_bytes(self, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if value is None else files_without_bytes(value)

    @property
    def url(self) -> str | None:
        """Relative URL of the example in a LangSmith-style UI."""
        return f"/o/{TENANT_ID}/datasets/{self.dataset_id}/e/{self.id}"


class FeedbackSource(BaseModel):
    """Where a piece of feedback came from."""

    type: str | None = None
    metadata: dict[str, Any] | None = None
    user_id: UUID | None = None
    user_name: str | None = None


class Feedback(BaseModel):
    """A score, label, comment or correction attached to a run (or to a project)."""

    id: UUID
    """Feedback id."""
    created_at: dt.datetime
    """When it was created."""
    modified_at: dt.datetime
    """When it last changed."""
    run_id: UUID | None = None
    """The run it is about (may not have arrived yet); ``None`` for project feedback."""
    trace_id: UUID | None = None
    """Trace of that run, when known."""
    key: str
    """What is measured, e.g. ``correctness``."""
    score: float | int | bool | None = None
    """Numeric score."""
    value: Any = None
    """Categorical or free-form value, e.g. ``"CORRECT"``."""
    comment: str | None = None
    """Free text."""
    correction: Any = None
    """What the output should have been."""
    feedback_source: FeedbackSource | None = None
    """``{"type": "api"|"model", "metadata": {...}}``."""
    session_id: UUID | None = None
    """Project of the run, or the project the feedback is about."""
    start_time: dt.datetime | None = None
    """Start time of the run it is about, once that run has arrived (on the feedback
    ``create_feedback`` returns: its ``start_time`` argument, as the SDK returns it)."""
    comparative_experiment_id: UUID | None = None
    """Pairwise experiment, if any."""
    feedback_group_id: UUID | None = None
    """Groups feedback given together."""
    extra: dict[str, Any] | None = None
    """Anything else."""
    feedback_config: dict[str, Any] | None = None
    """How the score is to be read (continuous / categorical ...)."""
    error: bool | None = None
    """True when the evaluator that produced it failed."""


class FeedbackIngestToken(BaseModel):
    """A pre-signed feedback URL (``create_presigned_feedback_token``): whoever holds ``url``
    records feedback of ``feedback_key`` about one run, without the API key, until
    ``expires_at``. The SDK's ``FeedbackIngestToken``, with LangSmith's ``feedback_key``."""

    id: UUID
    """The token: the URL's last part."""
    url: str
    """Where to GET (query parameters) or POST (JSON) the feedback: on ``localtrace serve``
    an absolute URL; in process the path the server takes it at."""
    expires_at: dt.datetime
    """When it stops working."""
    feedback_key: str
    """The key of the feedback it records."""


Run.model_rebuild()


@dataclass(frozen=True)
class AttachmentInfo:
    """One stored attachment, without its bytes."""

    run_id: str
    """The run it belongs to."""
    name: str
    """Its name (the key of ``attachments`` when it was sent)."""
    mime_type: str
    """Media type as sent, e.g. ``image/png``."""
    size: int
    """Length in bytes."""
    path: str | None = None
    """Where ``localtrace serve`` serves it (``/attachments/<key>/<name>``): set for an
    example's files, stored under a key of their own rather than the example's id."""


class RunStats(BaseModel):
    """Aggregate statistics over the runs a query matches (LangSmith's ``/runs/stats``).

    Percentiles use linear interpolation between closest ranks (``numpy.percentile``'s
    default). Latencies are seconds over finished runs; first-token latencies are seconds over
    runs that streamed. Sums add what ``list_runs`` shows for each matched run (a root carries
    its trace's totals, so ``is_root=True`` gives per-trace figures). Empty selections give
    ``run_count == 0``, zero sums and ``None`` percentiles.
    """

    model_config = ConfigDict(ser_json_timedelta="float")

    run_count: int = 0
    """Number of matched runs (traces, with ``is_root=True``)."""
    latency_p50: float | None = None
    """Median latency in seconds over finished runs."""
    latency_p99: float | None = None
    """99th percentile latency in seconds."""
    latency_avg: float | None = None
    """Mean latency in seconds."""
    first_token_p50: float | None = None
    """Median seconds from start to first token over runs that streamed."""
    first_token_p99: float | None = None
    """99th percentile seconds to first token."""
    total_tokens: int = 0
    """Sum of total tokens."""
    prompt_tokens: int = 0
    """Sum of prompt (input) tokens."""
    completion_tokens: int = 0
    """Sum of completion (output) tokens."""
    median_tokens: float | None = None
    """Median of per-run total tokens."""
    completion_tokens_p50: float | None = None
    """Median of per-run completion tokens."""
    prompt_tokens_p50: float | None = None
    """Median of per-run prompt tokens."""
    tokens_p99: float | None = None
    """99th percentile of per-run total tokens."""
    completion_tokens_p99: float | None = None
    """99th percentile of per-run completion tokens."""
    prompt_tokens_p99: float | None = None
    """99th percentile of per-run prompt tokens."""
    last_run_start_time: dt.datetime | None = None
    """Start of the newest matched run."""
    feedback_stats: dict[str, Any] = Field(default_factory=dict)
    """Per key: ``{n, avg, stdev, min, max, values, errors, comments}``."""
    run_facets: list[dict[str, Any]] = Field(default_factory=list)
    """``{key, value, n, query}`` for top values of name, run_type, status, tags, metadata and
    feedback keys; ``query`` is a filter selecting exactly that facet."""
    error_rate: float | None = None
    """Fraction of matched runs that errored (``None`` when nothing matched)."""
    streaming_rate: float | None = None
    """Fraction of matched runs that streamed (have a first token)."""
    total_cost: Decimal | None = None
    """Exact sum of total cost (USD)."""
    prompt_cost: Decimal | None = None
    """Exact sum of prompt cost."""
    completion_cost: Decimal | None = None
    """Exact sum of completion cost."""
    cost_p50: Decimal | None = None
    """Median per-run total cost."""
    cost_p99: Decimal | None = None
    """99th percentile per-run total cost."""
    prompt_token_details: dict[str, int] = Field(default_factory=dict)
    """Per-category sums of prompt tokens."""
    completion_token_details: dict[str, int] = Field(default_factory=dict)
    """Per-category sums of completion tokens."""
    prompt_cost_details: dict[str, Decimal] = Field(default_factory=dict)
    """Per-category sums of prompt cost."""
    completion_cost_details: dict[str, Decimal] = Field(default_factory=dict)
    """Per-category sums of completion cost."""

    # Read like the SDK's plain-dict result: ``stats["run_count"]``, ``.get``, ``in``, ``.items()``
    # (``model_dump(mode="json")`` is the dict itself, for ``json.dumps``).
    def __getitem__(self, key: str) -> Any:
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)

    def __contains__(self, key: object) -> bool:
        return key in type(self).model_fields

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key) if key in type(self).model_fields else default

    def keys(self) -> list[str]:
        return list(type(self).model_fields)

    def values(self) -> list[Any]:
        return [getattr(self, key) for key in type(self).model_fields]

    def items(self) -> list[tuple[str, Any]]:
        return [(key, getattr(self, key)) for key in type(self).model_fields]


class ModelPriceTier(BaseModel):
    """Prices of a ``ModelPrice`` in force when a run's prompt has more than
    ``prompt_token_threshold`` tokens (a long-context tier): they then apply to all the run's
    tokens; a price left ``None`` (or a token type not named) stays the entry's own."""

    prompt_token_threshold: int
    """The tier applies to runs with more prompt (input) tokens than this."""
    prompt_cost: Decimal | None = None
    """USD per prompt token above the threshold; ``None``: the entry's ``prompt_cost``."""
    completion_cost: Decimal | None = None
    """USD per completion token above the threshold; ``None``: the entry's ``completion_cost``."""
    prompt_cost_details: dict[str, Decimal] = Field(default_factory=dict)
    """USD per token of prompt token types above the threshold (e.g. ``cache_read``)."""
    completion_cost_details: dict[str, Decimal] = Field(default_factory=dict)
    """USD per token of completion token types above the threshold."""

    def record(self) -> dict[str, Any]:
        """The tier as plain JSON values (costs as exact decimal text), the prices it names."""
        out: dict[str, Any] = {"prompt_token_threshold": self.prompt_token_threshold}
        if self.prompt_cost is not None:
            out["prompt_cost"] = format(self.prompt_cost, "f")
        if self.completion_cost is not None:
            out["completion_cost"] = format(self.completion_cost, "f")
        if self.prompt_cost_details:
            out["prompt_cost_details"] = {
                k: format(v, "f") for k, v in self.prompt_cost_details.items()
            }
        if self.completion_cost_details:
            out["completion_cost_details"] = {
                k: format(v, "f") for k, v in self.completion_cost_details.items()
            }
        return out


class ModelPrice(BaseModel):
    """A custom model price, in LangSmith's model price map shape (prices in USD per token)."""

    id: UUID
    """Identifier (``delete_model_price(id)``; runs it priced carry it as ``price_model_id``)."""
    name: str
    """Name of the entry (the model it is for)."""
    match_pattern: str
    """Regular expression (RE2) searched in the run's model name."""
    match_path: list[str] | None = None
    """Where the model name is read (``ls_model_name``, ``model``, ...); ``None``: everywhere,
    in precedence order."""
    provider: str | None = None
    """Only runs of this ``ls_provider`` (lower case); ``None``: any provider."""
    prompt_cost: Decimal
    """USD per prompt (input) token."""
    completion_cost: Decimal
    """USD per completion (output) token."""
    prompt_cost_details: dict[str, Decimal] = Field(default_factory=dict)
    """USD per token for prompt token types, e.g. ``{"cache_read": Decimal("1.25E-7")}``."""
    completion_cost_details: dict[str, Decimal] = Field(default_factory=dict)
    """USD per token for completion token types, e.g. ``{"reasoning": ...}``."""
    start_time: dt.datetime | None = None
    """The price applies to runs that started at or after this time; ``None``: always."""
    updated_at: dt.datetime | None = None
    """When the entry was written (the newest wins between otherwise equal entries)."""
    tiers: list[ModelPriceTier] = Field(default_factory=list)
    """Long-context tiers, ascending by ``prompt_token_threshold``: a run whose prompt has more
    tokens than a tier's threshold is priced, all of it, at the highest such tier's prices."""

    def record(self) -> dict[str, Any]:
        """The price as plain JSON values (costs as exact decimal text, the start as ISO-8601):
        what ``localtrace prices list -f json`` prints and ``prices import`` reads back."""
        return {
            "id": str(self.id),
            "name": self.name,
            "match_pattern": self.match_pattern,
            "match_path": self.match_path,
            "provider": self.provider,
            "prompt_cost": format(self.prompt_cost, "f"),
            "completion_cost": format(self.completion_cost, "f"),
            "prompt_cost_details": {k: format(v, "f") for k, v in self.prompt_cost_details.items()},
            "completion_cost_details": {
                k: format(v, "f") for k, v in self.completion_cost_details.items()
            },
            "start_time": self.start_time.isoformat() if self.start_time else None,
            "tiers": [tier.record() for tier in self.tiers],
        }

    @property
    def prompt_cost_per_1m(self) -> Decimal:
        """``prompt_cost`` per million tokens, as LangSmith's UI shows it."""
        return self.prompt_cost * 1_000_000

    @property
    def completion_cost_per_1m(self) -> Decimal:
        """``completion_cost`` per million tokens."""
        return self.completion_cost * 1_000_000


class RecomputeResult(BaseModel):
    """What ``recompute_costs`` did: how many runs it priced again and how much changed."""

    runs_examined: int = 0
    """llm runs matched (and looked at) by the recompute, and runs of other types that count
    usage they reported themselves (files of earlier versions)."""
    runs_changed: int = 0
    """Runs whose own cost changed."""
    total_cost_before: Decimal = Decimal(0)
    """Sum of the changed runs' own total cost before (USD, exact)."""
    total_cost_after: Decimal = Decimal(0)
    """Sum of the changed runs' own total cost after."""
    resumed: bool = False
    """True when an interrupted recompute with the same arguments was continued."""

    @property
    def total_cost_change(self) -> Decimal:
        """``total_cost_after - total_cost_before``."""
        return self.total_cost_after - self.total_cost_before


class UnpricedModel(BaseModel):
    """A model name seen on llm runs that have tokens but no cost (no price matched it)."""

    model: str | None
    """The model name (``None``: the runs name no model at all)."""
    provider: str | None = None
    """Their ``ls_provider``, if any."""
    runs: int
    """How many such runs."""
    total_tokens: int
    """Their tokens, summed."""
