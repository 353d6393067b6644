"""The ``localtrace`` command line, driven through click's CliRunner on a store holding the demo."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import types
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

import localtrace
from localtrace import display
from localtrace.cli import demo as _demo
from localtrace.cli import main

README = Path(__file__).resolve().parents[1] / "README.md"
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A store with one demo trace (6 runs, one failed, feedback on the root)."""
    path = tmp_path_factory.mktemp("cli") / "demo.db"
    with localtrace.Client(path) as client:
        _demo.run_demo(client, pace=0)
    yield path


@pytest.fixture(scope="module")
def root_id(demo_db: Path) -> str:
    with localtrace.Client(demo_db) as client:
        (root,) = client.list_runs(is_root=True)
    return str(root.id)


def cli(*args: str, db: Path | None = None, input: str | bytes | None = None) -> Result:
    """Run the CLI in-process (wide terminal so tables are not folded)."""
    prefix = ["--db", str(db)] if db is not None else []
    return CliRunner().invoke(
        main, [*prefix, *args], input=input, env={"COLUMNS": "200"}, catch_exceptions=False
    )


def ok(*args: str, db: Path | None = None, input: str | bytes | None = None) -> str:
    result = cli(*args, db=db, input=input)
    assert result.exit_code == 0, result.output
    return result.stdout


def fails(*args: str, db: Path | None = None, input: str | bytes | None = None) -> str:
    """Exit code 2, one line on stderr, no traceback; returns that line."""
    result = cli(*args, db=db, input=input)
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert "Traceback" not in result.output
    assert message.startswith("Error:") or "Error:" in message.splitlines()[-1], message
    return message.splitlines()[-1]


def _commands() -> Iterator[tuple[str, click.Command]]:
    def walk(group: click.Group, prefix: str) -> Iterator[tuple[str, click.Command]]:
        for name, command in sorted(group.commands.items()):
            path = f"{prefix}{name}"
            if isinstance(command, click.Group):
                yield from walk(command, path + " ")
            else:
                yield path, command

    assert isinstance(main, click.Group)
    yield from walk(main, "")


COMMANDS = [path for path, _ in _commands()]


def _readme_block() -> str:
    text = README.read_text(encoding="utf-8")
    start, end = text.index("<!-- cli:start -->"), text.index("<!-- cli:end -->")
    return text[start:end]


# -- help and README ----------------------------------------------------------------------------
def test_the_expected_commands_exist() -> None:
    expected = {
        "demo",
        "runs",
        "run",
        "trace",
        "stats",
        "search",
        "projects",
        "feedback",
        "export",
        "import",
        "db info",
        "db vacuum",
        "db prune",
        "db retention",
        "db repair",
        "push",
        "pull",
        "merge",
        "serve",
        "thread",
        "mcp",
        "prices list",
        "prices set",
        "prices delete",
        "prices import",
        "prices recompute",
        "prices unknown",
        "sql",
        "ui",
        "datasets export",
        "datasets import",
        "experiments",
        "compare",
    }
    assert set(COMMANDS) == expected


@pytest.mark.parametrize("path", COMMANDS)
def test_every_command_has_help_ending_in_an_example(path: str) -> None:
    out = ok(*path.split(), "--help")
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    usage_end = lines.index("Options:")
    description = lines[:usage_end]
    assert "Example:" in description, out
    example = description[description.index("Example:") + 1 :]
    assert example and example[-1].startswith("localtrace"), out
    assert re.search(rf"\b{re.escape(path.split()[-1])}\b", example[-1]), out
    assert "``" not in out, out  # reST markup of a docstring, shown as it is by --help


@pytest.mark.parametrize("path", COMMANDS)
def test_every_command_appears_in_the_readme_with_an_example(path: str) -> None:
    block = _readme_block()
    pattern = rf"^\s*(\$\s*)?localtrace\b[^\n]*?\s{re.escape(path)}(\s|$)"
    assert re.search(pattern, block, re.M), f"no `localtrace ... {path}` example in the README"


