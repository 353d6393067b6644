"""The langsmith SDK's shorthand example calls on ``Client``: LLM and chat examples and a
DataFrame upload.

Each is written over the one path that writes examples (``create_example``, ``upload_csv``),
so SDK code calling them runs unchanged against a local file and stores what the SDK's own
code of the same name would.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ._args import sdk_keywords
from ._evaluation import EvaluationMethods
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
