"""Turning runs, trees, statistics and feedback into rich renderables and data records.

The CLI and the pytest plugin draw with these (public, so that they import nothing private and
a script can print the same tables); nothing here opens a store or knows about click. Figures
(latency, cost, ...) come from ``localtrace.display``, which every face shares. Data formats (json, jsonl, csv) are written from plain records (``model_dump`` in JSON
mode, exact amounts in plain decimal notation), so what ``--format json`` prints is what
``localtrace import`` reads back.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from typing import IO, Any

from pydantic import BaseModel
from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, Group, RenderableType
from rich.json import JSON
from rich.panel import Panel
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from .display import (
    compact,
    cost_text,
    decimal_text,
    first_line,
    inert,
    latency_text,
    percent_text,
    short,
    time_text,
    tokens_text,
)
from .models import Feedback, Project, Run, RunStats

FORMATS = ("table", "json", "jsonl", "csv")
"""Output formats of the commands whose output is data."""

RUN_COLUMNS = (
    "id",
    "name",
    "run_type",
    "status",
    "start_time",
    "end_time",
    "latency",
    "total_tokens",
    "total_cost",
    "error",
    "trace_id",
    "parent_run_id",
    "session_id",
    "tags",
)
"""Columns of ``runs --format csv`` when no ``--select`` is given."""

_STATUS_STYLE = {"success": "green", "error": "bold red", "pending": "yellow"}
_STATUS_MARK = {"success": "✓", "error": "✗", "pending": "…"}
_WATERFALL_WIDTH = 32


def status_text(status: str | None) -> Text:
    """A coloured status word with a mark."""
    status = status or "pending"
    return Text(f"{_STATUS_MARK.get(status, '?')} {status}", style=_STATUS_STYLE.get(status, ""))


# -- records (json / jsonl / csv) --------------------------------------------------------------
def data_record(model: BaseModel, **options: Any) -> dict[str, Any]:
    """``model.model_dump(mode="json", **options)`` with its exact amounts (costs, prices) in
    plain decimal notation: ``"0.0000002"``, as LangSmith writes costs, where pydantic writes
    ``"2E-7"``. Strings still, so every digit is kept and ``localtrace import`` reads them
    back exactly."""
    record = model.model_dump(mode="json", **options)
    _plain_amounts(model, record)
    return record


def _plain_amounts(model: BaseModel, record: dict[str, Any]) -> None:
    """Rewrite, in place, the fields of ``record`` that are ``Decimal`` on ``model`` (alone, as
    the values of a dict, or in nested models). Only the model's own typed fields are looked
    at: a user's inputs or metadata never hold a ``Decimal`` and are left as they are."""
    for key, value in record.items():
        if not isinstance(value, (str, dict, list)):
            continue
        attribute = getattr(model, key, None)
        if isinstance(attribute, Decimal):
            record[key] = decimal_text(attribute)
        elif isinstance(attribute, BaseModel) and isinstance(value, dict):
            _plain_amounts(attribute, value)
        elif isinstance(attribute, dict) and isinstance(value, dict):
            for name, item in attribute.items():
                if isinstance(item, Decimal) and name in value:
                    value[name] = decimal_text(item)
                elif isinstance(item, BaseModel) and isinstance(value.get(name), dict):
                    _plain_amounts(item, value[name])
        elif isinstance(attribute, (list, tuple)) and isinstance(value, list):
            for item, dumped in zip(attribute, value, strict=False):
                if isinstance(item, BaseModel) and isinstance(dumped, dict):
                    _plain_amounts(item, dumped)


def run_record(run: Run, *, session_name: str | None = None) -> dict[str, Any]:
    """A run as LangSmith's run dict (JSON types), plus ``latency`` and ``session_name``."""
    record = data_record(run, exclude={"child_runs"})
    record["latency"] = run.latency
    if session_name is not None:
        record["session_name"] = session_name
    return record


def selected_record(run: Run, select: Sequence[str]) -> dict[str, Any]:
    """Only the ``select``-ed fields of a run (``id`` first)."""
    full = run_record(run)
    keys = ["id", *(name for name in select if name != "id")]
    return {key: full.get(key) for key in keys}


def tree_record(run: Run) -> dict[str, Any]:
    """A run and its loaded subtree, nested in ``child_runs``."""
    record = run_record(run)
    record["child_runs"] = [tree_record(child) for child in run.child_runs or []]
    return record


