"""The text the full-text index reads: the same whatever expression a file's schema computes it with.

``run_payloads.inputs_text``/``outputs_text`` were ``substr`` of four ``replace`` passes over the
stored JSON; since schema version 11 they take short cuts for the common cases (SQLite computes
VIRTUAL columns on every insert). The index has external content, so the values must be exactly
the old ones: an entry indexed under the old expression is removed with the new one's values,
and FTS5's ``integrity-check`` fails on any difference.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
from hypothesis import example, given, settings
from hypothesis import strategies as st

import localtrace
from dbfile import connected
from localtrace._store import migrations
from runs_factory import make_run

# The expression version 9 wrote, spelled out (an oracle independent of the module).
_OLD = (
    "substr(replace(replace(replace(replace(?1, '\\\\', ' '), '\\n', ' '), '\\t', ' '), "
    "'\\r', ' '), 1, 200000)"
)
_NEW = migrations.search_text("?1")

_escapes = st.sampled_from(["\n", "\t", "\r", "\\", '"', "\\n", "\x01", "é", "字", " ", "Paris"])
_texts = st.lists(st.one_of(_escapes, st.text(max_size=8)), max_size=30).map("".join)
_json = st.one_of(
    _texts.map(lambda t: orjson.dumps({"text": t}).decode()),
    st.dictionaries(st.text(max_size=5), _texts, max_size=4).map(
        lambda d: orjson.dumps(d).decode()
    ),
    st.none(),
)


def _both(conn: sqlite3.Connection, text: str | None) -> tuple[object, object]:
    old, new = conn.execute(f"SELECT {_OLD}, {_NEW}", (text,)).fetchone()
    return old, new


@given(_json)
@settings(max_examples=300, deadline=None)
@example('{"a":"x\\\\ny"}')  # an escaped backslash followed by n: not a newline
@example('{"a":"tab\\there\\r\\nend"}')
@example("a" * 200_001)  # longer than the cap: cut at 200,000 characters
@example('"' + "é" * 150_000 + '\\n"')  # more than 200,000 bytes, fewer characters
@example("\\" + "b" * 199_999)
def test_short_cuts_give_the_old_expressions_values(text: str | None) -> None:
    """The stored JSON (what orjson writes: no raw control characters) -> the same text."""
    with sqlite3.connect(":memory:") as conn:
        old, new = _both(conn, text)
    conn.close()
    assert new == old


def _as_version_10(path: Path) -> None:
    """A store whose generated columns use the version 10 expression, with runs indexed by it."""
    client = localtrace.Client(path)
    client.batch_ingest_runs(
        create=[
            make_run("poem", inputs={"q": "Roses are red,\nviolets\tare blue"}),
            make_run("plain", outputs={"a": "nothing to escape in Lyon"}),
            make_run("slash", outputs={"a": "C:\\temp\\new\nParis"}),
        ]
    )
    client.close()  # indexes everything before it closes
    with connected(path) as conn:
        conn.execute("ALTER TABLE examples DROP COLUMN attachments")  # version 13
        conn.execute("ALTER TABLE run_payloads DROP COLUMN replica_metadata")  # version 12
        for column in ("inputs", "outputs"):
            conn.execute(f"ALTER TABLE run_payloads DROP COLUMN {column}_text")
            conn.execute(
                f"ALTER TABLE run_payloads ADD COLUMN {column}_text TEXT GENERATED ALWAYS AS "
                f"({migrations._CLEAN.format(column)}) VIRTUAL"
            )
        # Rebuild the index from the old expression's text, as version 10 indexed it.
        conn.execute("INSERT INTO runs_fts (runs_fts) VALUES ('rebuild')")
        conn.execute("PRAGMA user_version = 10")
    conn.close()


def _payloads_sql(path: Path) -> str:
    with connected(path) as conn:
        (sql,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'run_payloads'"
        ).fetchone()
    conn.close()
    return str(sql)


def test_a_version_10_file_gets_the_short_cuts_and_its_index_stays_consistent(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v10.db"
    _as_version_10(path)
    assert "instr(" not in _payloads_sql(path)
    client = localtrace.Client(path)  # migrates to version 11
    try:
        assert migrations.search_text("inputs") in _payloads_sql(path)
        assert {r.name for r in client.list_runs(filter='search("violets")')} == {"poem"}
        assert {r.name for r in client.list_runs(filter='search("Paris")')} == {"slash"}
        # Entries indexed under the old expression are removed with the new one's values.
        (slash,) = client.list_runs(filter='search("Paris")')
        client.batch_ingest_runs(
            update=[
                {
                    "id": slash.id,
                    "trace_id": slash.trace_id,
                    "dotted_order": slash.dotted_order,
                    "outputs": {"a": "now in Rome"},
                }
            ]
        )
        client.batch_ingest_runs(create=[make_run("new", inputs={"q": "line\nMarseille"})])
        client.flush()
        assert {r.name for r in client.list_runs(filter='search("Paris")')} == set()
        assert {r.name for r in client.list_runs(filter='search("Rome")')} == {"slash"}
        assert {r.name for r in client.list_runs(filter='search("Marseille")')} == {"new"}
    finally:
        client.close()
    with connected(path) as conn:
        conn.execute("INSERT INTO runs_fts (runs_fts) VALUES ('integrity-check')")
    conn.close()


def test_a_new_file_computes_the_same_text_as_the_old_expression(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "new.db")
    created = " ".join(_payloads_sql(tmp_path / "new.db").split())
    for column in ("inputs", "outputs"):  # schema.sql spells out what the migration writes
        assert f"({migrations.search_text(column)}) VIRTUAL" in created
    texts = ["a\nb", 'say \\"hi\\"\n', "tab\there", "C:\\\\x", "plain words", "é" * 10]
    client.batch_ingest_runs(
        create=[make_run(f"r{i}", inputs={"t": t}, outputs={"t": t}) for i, t in enumerate(texts)]
    )
    client.close()
    with connected(tmp_path / "new.db") as conn:
        rows = conn.execute("SELECT inputs, inputs_text, outputs, outputs_text FROM run_payloads")
        for inputs, inputs_text, outputs, outputs_text in rows:
            assert inputs_text == _both(conn, inputs)[0]
            assert outputs_text == _both(conn, outputs)[0]
        conn.execute("INSERT INTO runs_fts (runs_fts) VALUES ('integrity-check')")
    conn.close()
