"""The full-text index: found by sqlite-utils and datasette, fed by the writer, never stale.

``runs_fts`` is FTS5 with external content (``run_payloads``), so tools that know SQLite's
conventions detect it, and its entries must follow every payload change exactly: FTS5's
``integrity-check`` compares the index with the content and fails on any drift.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sqlite3
import time
import uuid
import warnings
from pathlib import Path

import pytest

import localtrace
from dbfile import connected
from localtrace._store import fulltext
from runs_factory import make_run
from store_support import read_only_folder


def _check_index(path: Path) -> None:
    with connected(path) as conn:
        conn.execute("INSERT INTO runs_fts (runs_fts) VALUES ('integrity-check')")
    conn.close()


def _found(client: localtrace.Client, words: str) -> set[str]:
    return {r.name for r in client.list_runs(filter=f'search("{words}")')}


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    client = localtrace.Client(tmp_path / "t.db")
    client.batch_ingest_runs(
        create=[
            make_run("weather", inputs={"question": "Is it raining in Paris?"}),
            make_run("poem", outputs={"text": "Roses are red,\nviolets are blue"}),
            make_run("broken", error="TimeoutError: the model did not answer"),
        ]
    )
    client.flush()  # durable; the full-text index catches up in the background
    client.search_index()  # current now, for the tools that read runs_fts directly
    yield client
    client.close()


def test_sqlite_utils_detects_and_searches_the_index(store: localtrace.Client) -> None:
    sqlite_utils = pytest.importorskip("sqlite_utils")
    db = sqlite_utils.Database(store.path)
    try:
        table = db["run_payloads"]
        assert table.detect_fts() == "runs_fts"
        hits = list(table.search("violets"))
        assert len(hits) == 1
        (name,) = db.execute("SELECT name FROM runs WHERE pk = ?", [hits[0]["run_pk"]]).fetchone()
        assert name == "poem"
        assert [h["run_pk"] for h in table.search("paris")] != []
    finally:
        db.close()


def test_datasette_searches_run_payloads_with_search_parameter(store: localtrace.Client) -> None:
    datasette_app = pytest.importorskip("datasette.app")

    async def query() -> list[dict[str, object]]:
        ds = datasette_app.Datasette([store.path], settings={"num_sql_threads": 1})
        name = Path(store.path).stem
        try:
            response = await ds.client.get(
                f"/{name}/run_payloads.json?_search=timeouterror&_shape=array"
            )
        finally:
            for database in ds.databases.values():
                database.close()
        assert response.status_code == 200, response.text
        rows: list[dict[str, object]] = response.json()
        return rows

    # datasette itself leaves a probe connection (detect_json1) to the garbage collector
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        rows = asyncio.run(query())
        gc.collect()
    assert len(rows) == 1 and "TimeoutError" in str(rows[0]["error"])


def test_search_finds_words_after_newlines_and_keys(store: localtrace.Client) -> None:
    assert _found(store, "violets") == {"poem"}  # after "\n" in the stored JSON
    assert _found(store, "question") == {"weather"}  # the JSON text, keys included
    assert _found(store, "timeout") == {"broken"}


def test_reads_never_write(store: localtrace.Client) -> None:
    watcher = sqlite3.connect(store.path)
    try:
        before = watcher.execute("PRAGMA data_version").fetchone()[0]
        assert _found(store, "paris") == {"weather"}
        assert store.get_run_stats(filter='search("paris")').run_count == 1
        assert watcher.execute("PRAGMA data_version").fetchone()[0] == before
    finally:
        watcher.close()


def test_index_follows_patches_and_deletes_exactly(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "t.db")
    try:
        run = make_run("step", outputs={"text": "draft answer"})
        client.batch_ingest_runs(create=[run])
        client.flush()
        assert _found(client, "draft") == {"step"}
        client.batch_ingest_runs(update=[{"id": run["id"], "outputs": {"text": "final answer"}}])
        client.flush()
        assert _found(client, "draft") == set()
        assert _found(client, "final") == {"step"}
        _check_index(tmp_path / "t.db")
        other = make_run("other", project="gone", inputs={"q": "final words"})
        client.batch_ingest_runs(create=[other])
        client.flush()
        client.delete_project(project_name="gone")
        assert _found(client, "final") == {"step"}
        _check_index(tmp_path / "t.db")
    finally:
        client.close()


def test_changing_is_the_one_call_before_payload_rows_change(tmp_path: Path) -> None:
    """What prune and merge do: ``changing`` first, then delete or rewrite payload rows."""
    path = tmp_path / "t.db"
    client = localtrace.Client(path)
    runs = [make_run(f"r{i}", inputs={"text": f"word{i} shared"}) for i in range(4)]
    client.batch_ingest_runs(create=runs)
    client.flush()
    client.close()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        pks = [pk for (pk,) in conn.execute("SELECT pk FROM runs WHERE name IN ('r0', 'r1')")]
        fulltext.changing(conn, pks)
        conn.execute(f"DELETE FROM run_payloads WHERE run_pk IN ({pks[0]}, {pks[1]})")
        conn.execute(f"DELETE FROM runs WHERE pk IN ({pks[0]}, {pks[1]})")
        assert fulltext.catch_up(conn) == 0  # nothing left to index for deleted runs
        conn.execute("COMMIT")
        conn.execute("INSERT INTO runs_fts (runs_fts) VALUES ('integrity-check')")
        hits = conn.execute("SELECT count(*) FROM runs_fts WHERE runs_fts MATCH 'shared'")
        assert hits.fetchone()[0] == 2
    finally:
        conn.close()


def test_runs_waiting_in_the_file_are_indexed_before_a_search(tmp_path: Path) -> None:
    """A process killed before indexing leaves its runs queued; the next search takes them in."""
    path = tmp_path / "t.db"
    client = localtrace.Client(path)
    client.batch_ingest_runs(create=[make_run("queued", inputs={"q": "zebra"})])
    client.flush()
    client.close()
    with connected(path) as conn:
        conn.execute("INSERT INTO runs_fts (runs_fts) VALUES ('delete-all')")
        conn.execute("INSERT INTO fts_pending (run_pk) SELECT pk FROM runs")
    conn.close()
    reader = localtrace.Client(path)
    try:
        assert _found(reader, "zebra") == {"queued"}
        assert reader.search_index() == 0
    finally:
        reader.close()


def test_in_memory_store_searches_too() -> None:
    client = localtrace.Client(":memory:")
    try:
        client.batch_ingest_runs(
            create=[make_run("m", inputs={"q": str(uuid.uuid4())[:8] + " okapi"})]
        )
        client.flush()
        assert _found(client, "okapi") == {"m"}
    finally:
        client.close()


def _pending(path: Path) -> int:
    with connected(path) as conn:
        count = int(conn.execute("SELECT count(*) FROM fts_pending").fetchone()[0])
    conn.close()
    return count


def test_a_search_catches_up_runs_another_writer_left_unindexed(tmp_path: Path) -> None:
    """Another process committed runs and has not indexed them yet (a flush means durable, not
    indexed): a search through this Client indexes them first, so it never misses one."""
    from localtrace._ingest.upsert import Ingestor
    from localtrace._store.db import Database

    path = tmp_path / "t.db"
    client = localtrace.Client(path)
    other = Database(path)
    try:
        client.batch_ingest_runs(create=[make_run("ours", inputs={"q": "giraffe"})])
        client.flush()
        with other.write() as conn:  # what another process's batch transaction leaves
            Ingestor(conn, "default").ingest(
                [("post", make_run("theirs", inputs={"q": "giraffe okapi"}))]
            )
        assert _pending(path) >= 1
        assert _found(client, "giraffe") == {"ours", "theirs"}
        assert _found(client, "okapi") == {"theirs"}
        assert _pending(path) == 0
        _check_index(path)
    finally:
        other.close()
        client.close()


def test_the_writer_indexes_by_itself_once_idle_and_close_leaves_the_index_current(
    tmp_path: Path,
) -> None:
    path = tmp_path / "t.db"
    client = localtrace.Client(path)
    try:
        runs = [make_run(f"r{i}", inputs={"text": f"word{i} shared"}) for i in range(30)]
        for run in runs:
            client.batch_ingest_runs(create=[run])
        client.flush()
        for _ in range(3000):  # idle: the writer feeds the index without being asked
            if _pending(path) == 0:
                break
            time.sleep(0.01)
        assert _pending(path) == 0
        _check_index(path)
        client.batch_ingest_runs(create=[make_run("late", inputs={"text": "shared"})])
    finally:
        client.close()
    assert _pending(path) == 0  # close indexes what is left
    _check_index(path)
    with connected(path) as conn:
        hits = conn.execute("SELECT count(*) FROM runs_fts WHERE runs_fts MATCH 'shared'")
        assert hits.fetchone()[0] == 31
    conn.close()


def test_catch_up_in_chunks_indexes_the_oldest_queued_runs_first(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    client = localtrace.Client(path)
    client.batch_ingest_runs(
        create=[make_run(f"r{i}", inputs={"text": f"chunked word{i}"}) for i in range(7)]
    )
    client.close()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("INSERT INTO runs_fts (runs_fts) VALUES ('delete-all')")
        conn.execute("INSERT INTO fts_pending (run_pk) SELECT pk FROM runs")
        pks = [pk for (pk,) in conn.execute("SELECT run_pk FROM fts_pending ORDER BY run_pk")]
        conn.execute("BEGIN IMMEDIATE")
        assert fulltext.catch_up(conn, 3) == 3
        left = [pk for (pk,) in conn.execute("SELECT run_pk FROM fts_pending ORDER BY run_pk")]
        assert left == pks[3:]
        assert fulltext.catch_up(conn, 3) == 3
        assert fulltext.catch_up(conn, 3) == 1  # fewer than the chunk: all that was left
        assert fulltext.catch_up(conn, 3) == 0
        conn.execute("COMMIT")
        conn.execute("INSERT INTO runs_fts (runs_fts) VALUES ('integrity-check')")
        hits = conn.execute("SELECT count(*) FROM runs_fts WHERE runs_fts MATCH 'chunked'")
        assert hits.fetchone()[0] == 7
    finally:
        conn.close()


TEXTS = {
    "accents": {"q": "Crème brûlée à Paris"},
    "escapes": {"q": 'first line\nsecond\tCOLUMN "quoted" back\\slash'},
    "keys": {"weather_report": {"city": "Zürich", "temp": 21.5}},
    "numbers": {"q": "order 4711 shipped to 221B"},
    "cjk": {"q": "東京 tower"},
    "empty": {},
}
QUERIES = [
    "paris",
    "creme",
    "BRULEE",
    "brû",
    "second column",
    "quoted",
    "slash",
    "weather",
    "zurich",
    "471",
    "221b",
    "東京",
    "tower",
    "line second",
    "absent",
    "par lin",
]


def _names(client: localtrace.Client, words: str) -> tuple[set[str], set[str], int]:
    listed = {r.name for r in client.list_runs(filter=f"search({json.dumps(words)})")}
    by_query = {r.name for r in client.list_runs(query=words)}
    counted = client.get_run_stats(filter=f"search({json.dumps(words)})").run_count
    return listed, by_query, counted


def test_a_search_finds_the_runs_a_read_only_file_holds_unindexed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A store copied or mounted read-only before its writer indexed everything: the writer
    cannot take the runs in, and the search still answers as the index would (the runs waiting
    are matched one by one with the index's tokenizer), for listings, ``query`` and stats."""
    with read_only_folder(tmp_path) as (folder, make_read_only):
        path = folder / "t.db"
        with localtrace.Client(path) as client:
            client.batch_ingest_runs(
                create=[make_run(name, inputs=inputs) for name, inputs in TEXTS.items()]
                + [make_run("failed", error="TimeoutError: Paris did not answer")]
            )
            client.flush()
            client.search_index()
            expected = {words: _names(client, words) for words in QUERIES}
        assert expected["paris"][0] == {"accents", "failed"}  # the oracle itself is not empty
        # What a process killed before indexing leaves: half the runs wait in fts_pending.
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("INSERT INTO runs_fts (runs_fts) VALUES ('delete-all')")
            conn.execute("INSERT INTO fts_pending (run_pk) SELECT pk FROM runs WHERE pk % 2 = 0")
            conn.execute(
                f"INSERT INTO runs_fts (rowid, {fulltext.COLUMNS}) SELECT run_pk, "
                f"{fulltext.COLUMNS} FROM run_payloads WHERE run_pk % 2 = 1"
            )
            conn.execute("INSERT INTO runs_fts (runs_fts) VALUES ('integrity-check')")
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        make_read_only()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = localtrace.Client(path)
        try:
            with reader._db.read() as conn:
                assert conn.execute("SELECT count(*) FROM fts_pending").fetchone()[0] == 3
            for words in QUERIES:
                assert _names(reader, words) == expected[words], words
            waits = [r for r in caplog.records if "full-text index waits" in r.getMessage()]
            assert len(waits) == 1  # said once, not once per search
        finally:
            reader.close()