def _run_examples(lines: list[str], demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run example command lines in a scratch folder; none may be a usage error."""
    fake = types.ModuleType("localtrace.server")
    fake.serve = lambda *args, **kwargs: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "localtrace.server", fake)
    fake_mcp = types.ModuleType("localtrace.mcp")
    fake_mcp.serve = lambda *args, **kwargs: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "localtrace.mcp", fake_mcp)
    monkeypatch.chdir(demo_db.parent)
    monkeypatch.delenv("LOCALTRACE_DB", raising=False)
    shutil.copy(demo_db, "localtrace.db")
    for line in lines:
        if re.search(r"https?://(?!127\.0\.0\.1|localhost|\[::1\])", line):
            continue  # names a server off this machine (push/pull to LangSmith): no network here
        words = shlex.split(line, comments=True)
        for stop in (">", "|", "&&"):
            words = words[: words.index(stop)] if stop in words else words
        assert words[0] == "localtrace", line
        result = CliRunner().invoke(main, words[1:])
        assert "Usage:" not in result.output and "No such" not in result.output, result.output
        assert result.exit_code in (0, 2), (line, result.output, result.exception)


def test_help_examples_parse(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    examples = []
    for path in COMMANDS:
        lines = [line.strip() for line in ok(*path.split(), "--help").splitlines()]
        after = lines[lines.index("Example:") + 1 :]
        examples.append(next(line for line in after if line))
    copy = tmp_path / "demo.db"
    shutil.copy(demo_db, copy)
    _run_examples(examples, copy, monkeypatch)


def test_readme_examples_parse(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    block = _readme_block()
    lines = [
        line
        for code in re.findall(r"```bash\n(.*?)```", block, re.S)
        for line in code.splitlines()
        if line.startswith("localtrace ") and "$" not in line  # tests/test_docs.py runs those
    ]
    assert len(lines) >= len(COMMANDS)
    copy = tmp_path / "demo.db"
    shutil.copy(demo_db, copy)
    _run_examples(lines, copy, monkeypatch)


def test_group_help_and_version() -> None:
    assert "Example:" in ok("--help")
    assert localtrace.__version__ in ok("--version")


@pytest.mark.parametrize("module", ["localtrace", "localtrace.cli"])
def test_python_dash_m_runs_the_command(module: str) -> None:
    """``python -m localtrace`` (where the ``localtrace`` script is not on PATH, as in a venv
    that is not activated) said "'localtrace' is a package and cannot be directly executed"."""
    done = subprocess.run(
        [sys.executable, "-m", module, "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert localtrace.__version__ in done.stdout


# -- demo ---------------------------------------------------------------------------------------
def test_demo_traces_and_shows_tree_and_stats(tmp_path: Path) -> None:
    pytest.importorskip("localtrace._stats.passes")
    db = tmp_path / "fresh.db"
    out = ok("demo", db=db)
    for text in ("research_assistant", "retrieve_docs", "chat_model", "web_search", "TimeoutError"):
        assert text in out
    assert "per trace" in out and "tokens" in out and "helpfulness" in out
    with localtrace.Client(db) as client:
        assert len(list(client.list_runs())) == 6
        assert [p.name for p in client.list_projects()] == ["localtrace-demo"]


def test_the_commands_the_demo_suggests_run_as_printed(tmp_path: Path) -> None:
    """With a path or a project name holding a space, the demo's "Next:" commands broke when
    pasted (`localtrace --db my traces.db runs --project my demo`); they are quoted now."""
    pytest.importorskip("localtrace._stats.passes")
    db = tmp_path / "my traces" / "fresh db.db"
    db.parent.mkdir()
    out = ok("--db", str(db), "demo", "--project", "my demo's project")
    suggested = out[out.index("Next:") :].splitlines()[1:]
    assert len(suggested) == 3
    for line in suggested:
        words = shlex.split(line)
        assert words[0] == "localtrace", line
        result = cli(*words[1:])
        assert result.exit_code == 0, (line, result.output)
        assert "my demo's project" in result.stdout or "research_assistant" in result.stdout


# -- runs ---------------------------------------------------------------------------------------
def test_runs_table_shows_the_readable_columns(demo_db: Path) -> None:
    out = ok("runs", db=demo_db)
    header = out.strip().splitlines()[0].split()
    assert header == ["name", "type", "status", "start", "latency", "tokens", "cost", "id"]
    for name in ("research_assistant", "chat_model", "web_search", "calculator"):
        assert name in out
    assert "✗ error" in out


def test_runs_as_json_jsonl_and_csv(demo_db: Path) -> None:
    runs = json.loads(ok("runs", "--format", "json", db=demo_db))
    assert len(runs) == 6
    assert {"id", "name", "run_type", "inputs", "outputs", "total_tokens", "latency"} <= set(
        runs[0]
    )
    lines = ok("runs", "-f", "jsonl", db=demo_db).splitlines()
    assert [json.loads(line)["id"] for line in lines] == [run["id"] for run in runs]
    rows = list(csv.DictReader(io.StringIO(ok("runs", "-f", "csv", db=demo_db))))
    assert len(rows) == 6
    assert list(rows[0])[:4] == ["id", "name", "run_type", "status"]
    assert {row["name"] for row in rows} >= {"chat_model", "web_search"}


def test_global_format_option_applies_to_data_commands(demo_db: Path) -> None:
    assert len(json.loads(ok("--format", "json", "runs", db=demo_db))) == 6


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("-f", "json", "demo"), "`localtrace demo` takes no output format"),
        (("-f", "json", "db", "vacuum"), "`localtrace db vacuum` takes no output format"),
        (("--format", "csv", "merge", "a.db", "b.db"), "leave out -f/--format csv"),
        (("-f", "csv", "thread", "t"), "`localtrace thread` writes table, markdown or json"),
        (("-f", "csv", "export"), "`localtrace export` has a --format of its own"),
        (("-f", "json", "datasets", "export", "d", "-o", "x"), "`localtrace datasets export`"),
    ],
)
def test_a_global_format_the_command_would_ignore_is_a_usage_error(
    demo_db: Path, args: tuple[str, ...], said: str
) -> None:
    assert said in fails(*args, db=demo_db)


def test_a_global_format_reaches_commands_that_take_it(demo_db: Path) -> None:
    assert json.loads(ok("-f", "json", "db", "info", db=demo_db))["runs"] == 6
    assert json.loads(ok("-f", "json", "thread", "demo-thread", db=demo_db))
    assert json.loads(ok("-f", "json", "datasets", db=demo_db)) == []


def test_runs_select_limits_the_fields(demo_db: Path) -> None:
    lines = ok("runs", "--select", "name,latency", "-s", "total_tokens", "-f", "jsonl", db=demo_db)
    records = [json.loads(line) for line in lines.splitlines()]
    assert all(set(r) == {"id", "name", "latency", "total_tokens"} for r in records)
    assert all(r["latency"] is not None for r in records)
    out = ok("runs", "--select", "name,total_tokens", db=demo_db)
    assert out.strip().splitlines()[0].split() == ["name", "total_tokens", "id"]


@pytest.mark.parametrize("columns", ["200", None])
def test_selected_figures_read_as_in_every_other_table(demo_db: Path, columns: str | None) -> None:
    """`runs --select latency` printed raw seconds (0.086791) where every other table prints
    87ms; a selected latency, cost or token count now reads the same in a terminal and in a
    piped table, and the data formats keep the numbers that the full records have."""
    runs = {str(r.id): r for r in localtrace.Client(demo_db).list_runs()}
    result = CliRunner().invoke(
        main,
        ["--db", str(demo_db), "runs", "-s", "name,latency,total_cost,total_tokens", "-n", "0"],
        env={"COLUMNS": columns},
    )
    rows = [line.split() for line in result.stdout.splitlines() if UUID.search(line)]
    assert len(rows) == len(runs)
    for row in rows:
        run = runs[row[-1]]
        figures = [
            display.latency_text(run.latency),
            display.cost_text(run.total_cost),
            display.tokens_text(run.total_tokens),
        ]
        assert row == [run.name, *(f for f in figures if f), str(run.id)]
    for fmt in ("csv", "jsonl"):
        full = ok("runs", "-n", "0", "-f", fmt, db=demo_db)
        selected = ok("runs", "-s", "latency", "-n", "0", "-f", fmt, db=demo_db)
        assert _latencies(full, fmt) == _latencies(selected, fmt)
        assert all(isinstance(v, float) for v in _latencies(selected, fmt).values())


def _latencies(out: str, fmt: str) -> dict[str, Any]:
    """Each run's latency as a data format gives it (CSV's text read as a number)."""
    if fmt == "csv":
        return {row["id"]: float(row["latency"]) for row in csv.DictReader(io.StringIO(out))}
    return {r["id"]: r["latency"] for r in map(json.loads, out.splitlines())}


def test_runs_structured_conditions(demo_db: Path) -> None:
    def names(*args: str) -> list[str]:
        return [r["name"] for r in json.loads(ok("runs", "-f", "json", *args, db=demo_db))]

    assert names("--run-type", "llm") == ["chat_model", "chat_model"]
    assert names("--error") == ["web_search"]
    assert "web_search" not in names("--no-error")
    assert names("--root") == ["research_assistant"]
    assert len(names("--since", "1h")) == 6
    assert names("--since", "2999-01-01") == []
    assert len(names("--limit", "2")) == 2
    assert len(names("--project", "localtrace-demo")) == 6


def test_runs_filters(demo_db: Path) -> None:
    pytest.importorskip("localtrace.filters")

    def names(*args: str) -> list[str]:
        return [r["name"] for r in json.loads(ok("runs", "-f", "json", *args, db=demo_db))]

    assert names("--filter", 'eq(name, "calculator")') == ["calculator"]
    assert sorted(names("--filter", "gt(total_tokens, 0)", "--run-type", "llm")) == [
        "chat_model",
        "chat_model",
    ]
    everything = names("--trace-filter", 'eq(feedback_key, "helpfulness")')
    assert len(everything) == 6
    assert len(names("--tree-filter", 'eq(name, "web_search")')) == 6
    assert names("--tree-filter", 'eq(name, "nothing-like-this")') == []


def test_table_footer_says_how_to_see_more(demo_db: Path) -> None:
    result = cli("runs", "--limit", "2", db=demo_db)
    assert "--limit 0" in result.stderr


# -- errors -------------------------------------------------------------------------------------
def test_bad_filter_is_one_line_with_a_fix(demo_db: Path) -> None:
    pytest.importorskip("localtrace.filters")
    message = fails("runs", "--filter", "gt(latncy, 2)", db=demo_db)
    assert "latncy" in message and "did you mean 'latency'" in message


def test_missing_store_says_how_to_create_one(tmp_path: Path) -> None:
    for command in (["runs"], ["stats"], ["db", "info"], ["db", "vacuum"], ["projects"]):
        message = fails(*command, db=tmp_path / "nothing.db")
        assert "no trace store" in message and "localtrace demo" in message
    assert not (tmp_path / "nothing.db").exists()


@pytest.mark.parametrize("kind", ["empty file", "sqlite without tables"])
def test_reads_never_make_a_store_of_an_empty_database(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "empty.db"
    if kind == "empty file":
        path.write_bytes(b"")
    else:
        import sqlite3

        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE t (a)")
            conn.execute("DROP TABLE t")
        conn.close()
    before = path.read_bytes()
    for command in (["runs"], ["stats"], ["projects"], ["search", "x"], ["db", "info"]):
        message = fails(*command, db=path)
        assert "no trace store" in message and "left unchanged" in message
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]
    ok("demo", db=path)  # a command that writes makes it a store, as with a new path
    assert "demo" in ok("projects", db=path)


def test_an_unknown_selected_field_is_answered_with_the_fields(demo_db: Path) -> None:
    """`runs --select colour` sent the user to `localtrace runs --help`, which names no field;
    the error names them now: every field a run record has can be selected."""
    message = fails("runs", "--select", "colour", db=demo_db)
    record = json.loads(ok("runs", "-n", "1", "-f", "jsonl", db=demo_db))
    named = set(re.findall(r"[a-z_]+", message.partition("fields are")[2]))
    assert set(record) - {"session_name"} <= named, set(record) - named
    assert "--help" not in message
    for field in sorted(named):
        ok("runs", "-n", "1", "--select", field, "-f", "jsonl", db=demo_db)


def test_unknown_ids_and_bad_arguments(demo_db: Path) -> None:
    unknown = str(uuid.uuid4())
    assert "no run with id" in fails("run", unknown, db=demo_db)
    assert "no trace or run" in fails("trace", unknown, db=demo_db)
    assert "not a valid UUID" in fails("run", "not-an-id", db=demo_db)
    assert "did you mean 'latency'" in fails("runs", "--select", "latncy", db=demo_db)
    assert "not a time" in fails("runs", "--since", "yesterday", db=demo_db)
    assert "metadata:KEY" in fails("stats", "--group-by", "colour", db=demo_db)
    assert "no project" in fails("runs", "--project", "no-such-project", db=demo_db).lower()


def test_env_var_names_the_default_store(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCALTRACE_DB", str(demo_db))
    result = CliRunner().invoke(main, ["runs", "-f", "json"], env={"LOCALTRACE_DB": str(demo_db)})
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)) == 6


# -- run / trace --------------------------------------------------------------------------------
def test_a_mistyped_project_name_gets_the_close_one(demo_db: Path) -> None:
    message = fails("runs", "--project", "localtrace-dmeo", db=demo_db)
    assert "no project with name 'localtrace-dmeo'" in message
    assert "did you mean 'localtrace-demo'?" in message
    assert "did you mean" not in fails("stats", "--project", "something-else", db=demo_db)


def test_importing_a_store_file_points_at_merge(demo_db: Path, tmp_path: Path) -> None:
    message = fails("--db", str(tmp_path / "copy.db"), "import", str(demo_db))
    assert "is a store (an SQLite file), not JSON lines" in message
    assert f"localtrace merge {tmp_path / 'copy.db'} {demo_db}" in message
    assert not (tmp_path / "copy.db").exists()


def test_importing_the_store_into_itself_says_so(demo_db: Path) -> None:
    """`localtrace import localtrace.db` (the store given as the input) advised merging the
    store into itself: `localtrace merge localtrace.db localtrace.db`, which merge refuses."""
    message = fails("import", str(demo_db), db=demo_db)
    assert "is the store itself" in message and "merge" not in message


def test_the_commands_suggested_name_the_same_store(demo_db: Path, tmp_path: Path) -> None:
    """`localtrace --db my.db run ID` ended with "the whole trace: localtrace trace ID", which
    looks in ./localtrace.db; the commands suggested carry the --db given (quoted)."""
    store = tmp_path / "a store.db"
    shutil.copy(demo_db, store)
    with localtrace.Client(store, read_only=True) as client:
        run = next(r for r in client.list_runs() if r.parent_run_id is not None)
    out = ok("run", str(run.id), db=store)
    line = out.splitlines()[-1].split(": ", 1)[1]
    search = cli("search", "research", db=store).stderr.split("names: ")[1].strip()
    for suggested in (line, search):
        words = shlex.split(suggested)
        assert words[:3] == ["localtrace", "--db", str(store)], suggested
        assert cli(*words[1:]).exit_code == 0, suggested


def test_run_shows_everything_about_one_run(demo_db: Path, root_id: str) -> None:
    out = ok("run", root_id, db=demo_db)
    for text in ("research_assistant", "inputs", "outputs", "question", "answer", "metadata"):
        assert text in out
    assert "demo-user" in out
    assert "helpfulness" in out and "clear, grounded" in out
    assert "tokens" in out and "cost" in out
    assert out.rstrip().endswith(f" trace {root_id}")


@pytest.mark.parametrize("columns", ["80", None], ids=["terminal", "pipe"])
def test_run_shows_long_values_whole(tmp_path: Path, columns: str | None) -> None:
    # "in full": a long prompt is folded at the panel's edge, never cut off
    prompt = "".join(f"w{i:05d}" for i in range(1500))  # 9,000 characters, no spaces
    path = tmp_path / "long.db"
    with localtrace.Client(path) as client:
        run_id = uuid.uuid4()
        client.create_run("ask", {"prompt": prompt}, "llm", id=run_id, outputs={"text": prompt})
    result = CliRunner().invoke(
        main, ["--db", str(path), "run", str(run_id)], env={"COLUMNS": columns}
    )
    assert result.exit_code == 0, result.output
    seen = re.sub(r"[\s│╭╮╰╯─]", "", result.stdout)
    assert seen.count(prompt) == 2  # inputs and outputs


def test_run_shows_the_error_of_a_failed_run(demo_db: Path) -> None:
    (failed,) = json.loads(ok("runs", "--error", "-f", "json", db=demo_db))
    out = ok("run", failed["id"], db=demo_db)
    assert "TimeoutError" in out and "error" in out
    record = json.loads(ok("run", failed["id"], "-f", "json", db=demo_db))
    assert record["id"] == failed["id"] and record["session_name"] == "localtrace-demo"


def test_trace_tree_with_waterfall(demo_db: Path, root_id: str) -> None:
    out = ok("trace", root_id, db=demo_db)
    assert "├─ retrieve_docs" in out and "└─ chat_model" in out
    assert "waterfall" in out and "█" in out
    assert "✗ web_search: TimeoutError" in out
    assert "feedback:" in out


def test_trace_accepts_the_id_of_any_run_in_it(demo_db: Path, root_id: str) -> None:
    (child,) = json.loads(ok("runs", "--run-type", "retriever", "-f", "json", db=demo_db))
    tree = json.loads(ok("trace", child["id"], "-f", "json", db=demo_db))
    assert tree["id"] == root_id
    assert [c["name"] for c in tree["child_runs"]] == [
        "retrieve_docs",
        "chat_model",
        "web_search",
        "calculator",
        "chat_model",
    ]
    lines = ok("trace", root_id, "-f", "jsonl", db=demo_db).splitlines()
    assert [json.loads(line)["depth"] for line in lines] == [0, 1, 1, 1, 1, 1]


def test_trace_shows_repaired_runs(tmp_path: Path) -> None:
    db = tmp_path / "orphans.db"
    parent, child = uuid.uuid4(), uuid.uuid4()
    with localtrace.Client(db) as client:
        client.create_run("lonely", {"x": 1}, "tool", id=child, parent_run_id=parent)
        client.flush()
    out = ok("trace", str(child), db=db)
    assert "lonely" in out and "⚠" in out
    assert "never arrived" in out or "unknown" in out
    assert "⚠" not in ok("trace", str(child), "-f", "csv", db=db)


# -- stats --------------------------------------------------------------------------------------
def test_stats_table_and_json(demo_db: Path) -> None:
    pytest.importorskip("localtrace._stats.passes")
    out = ok("stats", "--root", db=demo_db)
    assert "latency p50" in out and "tokens" in out and "cost" in out
    record = json.loads(ok("stats", "--root", "-f", "json", db=demo_db))
    assert record["run_count"] == 1
    assert record["total_tokens"] > 0
    assert json.loads(ok("stats", "--error", "-f", "json", db=demo_db))["run_count"] == 1


def test_stats_csv_prints_figures_without_float_noise(tmp_path: Path) -> None:
    """Token counts 1 and 4 have a p99 of 3.97: csv (and json) print that, not the
    3.9699999999999998 of float interpolation; latencies likewise."""
    db = tmp_path / "noise.db"
    start = dt.datetime(2026, 5, 1, tzinfo=dt.timezone.utc)
    with localtrace.Client(db) as client:
        for micros, tokens in ((1_000_000, 1), (4_000_000, 4)):
            usage = {"input_tokens": tokens, "output_tokens": 0, "total_tokens": tokens}
            client.create_run(
                "step",
                {},
                "llm",
                start_time=start,
                end_time=start + dt.timedelta(microseconds=micros),
                extra={"metadata": {"usage_metadata": usage}},
            )
    (row,) = csv.DictReader(io.StringIO(ok("stats", "-f", "csv", db=db)))
    assert row["tokens_p99"] == "3.97" and row["prompt_tokens_p99"] == "3.97"
    assert row["latency_p99"] == "3.97" and row["latency_avg"] == "2.5"


def test_stats_group_by(demo_db: Path) -> None:
    pytest.importorskip("localtrace._stats.passes")
    groups = json.loads(ok("stats", "--group-by", "name", "-f", "json", db=demo_db))
    assert groups["chat_model"]["run_count"] == 2
    assert groups["web_search"]["error_rate"] == 1.0
    by_type = json.loads(ok("stats", "-g", "run_type", "-f", "json", db=demo_db))
    assert by_type["tool"]["run_count"] == 2
    meta = json.loads(ok("stats", "-g", "metadata:user_id", "--root", "-f", "json", db=demo_db))
    assert meta["demo-user"]["run_count"] == 1
    table = ok("stats", "--group-by", "name", db=demo_db)
    assert table.strip().splitlines()[0].split()[:2] == ["name", "runs"]
    rows = list(csv.DictReader(io.StringIO(ok("stats", "-g", "tag", "-f", "csv", db=demo_db))))
    assert rows[0]["group"] == "demo"


def test_stats_group_by_model_with_or_without_every(demo_db: Path) -> None:
    """Every grouping works with and without --every: model is the runs' ls_model_name."""
    pytest.importorskip("localtrace._stats.passes")
    by_model = json.loads(ok("stats", "--group-by", "model", "-f", "json", db=demo_db))
    assert list(by_model) == ["fake-chat-1"] and by_model["fake-chat-1"]["run_count"] == 2
    assert ok("stats", "-g", "model", db=demo_db).split()[:2] == ["model", "runs"]
    series = json.loads(ok("stats", "--every", "1h", "-g", "model", "-f", "json", db=demo_db))
    assert [g["group"] for g in series["groups"]] == ["fake-chat-1"]
    for bad in ("bogus", "metadata", "name:x"):
        message = fails("stats", "--group-by", bad, db=demo_db)
        assert "--group-by" in message and "model" in message
        assert message == fails("stats", "--every", "1h", "--group-by", bad, db=demo_db)


