"""``localtrace prices``: set, list, import, recompute, unknown, delete, as a user types them."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from pathlib import Path

import localtrace
from test_cli import cli, fails, ok

T = dt.datetime(2025, 9, 1, 12, tzinfo=dt.timezone.utc)


def _store(path: Path) -> None:
    with localtrace.Client(path, writer="thread") as client:
        for model, provider in (
            ("llama-3.1-8b-ft", "vllm"),
            ("llama-3.1-8b-ft", "vllm"),
            ("gpt-4o", "openai"),
        ):
            root, child = uuid.uuid4(), uuid.uuid4()
            client.create_run("agent", {}, "chain", id=root, start_time=T, end_time=T)
            client.create_run(
                "chat",
                {},
                "llm",
                id=child,
                parent_run_id=root,
                start_time=T,
                end_time=T,
                extra={
                    "metadata": {
                        "ls_model_name": model,
                        "ls_provider": provider,
                        "usage_metadata": {"input_tokens": 1000, "output_tokens": 500},
                    }
                },
            )


def test_unknown_set_recompute_list_delete(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    _store(db)
    unknown = json.loads(ok("prices", "unknown", "--format", "json", db=db))
    assert unknown == [
        {
            "model": "llama-3.1-8b-ft",
            "provider": "vllm",
            "runs": 2,
            "total_tokens": 3000,
            "price": None,
            "reason": "no price names this model: add one",
        }
    ]
    assert "llama-3.1-8b-ft" in ok("prices", "unknown", db=db)
    ok(
        "prices",
        "set",
        "my-llama",
        r"^llama-3\.1-.*-ft$",
        "--prompt",
        "0.20",
        "--completion",
        "0.60",
        "--prompt-type",
        "cache_read=0.05",
        db=db,
    )
    # priced from now on: the runs stored before say so, and what to do, not "all priced"
    waiting = cli("prices", "unknown", db=db)
    assert "every llm and embedding run" not in waiting.stderr
    assert "every model of an llm or embedding run with tokens has a price" in waiting.stderr
    assert "llama-3.1-8b-ft" in waiting.stdout and "recompute" in waiting.stdout
    (why,) = json.loads(ok("prices", "unknown", "--format", "json", db=db))
    assert why["model"] == "llama-3.1-8b-ft" and why["runs"] == 2
    assert why["price"].startswith("custom/") and "recompute" in why["reason"]
    listed = json.loads(ok("prices", "list", "-f", "json", db=db))
    assert listed[0]["prompt_cost"] == "0.0000002"  # per token, as LangSmith's API has it
    assert listed[0]["prompt_cost_details"] == {"cache_read": "0.00000005"}
    table = ok("prices", "list", db=db)
    assert "$0.2" in table and "$0.6" in table and "my-llama" in table
    out = ok("prices", "recompute", db=db)
    assert "2 of 3 runs changed" in out
    summary = json.loads(ok("prices", "recompute", "-f", "json", db=db))
    assert summary[0]["runs_changed"] == 0
    with localtrace.Client(db) as client:
        roots = list(client.list_runs(is_root=True))
        assert sorted(r.total_cost for r in roots) == [
            Decimal("0.0005"),
            Decimal("0.0005"),
            Decimal("0.0075"),
        ]
    assert "every llm and embedding run" in cli("prices", "unknown", db=db).stderr
    with localtrace.Client(db) as client:
        priced = next(r for r in client.list_runs(run_type="llm") if r.price_model_id)
    assert "custom/" in ok("run", str(priced.id), db=db)  # `localtrace run` shows the source
    shown = json.loads(ok("runs", "--select", "name,cost_source", "-f", "json", db=db))
    assert {r.get("cost_source") for r in shown} >= {f"custom/{priced.price_model_id}"}
    ok("prices", "delete", "my-llama", db=db)
    assert json.loads(ok("prices", "list", "-f", "json", db=db)) == []
    assert "no model price named" in fails("prices", "delete", "my-llama", db=db)
    assert "no model price" in fails("prices", "delete", str(uuid.uuid4()), db=db)


def test_per_unit_and_bad_input(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    ok(
        "prices",
        "set",
        "x",
        "^x$",
        "--prompt",
        "0.0000025",
        "--completion",
        "0.00001",
        "--per",
        "1",
        db=db,
    )
    [price] = json.loads(ok("prices", "list", "-f", "json", db=db))
    assert price["prompt_cost"] == "0.0000025"
    assert "not a regular expression" in fails(
        "prices", "set", "y", "(?=y)", "--prompt", "1", "--completion", "1", db=db
    )
    assert "non-negative" in fails(
        "prices", "set", "y", "^y$", "--prompt", "-1", "--completion", "1", db=db
    )
    assert "cache_read" in fails(
        "prices",
        "set",
        "y",
        "^y$",
        "--prompt",
        "1",
        "--completion",
        "1",
        "--prompt-type",
        "cache_reed=1",
        db=db,
    )
    assert "TYPE=PRICE" in fails(
        "prices",
        "set",
        "y",
        "^y$",
        "--prompt",
        "1",
        "--completion",
        "1",
        "--prompt-type",
        "cache_read",
        db=db,
    )
    assert "not a date" in fails(
        "prices",
        "set",
        "y",
        "^y$",
        "--prompt",
        "1",
        "--completion",
        "1",
        "--start",
        "someday",
        db=db,
    )
    assert len(json.loads(ok("prices", "list", "-f", "json", db=db))) == 1


def test_import_file(tmp_path: Path) -> None:
    db = tmp_path / "i.db"
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "model_prices": [
                    {
                        "name": "a",
                        "match_pattern": "^a$",
                        "prompt_cost": 1e-6,
                        "completion_cost": 2e-6,
                        "start_time": "2025-01-01T00:00:00Z",
                        "provider": None,
                    },
                ]
            }
        )
    )
    ok("prices", "import", str(path), db=db)
    [price] = json.loads(ok("prices", "list", "-f", "json", db=db))
    assert price["start_time"].startswith("2025-01-01")
    path.write_text(
        json.dumps([{"name": "b", "match_pattern": "^b$", "prompt_cost": -1, "completion_cost": 0}])
    )
    assert "[0].prompt_cost" in fails("prices", "import", str(path), db=db)
    assert len(json.loads(ok("prices", "list", "-f", "json", db=db))) == 1


def test_stats_group_by_model_shows_cost_per_model(tmp_path: Path) -> None:
    db = tmp_path / "g.db"
    _store(db)
    ok("prices", "set", "my-llama", "^llama", "--prompt", "0.20", "--completion", "0.60", db=db)
    ok("prices", "recompute", db=db)
    out = json.loads(ok("stats", "--group-by", "metadata:ls_model_name", "-f", "json", db=db))
    text = json.dumps(out)
    assert "gpt-4o" in text and "llama-3.1-8b-ft" in text and "0.0075" in text
    assert cli("prices", "list", db=tmp_path / "missing.db").exit_code == 2


def test_the_list_keeps_name_and_id_whole_at_80_columns(tmp_path: Path) -> None:
    """`prices delete` takes a price's name or id: at 80 columns both stay whole (the id was
    cut to '43f52f6…' and every header to a few letters); the least useful columns go."""
    from click.testing import CliRunner

    from localtrace.cli import main

    db = tmp_path / "p.db"
    _store(db)
    ok(
        "prices",
        "set",
        "my-llama",
        "^llama-3.*-ft$",
        "--prompt",
        "0.2",
        "--completion",
        "0.6",
        db=db,
    )
    result = CliRunner(env={"COLUMNS": "80"}).invoke(main, ["--db", str(db), "prices", "list"])
    assert result.exit_code == 0, result.output
    (price,) = json.loads(ok("prices", "list", "-f", "json", db=db))
    lines = result.stdout.splitlines()
    assert price["id"] in result.stdout and "my-llama" in result.stdout
    assert "prompt/1M" in result.stdout and "completion/1M" in result.stdout
    assert all(len(line) <= 80 for line in lines)
    message = fails("prices", "set", "x", "^x$", "--prompt", "-1", "--completion", "1", db=db)
    assert "per 1M tokens" in message


def test_a_refused_price_leaves_no_store_where_there_was_none(tmp_path: Path) -> None:
    """`prices set` or `prices import` refused on a new --db path left an empty store file
    behind (which the next command then took for the store); as with `import`, nothing is
    left."""
    bad = tmp_path / "prices.json"
    bad.write_text('{"bad": 1}')
    for args in (
        ["prices", "set", "m", "gpt-x", "--prompt", "abc", "--completion", "1"],
        ["prices", "import", str(bad)],
        ["prices", "import", str(tmp_path / "missing.json")],
    ):
        db = tmp_path / "new.db"
        fails(*args, db=db)
        assert sorted(p.name for p in tmp_path.iterdir()) == ["prices.json"], args


def test_a_file_without_a_price_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    """`prices import` of an empty file said "imported 0 price(s)" and exited 0, leaving a new
    empty store behind; it now says the file holds no price and what it expected, and neither
    creates nor changes a store (an explicit empty list is zero prices: see below)."""
    files = {
        "empty.json": "",
        "blank.jsonl": "\n\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    for name in files:
        message = fails("prices", "import", str(tmp_path / name), db=tmp_path / "new.db")
        assert "holds no price" in message and "JSON list of prices" in message, message
        assert not (tmp_path / "new.db").exists(), name

    db = tmp_path / "kept.db"
    ok("prices", "set", "m", "^m$", "--prompt", "1", "--completion", "2", db=db)
    before = ok("prices", "list", "-f", "json", db=db)
    for name in files:
        fails("prices", "import", str(tmp_path / name), db=db)
    assert ok("prices", "list", "-f", "json", db=db) == before


def test_recompute_shows_small_costs_as_plain_decimals(tmp_path: Path) -> None:
    """A recompute that changed costs below a cent printed them in exponent form (``1E-7``)
    in json and csv; they are plain decimal text, as the prices are."""
    db = tmp_path / "small.db"
    with localtrace.Client(db) as client:
        when = dt.datetime(2025, 9, 1, tzinfo=dt.timezone.utc)
        metadata = {
            "ls_model_name": "tiny",
            "usage_metadata": {"input_tokens": 1, "output_tokens": 0},
        }
        client.create_run(
            "llm", {}, "llm", start_time=when, end_time=when, extra={"metadata": metadata}
        )
    ok("prices", "set", "tiny", "^tiny$", "--prompt", "0.1", "--completion", "0", db=db)
    [record] = json.loads(ok("prices", "recompute", "-f", "json", db=db))
    assert record["total_cost_before"] == "0"
    assert record["total_cost_after"] == record["total_cost_change"] == "0.0000001"
    ok("prices", "set", "tiny", "^tiny$", "--prompt", "0.2", "--completion", "0", db=db)
    csv_text = ok("prices", "recompute", "-f", "csv", db=db)
    assert csv_text.splitlines()[1] == "1,1,0.0000001,0.0000002,0.0000001,False"


def test_the_list_shows_a_start_time_that_is_not_midnight(tmp_path: Path) -> None:
    """Two prices starting the same day at different times both read "from 2025-06-01"."""
    db = tmp_path / "start.db"
    for name, start in (("a", "2025-06-01"), ("b", "2025-06-01T12:30:00Z")):
        ok(
            "prices",
            "set",
            name,
            f"^{name}$",
            "--prompt",
            "1",
            "--completion",
            "1",
            "--start",
            start,
            db=db,
        )
    lines = [line.split(None, 1) for line in ok("prices", "list", db=db).splitlines()]
    rows = {words[0]: words[1] for words in lines if len(words) == 2}
    assert "2025-06-01 12:30 UTC" in rows["b"]
    assert "2025-06-01" in rows["a"] and "UTC" not in rows["a"]


def _price_lists(count: int) -> list[list[dict[str, object]]]:
    return [
        [
            {"name": f"m{i}", "match_pattern": f"^m{i}$", "prompt_cost": 1e-6 * (i + 1)}
            for i in range(count)
        ]
    ]


def test_prices_list_json_imports_back_for_none_one_and_many(tmp_path: Path) -> None:
    """`prices list -f json > f && prices import f`: a store with no custom price writes `[]`,
    which `prices import` refused ("holds no price", exit 2) though it is our own export; an
    explicit empty list now imports as zero prices, says so and exits 0, and one or many
    prices come back as they were."""
    for count in (0, 1, 5):
        source, target = tmp_path / f"from-{count}.db", tmp_path / f"to-{count}.db"
        localtrace.Client(source).close()
        for price in _price_lists(count)[0]:
            ok(
                "prices",
                "set",
                str(price["name"]),
                str(price["match_pattern"]),
                "--prompt",
                str(Decimal(str(price["prompt_cost"])) * 10**6),
                "--completion",
                "0",
                db=source,
            )
        listed = cli("prices", "list", "-f", "json", db=source)
        assert listed.exit_code == 0
        exported = tmp_path / f"prices-{count}.json"
        exported.write_text(listed.stdout)
        assert len(json.loads(listed.stdout)) == count
        for db in (target, source):  # into a new store, and back into the same one
            result = cli("prices", "import", str(exported), db=db)
            assert result.exit_code == 0, result.output
            said = result.stderr.strip()
            assert said.startswith(f"imported {count} price"), said
            if count == 0:
                assert "empty list" in said
            again = json.loads(ok("prices", "list", "-f", "json", db=db))
            assert again == json.loads(listed.stdout)
    # an object holding an empty list, as LangSmith's map shape: zero prices too
    for text in ('{"model_prices": []}', '{"items": []}'):
        wrapped = tmp_path / "wrapped.json"
        wrapped.write_text(text)
        done = cli("prices", "import", str(wrapped), db=tmp_path / "w.db")
        assert done.exit_code == 0 and "imported 0 prices" in done.stderr, done.output
