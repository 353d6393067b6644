"""Tables that stay readable: at 80 columns, and complete when piped (issue: the first hour)."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import localtrace
from localtrace import display, render
from localtrace.cli import main

pytest.importorskip("langsmith")
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("narrow") / "demo.db"
    result = CliRunner().invoke(main, ["--db", str(db), "demo"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return db


def show(db: Path, *args: str, columns: int | None) -> str:
    """The command's stdout at a terminal width, or as written to a pipe (``columns=None``)."""
    env = {"COLUMNS": str(columns)} if columns else {"COLUMNS": None}  # type: ignore[dict-item]
    saved = os.environ.pop("COLUMNS", None)
    try:
        result = CliRunner().invoke(main, ["--db", str(db), *args], env=env)
    finally:
        if saved is not None:
            os.environ["COLUMNS"] = saved
    assert result.exit_code == 0, result.output
    return result.stdout


def names_and_ids(db: Path) -> tuple[set[str], set[str]]:
    runs = list(localtrace.Client(db).list_runs())
    return {r.name for r in runs}, {str(r.id) for r in runs}


@pytest.mark.parametrize("columns", [160, None])
def test_runs_keep_every_name_and_a_whole_id(demo_db: Path, columns: int | None) -> None:
    out = show(demo_db, "runs", "--limit", "0", columns=columns)
    names, ids = names_and_ids(demo_db)
    assert set(UUID.findall(out)) == ids  # every id whole, so it can be pasted into `run`
    for name in names:
        assert name in out
    if columns:
        assert max(len(line) for line in out.splitlines()) <= columns


FIGURES = ["name", "type", "status", "latency", "tokens", "cost", "id"]


@pytest.mark.parametrize("columns", [80, 100])
def test_runs_at_80_columns_keep_every_figure_and_an_id_run_takes(
    demo_db: Path, columns: int
) -> None:
    """At 80 columns the listing showed name, status and a whole id only: no type, latency,
    tokens or cost. Every figure stays now, with the end of the id, which `run` and `trace`
    take in place of the whole id."""
    out = show(demo_db, "runs", "--limit", "0", columns=columns)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= columns
    header = next(line for line in lines if line.split()[:1] == ["name"])
    assert header.split() == FIGURES
    runs = {str(r.id): r for r in localtrace.Client(demo_db).list_runs()}
    rule = next(i for i, line in enumerate(lines) if "───" in line)
    rows = [line for line in lines[rule + 1 :] if line.strip()]
    assert len(rows) == len(runs)  # one line per run
    for row in rows:
        shown = row.split()[-1]
        (full,) = [rid for rid in runs if rid.endswith(shown.lstrip("…"))]
        run = runs[full]
        assert row.split()[0] == run.name
        assert display.cost_text(run.total_cost, zero="$0") in row
        assert display.latency_text(run.latency) in row
        detail = show(demo_db, "run", shown, columns=None)
        assert f"id     {full}" in detail or full in detail.split()
        tree = show(demo_db, "trace", shown, columns=None)
        assert str(run.trace_id) in tree


def _common_start(a: str, b: str) -> str:
    size = 0
    while size < min(len(a), len(b)) and a[size] == b[size]:
        size += 1
    return a[:size]


def test_a_part_of_an_id_that_several_runs_share_names_them(demo_db: Path) -> None:
    ids = sorted(str(r.id) for r in localtrace.Client(demo_db).list_runs())
    shared = max((_common_start(a, b) for a, b in itertools.pairwise(ids)), key=len)
    assert len(shared) >= 8  # the demo's runs are UUIDv7s of one minute: they start alike
    result = CliRunner().invoke(main, ["--db", str(demo_db), "run", shared])
    assert result.exit_code == 2
    message = result.stderr
    assert f"'{shared}': is part of several run ids" in message
    assert sum(rid in message for rid in ids) >= 2
    assert "more characters" in message and "Traceback" not in message
    result = CliRunner().invoke(main, ["--db", str(demo_db), "trace", "0123abcd0123"])
    assert result.exit_code != 0 and "no run id contains '0123abcd0123'" in result.stderr


def test_a_pipe_gets_every_column(demo_db: Path) -> None:
    out = show(demo_db, "runs", "--limit", "0", columns=None)
    header = out.splitlines()[0].split()
    assert header == ["name", "type", "status", "start", "latency", "tokens", "cost", "id"]
    pasted = UUID.findall(out)[0]
    assert pasted in show(demo_db, "run", pasted, columns=None)