def write_records(
    records: Iterable[dict[str, Any]],
    fmt: str,
    out: IO[str],
    *,
    columns: Sequence[str] | None = None,
    header: Sequence[str] | None = None,
) -> int:
    """Stream ``records`` as a JSON array, JSON lines or CSV; returns how many were written.

    CSV columns are ``columns`` (default: the keys of the first record); nested values are
    written as compact JSON. With no record, CSV is still the header (``columns``, else
    ``header``: the keys the records would have), which a spreadsheet or pandas reads as an
    empty table where an empty file is an error.
    """
    count = 0
    if fmt == "jsonl":
        for record in records:
            out.write(_dumps(record) + "\n")
            count += 1
    elif fmt == "json":
        out.write("[")
        for record in records:
            out.write(("," if count else "") + "\n  " + _dumps(record))
            count += 1
        out.write("\n]\n" if count else "]\n")
    elif fmt == "csv":
        writer: Any = None
        for record in records:
            if writer is None:
                names = list(columns) if columns else list(record)
                # "\n", as the data export writes: shells keep a "\r" in $(... | tail -n 1)
                writer = csv.DictWriter(
                    out, fieldnames=names, extrasaction="ignore", lineterminator="\n"
                )
                writer.writeheader()
            writer.writerow({key: _csv_value(value) for key, value in record.items()})
            count += 1
        if writer is None and (columns or header):
            csv.writer(out, lineterminator="\n").writerow(list(columns or header or ()))
    else:  # pragma: no cover - click validates the choice
        raise ValueError(f"unknown format {fmt!r}")
    out.flush()
    return count


def fields_of(model: type[BaseModel]) -> list[str]:
    """The keys of ``model``'s records (``model_dump``): a CSV header when there is no row."""
    return [*model.model_fields, *model.model_computed_fields]


def json_default(value: Any) -> Any:
    """``json.dumps``' fallback for records: exact amounts in plain decimal notation (a
    command's own dict may hold a ``Decimal`` cost), anything else as its text."""
    return decimal_text(value) if isinstance(value, Decimal) else str(value)


def _dumps(record: Any) -> str:
    return json.dumps(record, ensure_ascii=False, default=json_default)


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, default=json_default, separators=(",", ":"))
    return value


# -- runs ---------------------------------------------------------------------------------------
PAD = 3
"""Columns a rich SIMPLE_HEAD table spends between two columns (and at the edges, roughly)."""


def fitting(columns: Sequence[tuple[str, int]], width: int | None) -> set[str]:
    """The columns to show in ``width`` characters: ``columns`` are (name, room needed) in
    order of importance; the least important go first, never the first (the name)."""
    kept = [name for name, _ in columns]
    if width is None:
        return set(kept)
    need = dict(columns)
    while len(kept) > 1 and sum(need[n] + PAD for n in kept) > width:
        kept.pop()
    return set(kept)


def fitted_widths(natural: Sequence[int], room: int) -> list[int]:
    """Widths for columns that need ``natural`` characters, in ``room`` characters: narrow
    columns keep their whole width, the wide ones share what is left equally (at least one
    character each), so that no column is squeezed to a sliver for the sake of another."""
    widths = list(natural)
    left = len(natural)
    for i in sorted(range(len(natural)), key=lambda i: natural[i]):
        share = max(room // left, 1)
        widths[i] = min(natural[i], share)
        room -= widths[i]
        left -= 1
    return widths


_RUN_COLUMNS_BY_IMPORTANCE = (
    ("name", 24),
    ("id", 36),
    ("status", 9),
    ("latency", 7),
    ("type", 9),
    ("cost", 10),
    ("tokens", 7),
    ("start", 19),
)
"""What a narrow terminal keeps of a runs listing: the name and an id that can be pasted into
``localtrace run`` first, then status and latency, then the rest."""
_NAME_MIN = 16
"""The narrowest a runs listing folds its name column to."""


_RUN_CELLS: dict[str, Callable[[Run], Any]] = {
    "name": lambda run: Text(run.name, style="bold" if run.parent_run_id is None else ""),
    "type": lambda run: run.run_type,
    "status": lambda run: status_text(run.status),
    "start": lambda run: time_text(run.start_time),
    "latency": lambda run: latency_text(run.latency),
    "tokens": lambda run: tokens_text(run.total_tokens),
    "cost": lambda run: cost_text(run.total_cost, zero="$0"),
    "id": lambda run: str(run.id),
}
_RUN_ORDER = ("name", "type", "status", "start", "latency", "tokens", "cost", "id")
_FIGURES = frozenset({"name", "type", "status", "latency", "tokens", "cost", "id"})
"""What a runs listing keeps as long as it can: every figure, and an id (or its end)."""
_NARROW_GAP = 2
"""Characters between two columns of the narrow listing (no edges, paddings collapsed)."""


def short_ids(ids: Sequence[str]) -> list[str]:
    """The end of each id, ``…`` and as few characters as keep the listing's ids apart (8, 12,
    else all): ``localtrace run`` and ``trace`` take it. The end, not the start: the start of
    a UUIDv7 is its time, the same for every run of a trace."""
    for size in (8, 12):
        ends = [text[-size:] for text in ids]
        if len(set(ends)) == len(set(ids)):
            return ["…" + end for end in ends]
    return list(ids)


def _narrow_runs_table(runs: Sequence[Run], width: int) -> Table | None:
    """The listing in ``width`` characters with every figure: the whole ids if they fit beside
    them, else the end of each id; else the end of each id beside as many figures as fit, the
    least useful left out first (wide figures, millions of tokens, dropped every figure but
    the status for whole ids), down to the name and the end of the id (at 40 columns the
    listing was names alone, nothing ``run`` or ``trace`` could be given); ``None`` when not
    even those fit."""
    whole = [str(run.id) for run in runs]
    table = _figures_table(runs, whole, width)
    ends = short_ids(whole)
    left_out: list[str] = []
    for least in ("tokens", "cost", "type", "latency", "status"):
        table = table or _figures_table(runs, ends, width, left_out)
        left_out.append(least)
    return table or _figures_table(runs, ends, width, left_out)


def _figures_table(
    runs: Sequence[Run], ids: Sequence[str], width: int, left_out: Sequence[str] = ()
) -> Table | None:
    """Every figure of the runs but ``left_out``, and ``ids``, in ``width`` characters (the
    start too if there is room), or ``None``."""
    rows = [
        {**{name: _RUN_CELLS[name](run) for name in _RUN_ORDER if name != "id"}, "id": short}
        for run, short in zip(runs, ids, strict=True)
    ]
    natural = {
        name: max([len(name), *(cell_len(str(row[name])) for row in rows)]) for name in _RUN_ORDER
    }
    order = [name for name in _RUN_ORDER if name != "start" and name not in left_out]
    need = sum(natural[name] for name in order) + _NARROW_GAP * (len(order) - 1)
    folded = min(natural["name"], _NAME_MIN)
    if need - natural["name"] + folded > width:
        return None
    if not left_out and need + natural["start"] + _NARROW_GAP <= width:  # the start too
        order = list(_RUN_ORDER)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True)
    for name in order:
        if name == "name":
            table.add_column("name", overflow="fold", min_width=folded)
        else:
            table.add_column(
                name,
                no_wrap=True,
                style="dim" if name == "id" else "",
                justify="right" if name in ("latency", "tokens", "cost") else "left",
            )
    for row in rows:
        table.add_row(*(row[name] for name in order))
    return table