def test_the_matcher_uses_the_index_tokenizer(tmp_path: Path) -> None:
    with localtrace.Client(tmp_path / "t.db") as client, client._db.read() as conn:
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'runs_fts'").fetchone()
        assert f"'{fulltext.TOKENIZE}'" in sql
        assert conn.execute(
            f"SELECT {fulltext.SEARCH_FUNCTION}('\"bru\"*', 'Crème brûlée', NULL, NULL)"
        ).fetchone() == (1,)


def test_the_matcher_closes_its_private_connection_with_the_store_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Python 3.13 reports an unclosed SQLite connection when it is collected."""
    from localtrace._store.db import connect

    unraisable: list[object] = []
    monkeypatch.setattr("sys.unraisablehook", lambda hook_args: unraisable.append(hook_args))
    conn = connect(":memory:")
    query = f"SELECT {fulltext.SEARCH_FUNCTION}('\"a\"*', 'a b', NULL, NULL)"
    assert conn.execute(query).fetchone() == (1,)
    conn.close()
    del conn
    gc.collect()
    assert unraisable == []


def test_a_search_with_nothing_to_index_takes_no_write_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search first has the index caught up; with nothing queued for it, that costs no write
    transaction, so it never waits for another process's write lock."""
    path = tmp_path / "s.db"
    with localtrace.Client(path) as writer:
        writer.create_run("r", {"q": "hello world"}, "chain")
    client = localtrace.Client(path)
    assert [r.name for r in client.list_runs(filter='search("hello")')] == ["r"]
    began: list[str] = []
    real_write = client._db.write

    def counted() -> object:
        began.append("write")
        return real_write()

    monkeypatch.setattr(client._db, "write", counted)
    assert [r.name for r in client.list_runs(filter='search("hello")')] == ["r"]
    assert began == []
    client.close()