def test_stats_of_nothing_say_so(demo_db: Path) -> None:
    """With or without --group-by, no matching run is a note, not a table of zeros."""
    for extra in ([], ["-g", "name"]):
        result = cli("stats", "--since", "2099-01-01", *extra, db=demo_db)
        assert result.exit_code == 0 and not result.stdout.strip(), result.stdout
        assert "no runs matched" in result.stderr
    assert (
        json.loads(ok("stats", "--since", "2099-01-01", "-f", "json", db=demo_db))["run_count"] == 0
    )


def test_a_time_series_says_what_its_sums_count(demo_db: Path) -> None:
    """`stats -g name` gives the root its trace's tokens, the series (each run's own usage)
    gives it none: the series says which it counts, so the two tables do not seem to
    disagree about the same runs."""
    grouped = json.loads(ok("stats", "-g", "name", "-f", "json", db=demo_db))
    series = json.loads(ok("stats", "--every", "1h", "-g", "name", "-f", "json", db=demo_db))
    root = next(g for g in series["groups"] if g["group"] == "research_assistant")
    assert grouped["research_assistant"]["total_tokens"] > 0
    assert sum(b["total_tokens"] for b in root["buckets"]) == 0
    assert "each with its own tokens and cost" in ok("stats", "--every", "1h", db=demo_db)
    assert "each with its totals" in ok("stats", "--every", "1h", "--root", db=demo_db)
    assert "its own tokens and cost" in " ".join(ok("stats", "--help").split())