def runs_table(
    runs: Iterable[Run],
    *,
    select: Sequence[str] | None = None,
    width: int | None = None,
    whole: bool = False,
) -> Table:
    """The readable listing: name, type, status, start, latency, tokens, cost, id.

    In ``width`` characters the least useful columns are left out (``--format`` prints them all).
    ``select``-ed values are shortened to 60 characters, unless ``whole`` (a table written to a
    file, where every value is kept).
    """
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    if select:
        names = [name for name in select if name != "id"]
        limit = width if width is not None else 60

        def cut(value: Any) -> str:
            return _whole(value) if whole else short(value, limit)

        rows = [([_selected_cell(run, name, cut) for name in names], str(run.id)) for run in runs]
        natural = [
            max([cell_len(name), *(cell_len(texts[i]) for texts, _ in rows)])
            for i, name in enumerate(names)
        ]
        # One line per run: in ``width``, the fields sharing the room (long values end in an
        # ellipsis) instead of folding each field into a narrow column, beside the whole ids
        # when every field fits whole beside them, else beside the end of each id (as the
        # default listing shows it, and ``run`` and ``trace`` take it): 28 more characters
        # of values are worth more than ids that only a pipe or --format needs whole.
        ids = [run_id for _, run_id in rows]
        figures = [name in _SELECTED_FIGURES for name in names]  # kept whole: never cut
        if not whole and width is not None and width - _spent(36, names) < sum(natural):
            ids = short_ids(ids)
            rows = [(texts, short) for (texts, _), short in zip(rows, ids, strict=True)]
        id_width = max([2, *(cell_len(i) for i in ids)])
        widths = natural
        if not whole and width is not None:
            room = (
                width
                - _spent(id_width, names)
                - sum(n for n, f in zip(natural, figures, strict=True) if f)
            )
            shared = iter(
                fitted_widths([n for n, f in zip(natural, figures, strict=True) if not f], room)
            )
            widths = [n if f else next(shared) for n, f in zip(natural, figures, strict=True)]
        for name, column_width in zip(names, widths, strict=True):
            figure = name in _SELECTED_FIGURES and not name.endswith("_time")
            table.add_column(
                name,
                no_wrap=True,
                overflow="ellipsis",
                width=column_width,
                justify="right" if figure else "left",
            )
        table.add_column("id", no_wrap=True, style="dim", min_width=id_width)
        for texts, run_id in rows:
            table.add_row(*texts, run_id)
        return table
    shown = fitting(_RUN_COLUMNS_BY_IMPORTANCE, width)
    if width is not None and not shown >= _FIGURES:
        runs = list(runs)
        narrow = _narrow_runs_table(runs, width)
        if narrow is not None:
            return narrow
    if width is not None and "id" not in shown and width >= _NAME_MIN + 36 + 2 * PAD:
        shown.add("id")  # a shorter name column, but an id that can be pasted
    cells = _RUN_CELLS
    order = [c for c in _RUN_ORDER if c in shown]
    for name in order:
        if name == "name":
            table.add_column("name", overflow="fold", min_width=_NAME_MIN)
        elif name == "id":
            table.add_column("id", no_wrap=True, style="dim", min_width=36)
        else:
            table.add_column(
                name,
                no_wrap=True,
                justify="right" if name in ("latency", "tokens", "cost") else "left",
            )
    for run in runs:
        table.add_row(*(cells[name](run) for name in order))
    return table