def test_a_piped_table_is_plain_whole_and_aligned(tmp_path: Path) -> None:
    """Piped, a table is one line per row in the plain layout (header, dashes, rows): every
    value whole, columns aligned, no control characters; drawn as rich draws for a terminal,
    5,000 runs took seconds."""
    db = tmp_path / "long.db"
    long_name = "step-" + "x" * 600
    with localtrace.Client(db) as client:
        for name in (long_name, "bell\x07and\x1b[2Jclear", "short"):
            client.create_run(name, {}, "chain", end_time=None)
    out = show(db, "runs", columns=None)
    lines = out.splitlines()
    assert lines[0].split()[0] == "name" and set(lines[1]) == {"-", " "}
    assert len(lines) == 2 + 3  # one line per run
    assert long_name in out and "bell" in out and "and[2Jclear" in out
    assert not any(ord(c) < 32 for c in out.replace("\n", ""))
    starts = {line.index(match) for line in lines[2:] for match in UUID.findall(line)}
    assert len(starts) == 1  # the id column starts at the same place on every row


def test_projects_keep_the_name_at_80_columns(demo_db: Path) -> None:
    out = show(demo_db, "projects", columns=80)
    assert "localtrace-demo" in out and "traces" in out
    assert max(len(line) for line in out.splitlines()) <= 80


@pytest.mark.parametrize(
    ("command", "first"),
    [
        (["runs"], "name"),
        (["projects"], "name"),
        (["feedback"], "key"),
        (["stats", "-g", "name"], "name"),
        (["sql", "SELECT 1 AS one"], "one"),
    ],
)
def test_a_piped_listing_starts_with_its_header(
    demo_db: Path, command: list[str], first: str
) -> None:
    """`localtrace feedback > file` started with a line "feedback" above the header, which a
    script reading the columns took for the header; every listing now starts with it."""
    lines = show(demo_db, *command, columns=None).splitlines()
    assert lines[0].split()[0] == first and set(lines[1]) <= {"-", " "}, lines[:2]


def test_projects_at_80_columns_keep_the_cost(demo_db: Path) -> None:
    """At 80 columns the cost went before the time of the last run; it stays now, as a runs
    listing keeps its cost before its start time."""
    (project,) = localtrace.Client(demo_db).list_projects()
    out = show(demo_db, "projects", columns=80)
    assert "cost" in out.split() and display.cost_text(project.total_cost) in out


@pytest.mark.parametrize("columns", range(40, 161, 8))
def test_projects_give_up_times_and_ids_before_figures(demo_db: Path, columns: int) -> None:
    out = show(demo_db, "projects", columns=columns)
    header = next(line for line in out.splitlines() if line.split()[:1] == ["name"])
    shown = re.split(r"\s{2,}", header.strip())
    assert max(len(line) for line in out.splitlines()) <= columns
    figures = ["traces", "errors", "p50", "cost", "tokens"]
    if "last run" in shown or "id" in shown:
        assert set(figures) <= set(shown), shown
    kept = [name for name in figures if name in shown]
    assert kept == [name for name in figures[: len(kept)]], shown  # the most useful stay


@pytest.mark.parametrize("columns", [80, 100])
def test_trace_keeps_its_waterfall_when_narrow(demo_db: Path, columns: int) -> None:
    root = next(iter(localtrace.Client(demo_db).list_runs(is_root=True)))
    out = show(demo_db, "trace", str(root.id), columns=columns)
    rows = [line for line in out.splitlines() if "research_assistant" in line]
    assert rows and "█" in rows[0]
    assert max(len(line) for line in out.splitlines()) <= columns


@pytest.mark.parametrize(
    "command",
    [["runs"], ["stats"], ["stats", "--group-by", "name"], ["stats", "--every", "1h"]],
)
def test_no_match_says_so(demo_db: Path, command: list[str]) -> None:
    result = CliRunner().invoke(
        main, ["--db", str(demo_db), *command, "--filter", 'eq(name, "nothing-like-this")']
    )
    assert result.exit_code == 0
    assert "no runs matched" in result.stderr
    assert result.stdout == ""


def test_a_one_run_page_says_run(demo_db: Path) -> None:
    result = CliRunner().invoke(main, ["--db", str(demo_db), "runs", "--limit", "1"])
    assert "showing the newest run; --limit 0 shows all" in result.stderr