def test_an_extra_argument_says_what_was_meant(demo_db: Path) -> None:
    """`localtrace runs my-project` wants --project; `localtrace search timed out` wants
    quotes (click alone only says that an argument was unexpected)."""
    message = cli("runs", "localtrace-demo", db=demo_db).stderr.strip().splitlines()[-1]
    assert "(localtrace-demo)" in message and "--project NAME" in message
    message = cli("search", "timed", "out", db=demo_db).stderr.strip().splitlines()[-1]
    assert "(out)" in message and "in quotes" in message and "--project" not in message


# -- search, projects, feedback -----------------------------------------------------------------
def test_search_finds_text_in_outputs_and_errors(demo_db: Path) -> None:
    pytest.importorskip("localtrace.filters")
    assert "web_search" in ok("search", "timed out", db=demo_db)
    found = json.loads(ok("search", "SQLite", "--root", "-f", "json", db=demo_db))
    assert [run["name"] for run in found] == ["research_assistant"]
    result = cli("search", "zzzyyyxxx", db=demo_db)
    assert result.exit_code == 0 and "no run mentions" in result.stderr


def test_search_says_that_names_are_not_searched_and_how_to_search_them(demo_db: Path) -> None:
    """`localtrace search --help` promised run names, which the search leaves out (as
    LangSmith's does; docs/compatibility.md): `search research` found nothing beside a run
    named research_assistant, without a word. The help says what is searched, and a search
    that finds nothing gives the filter that searches names, which finds it."""
    assert "names" not in ok("search", "--help").split("(")[0]
    result = cli("search", "research", db=demo_db)
    assert result.stdout == ""
    command = result.stderr.split("names: ")[1].strip()
    assert command.endswith(""" runs --filter 'search(name, "research")'""")
    found = json.loads(ok(*shlex.split(command)[1:], "-f", "json"))
    assert [run["name"] for run in found] == ["research_assistant"]


