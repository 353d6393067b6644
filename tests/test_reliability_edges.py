"""Raw errors that became clear ones: hostile filter literals, huge searches, impossible ages,
attachment names no URL can reach, forged cursors and signatures, blank API keys."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

import localtrace
from localtrace.cli import main


@pytest.fixture
def store() -> localtrace.Client:
    client = localtrace.Client(":memory:")
    run_id = uuid.uuid4()
    client.create_run(
        "r", {"q": "reliable"}, "chain", id=run_id, extra={"metadata": {"env": "prod"}}
    )
    client.flush()
    client.create_feedback(run_id, key="k", score=1e20)
    return client


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("eq(feedback_score, 1e19)", 0),
        ("in(feedback_score, [1e29, 5])", 0),
        ("gt(feedback_score, 1e19)", 1),
        ("lt(feedback_score, -1e25)", 0),
        ("has(metadata, '" + '{"a": ' * 1000 + "1" + "}" * 1000 + "')", 0),
        ('has(metadata, \'{"env": "prod"}\')', 1),
    ],
)
def test_filter_literals_beyond_int64_or_deeply_nested_compare_instead_of_crashing(
    store: localtrace.Client, text: str, expected: int
) -> None:
    assert len(list(store.list_runs(filter=text))) == expected


def test_a_megabyte_of_search_text_is_refused_at_once(store: localtrace.Client) -> None:
    started = time.monotonic()
    with pytest.raises(localtrace.InvalidArgumentError, match="query="):
        list(store.list_runs(query="word " * 200_000))
    with pytest.raises(localtrace.FilterError, match="too long"):
        list(store.list_runs(filter='search("' + "w " * 1000 + '")'))
    assert time.monotonic() - started < 10
    assert [r.name for r in store.list_runs(query="reli")] == ["r"]  # ordinary searches work


@pytest.mark.parametrize("name", [".", "..", ""])
def test_attachment_names_no_url_can_reach_are_refused(name: str) -> None:
    client = localtrace.Client(":memory:")
    bad = str(uuid.uuid4())
    client.batch_ingest_runs(
        create=[
            {
                "id": bad,
                "name": "r",
                "run_type": "chain",
                "attachments": {name: ("text/plain", b"x")},
            },
            {"id": str(uuid.uuid4()), "name": "kept", "run_type": "chain"},
        ]
    )
    with pytest.raises(localtrace.InvalidRunError) as refused:
        client.flush()
    (problem,) = refused.value.problems
    assert problem.run_id == bad and problem.field.startswith("attachments")
    assert [r.name for r in client.list_runs()] == ["kept"]


def test_an_age_reaching_before_year_one_is_a_clean_cli_error(tmp_path: Path) -> None:
    db = tmp_path / "t.db"
    localtrace.Client(db).close()
    result = CliRunner().invoke(main, ["--db", str(db), "runs", "--since", "99999999999d"])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "before year 1" in result.output


def test_a_blank_api_key_does_not_expose_the_server() -> None:
    pytest.importorskip("uvicorn")
    from localtrace.server import ServerConfigError, serve

    with pytest.raises(ServerConfigError, match="without an API key"):
        serve(":memory:", host="0.0.0.0", port=0, api_key="   ")


def test_reading_a_file_this_process_may_not_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store file made read-only (mode 0444) in a writable folder: reading it creates no
    -wal or -shm (SQLite would make them read-only too, and they would then refuse every
    write once the file is writable again)."""
    import os

    from localtrace._store import db as db_module

    path = tmp_path / "kept.db"
    with localtrace.Client(path) as client:
        client.create_run("r", {}, "chain")
    assert not Path(f"{path}-wal").exists()
    path.chmod(0o444)
    if os.geteuid() == 0:  # root writes anything: let the store see what others would
        monkeypatch.setattr(db_module, "_unwritable_file", lambda name: name == str(path))
    reader = localtrace.Client(path)
    assert reader._db.read_only
    assert [run.name for run in reader.list_runs()] == ["r"]
    reader.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.db"]
    path.chmod(0o644)
    monkeypatch.undo()
    with localtrace.Client(path) as writer:
        writer.create_run("again", {}, "chain")
    with localtrace.Client(path) as client:
        assert len(list(client.list_runs())) == 2


@pytest.mark.parametrize("writer", ["thread", "process"])
def test_an_import_that_fails_never_deletes_a_store_another_client_has_open(
    tmp_path: Path, writer: str
) -> None:
    """`localtrace import` deletes the store it created when the import fails before writing
    anything; a program that opened that new store meanwhile keeps it, and every run it flushes
    is in the file (not in a deleted one)."""
    from click.testing import CliRunner

    from localtrace.cli import main

    path = tmp_path / "new.db"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    from localtrace.cli import app as cli_app

    # The command found no file at the path; a program opens the new store meanwhile.
    with pytest.raises(ValueError), cli_app._removed_if_empty(str(path)):
        other = localtrace.Client(path, writer=writer)
        raise ValueError("the import failed before writing anything")
    assert path.exists()
    other.create_run("kept", {}, "chain")
    other.flush()
    other.close()
    with localtrace.Client(path) as reader:
        assert [run.name for run in reader.list_runs()] == ["kept"]
    result = CliRunner().invoke(main, ["import", str(bad), "--db", str(tmp_path / "gone.db")])
    assert result.exit_code == 2 and not (tmp_path / "gone.db").exists()