_SELECTED_FIGURES: dict[str, Callable[[Run], str]] = {
    "latency": lambda run: latency_text(run.latency),
    "start_time": lambda run: time_text(run.start_time),
    "end_time": lambda run: time_text(run.end_time),
    "total_tokens": lambda run: tokens_text(run.total_tokens),
    "prompt_tokens": lambda run: tokens_text(run.prompt_tokens),
    "completion_tokens": lambda run: tokens_text(run.completion_tokens),
    "total_cost": lambda run: cost_text(run.total_cost, zero="$0"),
    "prompt_cost": lambda run: cost_text(run.prompt_cost, zero="$0"),
    "completion_cost": lambda run: cost_text(run.completion_cost, zero="$0"),
}
"""``--select``-ed figures as every other table shows them (``412ms``, ``$0.0031``, local
times); the data formats keep the numbers and ISO times."""


def _selected_cell(run: Run, name: str, cut: Callable[[Any], str]) -> str:
    """One ``--select``-ed field of ``run`` in a table."""
    figure = _SELECTED_FIGURES.get(name)
    return figure(run) if figure is not None else cut(selected_record(run, [name]).get(name))


def _spent(id_width: int, names: Sequence[str]) -> int:
    """What a ``--select`` table spends beside its fields: the id column and the padding."""
    return id_width + PAD * len(names) + 2


def _whole(value: Any) -> str:
    """A value on one line, uncut (``short`` without the limit)."""
    return "" if value is None else " ".join(compact(value).split())