def test_projects(demo_db: Path) -> None:
    pytest.importorskip("localtrace._stats.passes")
    assert "localtrace-demo" in ok("projects", db=demo_db)
    (project,) = json.loads(ok("projects", "-f", "json", db=demo_db))
    assert project["name"] == "localtrace-demo" and project["run_count"] == 1
    assert isinstance(project["latency_p50"], float)
    assert "localtrace-demo" in ok("projects", "--no-stats", "--name-contains", "demo", db=demo_db)


def test_a_mistyped_thread_id_gets_the_close_one(demo_db: Path) -> None:
    for extra in ([], ["-f", "json"]):
        message = fails("thread", "demo-threa", *extra, db=demo_db)
        assert "no thread 'demo-threa'" in message and "did you mean 'demo-thread'?" in message
    assert "did you mean" not in fails("thread", "zzz", db=demo_db)


def test_a_mistyped_feedback_key_gets_the_close_one(demo_db: Path) -> None:
    result = cli("feedback", "--key", "helpfulnes", db=demo_db)
    assert result.exit_code == 0 and not result.stdout
    assert "no feedback matches; --key 'helpfulnes': did you mean 'helpfulness'?" in result.stderr
    assert cli("feedback", "--key", "zzz", db=demo_db).stderr.strip() == "no feedback matches"


@pytest.mark.parametrize("command", ["runs", "search demo", "feedback", "projects"])
def test_limit_0_shows_all_in_every_listing(demo_db: Path, command: str) -> None:
    """`-n 0` shows everything in every listing (projects refused it as out of range)."""
    result = cli(*shlex.split(command), "-n", "0", "-f", "json", db=demo_db)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)


def test_feedback(demo_db: Path, root_id: str) -> None:
    out = ok("feedback", db=demo_db)
    assert "helpfulness" in out and "correctness" in out and root_id in out
    (item,) = json.loads(ok("feedback", "--key", "helpfulness", "-f", "json", db=demo_db))
    assert item["score"] == 1 and item["run_id"] == root_id
    assert len(json.loads(ok("feedback", "--run", root_id, "-f", "json", db=demo_db))) == 2
    assert len(json.loads(ok("feedback", "-p", "localtrace-demo", "-f", "json", db=demo_db))) == 2


# -- export / import ------------------------------------------------------------------------
def _snapshot(path: Path) -> dict[str, Any]:
    """Runs (without project ids), trees, feedback and stats of a store, comparable across files."""
    volatile = {"session_id", "app_path"}
    with localtrace.Client(path) as client:
        runs = {
            str(run.id): {k: v for k, v in run.model_dump(mode="json").items() if k not in volatile}
            for run in client.list_runs()
        }
        roots = [run.id for run in client.list_runs(is_root=True)]
        trees = {
            str(root): [(str(r.id), str(r.parent_run_id)) for r in client.read_trace(root).walk()]
            for root in roots
        }
        feedback = sorted(
            (str(f.id), str(f.run_id), f.key, f.score, json.dumps(f.value), f.comment)
            for f in client.list_feedback()
        )
        projects = sorted(p.name for p in client.list_projects())
        stats = None
        if importlib.util.find_spec("localtrace._stats.passes") is not None:
            result = client.get_run_stats(is_root=True)
            assert isinstance(result, localtrace.RunStats)
            stats = result.model_dump(mode="json", exclude={"run_facets"})
    return {
        "runs": runs,
        "trees": trees,
        "feedback": feedback,
        "projects": projects,
        "stats": stats,
    }


def test_feedback_of_a_run_takes_the_end_of_its_id(demo_db: Path, root_id: str) -> None:
    """`feedback --run` took only whole ids, where `run` and `trace` take the end of an id
    that a narrow `runs` listing shows (…5dcc9276); it takes it too now."""
    whole = json.loads(ok("feedback", "--run", root_id, "-f", "json", db=demo_db))
    for part in ("…" + root_id[-8:], root_id[-12:].upper()):
        assert json.loads(ok("feedback", "--run", part, "-f", "json", db=demo_db)) == whole
    assert "no run id contains" in fails("feedback", "--run", "fffffffff", db=demo_db)


