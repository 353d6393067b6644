"""The langsmith SDK's shorthand example calls on ``Client``: LLM and chat examples, a
DataFrame upload and the multipart example calls.

Each is written over the one path that writes examples (``create_example``,
``create_examples``, ``update_examples``, ``upload_csv``), so SDK code calling them runs
unchanged against a local file and stores what the SDK's own code of the same name would.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ._args import sdk_keywords
from ._evaluation import EvaluationMethods, written
from ._query import datasets as _datasets
from ._query import example_attachments as _files
from ._query import example_schemas as _schemas
from ._time import now_micros
from .errors import InvalidArgumentError
from .models import Dataset, Example


class ExampleCalls(EvaluationMethods):
    """The SDK's example shorthands; ``Client`` inherits them."""

    @sdk_keywords()
    def create_llm_example(
        self,
        prompt: str,
        generation: str | None = None,
        dataset_id: uuid.UUID | str | None = None,
        dataset_name: str | None = None,
        created_at: dt.datetime | None = None,
    ) -> Example:
        """An example of an ``llm`` dataset, as the SDK writes it: inputs
        ``{"input": prompt}``, reference outputs ``{"output": generation}``."""
        return self.create_example(
            inputs={"input": prompt},
            reference_outputs={"output": generation},
            dataset_id=dataset_id,
            dataset_name=dataset_name,
            created_at=created_at,
        )

    @sdk_keywords()
    def create_chat_example(
        self,
        messages: Sequence[Any],
        generations: Any = None,
        dataset_id: uuid.UUID | str | None = None,
        dataset_name: str | None = None,
        created_at: dt.datetime | None = None,
    ) -> Example:
        """An example of a ``chat`` dataset, as the SDK writes it: inputs
        ``{"input": [message, ...]}``, reference outputs ``{"output": message}`` (none without
        ``generations``). A LangChain message is stored as ``{"type", "data": {"content",
        "additional_kwargs"}}``, a dict as given."""
        return self.create_example(
            inputs={"input": [_message(m) for m in messages]},
            reference_outputs=(
                {"output": _message(generations)} if generations is not None else None
            ),
            dataset_id=dataset_id,
            dataset_name=dataset_name,
            created_at=created_at,
        )

    @sdk_keywords()
    def upload_dataframe(
        self,
        df: Any,
        name: str,
        input_keys: Sequence[str],
        output_keys: Sequence[str],
        *,
        description: str | None = None,
        data_type: Any = "kv",
    ) -> Dataset:
        """A new dataset from a pandas DataFrame: its CSV (``df.to_csv(index=False)``) through
        ``upload_csv``, as the SDK uploads it; one example per row."""
        if not callable(getattr(df, "to_csv", None)):
            raise InvalidArgumentError(
                "df", type(df).__name__, "not a DataFrame", "pass a pandas DataFrame"
            )
        buffer = io.BytesIO()
        df.to_csv(buffer, index=False)
        buffer.seek(0)
        return self.upload_csv(
            ("data.csv", buffer),
            input_keys=input_keys,
            output_keys=output_keys,
            name=name,
            description=description,
            data_type=data_type,
        )

    @sdk_keywords()
    def upload_examples_multipart(
        self,
        *,
        dataset_id: uuid.UUID | str,
        uploads: Sequence[Any] | None = None,
        dangerously_allow_filesystem: bool = False,
    ) -> dict[str, Any]:
        """``create_examples(dataset_id=..., examples=uploads)`` (the SDK's ``ExampleCreate``
        objects or dicts), answered as the SDK's ``UpsertExamplesResponse``."""
        made: dict[str, Any] = self.create_examples(
            dataset_id=dataset_id,
            examples=list(uploads or ()),
            dangerously_allow_filesystem=dangerously_allow_filesystem,
        )
        return made

    @sdk_keywords()
    def update_examples_multipart(
        self,
        *,
        dataset_id: uuid.UUID | str,
        updates: Sequence[Any] | None = None,
        dangerously_allow_filesystem: bool = False,
    ) -> dict[str, Any]:
        """``update_examples(dataset_id=..., updates=updates)`` (the SDK's ``ExampleUpdate``
        objects or dicts), answered as the SDK's ``UpsertExamplesResponse``."""
        done = self.update_examples(
            dataset_id=dataset_id,
            updates=list(updates or ()),
            dangerously_allow_filesystem=dangerously_allow_filesystem,
        )
        return {key: value for key, value in done.items() if key != "message"}

    @sdk_keywords()
    def upsert_examples_multipart(
        self,
        *,
        upserts: Sequence[Any] | None = None,
        dangerously_allow_filesystem: bool = False,
    ) -> dict[str, Any]:
        """Create or replace examples (the SDK's ``ExampleUpsertWithAttachments``, each naming
        its ``dataset_id``), in one transaction: all or none.

        A new id is created as ``create_examples`` creates it; an id that exists gets a new
        version holding what the upsert carries (inputs, outputs, metadata, split, files),
        keeping its creation time. An example stays in its dataset (another ``dataset_id`` is
        refused)."""
        now = now_micros()
        prepared = []
        found: dict[str, str] = {}  # each dataset looked up once
        for upsert in self._given_examples(upserts or ()):
            values = self._example_values(upsert, now, dangerously_allow_filesystem)
            named = upsert.get("dataset_id")
            if str(named) not in found:
                found[str(named)] = self._upsert_dataset(named)
            values["dataset_id"] = found[str(named)]
            prepared.append(values)
        with self._db.write() as conn:
            checked: dict[str, list[_schemas.Checked]] = {}
            for position, values in enumerate(prepared):
                checked.setdefault(values["dataset_id"], []).append(
                    _schemas.Checked(
                        f"upserts[{position}]" if len(prepared) > 1 else "",
                        values["example_id"],
                        values["inputs"],
                        values["outputs"],
                    )
                )
            for dataset, examples in checked.items():
                _schemas.enforce(_schemas.of(conn, dataset), examples)
            for values in prepared:
                row = _datasets.current_row(conn, values["example_id"])
                if row is not None:
                    if row[1] != values["dataset_id"]:
                        raise InvalidArgumentError(
                            "dataset_id",
                            values["dataset_id"],
                            f"example {values['example_id']} is in dataset {row[1]}",
                            "upsert it with its own dataset_id, or leave its id out",
                        )
                    values["created_at"] = int(row[6])
                    values["source_run_id"] = values["source_run_id"] or row[5]
                files = _files.store(conn, values.pop("files"))
                _datasets.write_version(conn, now=now, attachments=files, **values)
        return written([values["example_id"] for values in prepared], now)

    def _upsert_dataset(self, dataset_id: Any) -> str:
        """The existing dataset an upsert names (it must name one)."""
        if dataset_id is None:
            raise InvalidArgumentError(
                "dataset_id",
                None,
                "an upsert names its dataset",
                "pass dataset_id=... on each example",
            )
        return self._dataset_id(dataset_id, None)


def _message(message: Any) -> Any:
    """A chat message as the SDK stores it in an example: a LangChain message (``type``,
    string ``content``, dict ``additional_kwargs``) as ``{"type", "data"}``, else as given."""
    extra = getattr(message, "additional_kwargs", None)
    if not (
        isinstance(getattr(message, "content", None), str)
        and isinstance(extra, Mapping)
        and isinstance(getattr(message, "type", None), str)
    ):
        return message
    data: dict[str, Any] = {"content": message.content}
    if extra:
        data["additional_kwargs"] = {**extra}
    return {"type": message.type, "data": data}


__all__ = ["ExampleCalls"]