@pytest.mark.parametrize("columns", [40, 60])
def test_every_row_still_names_its_run_or_group_when_very_narrow(
    demo_db: Path, columns: int
) -> None:
    root = next(iter(localtrace.Client(demo_db).list_runs(is_root=True)))
    names, _ = names_and_ids(demo_db)
    for args in (["trace", str(root.id)], ["stats", "--group-by", "name"], ["runs"]):
        out = show(demo_db, *args, columns=columns)
        for name in names:  # its start at least, where a long name is folded
            assert name[:8] in out, (args, name, out)
        assert max(len(line) for line in out.splitlines()) <= columns, (args, out)


def test_sixty_columns_keep_the_name_an_id_and_the_figures_that_fit(demo_db: Path) -> None:
    """At 60 columns a listing kept the name, the status and whole ids; with the end of each
    id (which `run` takes) it keeps the latency and what else fits, the tokens left out
    first."""
    out = show(demo_db, "runs", "--limit", "0", columns=60)
    names, ids = names_and_ids(demo_db)
    lines = out.splitlines()
    header = lines[0].split()
    assert header[0] == "name" and header[-1] == "id" and {"status", "latency"} <= set(header)
    rows = [line.split() for line in lines[2:] if line.strip()]
    assert {row[0] for row in rows} == names
    ends = [row[-1].lstrip("…") for row in rows]
    assert sorted(next(i for i in ids if i.endswith(end)) for end in ends) == sorted(ids)
    assert max(len(line) for line in lines) <= 60


@pytest.mark.parametrize("columns", ["0", "abc", "-5"])
def test_a_meaningless_columns_variable_is_ignored(demo_db: Path, columns: str) -> None:
    # COLUMNS=0 (set by some shells and CI runners) drew every table zero columns wide:
    # nothing at all was printed, with exit code 0
    root = next(iter(localtrace.Client(demo_db).list_runs(is_root=True)))
    names, ids = names_and_ids(demo_db)
    runs = show(demo_db, "runs", "--limit", "0", columns=columns)  # type: ignore[arg-type]
    assert set(UUID.findall(runs)) == ids
    trace = show(demo_db, "trace", str(root.id), columns=columns)  # type: ignore[arg-type]
    assert all(name in trace for name in names)
    result = CliRunner().invoke(
        main, ["--db", str(demo_db), "runs", "--filter", 'eq(name, "x")'], env={"COLUMNS": columns}
    )
    assert "no runs matched" in result.stderr