def test_export_then_import_reproduces_runs_trees_feedback_and_stats(
    demo_db: Path, tmp_path: Path
) -> None:
    dump = tmp_path / "demo.jsonl"
    result = cli("export", "-o", str(dump), db=demo_db)
    assert result.exit_code == 0, result.output
    assert "exported 6 runs and 2 feedback" in result.stderr
    records = [json.loads(line) for line in dump.read_text().splitlines()]
    assert [("run_type" in r) for r in records] == [True] * 6 + [False] * 2
    assert all(r["session_name"] == "localtrace-demo" for r in records[:6])

    copy = tmp_path / "copy.db"
    assert "imported 6 runs and 2 feedback" in ok("import", str(dump), db=copy)
    assert _snapshot(copy) == _snapshot(demo_db)
    # Importing again changes nothing (runs are upserted, feedback keeps its ids).
    ok("import", str(dump), db=copy)
    assert _snapshot(copy) == _snapshot(demo_db)


def test_export_to_stdout_and_import_from_stdin(demo_db: Path, tmp_path: Path) -> None:
    dump = cli("export", "--no-feedback", "--run-type", "llm", db=demo_db)
    assert dump.exit_code == 0
    lines = dump.stdout.splitlines()
    assert len(lines) == 2 and all(json.loads(line)["name"] == "chat_model" for line in lines)
    copy = tmp_path / "llm.db"
    out = ok("import", "-", "--project", "only-llm", db=copy, input=dump.stdout)
    assert "imported 2 runs and 0 feedback" in out
    with localtrace.Client(copy) as client:
        runs = list(client.list_runs(project_name="only-llm"))
    assert len(runs) == 2 and all(run.total_tokens for run in runs)


def test_export_with_filters_exports_the_feedback_of_those_runs(demo_db: Path) -> None:
    out = cli("export", "--root", db=demo_db).stdout
    records = [json.loads(line) for line in out.splitlines()]
    assert len(records) == 3  # the root and its two pieces of feedback


def test_import_into_a_store_that_has_the_project_under_another_id(
    demo_db: Path, tmp_path: Path
) -> None:
    dump = cli("export", db=demo_db).stdout
    other = tmp_path / "other.db"
    with localtrace.Client(other) as client:
        client.create_project("localtrace-demo")
    ok("import", "-", db=other, input=dump)
    with localtrace.Client(other) as client:
        assert [p.name for p in client.list_projects()] == ["localtrace-demo"]
        assert len(list(client.list_runs(project_name="localtrace-demo"))) == 6


def test_import_errors(tmp_path: Path) -> None:
    db = tmp_path / "target.db"
    assert "no file" in fails("import", str(tmp_path / "missing.jsonl"), db=db)
    bad = tmp_path / "bad.jsonl"
    run = {"id": str(uuid.uuid4()), "name": "ok", "run_type": "chain", "inputs": {}}
    bad.write_text(json.dumps(run) + "\nnot json\n")
    message = fails("import", str(bad), db=db)
    assert "line 2" in message and "not JSON" in message
    bad.write_text("[1, 2]\n")
    assert "neither a run nor feedback" in fails("import", str(bad), db=db)


def _real_cli(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """The CLI in a process of its own: its stderr is the real one, where the library's log
    lines land too (pytest's log capture would swallow them in-process)."""
    src = str(Path(localtrace.__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])),
    }
    return subprocess.run(
        [sys.executable, "-m", "localtrace.cli", *args],
        input=input,
        capture_output=True,
        env=env,
        timeout=120,
    )


def test_an_import_lists_each_refused_run_once_and_inert(tmp_path: Path) -> None:
    """Each refused run is one line of the summary (not a log line as well), with the control
    characters of what was stored removed; every other run is imported."""
    good = [
        {"id": str(uuid.uuid4()), "name": f"good{i}", "run_type": "chain", "inputs": {}}
        for i in range(3)
    ]
    bad_type = {"id": str(uuid.uuid4()), "name": "x", "run_type": "agent", "inputs": {}}
    bad_id = {"id": "bad\x1b[31mRED\x1b[2J", "name": "y", "run_type": "chain", "inputs": {}}
    source = tmp_path / "mixed.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in [*good, bad_type, bad_id]))
    db = tmp_path / "into.db"
    done = _real_cli("--db", str(db), "import", str(source))
    stderr = done.stderr.decode()
    assert done.returncode == 2, stderr
    assert "\x1b" not in stderr and "\x07" not in stderr, stderr
    assert stderr.count(bad_type["id"]) == 1, stderr
    assert stderr.count("RED") == 2, stderr  # the id, and its value as the problem quotes it
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("Error: 2 runs were refused") and "imported into" in last, last
    with localtrace.Client(db) as client:
        assert sorted(r.name for r in client.list_runs()) == ["good0", "good1", "good2"]


def test_importing_a_parquet_or_csv_export_says_which_file_import_reads(
    demo_db: Path, tmp_path: Path
) -> None:
    """`export -f csv` / `-f parquet` write tables for other tools; importing one said only
    'line 1 is not JSON'. It now names what the file is and what import reads, and creates
    nothing."""
    pytest.importorskip("pyarrow")
    table = tmp_path / "runs.csv"
    ok("export", "-f", "csv", "-o", str(table), db=demo_db)
    folder = tmp_path / "pq"
    ok("export", "-f", "parquet", "-o", str(folder), db=demo_db)
    target = tmp_path / "new.db"
    for path, kind in ((table, "is CSV"), (folder / "runs.parquet", "is a Parquet file")):
        message = fails("import", str(path), db=target)
        assert kind in message and "not JSON lines" in message and "export" in message
    assert not target.exists()