def _json_block(title: str, value: Any) -> RenderableType:
    """``value`` as indented JSON in a panel; long strings fold at the panel's edge (rich's
    ``JSON`` crops them, and a run shown "in full" must not lose the end of its prompt)."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    body = JSON(text, indent=2).text
    body.no_wrap = False
    body.overflow = "fold"
    return Panel(body, title=title, title_align="left", border_style="dim")


def run_detail(
    run: Run, feedback: Sequence[Feedback], *, project_name: str | None = None
) -> RenderableType:
    """One run in full: identity, timing, usage, inputs/outputs, error, metadata, feedback."""
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("name", Text(run.name, style="bold"))
    facts.add_row("type", run.run_type)
    facts.add_row("status", status_text(run.status))
    facts.add_row("id", str(run.id))
    facts.add_row("trace", str(run.trace_id))
    if run.parent_run_id:
        facts.add_row("parent", str(run.parent_run_id))
    if project_name:
        facts.add_row("project", project_name)
    facts.add_row("start", time_text(run.start_time, precise=True))
    facts.add_row("end", time_text(run.end_time, precise=True) or "still running")
    facts.add_row("latency", latency_text(run.latency))
    if run.first_token_time is not None:
        seconds = (run.first_token_time - run.start_time).total_seconds()
        facts.add_row("first token", latency_text(seconds))
    if run.total_tokens:
        facts.add_row(
            "tokens",
            f"{tokens_text(run.total_tokens)} "
            f"(prompt {tokens_text(run.prompt_tokens) or 0}, "
            f"completion {tokens_text(run.completion_tokens) or 0})",
        )
    if run.total_cost is not None:
        facts.add_row(
            "cost",
            f"{cost_text(run.total_cost, zero='$0')} (prompt {cost_text(run.prompt_cost) or '-'}, "
            f"completion {cost_text(run.completion_cost) or '-'})",
        )
    if run.cost_source is not None:
        facts.add_row("cost source", run.cost_source)
    if run.tags:
        facts.add_row("tags", ", ".join(run.tags))
    if run.repair:
        facts.add_row("repaired", Text(run.repair, style="yellow"))
    parts: list[RenderableType] = [
        Panel(facts, title=f"run {run.name}", title_align="left", border_style=_border(run))
    ]
    parts.append(_json_block("inputs", run.inputs))
    if run.outputs is not None:
        parts.append(_json_block("outputs", run.outputs))
    if run.error:
        parts.append(
            Panel(
                Text(run.error, style="red"), title="error", title_align="left", border_style="red"
            )
        )
    metadata = (run.extra or {}).get("metadata")
    if metadata:
        parts.append(_json_block("metadata", metadata))
    if feedback:
        parts.append(feedback_table(feedback, show_run=False, title="feedback"))
    return Group(*parts)


def _border(run: Run) -> str:
    return {"error": "red", "pending": "yellow"}.get(run.status or "", "green")


# -- traces -------------------------------------------------------------------------------------
def _span(root: Run) -> tuple[dt.datetime, dt.datetime]:
    runs = root.walk()
    start = min(run.start_time for run in runs)
    ends = [run.end_time for run in runs if run.end_time is not None]
    end = max([*ends, start])
    if any(run.end_time is None for run in runs):
        end = max(end, dt.datetime.now(dt.timezone.utc))
    return start, end


def waterfall_bar(run: Run, start: dt.datetime, end: dt.datetime, width: int) -> Text:
    """Where ``run`` sits within ``start..end``, drawn ``width`` cells wide."""
    total = (end - start).total_seconds()
    run_end = run.end_time or end
    if total <= 0:
        offset, length = 0, width
    else:
        offset = round((run.start_time - start).total_seconds() / total * width)
        stop = round((run_end - start).total_seconds() / total * width)
        offset = min(max(offset, 0), width - 1)
        length = max(1, min(stop, width) - offset)
    style = {"error": "red", "pending": "yellow"}.get(run.status or "", "cyan")
    bar = Text(" " * offset)
    bar.append("━" * length if run.end_time is None else "█" * length, style=style)
    bar.append(" " * (width - offset - length))
    return bar


def _waterfall_width(
    lines: list[tuple[str, Run]], console_width: int, drop: frozenset[str] = frozenset()
) -> tuple[int, int]:
    """(width of the run column, width of the bars) so that the table fits the console; the
    bars may come out narrower than any use (the caller then drops columns)."""
    label = min(max(len(prefix) + len(run.name) for prefix, run in lines), 48)
    columns: tuple[tuple[str, Callable[[Run], str]], ...] = (
        ("type", lambda r: r.run_type),
        ("status", lambda r: f"? {r.status or 'pending'}"),
        ("latency", lambda r: latency_text(r.latency)),
        ("tokens", lambda r: tokens_text(r.total_tokens)),
        ("cost", lambda r: cost_text(r.total_cost, zero="$0")),
    )
    kept = [(header, text) for header, text in columns if header not in drop]
    fixed = sum(max(len(header), *(len(text(run)) for _, run in lines)) for header, text in kept)
    padding = 3 * (len(kept) + 2)  # between the run column, these, and the bars
    bars = console_width - max(label, 3) - fixed - padding
    if bars < 12:  # a narrow terminal: long names give way before the bars do
        label = max(12, label - (12 - bars))
        bars = console_width - label - fixed - padding
    if "waterfall" in drop:  # no bars: the run column takes what the others leave
        label = max(8, min(label, console_width - fixed - padding + 3))
    return label, min(bars, 60)


_NARROW_DROPS = (frozenset({"type"}), frozenset({"tokens", "cost"}))
"""What a trace table leaves out, in turn, when the waterfall would not fit (``--format json``
has it all): first the type (the tree names each run, ``localtrace run`` shows its type), so
that an 80-column terminal keeps the tokens and cost; then those two instead."""
_NARROWEST_DROPS = frozenset({"tokens", "cost", "type", "waterfall"})
"""What it leaves out when even then the waterfall would squeeze the names (a 60-column
terminal): the tree, status and latency stay, so every row still names its run."""


def trace_tree(
    root: Run,
    *,
    project_name: str | None = None,
    width: int = _WATERFALL_WIDTH,
    console_width: int | None = None,
) -> RenderableType:
    """The tree of a trace: per-run type, status, latency, tokens, cost and a waterfall bar.

    With ``console_width`` the bars take whatever room the other columns leave; in a very
    narrow console the least useful columns go first, never the run names.
    """
    start, end = _span(root)
    lines = list(_tree_lines(root))
    label = 16
    drop: frozenset[str] = frozenset()
    if console_width is not None:
        label, width = _waterfall_width(lines, console_width)
        for narrower in _NARROW_DROPS:
            if width < 12:
                drop = narrower
                label, width = _waterfall_width(lines, console_width, drop)
        if width < 12:  # the names would fold to make room for a stub of a waterfall
            drop = _NARROWEST_DROPS
            label, width = _waterfall_width(lines, console_width, drop)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("run", overflow="fold", min_width=label)
    shown = [c for c in ("type", "status", "latency", "tokens", "cost") if c not in drop]
    for column in shown:
        right = column in ("latency", "tokens", "cost")
        table.add_column(column, justify="right" if right else "left", no_wrap=True)
    if "waterfall" not in drop:
        total = latency_text((end - start).total_seconds())
        heading = f"waterfall ({total})"  # narrow bars: the root's latency says the total
        table.add_column(heading if len(heading) <= max(8, width) else "waterfall", no_wrap=True)
    notes: list[Text] = []
    for prefix, run in lines:
        name = Text(prefix, style="dim")
        name.append(run.name, style="bold" if run is root else "")
        cells: dict[str, RenderableType] = {
            "type": run.run_type,
            "status": status_text(run.status),
            "latency": latency_text(run.latency),
            "tokens": tokens_text(run.total_tokens),
            "cost": cost_text(run.total_cost, zero="$0"),
        }
        bar = [] if "waterfall" in drop else [waterfall_bar(run, start, end, max(8, width))]
        table.add_row(name, *(cells[c] for c in shown), *bar)
        if run.error:
            note = Text(f"✗ {run.name}: ", style="bold red")
            note.append(first_line(run.error), style="red")
            notes.append(note)
        if run.repair:
            notes.append(Text(f"⚠ {run.name} ({run.id}): {run.repair}", style="yellow"))
    parts: list[RenderableType] = [
        _trace_header(root, project_name, console_width),
        table,
        *notes,
    ]
    if root.feedback_stats:
        parts.append(_feedback_summary(root.feedback_stats))
    return Group(*parts)


def _trace_header(root: Run, project_name: str | None, console_width: int | None) -> Text:
    """``trace ID  project P  started T`` on one line, or, where that does not fit, the id on
    its own line and the rest on the next, or on a line each (folded anywhere, the start time
    lost its date, or its time after a long project name)."""
    header = Text("trace ", style="bold")
    header.append(str(root.trace_id))
    parts = [f"project {project_name}"] if project_name else []
    parts.append(f"started {time_text(root.start_time)}")
    about = "  ".join(parts)

    def fits(*widths: int) -> bool:
        return console_width is None or sum(widths) <= console_width

    if fits(cell_len(header.plain), 2, cell_len(about)):
        header.append("  " + about, style="dim")
    elif fits(cell_len(about)):
        header.append("\n" + about, style="dim")
    else:
        header.append("\n" + "\n".join(parts), style="dim")
    return header


def _tree_lines(root: Run) -> Iterator[tuple[str, Run]]:
    yield "", root

    def walk(run: Run, indent: str) -> Iterator[tuple[str, Run]]:
        children = run.child_runs or []
        for index, child in enumerate(children):
            last = index == len(children) - 1
            yield indent + ("└─ " if last else "├─ "), child
            yield from walk(child, indent + ("   " if last else "│  "))

    yield from walk(root, "")


def _feedback_summary(stats: dict[str, Any], *, label: bool = True) -> Text:
    text = Text("feedback: " if label else "", style="bold")
    parts = []
    for key, value in sorted(stats.items()):
        if isinstance(value, dict):
            avg = value.get("avg")
            n = value.get("n")
            shown = f"{avg:.2f}" if isinstance(avg, (int, float)) else short(value.get("values"))
            parts.append(f"{key} {shown} (n={n})")
        else:
            parts.append(f"{key} {short(value)}")
    text.append(", ".join(parts))
    return text


def trace_records(root: Run) -> Iterator[dict[str, Any]]:
    """Every run of a loaded tree (depth first), each with its ``depth``."""

    def walk(run: Run, depth: int) -> Iterator[dict[str, Any]]:
        record = run_record(run)
        record["depth"] = depth
        yield record
        for child in run.child_runs or []:
            yield from walk(child, depth + 1)

    yield from walk(root, 0)


# -- statistics ---------------------------------------------------------------------------------
def _stats_rows(stats: RunStats) -> list[tuple[str, str]]:
    rows = [
        ("runs", f"{stats.run_count:,}"),
        ("error rate", percent_text(stats.error_rate)),
        ("streaming rate", percent_text(stats.streaming_rate)),
        ("latency p50", _seconds(stats.latency_p50)),
        ("latency p99", _seconds(stats.latency_p99)),
        ("latency avg", _seconds(stats.latency_avg)),
        ("first token p50", _seconds(stats.first_token_p50)),
        ("first token p99", _seconds(stats.first_token_p99)),
        (
            "tokens",
            f"{stats.total_tokens:,} (prompt {stats.prompt_tokens:,}, "
            f"completion {stats.completion_tokens:,})",
        ),
        ("tokens p50 / p99", f"{_num(stats.median_tokens)} / {_num(stats.tokens_p99)}"),
        (
            "cost",
            f"{cost_text(stats.total_cost, zero='$0') or '-'} (prompt {cost_text(stats.prompt_cost) or '-'}, "
            f"completion {cost_text(stats.completion_cost) or '-'})",
        ),
        (
            "cost p50 / p99",
            f"{cost_text(stats.cost_p50) or '-'} / {cost_text(stats.cost_p99) or '-'}",
        ),
        ("last run", time_text(stats.last_run_start_time)),
    ]
    return [(name, value) for name, value in rows if value.strip(" -/()")]


def _seconds(value: float | None) -> str:
    return "" if value is None else latency_text(value)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def stats_table(stats: RunStats, *, title: str | None = None) -> RenderableType:
    """One ``RunStats`` as a two-column table (plus feedback per key)."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=title, title_justify="left")
    table.add_column("metric", style="bold")
    table.add_column("value")
    for name, value in _stats_rows(stats):
        table.add_row(name, value)
    if stats.feedback_stats:
        table.add_row("feedback", _feedback_summary(stats.feedback_stats, label=False))
    return table


