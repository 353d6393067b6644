"""A dataset's ``inputs_schema`` / ``outputs_schema`` (JSON Schema) enforced on its examples.

LangSmith refuses an example whose inputs or outputs do not fit its dataset's schemas, so a
dataset with schemas only ever holds examples of that shape; evaluators and exports rely on it.
Every path that adds or changes examples checks them here before writing, and a call that
carries several examples is refused as a whole, naming each example that failed (its position
in the call, its id) and the field.

A ``$ref`` to a schema elsewhere (LangSmith's prebuilt ``message.json`` / ``tooldef.json``,
any URL) is never fetched: nothing leaves the machine, so what it names accepts any value.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jsonschema
import jsonschema.exceptions
import jsonschema.validators
import referencing
import referencing.exceptions
import referencing.jsonschema

from .. import _json
from ..errors import InvalidArgumentError

_SHOWN = 5
"""Most failing examples one error lists (the count says how many more)."""


class _Anywhere(dict[str, Any]):
    """An empty schema in which every JSON pointer (``#/definitions/Message``) names another
    one: what a ``$ref`` into a schema elsewhere finds."""

    def __missing__(self, key: str) -> _Anywhere:
        return _Anywhere()


def _anything(uri: str) -> referencing.Resource[Any]:
    """A remote ``$ref`` target, or a part of one: never fetched, so it accepts any value."""
    return referencing.jsonschema.DRAFT202012.create_resource(_Anywhere())


_OFFLINE: referencing.Registry[Any] = referencing.Registry(retrieve=_anything)  # type: ignore[call-arg]


def check_schema(schema: Any, argument: str) -> None:
    """Refuse a schema that is not a JSON Schema (an object its draft's meta-schema accepts)."""
    if schema is None:
        return
    if not isinstance(schema, Mapping):
        raise InvalidArgumentError(
            argument, schema, "is not a JSON Schema object", 'pass e.g. {"type": "object"}'
        )
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path)
        raise InvalidArgumentError(
            argument,
            schema,
            f"is not a valid JSON Schema ({exc.message}{' at ' + where if where else ''})",
            "fix the schema, or leave it out",
        ) from None


@functools.lru_cache(maxsize=64)
def _validator(text: str) -> Any:
    """The compiled validator of a schema (by its stored JSON text: one per schema)."""
    schema = _json.loads(text)
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return cls(schema, registry=_OFFLINE)


@dataclass(frozen=True)
class Schemas:
    """A dataset's two schemas as stored (JSON text, ``None`` for none)."""

    inputs: str | None
    outputs: str | None

    def __bool__(self) -> bool:
        return self.inputs is not None or self.outputs is not None


def of(conn: sqlite3.Connection, dataset_id: str) -> Schemas:
    """The schemas of a dataset (none for a dataset that is not there)."""
    row = conn.execute(
        "SELECT inputs_schema, outputs_schema FROM datasets WHERE id = ?", (dataset_id,)
    ).fetchone()
    if row is None:
        return Schemas(None, None)
    return Schemas(_none_if_null(row[0]), _none_if_null(row[1]))


def _none_if_null(text: str | None) -> str | None:
    return None if text is None or text == "null" else text


_UNUSABLE = (
    jsonschema.exceptions.SchemaError,
    jsonschema.exceptions.UnknownType,
    referencing.exceptions.Unresolvable,
)
"""What a stored schema raises when it cannot be applied (a local ``$ref`` that names
nothing, an unknown type: ``check_schema`` cannot see every such case, and a file written
elsewhere may hold anything)."""


def problem(schema: str | None, value: Any, field: str = "inputs") -> str | None:
    """Why ``value`` does not fit ``schema`` (the first error, with where), else ``None``;
    ``InvalidArgumentError`` naming ``<field>_schema`` if the schema cannot be applied."""
    if schema is None:
        return None
    try:
        error = jsonschema.exceptions.best_match(_validator(schema).iter_errors(value))
    except _UNUSABLE as exc:
        raise _unusable(schema, field, exc) from None
    if error is None:
        return None
    where = "".join(f"[{p!r}]" for p in error.absolute_path)
    return f"{where + ': ' if where else ''}{error.message}"


def _unusable(schema: str, field: str, exc: Exception) -> InvalidArgumentError:
    return InvalidArgumentError(
        f"{field}_schema",
        _json.loads(schema),
        f"the dataset's {field}_schema cannot be applied ({exc})",
        f"fix it with update_dataset({field}_schema=...), or clear it with None",
    )


KEPT: Any = object()
"""A field an update leaves as it is: not checked (it was when written)."""


@dataclass(frozen=True)
class Checked:
    """One example to check: where the call has it (``examples[2]``; ``""`` for a call of
    one example), its id, and the fields it writes (``outputs`` of ``None``: not written, or
    written empty: nothing to check)."""

    label: str
    example_id: str
    inputs: Any
    outputs: Any


@dataclass(frozen=True)
class Failure:
    """A field of an example that does not fit: ``name`` as ``examples[2].inputs``, ``why``
    naming the example and where in the value."""

    name: str
    value: Any
    example_id: str
    why: str


def failures(schemas: Schemas, examples: Iterable[Checked]) -> list[Failure]:
    """Each field of ``examples`` that does not fit its schema. ``outputs`` of
    ``None`` are not checked (an example without reference outputs); ``inputs`` of ``None``
    are checked as ``{}``, what is stored."""
    if not schemas:
        return []
    found: list[Failure] = []
    for example in examples:
        for field, schema, value in (
            ("inputs", schemas.inputs, example.inputs),
            ("outputs", schemas.outputs, example.outputs),
        ):
            if value is KEPT or (value is None and field == "outputs"):
                continue
            value = {} if value is None else value
            why = problem(schema, value, field)
            if why is not None:
                name = f"{example.label}.{field}" if example.label else field
                text = f"{name} of example {example.example_id}: {why}"
                found.append(Failure(name, value, example.example_id, text))
    return found


def listed(found: Sequence[Failure]) -> str:
    """The reasons of ``failures``, the first few of them, and how many more."""
    shown = "; ".join(failure.why for failure in found[:_SHOWN])
    return shown + (f"; and {len(found) - _SHOWN} more" if len(found) > _SHOWN else "")


def enforce(schemas: Schemas, examples: Iterable[Checked]) -> None:
    """Refuse the call if any example does not fit: ``InvalidArgumentError`` naming each
    failing example (where in the call, its id) and field, and why."""
    found = failures(schemas, examples)
    if not found:
        return
    raise InvalidArgumentError(
        found[0].name,
        found[0].value,
        f"does not fit the dataset's schema, so nothing was written ({listed(found)})",
        "make the examples fit the dataset's inputs_schema / outputs_schema "
        "(read_dataset shows them)",
    )


def labelled(rows: Sequence[tuple[str, Any, Any]], name: str = "examples") -> list[Checked]:
    """``(example_id, inputs, outputs)`` of a call as ``Checked``: ``name[i]`` each, or no
    label for a call of one example."""
    if len(rows) == 1:
        return [Checked("", *rows[0])]
    return [Checked(f"{name}[{i}]", *row) for i, row in enumerate(rows)]


__all__ = [
    "KEPT",
    "Checked",
    "Failure",
    "Schemas",
    "check_schema",
    "enforce",
    "failures",
    "labelled",
    "listed",
    "of",
    "problem",
]
