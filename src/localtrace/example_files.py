"""Dataset examples in and out of files: JSON lines (one example per line) and CSV, for
``Client.upload_csv``, ``POST /datasets/upload`` and ``localtrace datasets export|import``. Only
public Client methods are used.

JSONL lines are ``{"inputs": {...}, "outputs": {...}, "metadata": {...}}`` (plus ``id``), the
shape LangSmith's example export writes, and ``"attachments": {name: {"mime_type", "data"}}``
(the bytes in base64) for an example that has files. CSV carries no files. CSV follows LangSmith's dataset CSV upload: one row per
example, the columns named as input keys or output keys (chosen when importing); values other
than text are written as JSON, and so is text that would read back as something else.
"""

from __future__ import annotations

import base64
import binascii
import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, TYPE_CHECKING, Any

import orjson

from .errors import InvalidArgumentError

if TYPE_CHECKING:
    from .client import Client


def example_records(
    client: Client, dataset_name: str, as_of: Any = None, *, files: bool = True
) -> Iterator[dict[str, Any]]:
    """The dataset's examples as plain records, in the order they were added, with their
    files (base64) under ``attachments`` when they have some; without them (no byte read)
    unless ``files``."""
    for example in client.list_examples(
        dataset_name=dataset_name, as_of=as_of, include_attachments=files
    ):
        record: dict[str, Any] = {
            "id": str(example.id),
            "inputs": example.inputs or {},
            "outputs": example.outputs,
            "metadata": example.metadata,
        }
        if example.attachments:
            record["attachments"] = {
                name: {
                    "mime_type": info["mime_type"],
                    "data": base64.b64encode(info["reader"].read()).decode(),
                }
                for name, info in example.attachments.items()
            }
        yield record


def file_count(client: Client, records: Sequence[dict[str, Any]], as_of: Any = None) -> int:
    """How many files the examples of ``records`` have at ``as_of`` (what a CSV leaves out),
    counted without reading them."""
    found = client.list_example_attachments([r["id"] for r in records], as_of=as_of)
    return sum(len(infos) for infos in found.values())


def write_jsonl(records: Iterable[dict[str, Any]], out: IO[bytes]) -> int:
    """One JSON object per line; returns how many."""
    count = 0
    for record in records:
        out.write(orjson.dumps(record) + b"\n")
        count += 1
    return count


EMPTY_CSV_COLUMNS = ("input", "output")
"""The header of a CSV export with no example and no schema to name its keys: a header row
is what a spreadsheet or pandas reads as an empty table, where a blank line has no column."""


def write_csv(
    records: Iterable[dict[str, Any]],
    out: IO[str],
    *,
    inputs_schema: dict[str, Any] | None = None,
    outputs_schema: dict[str, Any] | None = None,
) -> int:
    """LangSmith's upload shape: input keys, then output keys (prefixed when they clash).

    The keys come from the examples; with none, from the dataset's schemas' properties, else
    ``EMPTY_CSV_COLUMNS``."""
    rows = list(records)
    inputs = list(dict.fromkeys(k for r in rows for k in r["inputs"]))
    outputs = list(dict.fromkeys(k for r in rows for k in (r["outputs"] or {})))
    if not rows:
        inputs = _properties(inputs_schema) or [EMPTY_CSV_COLUMNS[0]]
        outputs = _properties(outputs_schema) or [EMPTY_CSV_COLUMNS[1]]
    clash = set(inputs) & set(outputs)
    output_names = {k: f"output_{k}" if k in clash else k for k in outputs}
    writer = csv.writer(out)
    writer.writerow([*inputs, *output_names.values()])
    for row in rows:
        writer.writerow(
            [_cell(row["inputs"].get(k)) for k in inputs]
            + [_cell((row["outputs"] or {}).get(k)) for k in outputs]
        )
    return len(rows)


def _properties(schema: dict[str, Any] | None) -> list[str]:
    """The property names a JSON schema declares (none for no schema or another shape)."""
    properties = (schema or {}).get("properties")
    return [str(k) for k in properties] if isinstance(properties, dict) else []


