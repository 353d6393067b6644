"""LangSmith's dataset, example and comparative-experiment routes, over the Client's dataset
methods (``localtrace._evaluation``).

With these, ``langsmith.evaluate(target, data="my-dataset", client=langsmith.Client(api_url=
<this server>))`` runs unmodified: the SDK reads the dataset and its examples here, creates the
experiment with ``POST /sessions`` and sends runs and feedback to the ingest routes.

The routes are served at the root and under ``/api/v1``; the multipart example upload the SDK
uses when ``/info`` says ``dataset_examples_multipart_enabled`` lives under ``/v1/platform``
(and ``/api/v1/platform``), as on LangSmith.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import uuid
from collections.abc import Iterable, Sequence
from typing import Annotated, Any, TypeVar
from urllib.parse import unquote

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ..models import Dataset, Example
from ._attachments import attachment_urls, example_urls, file_url
from ._body import parse_json, read_body
from ._docs import errors_doc, model_doc
from ._encode import JSONBytes, run_json
from ._errors import ApiError, Detail, validation_error
from ._multipart import Part, boundary_of, split_parts
from ._routing import MAX_OFFSET, PAGE_MAX, new_router
from ._state import State


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DatasetCreate(_Strict):
    """Body of ``POST /datasets`` (``Client.create_dataset``)."""

    name: str = Field(min_length=1)
    id: uuid.UUID | None = None
    description: str | None = None
    data_type: str = "kv"
    inputs_schema_definition: dict[str, Any] | None = None
    outputs_schema_definition: dict[str, Any] | None = None
    transformations: list[dict[str, Any]] | None = None
    extra: dict[str, Any] | None = Field(None, description="metadata under extra.metadata")
    created_at: dt.datetime | None = Field(None, description="accepted, ignored (creation time)")
    externally_managed: bool | None = Field(None, description="accepted, ignored locally")
    tag_value_ids: list[uuid.UUID] | None = Field(None, description="accepted, ignored locally")


class DatasetUpdate(_Strict):
    """Body of ``PATCH /datasets/{id}``: a field left out keeps its value, ``null`` clears
    it (the name cannot be cleared)."""

    name: str | None = Field(None, min_length=1)
    description: str | None = None
    inputs_schema_definition: dict[str, Any] | None = None
    outputs_schema_definition: dict[str, Any] | None = None
    transformations: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] | None = None
    baseline_experiment_id: uuid.UUID | None = Field(None, description="accepted, ignored")
    patch_examples: dict[str, Any] | None = Field(
        None, description="refused when non-empty: change examples with PATCH /examples/bulk"
    )


class DatasetTag(_Strict):
    """Body of ``PUT /datasets/{id}/tags`` (``Client.update_dataset_tag``)."""

    as_of: dt.datetime
    tag: str = Field(min_length=1)


class ExampleIn(_Strict):
    """One example of ``POST /examples`` or ``POST /examples/bulk``."""

    dataset_id: uuid.UUID
    id: uuid.UUID | None = None
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    split: str | list[str] | None = None
    created_at: dt.datetime | None = None
    source_run_id: uuid.UUID | None = None
    use_source_run_io: bool = False
    use_source_run_attachments: list[str] | None = Field(
        None, description="the source run's files to copy to the example"
    )
    attachments: dict[str, Any] | None = Field(
        None, description="refused when non-empty: files go in the multipart upload"
    )


class ExampleChange(_Strict):
    """``PATCH /examples/{id}`` body, or one item of ``PATCH /examples/bulk`` (with ``id``)."""

    id: uuid.UUID | None = None
    dataset_id: uuid.UUID | None = Field(
        None, description="the example's own (examples do not move between datasets)"
    )
    inputs: dict[str, Any] | None = None
    outputs: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    split: str | list[str] | None = None
    attachments: dict[str, Any] | None = Field(
        None, description="refused when non-empty: files go in the multipart upload"
    )
    attachments_operations: dict[str, Any] | None = Field(
        None, description="rename / retain the example's files (the others are dropped)"
    )


_Head = TypeVar("_Head", bound=BaseModel)


class UploadHead(_Strict):
    """The ``<example id>`` part of a multipart upload (creating examples)."""

    created_at: dt.datetime | None = None
    metadata: dict[str, Any] | None = None
    split: str | list[str] | None = None
    source_run_id: uuid.UUID | None = None
    use_source_run_io: bool = False
    use_source_run_attachments: list[str] | None = None
    dataset_id: uuid.UUID | None = Field(
        None, description="the dataset of the route; the upsert route's example's own"
    )


class UpdateHead(_Strict):
    """The ``<example id>`` part of a multipart update."""

    metadata: dict[str, Any] | None = None
    split: str | list[str] | None = None
    dataset_id: uuid.UUID | None = Field(None, description="accepted; an example stays put")


class SplitsUpdate(_Strict):
    """Body of ``PUT /datasets/{id}/splits`` (``update_dataset_splits`` on older servers)."""

    split_name: str = Field(min_length=1)
    examples: list[uuid.UUID]
    remove: bool = False


class MetadataOperation(_Strict):
    """One operation of ``PATCH .../examples/metadata``: only ``dataset_split`` locally."""

    key: str
    operation: str = Field(description="array_add or array_remove (any case)")
    values: list[str] = Field(min_length=1)


class MetadataUpdate(_Strict):
    """Body of ``PATCH /v1/platform/datasets/{id}/examples/metadata``."""

    example_ids: list[uuid.UUID]
    operations: list[MetadataOperation] = Field(min_length=1)


class ExamplesDelete(_Strict):
    """Body of ``POST /v1/platform/datasets/examples/delete`` (``delete_examples``)."""

    example_ids: list[uuid.UUID]
    hard_delete: bool = False


class ComparativeCreate(_Strict):
    """Body of ``POST /datasets/comparative`` (``Client.create_comparative_experiment``)."""

    name: str | None = None
    id: uuid.UUID | None = None
    experiment_ids: list[uuid.UUID] = Field(min_length=1)
    reference_dataset_id: uuid.UUID | None = None
    description: str | None = None
    created_at: dt.datetime | None = None
    extra: dict[str, Any] | None = Field(None, description="metadata under extra.metadata")


_ATTACHMENTS_FIX = (
    "send files as <example id>.attachment.<name> parts of the multipart upload "
    "(/v1/platform/datasets/<id>/examples), as the SDK does"
)


class ExperimentRunsQuery(_Strict):
    """Body of ``POST /datasets/{id}/runs`` (``Client.get_experiment_results``): the dataset's
    examples that have runs in the experiments, each with those runs."""

    session_ids: list[uuid.UUID] = Field(min_length=1)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    limit: int = Field(100, ge=1)
    preview: bool = Field(False, description="accepted; full inputs and outputs are returned")
    comparative_experiment_id: uuid.UUID | None = None
    filters: dict[uuid.UUID, list[str]] | None = Field(
        None, description="per experiment, filter texts its runs must all match"
    )


def dataset_json(dataset: Dataset) -> dict[str, Any]:
    """A dataset as LangSmith answers it: its schemas as ``inputs_schema_definition`` /
    ``outputs_schema_definition`` (the names LangSmith's API and the JS SDK read), and as
    ``inputs_schema`` / ``outputs_schema`` too (what this server answered before; the Python
    SDK reads either)."""
    data = dict(dataset.__dict__)
    data["inputs_schema_definition"] = dataset.inputs_schema
    data["outputs_schema_definition"] = dataset.outputs_schema
    return data


def example_json(example: Example, urls: dict[str, Any] | None = None) -> dict[str, Any]:
    """An example as LangSmith answers it: its files as ``attachment_urls`` and no
    ``attachments`` key (the SDK builds its own from ``attachment_urls``, and a second one
    would be a duplicate keyword)."""
    data = dict(example.__dict__)
    data.pop("attachments", None)
    data["attachment_urls"] = urls
    return data


def _file_urls(
    state: State, request: Request, example_ids: Sequence[Any], as_of: str | None
) -> dict[str, dict[str, dict[str, str]]]:
    """``attachment_urls`` of each example (at ``as_of``) that has files, built from their
    stored paths without reading a byte (``Client.list_example_attachments``)."""
    found = state.client.list_example_attachments(example_ids, as_of=as_of)
    urls: dict[str, dict[str, dict[str, str]]] = {}
    for example_id, infos in found.items():
        for info in infos:
            _, _, key, stored = str(info.path).split("/", 3)
            urls.setdefault(example_id, {})[f"attachment.{info.name}"] = {
                "presigned_url": file_url(state, request, key, unquote(stored)),
                "mime_type": info.mime_type,
            }
    return urls


def _metadata_param(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    value = parse_json(text.encode(), "the metadata parameter")
    if not isinstance(value, dict):
        raise ApiError(422, "validation_error", "metadata must be a JSON object")
    return value


def _no_attachments(where: str, *values: Any) -> None:
    """Files in a JSON body: the SDK never sends them there (it strips them, or uses the
    multipart upload), and JSON would carry them encoded."""
    if any(values):
        raise ApiError(
            422,
            "invalid_argument",
            f"{where}: example files are taken by the multipart upload, not in JSON",
            [
                Detail(
                    loc=where, field="attachments", message="not taken here", fix=_ATTACHMENTS_FIX
                )
            ],
        )


def _page(items: Iterable[Any], offset: int, limit: int) -> list[Any]:
    size = min(limit, PAGE_MAX)
    return list(itertools.islice(items, offset, offset + size))


def build_datasets_router(state: State) -> APIRouter:
    """Datasets, examples and comparative experiments (a v1 area: at the root and under
    ``/api/v1``)."""
    client = state.client
    router = new_router(state)

    # -- datasets -----------------------------------------------------------------------
    @router.post(
        "/datasets",
        tags=["datasets"],
        summary="Create a dataset (409 if the name is taken)",
        responses=model_doc(dict[str, Any], 409, 422),
    )
    def create_dataset(body: Annotated[DatasetCreate, Body()]) -> Response:
        extra = body.extra or {}
        metadata = extra.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise ApiError(422, "validation_error", "extra.metadata must be a JSON object")
        dataset = client.create_dataset(
            body.name,
            description=body.description,
            data_type=body.data_type,
            inputs_schema=body.inputs_schema_definition,
            outputs_schema=body.outputs_schema_definition,
            transformations=body.transformations,
            metadata=metadata,
            dataset_id=body.id,
        )
        return JSONBytes(dataset_json(dataset))

    @router.post(
        "/datasets/upload",
        tags=["datasets"],
        summary="Create a dataset from a CSV file (all or none; 409 if the name is taken)",
        openapi_extra=_CSV_UPLOAD_DOC,
        responses=model_doc(dict[str, Any], 400, 409, 413, 415, 422),
    )
    async def upload_csv(request: Request) -> Response:
        boundary = boundary_of(request.headers.get("content-type"))
        body = await read_body(request, state.max_body_bytes)
        return await run_in_threadpool(_upload_csv, state, body, boundary)

    @router.get(
        "/datasets",
        tags=["datasets"],
        summary="List datasets, newest first (offset pagination)",
        responses=model_doc(list[dict[str, Any]], 422),
    )
    def list_datasets(
        id: Annotated[list[uuid.UUID] | None, Query()] = None,
        name: str | None = None,
        name_contains: str | None = None,
        data_type: str | None = None,
        metadata: Annotated[str | None, Query(description="JSON object")] = None,
        limit: Annotated[int, Query(ge=1)] = PAGE_MAX,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> Response:
        state.settle()  # experiment counts come from projects, made by queued runs
        found = client.list_datasets(
            dataset_ids=id,
            dataset_name=name,
            dataset_name_contains=name_contains,
            data_type=data_type,
            metadata=_metadata_param(metadata),
            limit=offset + min(limit, PAGE_MAX),
        )
        return JSONBytes([dataset_json(d) for d in _page(found, offset, limit)])

    @router.get(
        "/datasets/{dataset_id}",
        tags=["datasets"],
        summary="Read one dataset",
        responses=model_doc(dict[str, Any], 404, 422),
    )
    def read_dataset(
        dataset_id: Annotated[uuid.UUID, Path()],
        limit: Annotated[int | None, Query(description="accepted, ignored")] = None,
    ) -> Response:
        state.settle()
        return JSONBytes(dataset_json(client.read_dataset(dataset_id=dataset_id)))

    @router.delete(
        "/datasets/{dataset_id}",
        tags=["datasets"],
        summary="Delete a dataset with every version of its examples (experiments stay)",
        responses=errors_doc(404, 422),
    )
    def delete_dataset(dataset_id: Annotated[uuid.UUID, Path()]) -> Response:
        client.delete_dataset(dataset_id=dataset_id)
        return JSONBytes({"id": str(dataset_id), "deleted": True})

    @router.patch(
        "/datasets/{dataset_id}",
        tags=["datasets"],
        summary="Change a dataset's name, description, schemas or metadata (a new schema "
        "must fit its examples)",
        responses=model_doc(dict[str, Any], 404, 409, 422),
    )
    def update_dataset(
        dataset_id: Annotated[uuid.UUID, Path()], body: Annotated[DatasetUpdate, Body()]
    ) -> Response:
        if body.patch_examples:
            raise ApiError(
                422,
                "invalid_argument",
                "patch_examples is not taken here",
                [
                    Detail(
                        loc="body",
                        field="patch_examples",
                        message="not supported locally",
                        fix="change the examples with PATCH /examples/bulk, then the dataset",
                    )
                ],
            )
        given = body.model_fields_set
        if "name" in given and body.name is None:
            raise ApiError(
                422,
                "validation_error",
                "a dataset's name cannot be cleared",
                [Detail(loc="body.name", field="name", message="null", fix="send a new name")],
            )
        renamed = {
            "name": "name",
            "description": "description",
            "inputs_schema_definition": "inputs_schema",
            "outputs_schema_definition": "outputs_schema",
            "transformations": "transformations",
            "metadata": "metadata",
        }
        changes = {ours: getattr(body, field) for field, ours in renamed.items() if field in given}
        state.settle()  # experiment counts come from projects, made by queued runs
        return JSONBytes(dataset_json(client.update_dataset(dataset_id, **changes)))

    @router.put(
        "/datasets/{dataset_id}/tags",
        tags=["datasets"],
        summary="Point a tag at the dataset's version as of a moment",
        responses=model_doc(dict[str, Any], 404, 422),
    )
    def update_dataset_tag(
        dataset_id: Annotated[uuid.UUID, Path()], body: Annotated[DatasetTag, Body()]
    ) -> Response:
        client.update_dataset_tag(dataset_id=dataset_id, as_of=body.as_of, tag=body.tag)
        return JSONBytes(client.read_dataset_version(dataset_id=dataset_id, tag=body.tag))

    @router.get(
        "/datasets/{dataset_id}/versions",
        tags=["datasets"],
        summary="The dataset's versions, newest first, with their tags",
        responses=model_doc(list[dict[str, Any]], 404, 422),
    )
    def list_dataset_versions(
        dataset_id: Annotated[uuid.UUID, Path()],
        search: str | None = None,
        limit: Annotated[int, Query(ge=1)] = PAGE_MAX,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> Response:
        versions = client.list_dataset_versions(dataset_id=dataset_id, search=search)
        return JSONBytes(_page(versions, offset, limit))

    @router.get(
        "/datasets/{dataset_id}/versions/diff",
        tags=["datasets"],
        summary="Examples added, removed and modified between two versions (moments or tags)",
        responses=model_doc(dict[str, Any], 404, 422),
    )
    def diff_dataset_versions(
        dataset_id: Annotated[uuid.UUID, Path()],
        from_version: Annotated[str, Query(min_length=1)],
        to_version: Annotated[str, Query(min_length=1)],
    ) -> Response:
        diff = client.diff_dataset_versions(
            dataset_id, from_version=from_version, to_version=to_version
        )
        return JSONBytes(diff)

    @router.get(
        "/datasets/{dataset_id}/version",
        tags=["datasets"],
        summary="The version a tag names, or the one current at as_of",
        responses=model_doc(dict[str, Any], 404, 422),
    )
    def read_dataset_version(
        dataset_id: Annotated[uuid.UUID, Path()],
        as_of: str | None = None,
        tag: str | None = None,
    ) -> Response:
        return JSONBytes(client.read_dataset_version(dataset_id=dataset_id, as_of=as_of, tag=tag))

    @router.get(
        "/datasets/{dataset_id}/splits",
        tags=["datasets"],
        summary="The split names of the dataset's examples (at a version)",
        responses=model_doc(list[str], 404, 422),
    )
    def list_dataset_splits(
        dataset_id: Annotated[uuid.UUID, Path()], as_of: str | None = None
    ) -> Response:
        return JSONBytes(client.list_dataset_splits(dataset_id=dataset_id, as_of=as_of))

    @router.put(
        "/datasets/{dataset_id}/splits",
        tags=["datasets"],
        summary="Add examples to a split, or remove them from it",
        responses=model_doc(list[str], 404, 422),
    )
    def update_dataset_splits(
        dataset_id: Annotated[uuid.UUID, Path()], body: Annotated[SplitsUpdate, Body()]
    ) -> Response:
        client.update_dataset_splits(
            dataset_id=dataset_id,
            split_name=body.split_name,
            example_ids=body.examples,
            remove=body.remove,
        )
        return JSONBytes([str(e) for e in body.examples])

    @router.post(
        "/datasets/comparative",
        tags=["datasets"],
        summary="Record a comparison of experiments over one dataset",
        responses=model_doc(dict[str, Any], 404, 422),
    )
    def create_comparative(body: Annotated[ComparativeCreate, Body()]) -> Response:
        state.settle()  # the experiments may have been created by queued runs
        metadata = (body.extra or {}).get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise ApiError(422, "validation_error", "extra.metadata must be a JSON object")
        made = client.create_comparative_experiment(
            body.name or f"comparison-{uuid.uuid4().hex[:8]}",
            body.experiment_ids,
            reference_dataset=body.reference_dataset_id,
            description=body.description,
            created_at=body.created_at,
            metadata=metadata,
            id=body.id,
        )
        return JSONBytes(made)

    @router.post(
        "/datasets/{dataset_id}/runs",
        tags=["datasets"],
        summary="The dataset's examples with their runs in the given experiments",
        responses=model_doc(list[dict[str, Any]], 404, 422),
    )
    def experiment_runs(
        request: Request,
        dataset_id: Annotated[uuid.UUID, Path()],
        body: Annotated[ExperimentRunsQuery, Body()],
    ) -> Response:
        state.settle()  # the experiment's runs may still be queued
        page = list(
            client.list_examples_with_runs(
                dataset_id,
                session_ids=body.session_ids,
                filters=body.filters,
                offset=body.offset,
                limit=min(body.limit, PAGE_MAX),
            )
        )
        found = [run for e in page for run in e.runs]
        urls = attachment_urls(state, request, found) if found else {}
        answer = []
        for example in page:
            data = example_json(example)
            del data["runs"]  # after the example's fields, as LangSmith orders them
            answer.append({**data, "runs": [run_json(r, urls) for r in example.runs]})
        return JSONBytes(answer)

    # -- examples -----------------------------------------------------------------------
    @router.post(
        "/examples",
        tags=["examples"],
        summary="Create one example",
        responses=model_doc(dict[str, Any], 404, 409, 422),
    )
    def create_example(request: Request, body: Annotated[ExampleIn, Body()]) -> Response:
        _no_attachments("body", body.attachments)
        example = client.create_example(
            body.inputs,
            dataset_id=body.dataset_id,
            created_at=body.created_at,
            outputs=body.outputs,
            metadata=body.metadata,
            split=body.split,
            example_id=body.id,
            source_run_id=body.source_run_id,
            use_source_run_io=body.use_source_run_io,
            use_source_run_attachments=body.use_source_run_attachments,
        )
        return JSONBytes(example_json(example, example_urls(state, request, example.attachments)))

    @router.post(
        "/examples/bulk",
        tags=["examples"],
        summary="Create examples of one dataset (all or none)",
        responses=model_doc(list[dict[str, Any]], 404, 409, 422),
    )
    def create_examples(body: Annotated[list[ExampleIn], Body()]) -> Response:
        if not body:
            return JSONBytes([])
        datasets = {e.dataset_id for e in body}
        if len(datasets) > 1:
            raise ApiError(
                422,
                "invalid_argument",
                "all examples of one request must belong to one dataset (they are written "
                "in one transaction)",
                [
                    Detail(
                        loc="body",
                        field="dataset_id",
                        message="several datasets",
                        fix="send one request per dataset",
                    )
                ],
            )
        for i, e in enumerate(body):
            _no_attachments(f"body[{i}]", e.attachments)
        made = client.create_examples(
            dataset_id=body[0].dataset_id,
            examples=[_example_dict(e) for e in body],
        )
        examples = client.list_examples(example_ids=made["example_ids"])
        return JSONBytes([example_json(e) for e in examples])

    @router.get(
        "/examples",
        tags=["examples"],
        summary="List examples, oldest first (offset pagination)",
        responses=model_doc(list[dict[str, Any]], 404, 422),
    )
    def list_examples(
        request: Request,
        id: Annotated[list[uuid.UUID] | None, Query()] = None,
        dataset: uuid.UUID | None = None,
        as_of: Annotated[str | None, Query(description="a moment or a tag")] = None,
        splits: Annotated[list[str] | None, Query()] = None,
        metadata: Annotated[str | None, Query(description="JSON object")] = None,
        filter: Annotated[
            str | None, Query(description="has(metadata, ...) / exists(metadata, ...), and/or/not")
        ] = None,
        inline_s3_urls: Annotated[bool, Query(description="accepted, ignored")] = True,
        select: Annotated[
            list[str] | None,
            Query(description="fields beyond id, created_at, modified_at, dataset_id, inputs"),
        ] = None,
        exclude_default_fields: Annotated[
            bool, Query(description="only id and the selected fields")
        ] = False,
        limit: Annotated[int, Query(ge=1)] = PAGE_MAX,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> Response:
        files = "attachment_urls" in (select or ())
        # the files' URLs come from their stored paths, never from their bytes ("id" alone
        # selects the default fields)
        fields = [name for name in select or () if name != "attachment_urls"]
        found = list(
            client.list_examples(
                dataset_id=dataset,
                example_ids=id,
                as_of=as_of,
                splits=splits,
                metadata=_metadata_param(metadata),
                filter=filter,
                offset=offset,
                limit=min(limit, PAGE_MAX),
                select=fields or (["id"] if files else None),
                exclude_default_fields=exclude_default_fields,
            )
        )
        if not select and not exclude_default_fields:
            return JSONBytes([example_json(e) for e in found])
        urls = _file_urls(state, request, [e.id for e in found], as_of) if files else {}
        # LangSmith leaves out what was not selected (the SDK fills in its defaults)
        return JSONBytes(
            [
                {
                    **e.model_dump(include=e.model_fields_set - {"attachments"}),
                    **({"attachment_urls": urls.get(str(e.id))} if files else {}),
                }
                for e in found
            ]
        )

    @router.get(
        "/examples/{example_id}",
        tags=["examples"],
        summary="Read one example (as of a moment)",
        responses=model_doc(dict[str, Any], 404, 422),
    )
    def read_example(
        request: Request, example_id: Annotated[uuid.UUID, Path()], as_of: str | None = None
    ) -> Response:
        example = client.read_example(example_id, as_of=as_of, include_attachments=False)
        urls = _file_urls(state, request, [example.id], as_of)
        return JSONBytes(example_json(example, urls.get(str(example.id))))

    @router.patch(
        "/examples/bulk",
        tags=["examples"],
        summary="New versions of many examples (all or none)",
        responses=model_doc(dict[str, Any], 404, 422),
    )
    def update_examples(body: Annotated[list[ExampleChange], Body()]) -> Response:
        for i, change in enumerate(body):
            if change.id is None:
                raise ApiError(
                    422,
                    "validation_error",
                    f"body[{i}] has no id",
                    [Detail(loc=f"body[{i}].id", message="required", fix="name the example")],
                )
            _check_change(f"body[{i}]", change)
        done = client.update_examples(updates=[_change_dict(c) for c in body])
        return JSONBytes({"message": f"{done['count']} examples updated", **done})

    @router.patch(
        "/examples/{example_id}",
        tags=["examples"],
        summary="A new version of one example (fields left out keep their value)",
        responses=model_doc(dict[str, Any], 404, 422),
    )
    def update_example(
        example_id: Annotated[uuid.UUID, Path()], body: Annotated[ExampleChange, Body()]
    ) -> Response:
        _check_change("body", body)
        done = client.update_examples(updates=[{**_change_dict(body), "id": example_id}])
        return JSONBytes({**done, "message": "1 example updated"})

    @router.delete(
        "/examples/{example_id}",
        tags=["examples"],
        summary="Delete an example from the dataset's next version",
        responses=errors_doc(404, 422),
    )
    def delete_example(example_id: Annotated[uuid.UUID, Path()]) -> Response:
        client.delete_example(example_id)
        return JSONBytes({"id": str(example_id), "deleted": True})

    @router.delete(
        "/examples",
        tags=["examples"],
        summary="Delete examples from their datasets' next versions",
        responses=errors_doc(404, 422),
    )
    def delete_examples(
        example_ids: Annotated[list[uuid.UUID], Query(min_length=1)],
    ) -> Response:
        client.delete_examples(example_ids)
        return JSONBytes({"example_ids": [str(e) for e in example_ids], "deleted": True})

    return router


def build_platform_router(state: State) -> APIRouter:
    """The multipart example routes, under ``/v1/platform`` and ``/api/v1/platform`` as on
    LangSmith (the SDK picks one from its ``api_url``)."""
    outer = APIRouter()
    platform = _platform_routes(state)
    outer.include_router(
        platform, prefix="/v1/platform", generate_unique_id_function=lambda r: f"p_{r.name}"
    )
    outer.include_router(
        platform,
        prefix="/api/v1/platform",
        generate_unique_id_function=lambda r: f"v1p_{r.name}",
    )
    return outer


def _platform_routes(state: State) -> APIRouter:
    client = state.client
    router = new_router(state)

    @router.post(
        "/datasets/{dataset_id}/examples",
        tags=["examples"],
        summary="Create examples from a multipart upload (all or none)",
        openapi_extra=_MULTIPART_DOC,
        responses=model_doc(dict[str, Any], 400, 404, 409, 413, 415, 422),
    )
    async def upload_examples(
        request: Request, dataset_id: Annotated[uuid.UUID, Path()]
    ) -> Response:
        parts = await _read_parts(request, state)
        return await run_in_threadpool(_create_uploaded, state, dataset_id, parts)

    @router.patch(
        "/datasets/{dataset_id}/examples",
        tags=["examples"],
        summary="Update examples from a multipart upload (all or none)",
        openapi_extra=_MULTIPART_DOC,
        responses=model_doc(dict[str, Any], 400, 404, 413, 415, 422),
    )
    async def update_uploaded(
        request: Request, dataset_id: Annotated[uuid.UUID, Path()]
    ) -> Response:
        parts = await _read_parts(request, state)
        return await run_in_threadpool(_update_uploaded, state, dataset_id, parts)

    @router.post(
        "/examples/multipart",
        tags=["examples"],
        summary="Create or replace examples of the datasets they name (all or none)",
        openapi_extra=_UPSERT_DOC,
        responses=model_doc(dict[str, Any], 400, 404, 413, 415, 422),
    )
    async def upsert_uploaded(request: Request) -> Response:
        parts = await _read_parts(request, state)
        return await run_in_threadpool(_upsert_uploaded, state, parts)

    @router.patch(
        "/datasets/{dataset_id}/examples/metadata",
        tags=["examples"],
        summary="Add or remove split names of examples (key dataset_split)",
        responses=model_doc(dict[str, Any], 404, 422),
    )
    def update_metadata(
        dataset_id: Annotated[uuid.UUID, Path()], body: Annotated[MetadataUpdate, Body()]
    ) -> Response:
        for i, op in enumerate(body.operations):
            kind = op.operation.lower()
            if op.key != "dataset_split" or kind not in ("array_add", "array_remove"):
                raise ApiError(
                    422,
                    "invalid_argument",
                    "only array_add / array_remove on the key dataset_split are supported",
                    [
                        Detail(
                            loc=f"body.operations[{i}]",
                            message="not supported locally",
                            fix="use update_example(metadata=...) for other keys",
                        )
                    ],
                )
        for op in body.operations:
            for value in op.values:
                client.update_dataset_splits(
                    dataset_id=dataset_id,
                    split_name=value,
                    example_ids=body.example_ids,
                    remove=op.operation.lower() == "array_remove",
                )
        ids = [str(e) for e in body.example_ids]
        return JSONBytes({"example_ids": ids, "count": len(ids)})

    @router.post(
        "/datasets/examples/delete",
        tags=["examples"],
        summary="Delete examples (hard_delete: every past version too)",
        responses=errors_doc(404, 422),
    )
    def delete_examples(body: Annotated[ExamplesDelete, Body()]) -> Response:
        client.delete_examples(body.example_ids, hard_delete=body.hard_delete)
        return JSONBytes({"example_ids": [str(e) for e in body.example_ids], "deleted": True})

    return router


_MULTIPART_DOC = {
    "requestBody": {
        "required": True,
        "description": (
            "multipart/form-data. Per example: <example id> (JSON: created_at, metadata, "
            "split, source_run_id, use_source_run_io), <example id>.inputs and "
            "<example id>.outputs (JSON), <example id>.attachment.<name> (a file: raw bytes, "
            "its Content-Type the file's media type) and, to update, "
            "<example id>.attachments_operations (JSON: rename, retain)."
        ),
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "format": "binary"},
                }
            }
        },
    }
}

_UPSERT_DOC = {
    "requestBody": {
        "required": True,
        "description": (
            "multipart/form-data, as the SDK's upsert_examples_multipart sends it: the parts of "
            "the dataset upload, each <example id> part naming its dataset_id. A new id is "
            "created; an id that exists gets a new version holding what the upload carries "
            "(in its own dataset)."
        ),
        "content": _MULTIPART_DOC["requestBody"]["content"],
    }
}

_CSV_UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "description": (
            "multipart/form-data, as the SDK's upload_csv sends it: file (the CSV), input_keys "
            "and output_keys (one field per column name), and optionally name (default: the "
            "file name), description, data_type and id."
        ),
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "input_keys"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "input_keys": {"type": "array", "items": {"type": "string"}},
                        "output_keys": {"type": "array", "items": {"type": "string"}},
                        "name": {"type": "string"},
                        "description": {"type": "string"},
                        "data_type": {"type": "string"},
                        "id": {"type": "string", "format": "uuid"},
                    },
                }
            }
        },
    }
}
_CSV_FIELDS = {"file", "input_keys", "output_keys", "name", "description", "data_type", "id"}


def _upload_csv(state: State, body: bytes, boundary: bytes) -> Response:
    parts, problems = split_parts(body, boundary)
    if problems:
        raise ApiError(400, "invalid_multipart", "the multipart body is malformed", problems)
    fields: dict[str, list[Part]] = {}
    for part in parts:
        if part.name not in _CSV_FIELDS:
            raise ApiError(
                422,
                "invalid_argument",
                f"unknown form field {part.name!r}",
                [
                    Detail(
                        loc="body",
                        field=part.name,
                        message="not a field of the upload",
                        fix=f"send only {', '.join(sorted(_CSV_FIELDS))}",
                    )
                ],
            )
        fields.setdefault(part.name, []).append(part)

    def text(name: str) -> str | None:
        found = fields.get(name)
        return bytes(found[-1].data).decode("utf-8", "replace") if found else None

    files = fields.get("file")
    if not files:
        raise ApiError(
            422,
            "invalid_argument",
            "the upload has no file",
            [
                Detail(
                    loc="body",
                    field="file",
                    message="missing",
                    fix="send the CSV as the form field 'file'",
                )
            ],
        )
    upload = files[-1]
    given_id = text("id")
    try:
        dataset_id = uuid.UUID(given_id) if given_id else None
    except ValueError:
        raise ApiError(
            422,
            "invalid_argument",
            f"id is not a UUID: {given_id!r}",
            [
                Detail(
                    loc="body", field="id", message="not a UUID", fix="send a UUID, or leave id out"
                )
            ],
        ) from None
    made = state.client.upload_csv(
        (upload.filename or "upload.csv", io.BytesIO(bytes(upload.data))),
        [bytes(p.data).decode("utf-8", "replace") for p in fields.get("input_keys", [])],
        [bytes(p.data).decode("utf-8", "replace") for p in fields.get("output_keys", [])],
        name=text("name") or None,
        description=text("description") or None,
        data_type=text("data_type") or "kv",
        dataset_id=dataset_id,
    )
    return JSONBytes(dataset_json(made))


async def _read_parts(request: Request, state: State) -> dict[str, dict[str, Any]]:
    """The upload's parts grouped per example id: ``{id: {"": {...}, "inputs": {...}}}``."""
    boundary = boundary_of(request.headers.get("content-type"))
    body = await read_body(request, state.max_body_bytes)

    def parse() -> dict[str, dict[str, Any]]:
        parts, problems = split_parts(body, boundary)
        if problems:
            raise ApiError(400, "invalid_multipart", "the multipart body is malformed", problems)
        return _group_parts(parts, state)

    return await run_in_threadpool(parse)


_FIELDS = ("inputs", "outputs", "attachments_operations")


def _group_parts(parts: Sequence[Part], state: State) -> dict[str, dict[str, Any]]:
    grouped: dict[str, dict[str, Any]] = {}
    budget = state.budget()
    for part in parts:
        head, _, field = part.name.partition(".")
        try:
            example_id = str(uuid.UUID(head))
        except ValueError:
            raise ApiError(
                422,
                "validation_error",
                f"part {part.name[:80]!r}: its name must start with the example id",
                [
                    Detail(
                        loc=f"part {part.name[:80]}",
                        message="not an example id",
                        fix="name parts <example id>, <example id>.inputs, ...",
                    )
                ],
            ) from None
        if field.startswith("attachment."):
            # a file: its bytes as sent, its media type the part's Content-Type
            files = grouped.setdefault(example_id, {}).setdefault("attachments", {})
            files[field.removeprefix("attachment.")] = (part.content_type, part.data)
            continue
        if field and field not in _FIELDS:
            raise ApiError(
                422,
                "validation_error",
                f"part {part.name[:80]!r}: unknown field {field[:40]!r}",
                [
                    Detail(
                        loc=f"part {part.name[:80]}",
                        message="unknown field",
                        fix=f"use one of: {', '.join(_FIELDS)}, attachment.<name>",
                    )
                ],
            )
        value = parse_json(part.data, f"part {part.name[:80]}", budget)
        if not isinstance(value, dict):
            raise ApiError(422, "validation_error", f"part {part.name[:80]!r} is not a JSON object")
        grouped.setdefault(example_id, {})[field] = value
    return grouped


def _head(model: type[_Head], example_id: str, value: Any) -> _Head:
    try:
        return model.model_validate(value or {})
    except ValidationError as exc:
        raise validation_error(exc.errors(), value or {}, f"part.{example_id}") from None


def _create_uploaded(
    state: State, dataset_id: uuid.UUID, grouped: dict[str, dict[str, Any]]
) -> Response:
    examples = []
    for example_id, fields in grouped.items():
        head = _head(UploadHead, example_id, fields.get(""))
        examples.append(_uploaded(example_id, head, fields))
    return JSONBytes(state.client.create_examples(dataset_id=dataset_id, examples=examples))


def _upsert_uploaded(state: State, grouped: dict[str, dict[str, Any]]) -> Response:
    """The SDK writes the first example's ``dataset_id`` into every example's part, so the
    id sent says nothing of the others: an example that exists keeps its own dataset, a new
    one goes to the dataset sent (the only one known)."""
    homes = {
        str(e.id): e.dataset_id
        for e in state.client.list_examples(example_ids=list(grouped), select=["dataset_id"])
    }
    upserts = []
    for example_id, fields in grouped.items():
        head = _head(UploadHead, example_id, fields.get(""))
        dataset_id = homes.get(example_id, head.dataset_id)
        upserts.append({**_uploaded(example_id, head, fields), "dataset_id": dataset_id})
    return JSONBytes(state.client.upsert_examples_multipart(upserts=upserts))


def _uploaded(example_id: str, head: UploadHead, fields: dict[str, Any]) -> dict[str, Any]:
    """One example of a multipart upload, as ``create_examples`` takes it."""
    return {
        "id": example_id,
        "inputs": fields.get("inputs"),
        "outputs": fields.get("outputs"),
        "metadata": head.metadata,
        "split": head.split,
        "created_at": head.created_at,
        "source_run_id": head.source_run_id,
        "use_source_run_io": head.use_source_run_io,
        "use_source_run_attachments": head.use_source_run_attachments,
        "attachments": fields.get("attachments"),
    }


def _update_uploaded(
    state: State, dataset_id: uuid.UUID, grouped: dict[str, dict[str, Any]]
) -> Response:
    updates = []
    for example_id, fields in grouped.items():
        head = _head(UpdateHead, example_id, fields.get(""))
        updates.append(
            {
                "id": example_id,
                "metadata": head.metadata,
                "split": head.split,
                "inputs": fields.get("inputs"),
                "outputs": fields.get("outputs"),
                "attachments": fields.get("attachments"),
                "attachments_operations": fields.get("attachments_operations"),
            }
        )
    done = state.client.update_examples(dataset_id=dataset_id, updates=updates)
    return JSONBytes({key: value for key, value in done.items() if key != "message"})


def _example_dict(example: ExampleIn) -> dict[str, Any]:
    return {
        "id": example.id,
        "inputs": example.inputs,
        "outputs": example.outputs,
        "metadata": example.metadata,
        "split": example.split,
        "created_at": example.created_at,
        "source_run_id": example.source_run_id,
        "use_source_run_io": example.use_source_run_io,
        "use_source_run_attachments": example.use_source_run_attachments,
    }


def _check_change(where: str, change: ExampleChange) -> None:
    _no_attachments(where, change.attachments)


def _change_dict(change: ExampleChange) -> dict[str, Any]:
    return {
        "id": change.id,
        "dataset_id": change.dataset_id,
        "inputs": change.inputs,
        "outputs": change.outputs,
        "metadata": change.metadata,
        "split": change.split,
        "attachments_operations": change.attachments_operations,
    }


__all__ = ["build_datasets_router", "build_platform_router", "example_json"]