def test_a_refused_import_into_a_new_path_leaves_no_store(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    assert "line 1" in fails("import", str(bad), db=db)
    assert "neither a run nor feedback" in fails("import", "-", db=db, input="[1, 2]\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl"]


def test_an_import_of_nothing_is_refused_and_creates_nothing(demo_db: Path, tmp_path: Path) -> None:
    """`import` of an empty file said "imported 0 runs" and exited 0, leaving a new empty
    store behind, where `prices import` of a file with no price exits 2; it now says the file
    holds nothing, what it expected, and neither creates nor changes a store."""
    nothing = tmp_path / "nothing.jsonl"
    ok("export", "--filter", 'eq(name, "no such run")', "-o", str(nothing), db=demo_db)
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n  \n\n")
    new = tmp_path / "new.db"
    for path in (nothing, blank):
        message = fails("import", str(path), db=new)
        assert f"{path} holds no run or feedback" in message, message
        assert "`localtrace export`" in message
        assert not new.exists()
    assert "stdin holds no run or feedback" in fails("import", "-", db=new, input="")
    assert not new.exists()

    kept = tmp_path / "kept.db"
    ok("import", "-", db=kept, input=cli("export", db=demo_db).stdout)
    before = ok("db", "info", "-f", "json", db=kept)
    fails("import", str(blank), db=kept)
    assert ok("db", "info", "-f", "json", db=kept) == before


def test_a_refused_import_into_an_existing_store_keeps_it(tmp_path: Path) -> None:
    db = tmp_path / "kept.db"
    localtrace.Client(db).close()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    fails("import", str(bad), db=db)
    assert db.exists() and "runs" in ok("db", "info", db=db)


# -- db -----------------------------------------------------------------------------------------
def test_db_info_and_vacuum(demo_db: Path) -> None:
    out = ok("db", "info", db=demo_db)
    assert "schema version" in out and "runs" in out and "traces" in out
    info = json.loads(ok("db", "info", "-f", "json", db=demo_db))
    assert info["runs"] == 6 and info["traces"] == 1 and info["feedback"] == 2
    assert info["projects"] == 1 and info["size_bytes"] > 0
    assert info["schema_version"] == info["supported_schema_version"]
    assert "->" in ok("db", "vacuum", db=demo_db)
    assert json.loads(ok("db", "info", "-f", "json", db=demo_db))["runs"] == 6


def test_db_info_shows_the_journal_mode_of_a_store_on_read_only_media(
    demo_db: Path, tmp_path: Path
) -> None:
    """Read as immutable, SQLite answers "delete" for any file: the header tells WAL."""
    from store_support import read_only_folder

    assert demo_db.read_bytes()[18:20] == b"\x02\x02"  # the header of a WAL file
    with read_only_folder(tmp_path) as (folder, make_read_only):
        path = folder / "kept.db"
        shutil.copy(demo_db, path)
        make_read_only()
        assert json.loads(ok("db", "info", "-f", "json", db=path))["journal_mode"] == "wal"
        assert "journal wal" in ok("db", "info", db=path)


def test_db_info_refuses_a_file_that_is_not_a_store(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    assert "localtrace" in fails("db", "info", db=junk)
    assert "is a directory" in fails("db", "info", db=tmp_path)


# -- serve --------------------------------------------------------------------------------------
def test_serve_hands_its_options_to_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[Any, ...]] = []
    fake = types.ModuleType("localtrace.server")
    fake.serve = lambda db_path, **kw: calls.append((db_path, kw))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "localtrace.server", fake)
    fake_mcp = types.ModuleType("localtrace.mcp")
    fake_mcp.serve = lambda *args, **kwargs: None  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "localtrace.mcp", fake_mcp)
    db = tmp_path / "served.db"
    ok(
        "serve",
        "--port",
        "2024",
        "--allow-host",
        "traces.lan",
        "--allow-origin",
        "http://x:1",
        db=db,
    )
    result = CliRunner().invoke(
        main, ["--db", str(db), "serve"], env={"LOCALTRACE_API_KEY": "secret"}
    )
    assert result.exit_code == 0, result.output
    none: tuple[str, ...] = ()
    assert calls == [
        (
            str(db),
            {
                "host": "127.0.0.1",
                "port": 2024,
                "api_key": None,
                "allowed_hosts": ("traces.lan",),
                "allowed_origins": ("http://x:1",),
                "log_level": "info",
            },
        ),
        (
            str(db),
            {
                "host": "127.0.0.1",
                "port": 1984,
                "api_key": "secret",
                "allowed_hosts": none,
                "allowed_origins": none,
                "log_level": "info",
            },
        ),
    ]


def test_serve_without_the_server_extra_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for module in ("fastapi", "uvicorn"):
        monkeypatch.setitem(sys.modules, module, None)
    message = fails("serve", db=tmp_path / "x.db")
    assert 'pip install "localtrace[server]"' in message
    assert 'pip install -e ".[server]"' in message  # from a checkout, where there is no index
    monkeypatch.setitem(sys.modules, "localtrace.server", None)
    assert 'pip install "localtrace[server]"' in fails("serve", db=tmp_path / "x.db")