def test_search_says_when_it_shows_only_the_first_matches(demo_db: Path) -> None:
    result = CliRunner().invoke(main, ["--db", str(demo_db), "search", "demo", "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "showing the newest match; --limit 0 shows all" in result.stderr


@pytest.mark.parametrize("text", ["", "   "])
def test_search_needs_words(demo_db: Path, text: str) -> None:
    result = CliRunner().invoke(main, ["--db", str(demo_db), "search", text])
    assert result.exit_code == 2
    assert "give the words to search for" in result.stderr


def test_feedback_says_when_it_shows_only_the_newest(demo_db: Path) -> None:
    result = CliRunner().invoke(main, ["--db", str(demo_db), "feedback", "--limit", "1"])
    assert result.exit_code == 0, result.output
    assert "showing the newest feedback; --limit 0 shows all" in result.stderr
    everything = CliRunner().invoke(main, ["--db", str(demo_db), "feedback", "--limit", "0"])
    assert "--limit 0 shows all" not in everything.stderr


def test_projects_say_when_they_show_only_the_newest(tmp_path: Path) -> None:
    """`projects -n 2` over three projects showed two without a word, where runs, search and
    feedback say that more are left out."""
    db = tmp_path / "p.db"
    with localtrace.Client(db) as client:
        for name in ("a", "b", "c"):
            client.create_project(name)
    result = CliRunner().invoke(main, ["--db", str(db), "projects", "-n", "2"])
    assert result.exit_code == 0, result.output
    assert "showing the newest 2 projects; --limit 0 shows all" in result.stderr
    everything = CliRunner().invoke(main, ["--db", str(db), "projects"])
    assert "--limit 0 shows all" not in everything.stderr


@pytest.mark.parametrize("columns", [40, 60, 80])
def test_feedback_keeps_its_keys_when_narrow(demo_db: Path, columns: int) -> None:
    out = show(demo_db, "feedback", columns=columns)
    assert "correctness" in out and "helpfulness" in out, out
    assert max(len(line) for line in out.splitlines()) <= columns, out
    if columns >= 80:  # and the run it is about, whole, to paste into `localtrace run`
        assert UUID.search(out), out


def test_sql_tables_stay_one_line_per_row_at_80_columns(demo_db: Path) -> None:
    """Wide SQL answers cut long values with an ellipsis (and say so on stderr) instead of
    folding every column into a sliver several lines tall; short columns stay whole."""
    query = "SELECT id, name, run_type, inputs, outputs, start_time FROM runs"
    saved = os.environ.pop("COLUMNS", None)
    try:
        result = CliRunner().invoke(
            main, ["--db", str(demo_db), "sql", query], env={"COLUMNS": "80"}
        )
    finally:
        if saved is not None:
            os.environ["COLUMNS"] = saved
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == 2 + 6  # header, rule, one line per run
    assert all(len(line) <= 80 for line in lines)
    assert "run_type" in lines[0] and "retriever" in result.stdout  # short columns stay whole
    assert "…" in result.stdout and "-f csv" in result.stderr
    short = show(demo_db, "sql", "SELECT name, count(*) AS n FROM runs GROUP BY name", columns=80)
    assert "research_assistant" in short  # nothing cut: nothing said


def test_sql_select_star_at_80_columns_keeps_readable_columns_and_names_the_rest(
    demo_db: Path,
) -> None:
    """`SELECT * FROM runs` at 80 columns drew its 50 columns as empty slivers a character
    wide, every header and value lost; the first columns that fit stay readable and the
    others are named on stderr."""
    saved = os.environ.pop("COLUMNS", None)
    try:
        result = CliRunner().invoke(
            main, ["--db", str(demo_db), "sql", "SELECT * FROM runs"], env={"COLUMNS": "80"}
        )
    finally:
        if saved is not None:
            os.environ["COLUMNS"] = saved
    assert result.exit_code == 0, result.output
    every = next(
        csv.reader(
            io.StringIO(show(demo_db, "sql", "SELECT * FROM runs", "-f", "csv", columns=None))
        )
    )
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    shown = [header.strip() for header in lines[0].split("┃")]
    assert len(shown) >= 3
    for header, name in zip(shown, every, strict=False):  # in order, whole or cut readable
        assert header == name or (header[-1] == "…" and name.startswith(header[:-1])), header
        assert len(header) >= min(len(name), 8)
    assert f"left out to fit 80 columns: {', '.join(every[len(shown) :])};" in result.stderr
    _, ids = names_and_ids(demo_db)
    assert {line.split()[0].rstrip("…") for line in lines[2:]} == {i[:8] for i in ids}


def test_sql_piped_keeps_every_value_whole(demo_db: Path) -> None:
    out = show(demo_db, "sql", "SELECT id, inputs FROM runs", columns=None)
    with localtrace.Client(demo_db) as client:
        for run in client.list_runs():
            assert str(run.id) in out
    assert "…" not in out


def test_selected_fields_piped_are_whole(demo_db: Path) -> None:
    """`runs --select` shortens values to 60 characters for a terminal; piped, they are whole."""
    out = show(demo_db, "runs", "--select", "name,outputs", "--limit", "0", columns=None)
    with localtrace.Client(demo_db) as client:
        for run in client.list_runs():
            text = json.dumps(run.outputs, ensure_ascii=False, separators=(",", ":"))
            assert " ".join(text.split()) in out


def test_a_note_in_a_log_is_one_line(tmp_path: Path) -> None:
    """Written to a log (stderr not a terminal), a note is not folded at 80 columns: the
    command it suggests can be pasted back whole."""
    db = tmp_path / "empty.db"
    localtrace.Client(db).close()
    saved = os.environ.pop("COLUMNS", None)
    try:
        result = CliRunner().invoke(main, ["--db", str(db), "datasets"])
    finally:
        if saved is not None:
            os.environ["COLUMNS"] = saved
    assert result.exit_code == 0, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("no datasets yet") and "`localtrace datasets import`" in line


def test_a_piped_trace_is_plain(demo_db: Path) -> None:
    """Piped, a trace's table takes the plain layout too: the header line, then one line per
    run with its tree branch, every name whole (rich took seconds for thousands of runs)."""
    with localtrace.Client(demo_db) as client:
        (root,) = client.list_runs(is_root=True)
        names = [r.name for r in client.list_runs()]
    out = show(demo_db, "trace", str(root.id), columns=None)
    lines = out.splitlines()
    assert lines[0].startswith(f"trace {root.id}")
    assert lines[1].split()[:2] == ["run", "type"] and set(lines[2]) == {"-", " "}
    assert lines[3].startswith(root.name)
    assert sum(line.startswith(("├─", "└─")) for line in lines) == len(names) - 1


def test_a_piped_run_is_not_padded_to_the_pipe_width(demo_db: Path) -> None:
    """`localtrace run ID > run.txt`: panels as wide as what they hold, no trailing spaces
    (each line was padded to 4,096 columns: a quarter of a megabyte for one small run)."""
    with localtrace.Client(demo_db) as client:
        run = next(r for r in client.list_runs() if r.inputs)
    out = show(demo_db, "run", str(run.id), columns=None)
    lines = out.splitlines()
    assert str(run.id) in out and "inputs" in out
    assert all(line == line.rstrip() for line in lines)
    assert max(len(line) for line in lines) < 300


def test_a_piped_thread_is_its_plain_digest(demo_db: Path) -> None:
    """Piped, a thread is the digest's text (what --format markdown prints), not a terminal
    drawing whose centred heading started after two thousand spaces."""
    out = show(demo_db, "thread", "demo-thread", columns=None)
    assert out == show(demo_db, "thread", "demo-thread", "--format", "markdown", columns=None)
    assert out.startswith("# Thread") and all(len(line) < 400 for line in out.splitlines())


def test_selected_fields_stay_one_line_per_run_at_80_columns(demo_db: Path) -> None:
    """`runs --select` at 80 columns: one line per run with the end of its id, long values
    cut with an ellipsis (each field was folded into a column a few letters wide, a run taking
    twenty lines)."""
    out = show(demo_db, "runs", "-s", "name,inputs,outputs,latency", "-n", "0", columns=80)
    lines = out.splitlines()
    rule = next(i for i, line in enumerate(lines) if "───" in line)
    rows = [line for line in lines[rule + 1 :] if line.strip()]
    _, ids = names_and_ids(demo_db)
    assert len(rows) == len(ids)  # one line per run
    ends = [line.split()[-1] for line in rows]
    assert all(end.startswith("…") for end in ends)
    assert sorted(next(i for i in ids if i.endswith(end[1:])) for end in ends) == sorted(ids)
    assert all(len(line) <= 80 for line in out.splitlines())


@pytest.mark.parametrize("select", ["id,name,inputs,outputs", "id,inputs", "name,error,id"])
def test_selected_ids_give_way_to_their_end_at_80_columns(demo_db: Path, select: str) -> None:
    """`runs --select id,inputs,...` at 80 columns spent 36 of them on each whole id and cut
    the values to a dozen letters; short of room, the table shows the end of each id (as the
    default listing does, and `run` takes it), the values get the room, and json, jsonl and
    csv keep the whole ids."""
    out = show(demo_db, "runs", "-s", select, "-n", "0", columns=80)
    assert not UUID.findall(out)
    lines = out.splitlines()
    rule = next(i for i, line in enumerate(lines) if "───" in line)
    for line in (line for line in lines[rule + 1 :] if line.strip()):
        end = line.split()[-1]
        assert re.fullmatch(r"…[0-9a-f]{8}", end), line
        shown = show(demo_db, "run", end, "-f", "json", columns=80)
        assert json.loads(shown)["id"].endswith(end[1:])
    _, ids = names_and_ids(demo_db)
    for fmt in ("json", "jsonl", "csv"):
        data = show(demo_db, "runs", "-s", select, "-n", "0", "-f", fmt, columns=80)
        assert set(UUID.findall(data)) == ids, fmt
    # with room for every field beside them, ids stay whole
    wide = show(demo_db, "runs", "-s", "id,name", "-n", "0", columns=80)
    assert set(UUID.findall(wide)) == ids


def test_selected_fields_at_60_columns_take_the_end_of_the_id(demo_db: Path) -> None:
    """`runs -s name,latency,total_cost,error` at 60 columns kept whole ids and cut every
    field to a letter and an ellipsis ("n…", "8…"); the ids give way to their end, as in the
    narrow listing, and the figures stay whole."""
    runs = {str(r.id): r for r in localtrace.Client(demo_db).list_runs()}
    out = show(demo_db, "runs", "-s", "name,latency,total_cost,error", "-n", "0", columns=60)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 60
    assert lines[1].split() == ["name", "latency", "total_cost", "error", "id"]
    rows = [line.split() for line in lines[3:] if line.strip()]
    assert len(rows) == len(runs)
    for row in rows:
        (run,) = [r for rid, r in runs.items() if rid.endswith(row[-1].lstrip("…"))]
        name = row[0]
        assert name == run.name or (name[-1] == "…" and run.name.startswith(name[:-1]))
        assert len(name) >= 8 and row[1] == display.latency_text(run.latency)
        if run.total_cost:
            assert row[2] == display.cost_text(run.total_cost)


def test_the_trace_header_breaks_between_its_parts_when_narrow(demo_db: Path) -> None:
    """At 80 columns the header wrapped inside "started 2026-12-07 12:10:19", the date alone
    on the next line; its parts now stay whole, the id first."""
    root = next(iter(localtrace.Client(demo_db).list_runs(is_root=True)))
    out = show(demo_db, "trace", str(root.id), columns=80)
    lines = out.splitlines()
    assert lines[0].split() == ["trace", str(root.trace_id)]
    assert re.fullmatch(
        r"project localtrace-demo  started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", lines[1].strip()
    )
    wide = show(demo_db, "trace", str(root.id), columns=160).splitlines()[0]
    assert wide.startswith(f"trace {root.trace_id}  project localtrace-demo  started ")


@given(st.lists(st.uuids(), min_size=1, max_size=40, unique=True), st.data())
def test_each_shortened_id_names_one_run_of_the_listing(ids: list[Any], data: Any) -> None:
    """Whatever the ids (UUIDv7s of one trace share their start; these may share their end
    too), each id the narrow listing shows is the end of exactly one of them."""
    texts = [str(i) for i in ids]
    if len(texts) > 1 and data.draw(st.booleans()):
        texts[1] = texts[1][:-8] + texts[0][-8:]  # two ids with the same last 8 characters
    shown = render.short_ids(texts)
    for text, short in zip(texts, shown, strict=True):
        part = short.lstrip("…")
        assert [t for t in texts if t.endswith(part)] == [text]


@pytest.mark.parametrize("columns", [60, 80, None])
@pytest.mark.parametrize(
    ("options", "counted"),
    [
        (["--every", "1h"], "runs, each with its own tokens and cost"),
        (["--every", "5m", "--root"], "traces, each with its totals"),
        (["--every", "1d", "--group-by", "run_type"], "runs, each with its own tokens and cost"),
    ],
)
def test_a_time_series_heading_fits_the_terminal_and_reads_whole(
    demo_db: Path, columns: int | None, options: list[str], counted: str
) -> None:
    """The heading says the buckets and what is counted, each on a line of its own: at 80
    columns nothing of it wraps onto the table's lines, and a pipe reads it whole."""
    lines = show(demo_db, "stats", *options, columns=columns).splitlines()
    assert re.fullmatch(r"24 buckets of (1h|5m|1d) from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", lines[0])
    assert lines[1] == counted
    if columns:
        assert all(len(line.rstrip()) <= columns for line in lines[:2])


def test_trace_at_80_columns_keeps_tokens_and_cost(demo_db: Path) -> None:
    """An 80-column terminal gives up the type column (the tree names each run; `run` shows
    its type) before the trace's tokens and cost, and still draws the waterfall, its heading
    whole."""
    root = next(iter(localtrace.Client(demo_db).list_runs(is_root=True)))
    out = show(demo_db, "trace", str(root.id), columns=80)
    (row,) = [line for line in out.splitlines() if "research_assistant" in line]
    assert "118" in row and display.cost_text(root.total_cost) in row and "█" in row
    assert max(len(line) for line in out.splitlines()) <= 80
    (heading,) = [line for line in out.splitlines() if "waterfall" in line]
    assert re.search(r"waterfall( \(\S+\))?\s*$", heading), heading  # never cut mid-word


@pytest.mark.parametrize("columns", [60, 80])
def test_a_time_series_keeps_whole_trends_and_totals_when_narrow(
    demo_db: Path, columns: int
) -> None:
    """Long group names give way (they fold) before the sparklines and the totals: a cut trend
    would hide the newest buckets, a cut total reads as another figure."""
    out = show(
        demo_db, "stats", "--every", "1h", "--group-by", "metadata:thread_id", columns=columns
    )
    lines = out.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= columns
    assert "…" not in out, out
    wide = show(demo_db, "stats", "--every", "1h", "--group-by", "name", columns=columns)
    assert "…" not in wide, wide
    trends = re.findall(r"│ runs\s+│ ([▁▂▃▄▅▆▇█ ]+) │", wide)
    assert len(trends) == 5 and all(len(t.rstrip()) == 24 for t in trends), trends


@pytest.mark.parametrize("columns", [60, 80, 120])
@pytest.mark.parametrize("group_by", [[], ["--group-by", "name"]])
def test_a_long_time_series_fits_the_terminal(
    demo_db: Path, columns: int, group_by: list[str]
) -> None:
    """`stats --every 1h --since 40d` at 80 columns drew a 960-character trend that squeezed
    the group, metric and total columns to nothing; each trend character now stands for as
    many buckets as it takes to fit, the heading says how many, and the totals stay whole."""
    args = ["stats", "--every", "1h", "--since", "40d", *group_by]
    out = show(demo_db, *args, columns=columns)
    lines = out.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= columns, out
    count = int(lines[0].split()[0])
    assert count > columns and lines[0].startswith(f"{count} buckets of 1h from ")
    per = int(re.fullmatch(r"each trend character: (\d+) buckets", lines[2]).group(1))  # type: ignore[union-attr]
    trends = re.findall(r"│ runs\s+│ ([▁▂▃▄▅▆▇█ ]+) │ (\d+)", out)
    assert trends and all(len(t) == -(-count // per) for t, _ in trends), trends
    # the newest buckets, where the demo's runs are, are the last character
    assert all(t.endswith("█") and set(t[:-1]) <= {"▁"} for t, _ in trends), trends
    assert sum(int(n) for _, n in trends) == 6
    assert "$0.0005725" in out
    whole = show(demo_db, *args, columns=None)  # piped: one character a bucket
    assert "each trend character" not in whole
    piped = re.findall(r"  runs\s+([▁▂▃▄▅▆▇█ ]+)  ", whole)
    assert piped and all(len(t) == count for t in piped)


def test_a_long_project_name_leaves_the_trace_start_whole(tmp_path: Path) -> None:
    """At 80 columns a trace of a project with a long name read "project NAME  started
    2026-12-07" and, on the next line, "21:41:42": the start now has a line of its own."""
    db = tmp_path / "long.db"
    project = "a-project-name-long-enough-that-it-fills-most-of-a-line"
    with localtrace.Client(db) as client:
        client.create_run("root", {}, "chain", project_name=project)
    with localtrace.Client(db) as client:
        (root,) = client.list_runs()
    lines = show(db, "trace", str(root.id), columns=80).splitlines()
    assert lines[0].split() == ["trace", str(root.trace_id)]
    assert lines[1].strip() == f"project {project}"
    assert re.fullmatch(r"started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", lines[2].strip())


def test_wide_figures_give_way_before_the_latency_and_the_ids_end(tmp_path: Path) -> None:
    """Runs of a billion tokens and $12,345.678 each at 80 columns: the listing dropped
    type, latency, tokens and cost for the whole ids; it now keeps the type, status, latency
    and cost beside the end of each id, leaving out the least useful figure (tokens) first."""
    db = tmp_path / "wide.db"
    usage = {
        "input_tokens": 10**9,
        "output_tokens": 5,
        "total_tokens": 10**9 + 5,
        "total_cost": "12345.678",
    }
    with localtrace.Client(db) as client:
        for i in range(3):
            client.create_run(
                f"a-long-name-of-an-agent-step-{i}",
                {},
                "llm",
                extra={"metadata": {"usage_metadata": usage}},
            )
    with localtrace.Client(db) as client:
        runs = list(client.list_runs())
    out = show(db, "runs", columns=80)
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80
    header = lines[0].split()
    assert header[0] == "name" and header[-1] == "id" and {"status", "latency"} <= set(header), (
        lines[0]
    )
    rows = [line for line in lines[2:] if " llm " in line]
    assert len(rows) == 3
    for line in rows:
        end = line.split()[-1]
        assert end.startswith("…") and sum(str(r.id).endswith(end[1:]) for r in runs) == 1
    wide = show(db, "runs", columns=160)
    assert "1,000,000,005" in wide and "$12,345.678" in wide