def _cell(value: Any) -> str:
    """A value as the text ``_value`` reads back as that value: JSON text for everything but
    strings, and strings as they are unless they would read as something else (``"42"``,
    ``"true"``, ``""``), which are written as JSON strings."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value if _value(value) == value else orjson.dumps(value).decode()
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # an integer beyond 64 bits
        return str(value)


def read_jsonl(lines: Iterable[bytes | str], where: str) -> list[dict[str, Any]]:
    """Records from JSON lines; a bad line is an error naming its number."""
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InvalidArgumentError(
                "file",
                f"{where}:{number}",
                f"line {number} is not JSON ({exc})",
                "each line must be one JSON object",
            ) from None
        if not isinstance(record, dict) or not isinstance(record.get("inputs"), dict):
            raise InvalidArgumentError(
                "file",
                f"{where}:{number}",
                f"line {number} has no 'inputs' object",
                'write lines like {"inputs": {...}, "outputs": {...}}',
            )
        records.append(record)
    return records


def read_csv(
    text: IO[str], input_keys: Sequence[str], output_keys: Sequence[str], where: str
) -> list[dict[str, Any]]:
    """Records from a CSV file whose columns are the given input and output keys.

    Cells holding JSON (a number, ``true``, ``false``, ``null``, an object, a list or a quoted
    string) are read as that value, empty cells as ``None``, anything else as text."""
    if not input_keys:
        raise InvalidArgumentError(
            "input_keys", list(input_keys), "no input column named", "name the input columns"
        )
    try:
        reader = csv.DictReader(text)
        header = list(reader.fieldnames or ())
        columns = set(header)
        rows = list(reader)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise InvalidArgumentError(
            "csv_file", where, f"not a readable CSV file ({exc})", "send a UTF-8 CSV file"
        ) from None
    if not header:
        raise InvalidArgumentError(
            "csv_file", where, "has no header row", "put the column names on the first line"
        )
    missing = [k for k in (*input_keys, *output_keys) if k not in columns]
    if missing:
        raise InvalidArgumentError(
            "input_keys" if missing[0] in input_keys else "output_keys",
            missing[0],
            f"no such column in {where}",
            f"choose from {', '.join(sorted(columns))}",
        )
    for key in (*input_keys, *output_keys):
        if header.count(key) > 1:  # a DictReader keeps the last such cell of each row
            raise InvalidArgumentError(
                "input_keys" if key in input_keys else "output_keys",
                key,
                f"names {header.count(key)} columns of {where}",
                "give each column of the file its own name",
            )
    return [
        {
            "inputs": {k: _value(row[k]) for k in input_keys},
            "outputs": {k: _value(row[k]) for k in output_keys} if output_keys else None,
        }
        for row in rows
    ]


_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_JSON_WORDS = {"true": True, "false": False, "null": None}


def _value(text: str | None) -> Any:
    """A CSV cell: a JSON number, ``true``/``false``/``null``, object, list or quoted string
    as that value, an empty cell as ``None``, anything else as the text itself."""
    if text is None or text == "":
        return None
    if text in _JSON_WORDS:
        return _JSON_WORDS[text]
    if text[0] in '[{"' or _JSON_NUMBER.fullmatch(text):
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
    return text


def _files(record: dict[str, Any], number: int) -> dict[str, tuple[str, bytes]] | None:
    """A record's ``attachments`` (as ``example_records`` writes them) as (mime, bytes)."""
    given = record.get("attachments")
    if not given:
        return None
    files: dict[str, tuple[str, bytes]] = {}
    items: dict[str, Any] = given if isinstance(given, dict) else {"?": None}
    for name, item in items.items():
        try:
            files[name] = (str(item["mime_type"]), base64.b64decode(item["data"], validate=True))
        except (TypeError, KeyError, binascii.Error, ValueError):
            raise InvalidArgumentError(
                "attachments",
                f"record {number}",
                f"file {name!r} is not {{'mime_type': ..., 'data': base64}}",
                "write files as localtrace datasets export does",
            ) from None
    return files


def import_records(
    client: Client, dataset_name: str, records: Sequence[dict[str, Any]], description: str | None
) -> int:
    """Create the dataset if needed and add the records as examples (one transaction); a
    dataset created here is removed again if its examples cannot be written."""
    created = not client.has_dataset(dataset_name=dataset_name)
    if created:
        client.create_dataset(dataset_name, description=description)
    try:
        client.create_examples(
            dataset_name=dataset_name,
            examples=[
                {
                    "inputs": r["inputs"],
                    "outputs": r.get("outputs"),
                    "metadata": r.get("metadata"),
                    "attachments": _files(r, number),
                    **({"id": r["id"]} if r.get("id") else {}),
                }
                for number, r in enumerate(records, 1)
            ],
        )
    except BaseException as exc:
        if created:
            client.delete_dataset(dataset_name=dataset_name)
        if isinstance(exc, InvalidArgumentError) and _AT.search(exc.argument):
            raise _by_record(exc) from None
        raise
    return len(records)


_AT = re.compile(r"examples\[(\d+)\]\.?")


def _by_record(exc: InvalidArgumentError) -> InvalidArgumentError:
    """An error naming ``examples[i].inputs`` (the call's position) as the file's record
    ``i + 1`` (``record 2 inputs``), the way the rest of an import names them."""

    def record(found: re.Match[str]) -> str:
        return f"record {int(found.group(1)) + 1} "

    return InvalidArgumentError(
        _AT.sub(record, exc.argument), exc.value, _AT.sub(record, exc.reason), exc.fix
    )
