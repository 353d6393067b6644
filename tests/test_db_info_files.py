"""``localtrace db info`` counts the runs' files and the dataset examples' files apart, each
with its size: example files are stored in the same table, under keys of their own."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from langsmith import traceable, tracing_context
from langsmith.schemas import Attachment

import localtrace
from localtrace._store.info import store_info
from localtrace.cli import main


def _info(db: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", str(db), "db", "info", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_db_info_counts_run_files_and_example_files_apart_with_their_sizes(
    tmp_path: Path,
) -> None:
    db = tmp_path / "files.db"
    with localtrace.Client(db) as client:

        @traceable(name="look")
        def look(image: Attachment) -> str:
            return "a cat"

        with tracing_context(client=client, enabled=True, project_name="files"):
            look(Attachment(mime_type="image/png", data=b"P" * 700))
        client.flush()
        dataset = client.create_dataset("files")
        files = {"a": ("text/plain", b"A" * 100), "b": ("text/plain", b"B" * 20)}
        kept = client.create_example({"q": 1}, dataset_id=dataset.id, attachments=files)
        gone = client.create_example({"q": 2}, dataset_id=dataset.id)
        client.update_example(kept.id, attachments={"c": ("text/plain", b"C" * 3)})
        client.delete_example(gone.id)
        client.create_dataset("empty")

    info = store_info(str(db))
    assert info.counts["attachments"] == 1 and info.attachment_bytes == 700
    assert info.counts["example_files"] == 3 and info.example_file_bytes == 123
    assert info.counts["datasets"] == 2 and info.counts["examples"] == 1
    record = json.loads(_info(db, "-f", "json"))
    assert record["attachments"] == 1 and record["attachment_bytes"] == 700
    assert record["example_files"] == 3 and record["example_file_bytes"] == 123
    assert record["examples"] == 1 and record["datasets"] == 2
    table = _info(db)
    assert "example files" in table and "123 B" in table and "700 B" in table


def test_db_info_reads_a_file_of_the_first_schema_as_it_is(tmp_path: Path) -> None:
    """A file from before datasets (no examples table) counts every stored file as a run's,
    and no dataset, example or example file; it is not upgraded."""
    from dbfile import connected

    old = tmp_path / "old.db"
    fixture = Path(__file__).parent / "fixtures" / "schema_v1.sql"
    with connected(old) as conn:
        conn.executescript(fixture.read_text(encoding="utf-8"))
        conn.execute("PRAGMA user_version = 1")
        conn.execute(
            "INSERT INTO attachments (run_id, name, mime_type, data) VALUES ('r', 'f', 'a/b', ?)",
            (b"x" * 5,),
        )
    info = store_info(str(old))
    assert info.schema_version == 1
    assert info.counts["attachments"] == 1 and info.attachment_bytes == 5
    assert info.counts["datasets"] == info.counts["examples"] == info.counts["example_files"] == 0
    assert info.example_file_bytes == 0