def grouped_stats_table(groups: dict[str, RunStats], *, by: str, width: int | None = None) -> Table:
    """``{group: RunStats}`` as one row per group.

    In ``width`` characters the least useful figures are left out, never the group's name.
    """
    rows = [
        {
            by: str(group),
            "runs": f"{stats.run_count:,}",
            "errors": percent_text(stats.error_rate),
            "p50": _seconds(stats.latency_p50),
            "p99": _seconds(stats.latency_p99),
            "tokens": tokens_text(stats.total_tokens),
            "cost": cost_text(stats.total_cost),
        }
        for group, stats in groups.items()
    ]

    def room(column: str) -> int:
        return max(len(column), *(len(row[column]) for row in rows)) if rows else len(column)

    label = min(room(by), 16)
    importance = [(by, label), *((c, room(c)) for c in _GROUP_FIGURES_BY_IMPORTANCE)]
    shown = fitting(importance, width)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column(by, overflow="fold", style="bold", min_width=label)
    order = [c for c in ("runs", "errors", "p50", "p99", "tokens", "cost") if c in shown]
    for name in order:
        table.add_column(name, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(row[by], *(row[name] for name in order))
    return table


_GROUP_FIGURES_BY_IMPORTANCE = ("runs", "p50", "errors", "cost", "tokens", "p99")
"""What a narrow terminal keeps of a grouped statistics row after the group's name."""


def stats_record(stats: RunStats) -> dict[str, Any]:
    """``RunStats`` as JSON types."""
    return data_record(stats)


# -- projects and feedback ----------------------------------------------------------------------
_PROJECT_COLUMNS_BY_IMPORTANCE = (
    "name",
    "traces",
    "errors",
    "p50",
    "cost",
    "tokens",
    "last run",
    "created",
    "id",
)
"""What a narrow terminal keeps of a projects listing, as a runs listing does: the figures
first (cost before tokens), the time of the last run after them, the id last."""


def projects_table(
    projects: Iterable[Project], *, with_stats: bool, width: int | None = None
) -> Table:
    """Projects, with trace counts, latency, tokens, cost and error rate when computed.

    In ``width`` characters the id goes first (commands take project names), then the least
    useful figures in ``_PROJECT_COLUMNS_BY_IMPORTANCE``'s order; the name always stays.
    """
    stats = (
        ("traces", "last run", "p50", "tokens", "cost", "errors") if with_stats else ("created",)
    )
    room = {
        "name": 16,
        "traces": 7,
        "last run": 19,
        "p50": 7,
        "tokens": 7,
        "cost": 10,
        "errors": 6,
        "created": 19,
        "id": 36,
    }
    importance = [(n, room[n]) for n in _PROJECT_COLUMNS_BY_IMPORTANCE]
    shown = fitting([c for c in importance if c[0] in (*stats, "name", "id")], width)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("name", overflow="fold", style="bold", min_width=16)
    for name in stats:
        if name in shown:
            table.add_column(name, justify="right" if with_stats else "left", no_wrap=True)
    if "id" in shown:
        table.add_column("id", no_wrap=True, style="dim", min_width=36)
    for project in projects:
        if with_stats:
            p50 = project.latency_p50.total_seconds() if project.latency_p50 else None
            cells = [
                f"{project.run_count or 0:,}",
                time_text(project.last_run_start_time),
                _seconds(p50),
                tokens_text(project.total_tokens),
                cost_text(project.total_cost),
                percent_text(project.error_rate),
            ]
        else:
            cells = [time_text(project.start_time)]
        kept = [cell for name, cell in zip(stats, cells, strict=True) if name in shown]
        table.add_row(project.name, *kept, *([str(project.id)] if "id" in shown else []))
    return table


def project_record(project: Project) -> dict[str, Any]:
    """A project as JSON types (timedeltas in seconds)."""
    record = data_record(project)
    for name in ("latency_p50", "latency_p99", "first_token_p50", "first_token_p99"):
        value = getattr(project, name)
        record[name] = value.total_seconds() if value is not None else None
    return record


def feedback_table(
    feedback: Iterable[Feedback],
    *,
    show_run: bool = True,
    width: int | None = None,
    title: str | None = None,
) -> Table:
    """Feedback: key, score, value, comment (and the run it is about).

    In ``width`` characters the least useful columns are left out, never the key. A listing
    of its own has no ``title`` (written to a pipe, its first line is the header, as every
    listing's); a section of a run's detail has one.
    """
    rows = [
        {
            "key": item.key,
            "score": "" if item.score is None else f"{item.score:g}",
            "value": short(item.value, 30),
            "comment": short(item.comment, 60),
            "created": time_text(item.created_at),
            "run": str(item.run_id or f"project {item.session_id}"),
        }
        for item in feedback
    ]

    def room(column: str, most: int) -> int:
        return min(most, max([len(column), *(len(row[column]) for row in rows)]))

    importance = [
        ("key", room("key", 16)),
        ("score", room("score", 8)),
        ("run", 36),
        ("comment", room("comment", 12)),
        ("value", room("value", 12)),
        ("created", 19),
    ]
    if not show_run:
        importance.remove(("run", 36))
    shown = fitting(importance, width)
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=title, title_justify="left")
    columns = {
        "key": {"style": "bold", "overflow": "fold", "min_width": room("key", 16)},
        "score": {"justify": "right", "no_wrap": True},
        "value": {"overflow": "fold"},
        "comment": {"overflow": "fold"},
        "created": {"no_wrap": True},
        "run": {"no_wrap": True, "style": "dim", "min_width": 36},
    }
    order = [c for c in ("key", "score", "value", "comment", "created", "run") if c in shown]
    for name in order:
        table.add_column(name, **columns[name])  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*(row[name] for name in order))
    return table