@pytest.mark.parametrize(
    "args",
    [
        ("export", "-o", "{tmp}/no-such-folder/runs.jsonl"),
        ("export", "-f", "csv", "-o", "{tmp}/no-such-folder/runs.csv"),
        ("export", "-f", "csv", "-o", "{tmp}"),
    ],
)
def test_an_output_that_cannot_be_written_is_one_line(
    demo_db: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    message = fails(*(arg.format(tmp=tmp_path) for arg in args), db=demo_db)
    assert str(tmp_path) in message and "check the path" in message


def test_export_otlp_without_the_otel_extra_says_what_to_install(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)
    message = fails("export", "--otlp", "http://127.0.0.1:9/v1/traces", db=demo_db)
    assert 'pip install "localtrace[otel]"' in message


def test_csv_lines_end_with_a_newline_only(demo_db: Path) -> None:
    """`RUN=$(localtrace runs ... -f csv | tail -n 1)` must not keep a carriage return."""
    out = ok("runs", "--select", "id", "-f", "csv", db=demo_db)
    assert "\r" not in out and out.endswith("\n")


def test_a_store_in_a_read_only_folder_is_read_and_only_writes_refuse(
    demo_db: Path, tmp_path: Path
) -> None:
    """A read-only mount (or folder): SQL, information and merging read it (SQLite cannot
    make its shared-memory file there, so it is read as immutable); vacuum says why not."""
    from store_support import read_only_folder

    with read_only_folder(tmp_path) as (folder, make_read_only):
        path = folder / "kept.db"
        shutil.copy(demo_db, path)
        make_read_only()
        assert "6" in ok("sql", "select count(*) from runs", db=path)
        assert "schema" in ok("db", "info", db=path)
        assert "chat_model" in ok("runs", db=path)
        assert "read-only" in fails("db", "vacuum", db=path)
        ok("merge", str(tmp_path / "merged.db"), str(path))
        assert sorted(p.name for p in folder.iterdir()) == ["kept.db"]
    assert "chat_model" in ok("runs", db=tmp_path / "merged.db")


@pytest.mark.parametrize(
    "args",
    [
        ("demo",),
        ("import", "{export}"),
        ("prices", "set", "m", "^m$", "--prompt", "1", "--completion", "2"),
    ],
    ids=["demo", "import", "prices set"],
)
def test_writing_into_a_read_only_store_fails_at_once(
    demo_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    """Nothing is handed to the writer (it would retry, then drop the runs at exit)."""
    from localtrace._store import db as db_module

    exported = tmp_path / "runs.jsonl"
    ok("export", "-o", str(exported), db=demo_db)
    path = tmp_path / "kept.db"
    shutil.copy(demo_db, path)
    path.chmod(0o444)
    # root writes anything: let the store see what others would
    monkeypatch.setattr(db_module, "_unwritable_file", lambda name: Path(name) == path)
    message = fails(*(arg.format(export=exported) for arg in args), db=path)
    assert f"cannot write {path}: the file is read-only" in message
    assert "--db PATH" in message


def test_writing_into_a_store_on_read_only_media_fails_at_once(
    demo_db: Path, tmp_path: Path
) -> None:
    from store_support import read_only_folder

    with read_only_folder(tmp_path) as (folder, make_read_only):
        path = folder / "kept.db"
        shutil.copy(demo_db, path)
        make_read_only()
        message = fails("demo", db=path)
        assert f"cannot write {path}" in message and "read-only" in message
        assert "runs" not in message and "--db PATH" in message  # none were handed over
        assert sorted(p.name for p in folder.iterdir()) == ["kept.db"]


def test_a_merge_refused_for_its_inputs_creates_no_output(tmp_path: Path) -> None:
    message = fails("merge", str(tmp_path / "out.db"), str(tmp_path / "missing.db"))
    assert "missing.db" in message and "(store:" not in message
    assert not (tmp_path / "out.db").exists()


def test_since_without_an_offset_is_the_local_time_tables_show(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    if not hasattr(time, "tzset"):
        pytest.skip("no time.tzset here")
    path = tmp_path / "tz.db"
    with localtrace.Client(path) as client:
        client.create_run("noon", {}, "chain", start_time="2026-03-02T17:00:00Z")
    monkeypatch.setenv("TZ", "America/New_York")  # 17:00 UTC is 12:00 there
    time.tzset()
    try:
        assert "2026-03-02 12:00:00" in ok("runs", db=path)
        assert "noon" in ok("runs", "--since", "2026-03-02T11:59", db=path)
        assert "noon" not in ok("runs", "--since", "2026-03-02T12:01", db=path)
        assert "noon" in ok("runs", "--since", "2026-03-02T16:59Z", db=path)  # an offset wins
    finally:
        monkeypatch.undo()
        time.tzset()


# -- pipes --------------------------------------------------------------------------------------
def test_a_closed_pipe_is_quiet(tmp_path: Path) -> None:
    """`localtrace runs ... | head -1`: no traceback, no 'Broken pipe' noise, and status 0 in
    every format (a table written in one piece cannot tell that its reader left, so the
    others must not fail for it either)."""
    db = tmp_path / "many.db"
    with localtrace.Client(db) as client:
        client.batch_ingest_runs(
            create=[
                {"id": str(uuid.uuid4()), "name": f"run{i}", "run_type": "chain", "inputs": {}}
                for i in range(3000)
            ]
        )
    src = str(Path(localtrace.__file__).resolve().parent.parent)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])),
    }
    for args in (
        ["runs", "-n", "0", "-f", "jsonl"],
        ["runs", "-n", "0", "-f", "json"],
        ["runs", "-n", "0", "-f", "csv"],
        ["runs", "-n", "0"],
        ["export"],
    ):
        process = subprocess.Popen(
            [sys.executable, "-m", "localtrace.cli", "--db", str(db), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert process.stdout is not None and process.stderr is not None
        assert process.stdout.readline()
        process.stdout.close()
        stderr = process.stderr.read().decode()
        process.stderr.close()
        assert process.wait(timeout=60) == 0, (args, stderr)
        assert "Traceback" not in stderr and "Broken pipe" not in stderr, stderr


def test_brackets_in_names_are_shown_as_they_are(tmp_path: Path) -> None:
    """``test_param[a]`` (a pytest id) or a project ``p[x]`` is data: tables never read it as
    a Rich style and drop the brackets."""
    db = tmp_path / "t.db"
    with localtrace.Client(db) as client:
        client.create_run("search[web]", {}, "tool", project_name="p[x]", end_time=None)
        client.create_run(
            "test_agent.py::test_param[a]",
            {},
            "chain",
            project_name="p[x]",
            extra={"metadata": {"test": "test_agent.py::test_param[a]"}},
        )
        client.flush()
    runner = CliRunner(env={"COLUMNS": "300"})  # wide enough that no name is cut
    projects = runner.invoke(main, ["--db", str(db), "projects"])
    assert projects.exit_code == 0 and "p[x]" in projects.output, projects.output
    runs = runner.invoke(main, ["--db", str(db), "runs", "--project", "p[x]"])
    assert "search[web]" in runs.output and "test_param[a]" in runs.output, runs.output
    grouped = runner.invoke(
        main, ["--db", str(db), "stats", "--project", "p[x]", "--group-by", "name"]
    )
    assert grouped.exit_code == 0 and "search[web]" in grouped.output, grouped.output


def test_prune_counts_one_trace_in_the_singular(tmp_path: Path) -> None:
    """`db prune` said "would delete 1 traces (6 runs, ..., 0 attachments)"."""
    db = tmp_path / "one.db"
    assert cli("--db", str(db), "demo").exit_code == 0
    said = ok("db", "prune", "--keep-last", "0", "--dry-run", db=db)
    assert said.startswith("would delete 1 trace (6 runs, 2 feedback, 0 attachments)"), said
    said = ok("db", "prune", "--keep-last", "0", db=db)
    assert said.startswith("deleted 1 trace (6 runs, 2 feedback, 0 attachments);"), said


def test_a_grouping_no_run_has_says_so(demo_db: Path) -> None:
    """`stats --group-by metadata:KEY` of runs without that key said "no runs matched; try a
    wider --since, another --project, or no filter" though every run matched; it now says
    how many matched and that none has the key (a tag, a model)."""
    result = cli("stats", "--group-by", "metadata:no_such_key", db=demo_db)
    assert result.exit_code == 0 and not result.stdout
    assert result.stderr.strip() == (
        "none of the 6 runs that matched has metadata key 'no_such_key'; "
        "try another --group-by, or leave it out"
    )
    result = cli("stats", "-g", "model", "--run-type", "tool", db=demo_db)
    assert "none of the 2 runs that matched has a model" in result.stderr, result.stderr
    result = cli("stats", "--every", "1h", "-g", "metadata:no_such_key", db=demo_db)
    assert result.exit_code == 0 and not result.stdout
    assert "no matched run has metadata key 'no_such_key'" in result.stderr, result.stderr
    nothing = cli("stats", "-g", "tag", "--filter", 'eq(name, "no such run")', db=demo_db)
    assert nothing.stderr.strip().startswith("no runs matched"), nothing.stderr


def test_db_info_writes_times_as_the_other_commands(demo_db: Path) -> None:
    """`db info -f json` wrote "2026-12-07T21:08:34.593494+00:00" where `runs` and `stats`
    write "...Z" for the same instant; it now writes them the same way."""
    info = json.loads(ok("db", "info", "-f", "json", db=demo_db))
    runs = json.loads(ok("runs", "-f", "json", "-n", "0", db=demo_db))
    assert info["first_run"] == min(r["start_time"] for r in runs)
    assert (
        info["last_run"] == json.loads(ok("stats", "-f", "json", db=demo_db))["last_run_start_time"]
    )
    assert info["last_run"].endswith("Z")
    row = next(csv.DictReader(io.StringIO(ok("db", "info", "-f", "csv", db=demo_db))))
    assert row["first_run"] == info["first_run"]