def feedback_record(item: Feedback) -> dict[str, Any]:
    """Feedback as JSON types (LangSmith's feedback dict)."""
    return data_record(item)


# -- terminals ----------------------------------------------------------------------------------
class TerminalConsole(Console):
    """A rich ``Console`` that never passes control characters of the data to the terminal.

    Runs hold whatever an application sent (a model's ANSI-coloured output, a hostile page's
    escape sequences); drawn as they are, they would recolour, clear or retitle the user's
    terminal. Every text segment is made ``inert`` after layout (control characters take no
    columns, so the layout is unchanged); the console's own styles are not text and stay.
    """

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterator[Segment]:
        for segment in super().render(renderable, options):
            text = inert(segment.text) if segment.control is None else segment.text
            yield segment if text is segment.text else Segment(text, segment.style)


# -- plain text ---------------------------------------------------------------------------------
def plain_table(table: Table) -> str | None:
    """``table`` as aligned plain text: every value whole, columns two spaces apart, a dashed
    line under the header (the layout of sqlite-utils' tables), control characters removed.

    For tables written to a file or a pipe: laying out thousands of rows with rich takes
    seconds (it measures and wraps every cell), this takes milliseconds. ``None`` when a cell
    is not text (a bar, a nested table): rich draws those.
    """
    columns = table.columns
    grid: list[list[str]] = []
    for column in columns:
        texts = [_plain_cell(column.header)] if table.show_header else []
        for cell in column.cells:
            text = _plain_cell(cell)
            if text is None:
                return None
            texts.append(text)
        if any(text is None for text in texts):
            return None
        grid.append([t or "" for t in texts])
    widths = [max(map(cell_len, texts), default=0) for texts in grid]
    lines: list[str] = []
    lines.extend(_plain_lines(table.title))
    rows = list(zip(*grid, strict=True)) if grid else []
    for index, row in enumerate(rows):
        cells = [
            _aligned(text, width, column.justify)
            for text, width, column in zip(row, widths, columns, strict=True)
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0 and table.show_header:
            lines.append("  ".join("-" * width for width in widths))
    lines.extend(_plain_lines(table.caption))
    return "".join(line + "\n" for line in lines)


def _plain_lines(text: Any) -> list[str]:
    """A title's or a caption's lines (its line breaks kept), inert."""
    if isinstance(text, Text):
        text = text.plain
    return inert(text).splitlines() if isinstance(text, str) else []


def _plain_cell(cell: Any) -> str | None:
    """A cell's text on one line, inert; ``None`` for a renderable that is not text."""
    if isinstance(cell, Text):
        text = cell.plain
    elif isinstance(cell, str):
        text = cell
    else:
        return None
    return " ".join(inert(text).replace("\t", " ").splitlines()) if text else ""


def _aligned(text: str, width: int, justify: str) -> str:
    pad = width - cell_len(text)
    if justify == "right":
        return " " * pad + text
    if justify == "center":
        return " " * (pad // 2) + text + " " * (pad - pad // 2)
    return text + " " * pad


def to_text(renderable: RenderableType, *, width: int = 120) -> str:
    """Render without colours, e.g. for assertion messages and pytest report sections."""
    buffer = io.StringIO()
    console = TerminalConsole(
        file=buffer,
        width=width,
        color_system=None,
        force_terminal=False,
        highlight=False,
        markup=False,
    )
    console.print(renderable)
    return buffer.getvalue()


def key_value_table(rows: Iterable[tuple[str, Any]], *, title: str | None = None) -> Table:
    """A two-column table of facts."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, title=title, title_justify="left")
    table.add_column("", style="bold")
    table.add_column("")
    table.show_header = False
    for key, value in rows:
        table.add_row(key, value if isinstance(value, Text) else str(value))
    return table
