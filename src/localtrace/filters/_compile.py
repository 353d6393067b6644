"""Checked filter tree -> one parameterized SQLite boolean expression over ``runs AS <alias>``.

Rules every fragment follows:

* user values reach SQL only as ``?`` parameters; table and column names come from the
  attribute table; the only inline constants are our own (``'error'``, JSON type names);
* every fragment is two-valued (never SQL NULL), so ``not(...)`` means "does not match":
  nullable columns are guarded with ``IS NOT NULL``, subqueries never yield NULL;
* predicates that have an index are shaped so SQLite can use it: ``pk IN (SELECT run_pk ...)``
  for tags and metadata, ``id IN (SELECT run_id ...)`` for feedback, plain column comparisons
  for columns, a literal ``status = 'error'`` so the partial error index applies;
* a listing (``listing=True``: the statement walks runs by time and stops after a page) leaves
  the shape of each tag or metadata-pair test open (a ``Choice``: probe per run walked, or list
  every match) for the planner to settle from the data (``_query/planner.py``), and keeps
  full-text matches from driving the statement. The output depends on the filter text alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from ..errors import FilterSyntaxError
from . import _literals as lit
from ._attributes import ATTRIBUTES, Attribute
from ._nodes import And, Comparison, MetadataPairs, Node, Not, Operand, Or, Search, Value
from ._operators import OPERATORS

Param = object
TRUE = "1"
FALSE = "0"
SCOPES = ("filter", "trace", "tree")
MAX_PARAMS = 10_000
"""More parameters than this and the filter is refused (SQLite caps variables per statement)."""

_ALIAS_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_JOIN_CHUNK = 64


@dataclass
class Sql:
    """A SQL fragment with its parameters, in placeholder order.

    In a listing the text may hold open choices (``Choice.token``); ``choices`` lists them and
    ``render`` settles them into plain SQL.
    """

    text: str
    params: list[Param] = field(default_factory=list)
    choices: tuple[Choice, ...] = ()

    def render(self, probe: Callable[[Choice], bool | Window]) -> tuple[str, list[Param]]:
        """Plain SQL and parameters, each open choice replaced by the shape ``probe`` picks:
        ``True`` probes, ``False`` lists every match, a ``Window`` lists the newest matches."""
        if not self.choices:
            return self.text, list(self.params)
        text: list[str] = []
        params: list[Param] = []
        given = iter(self.params)
        last = 0
        for match in _OPEN.finditer(self.text):
            text.append(self.text[last : match.start()])
            last = match.end()
            if match.group(0) == "?":
                text.append("?")
                params.append(next(given))
                continue
            choice = self.choices[int(match.group(1))]
            shape = probe(choice)
            if isinstance(shape, Window):
                chosen = choice.windowed(shape)
            else:
                chosen = choice.probe if shape else choice.listed
            text.append(chosen.text)
            params.extend(chosen.params)
        text.append(self.text[last:])
        return "".join(text), params


@dataclass(frozen=True)
class Window:
    """Settles a ``Choice`` whose matches are ordered by run (``Choice.ordered``): list only the
    matches of runs stored after ``bound`` (before it, ``descending=False``) and probe the
    index for runs walked beyond it.

    Exact for any bound. Fast when the runs a page walks were stored near the end the walk
    starts from (runs arrive roughly in time order): the list then holds the newest matches
    only, so its cost stops growing with the store.
    """

    bound: int
    descending: bool = True


@dataclass(frozen=True)
class Choice:
    """Membership of run ``a`` in a side table, with its shape left to the planner.

    ``probe`` tests the side table's index once per run walked; ``listed`` lists every run
    passing the test. Both are exact; which is cheaper depends on how common the value is
    (``_query/planner.py`` samples the store to tell). ``table`` and ``recent`` (the test over
    the alias ``s``) let the planner build its sample; ``key`` is the side table's column
    naming the run (``run_pk``, or ``run_id`` for feedback). ``ordered``: the test is an index
    prefix whose entries follow ``run_pk``, so the newest matches are an index range and the
    choice can also be settled by a ``Window`` (``windowed``).
    """

    index: int
    table: str
    recent: Sql
    probe: Sql
    listed: Sql
    key: str = "run_pk"
    ordered: bool = False
    inner: Sql | None = None
    """The test over the alias ``inner_alias`` (for ``windowed``)."""
    inner_alias: str = ""
    run: str = ""
    """The alias of the run tested."""

    def windowed(self, window: Window) -> Sql:
        """``a`` is listed among the matches beyond ``window.bound`` or, at or before it, the
        probe finds it (two-valued: ``run_pk`` is never NULL). The unary ``+`` keeps SQLite
        from driving the statement from either branch: it walks runs as the rest says."""
        assert self.ordered and self.inner is not None
        x, a, inner = self.inner_alias, self.run, self.inner
        after, upto = (">", "<=") if window.descending else ("<", ">=")
        return Sql(
            f"(+{a}.pk IN (SELECT {x}.run_pk FROM {self.table} AS {x} WHERE {inner.text}"
            f" AND {x}.run_pk {after} ?) OR (+{a}.pk {upto} ? AND {self.probe.text}))",
            [*inner.params, window.bound, window.bound, *self.probe.params],
        )

    @property
    def by_position(self) -> bool:
        """The side table names runs by position (``run_pk``), so the newest runs' entries are
        an index range a sample can count; feedback names them by id and has none."""
        return self.key == "run_pk"

    @property
    def token(self) -> str:
        """Stands for the choice in the statement's text (never contains ``?``)."""
        return f"\x00({self.index})\x00"


_OPEN = re.compile("\x00\\((\\d+)\\)\x00|\\?")


def _nesting(text: str) -> int:
    """Deepest parenthesis nesting in ``text`` (our SQL has no parentheses inside literals)."""
    depth = deepest = 0
    for char in text:
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
    return deepest


def _join(op: str, parts: list[Sql]) -> Sql:
    """``(a OP b OP ...)``, moving a much more deeply nested part to the front.

    SQLite's parser keeps a fixed stack (100 entries before 3.46): a nested operand costs one
    entry per level when it comes first, about three when it follows ``x AND``. Long lists are
    cut into chunks because SQLite also caps expression-tree depth at 1000. No parts: the
    operator's identity (true for AND, false for OR).
    """
    if not parts:
        return Sql(TRUE if op == "AND" else FALSE)
    if len(parts) == 1:
        return parts[0]
    depths = [_nesting(part.text) for part in parts]
    deepest = max(range(len(parts)), key=depths.__getitem__)
    if depths[deepest] > depths[0] + 2:
        parts = [parts[deepest], *parts[:deepest], *parts[deepest + 1 :]]
    if len(parts) > _JOIN_CHUNK:
        chunks = [_join(op, parts[i : i + _JOIN_CHUNK]) for i in range(0, len(parts), _JOIN_CHUNK)]
        return _join(op, chunks)
    params: list[Param] = []
    for part in parts:
        params.extend(part.params)
    return Sql("(" + f" {op} ".join(part.text for part in parts) + ")", params)


def _neg(part: Sql) -> Sql:
    """``NOT x``: every fragment is either parenthesized or binds tighter than NOT."""
    if part.text == TRUE:
        return Sql(FALSE)
    if part.text == FALSE:
        return Sql(TRUE)
    return Sql(f"NOT {part.text}", part.params)


def _number_param(value: Value) -> Param:
    """Numbers bind as int when whole (exact comparison), else float."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value() and -_INT64 <= value < _INT64:
            return int(value)
        return float(value)  # SQLite integers are 64-bit: larger whole numbers compare as REAL
    if isinstance(value, int) and not isinstance(value, bool) and not -_INT64 <= value < _INT64:
        return float(value)
    return value


_INT64 = 2**63


class Compiler:
    """Compiles one tree; hands out table aliases that never repeat within it."""

    def __init__(self, alias: str, listing: bool = False, queued: bool = False) -> None:
        self.alias = alias
        self.counter = 0
        self.listing = listing
        self.queued = queued
        self.choices: list[Choice] = []

    def fresh(self, prefix: str) -> str:
        """A table alias no other part of this statement uses."""
        while True:
            self.counter += 1
            name = f"{prefix}{self.counter}"
            if name != self.alias:
                return name

    # -- logic -----------------------------------------------------------------------------
    def node(self, node: Node, a: str) -> Sql:
        """The fragment for ``node`` over the run alias ``a``."""
        if isinstance(node, And):
            return self._and(node, a)
        if isinstance(node, Or):
            return _join("OR", [self.node(child, a) for child in node.children])
        if isinstance(node, Not):
            child = node.child
            if isinstance(child, Not):  # not(not(x)) is x, one parser level cheaper
                return self.node(child.child, a)
            return _neg(self.node(child, a))
        if isinstance(node, Search):
            return self._full_text(node, a)
        assert isinstance(node, Comparison)
        attribute = ATTRIBUTES[node.attribute]
        if attribute.family is not None:
            return self._pair_group(attribute.family, [node], a)
        return self._comparison(node, attribute, a)

    def _and(self, node: And, a: str) -> Sql:
        """Key/value comparisons of one family directly inside one ``and`` share a pair."""
        slots: list[Node | str] = []
        families: dict[str, list[Comparison]] = {}
        for child in node.children:
            family = ATTRIBUTES[child.attribute].family if isinstance(child, Comparison) else None
            if family is None or not isinstance(child, Comparison):
                slots.append(child)
                continue
            if family not in families:
                families[family] = []
                slots.append(family)
            families[family].append(child)
        parts = [
            self._pair_group(slot, families[slot], a)
            if isinstance(slot, str)
            else self.node(slot, a)
            for slot in slots
        ]
        return _join("AND", parts)

    # -- full text -------------------------------------------------------------------------
    def _full_text(self, node: Search, a: str) -> Sql:
        words = node.query.split()
        if not words:
            return Sql(TRUE)
        # Each word is an FTS5 phrase (quotes doubled, so no query syntax leaks through) with a
        # trailing * so partial words match; phrases side by side are AND-ed by FTS5. FTS5 reads
        # the query as a C string, so NUL becomes another separator the tokenizer skips.
        query = " ".join(
            '"' + word.replace('"', '""').replace("\x00", "\x01") + '"*' for word in words
        )
        # In a listing the unary + keeps SQLite from driving the statement
        # from the match list: for a word in most runs that means fetching and sorting every
        # match (4 s at 1M runs) where walking runs newest first stops after a page (0.3 s).
        # A rare word costs the walk instead (0.13 s at 1M); FTS5 has no cheap way to tell
        # the two apart beforehand (counting even 2,000 matches costs 90 ms).
        plus = "+" if self.listing else ""
        if not self.queued:
            return Sql(
                f"{plus}{a}.pk IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH ?)", [query]
            )
        # Runs the index has not taken in yet (``fts_pending``: the writer could not index them,
        # e.g. on a read-only file) are matched one by one by the store's ``localtrace_search``,
        # with the index's own tokenizer. After the writer's catch-up none wait: no cost. CROSS
        # JOIN keeps the queue the outer loop (SQLite would rather scan every payload).
        return Sql(
            f"{plus}{a}.pk IN (SELECT rowid FROM runs_fts WHERE runs_fts MATCH ? UNION ALL "
            "SELECT f.run_pk FROM fts_pending AS f CROSS JOIN run_payloads AS p "
            "ON p.run_pk = f.run_pk "
            "WHERE localtrace_search(?, p.inputs_text, p.outputs_text, p.error))",
            [query, query],
        )

    # -- plain attributes ------------------------------------------------------------------
    def _comparison(self, node: Comparison, attribute: Attribute, a: str) -> Sql:
        kind = attribute.kind
        if kind in ("text", "id", "time"):
            return self._column(node, attribute, a)
        if kind in ("count", "cost", "duration"):
            return self._integer(node, attribute, a)
        if kind == "is_root":
            wants_root = node.operand.value is (node.op == "eq")
            return Sql(
                f"{a}.parent_run_id IS NULL" if wants_root else f"{a}.parent_run_id IS NOT NULL"
            )
        if kind == "execution_order":
            return self._execution_order(node, a)
        if kind == "error":
            return self._error(node, a)
        if kind == "tags":
            return self._tags(node, a)
        if kind == "metadata":
            return self._metadata(node, a)
        assert kind == "payload" and node.op == "search" and attribute.column
        p = self.fresh("p")
        return Sql(
            f"EXISTS (SELECT 1 FROM run_payloads AS {p} WHERE {p}.run_pk = {a}.pk"
            f" AND instr(lower({p}.{attribute.column}), lower(?)) > 0)",
            [node.operand.value],
        )

    def _column(self, node: Comparison, attribute: Attribute, a: str) -> Sql:
        assert attribute.column
        col = f"{a}.{attribute.column}"

        def guard(sql: Sql) -> Sql:
            if attribute.nullable:
                return Sql(f"({col} IS NOT NULL AND {sql.text})", sql.params)
            return sql

        if node.op == "in":
            values = [o.value for o in node.operands if o.value is not None]
            parts: list[Sql] = []
            if values:
                marks = ", ".join("?" * len(values))
                parts.append(guard(Sql(f"{col} IN ({marks})", list(values))))
            if len(values) < len(node.operands):
                parts.append(Sql(f"{col} IS NULL"))
            return _join("OR", parts)
        value = node.operand.value
        if node.op == "search":
            return guard(Sql(f"instr(lower({col}), lower(?)) > 0", [value]))
        if value is None:
            return Sql(f"{col} IS NULL" if node.op == "eq" else f"{col} IS NOT NULL")
        return guard(Sql(f"{col} {OPERATORS[node.op].sql} ?", [value]))

    def _integer(self, node: Comparison, attribute: Attribute, a: str) -> Sql:
        """Token counts, costs (pico-dollars) and latency (microseconds): exact integer bounds."""
        if attribute.kind == "duration":
            expr = f"({a}.end_time - {a}.start_time)"
            present = f"{a}.end_time IS NOT NULL"
        else:
            assert attribute.column
            expr = f"{a}.{attribute.column}"
            present = f"{expr} IS NOT NULL" if attribute.nullable else TRUE
        parts: list[Sql] = []
        for operand in node.operands:
            if operand.value is None:
                missing = f"NOT ({present})" if present != TRUE else FALSE
                op = "eq" if node.op == "in" else node.op
                parts.append(Sql(missing if op == "eq" else present))
                continue
            assert isinstance(operand.value, Decimal)
            scaled = operand.value
            if attribute.kind == "cost":
                scaled = lit.usd_to_pico(scaled)
            elif attribute.kind == "duration":
                scaled = lit.seconds_to_micros(scaled)
            bound = lit.integer_bound("eq" if node.op == "in" else node.op, scaled)
            if bound is True:
                parts.append(Sql(present))
            elif bound is False:
                parts.append(Sql(FALSE))
            else:
                op, number = bound
                test = Sql(f"{expr} {OPERATORS[op].sql} ?", [number])
                if present != TRUE:
                    test = Sql(f"({present} AND {test.text})", test.params)
                parts.append(test)
        return _join("OR", parts)

    def _execution_order(self, node: Comparison, a: str) -> Sql:
        """Roots are 1; other runs count as "some order >= 2" (we do not number siblings)."""
        value = node.operand.value
        assert isinstance(value, int)
        root = OPERATORS[node.op].python(1, value)
        below = {
            "eq": value >= 2,
            "neq": True,
            "gt": True,
            "gte": True,
            "lt": value > 2,
            "lte": value >= 2,
        }[node.op]
        if root and below:
            return Sql(TRUE)
        if root:
            return Sql(f"{a}.parent_run_id IS NULL")
        if below:
            return Sql(f"{a}.parent_run_id IS NOT NULL")
        return Sql(FALSE)

    def _error(self, node: Comparison, a: str) -> Sql:
        """Absence/presence is the status; the text lives in run_payloads."""
        failed = f"{a}.status = 'error'"
        value = node.operand.value
        if value is None:
            return Sql(failed if node.op == "neq" else f"{a}.status != 'error'")
        if isinstance(value, bool):
            wants_error = value if node.op == "eq" else not value
            return Sql(failed if wants_error else f"{a}.status != 'error'")
        p = self.fresh("p")
        test = "instr(lower({p}.error), lower(?)) > 0" if node.op == "search" else "{p}.error = ?"
        exists = (
            f"EXISTS (SELECT 1 FROM run_payloads AS {p} WHERE {p}.run_pk = {a}.pk"
            f" AND {test.format(p=p)})"
        )
        if node.op == "neq":
            exists = f"NOT {exists}"
        return Sql(f"({failed} AND {exists})", [value])

    def _tags(self, node: Comparison, a: str) -> Sql:
        values = [o.value for o in node.operands]
        if node.op == "in":
            if not values:
                return Sql(FALSE)
            test = "{g}.tag IN (" + ", ".join("?" * len(values)) + ")"
        elif node.op == "search":
            test = "instr(lower({g}.tag), lower(?)) > 0"
        else:
            test = "{g}.tag = ?"
        return self._member(
            "run_tags",
            "g",
            lambda g: Sql(test.format(g=g), list(values)),
            a,
            negate=node.op == "neq",
            adapt=node.op != "search",  # a substring test has no index to probe or sample
            ordered=node.op not in ("in", "search"),  # one tag: entries follow run_pk
        )

    def _member(
        self,
        table: str,
        prefix: str,
        test: Callable[[str], Sql],
        a: str,
        *,
        negate: bool = False,
        adapt: bool = False,
        ordered: bool = False,
    ) -> Sql:
        """Run ``a`` has a row in the side table ``table`` passing ``test(alias)`` (none, with
        ``negate``): ``a.pk [NOT] IN (SELECT run_pk ...)``. With ``adapt`` in a listing, a
        negation probes per run walked (it matches most runs, so the walk is short) and a
        positive test lets ``_adaptive_member`` choose."""
        if adapt and self.listing:
            if negate:
                return _neg(self._probe(table, test, a))
            return self._adaptive_member(table, test, a, ordered=ordered)
        x = self.fresh(prefix)
        where = test(x)
        not_ = "NOT " if negate else ""
        return Sql(
            f"{a}.pk {not_}IN (SELECT {x}.run_pk FROM {table} AS {x} WHERE {where.text})",
            where.params,
        )

    def _probe(self, table: str, test: Callable[[str], Sql], a: str) -> Sql:
        """``EXISTS`` a row of ``table`` for run ``a`` passing ``test``: one index lookup."""
        g = self.fresh("g")
        probe = test(g)
        return Sql(
            f"EXISTS (SELECT 1 FROM {table} AS {g} WHERE {probe.text} AND {g}.run_pk = {a}.pk)",
            probe.params,
        )

    def _adaptive_member(
        self, table: str, test: Callable[[str], Sql], a: str, *, ordered: bool = False
    ) -> Sql:
        """Membership in a side table, for a statement that walks runs in time order and stops.

        Listing the newest runs with a tag walks ``runs`` by start time either way; what differs
        is the test per run walked: list every run passing ``test`` (right for a rare tag), or
        probe the index per run walked (right for a common one). Which one depends on the data,
        so the compiler leaves a ``Choice`` and ``_query/planner.py`` settles it. ``test(alias)``
        must be answerable from an index ending in ``run_pk`` (``run_tags_tag``,
        ``run_metadata_kv``) for the planner's sample to stay cheap. ``ordered``: ``test`` is
        equalities on the index columns before ``run_pk`` (a ``Window`` can settle it).
        """
        inner_alias = self.fresh("w") if ordered else ""
        choice = Choice(
            index=len(self.choices),
            table=table,
            recent=test("s"),
            probe=self._probe(table, test, a),
            listed=self._member(table, "h", test, a),
            ordered=ordered,
            inner=test(inner_alias) if ordered else None,
            inner_alias=inner_alias,
            run=a,
        )
        self.choices.append(choice)
        return Sql(choice.token)

    def _metadata(self, node: Comparison, a: str) -> Sql:
        value = node.operand.value
        if isinstance(value, MetadataPairs):
            return _join(
                "AND",
                [
                    self._member(
                        "run_metadata",
                        "m",
                        _kv_test(key, text),
                        a,
                        adapt=text is not None,
                        ordered=text is not None,
                    )
                    for key, text in value.pairs
                ],
            )
        assert isinstance(value, str)
        # key k itself, or any key below it: 'k.' <= key < 'k/' ('/' follows '.') uses the index.
        return self._member(
            "run_metadata",
            "m",
            lambda m: Sql(
                f"{m}.key = ? OR ({m}.key >= ? AND {m}.key < ?)",
                [value, value + ".", value + "/"],
            ),
            a,
        )

    # -- key/value pairs -------------------------------------------------------------------
    def _pair_group(self, family: str, conditions: list[Comparison], a: str) -> Sql:
        """The pair rule: positive conditions (and value neq's) hold for one pair together;
        a neq on the key, or any neq with no positive condition, means "no pair has this"."""
        positives = [c for c in conditions if c.op != "neq"]
        negatives = [c for c in conditions if c.op == "neq"]
        parts: list[Sql] = []
        if positives:
            joined = positives + [c for c in negatives if ATTRIBUTES[c.attribute].role == "value"]
            parts.append(self._pair_exists(family, [(c, c.op) for c in joined], a, False))
            alone = [c for c in negatives if ATTRIBUTES[c.attribute].role == "key"]
        else:
            alone = negatives
        for condition in alone:
            parts.append(self._pair_exists(family, [(condition, "eq")], a, True))
        return _join("AND", parts)

    def _pair_exists(
        self, family: str, conditions: list[tuple[Comparison, str]], a: str, negate: bool
    ) -> Sql:
        not_ = "NOT " if negate else ""
        if family == "metadata":
            return self._member(
                "run_metadata",
                "m",
                lambda m: self._pair_tests(
                    conditions, {"metadata_key": f"{m}.key", "metadata_value": f"{m}.value"}
                ),
                a,
                negate=negate,
                adapt=not negate and _exact_pair(conditions),
                ordered=True,  # (key, value, run_pk): an exact pair's entries follow run_pk
            )
        if family == "feedback":
            if self.listing and not negate and _indexed_feedback(conditions):
                return self._adaptive_feedback(conditions, a)
            f = self.fresh("f")
            columns = {
                "feedback_key": f"{f}.key",
                "feedback_score": f"{f}.score",
                "feedback_value": f"{f}.value",
            }
            where = self._pair_tests(conditions, columns)
            return Sql(
                f"{a}.id {not_}IN (SELECT {f}.run_id FROM feedback AS {f}"
                f" WHERE {f}.run_id IS NOT NULL AND {where.text})",
                where.params,
            )
        column = "inputs" if family == "input" else "outputs"
        w, p, j = self.fresh("w"), self.fresh("p"), self.fresh("j")
        columns = {f"{family}_key": f"{w}.k", f"{family}_value": f"{w}.s"}
        where = self._pair_tests(conditions, columns)
        # Walk the JSON with json_each, building LangSmith's dot paths (list items share
        # their parent's path), the same rule _flatten uses for metadata.
        text = (
            f"{not_}EXISTS (WITH RECURSIVE {w}(k, t, v, s) AS ("
            f"SELECT CASE WHEN typeof({j}.key) = 'integer' THEN '' ELSE {j}.key END,"
            f" {j}.type, {j}.value, {_VALUE_TEXT.format(j=j)}"
            f" FROM run_payloads AS {p},"
            f" json_each(CASE WHEN json_valid({p}.{column}) THEN {p}.{column} END) AS {j}"
            f" WHERE {p}.run_pk = {a}.pk"
            f" UNION ALL SELECT CASE WHEN typeof({j}.key) = 'integer' THEN {w}.k"
            f" WHEN {w}.k = '' THEN {j}.key ELSE {w}.k || '.' || {j}.key END,"
            f" {j}.type, {j}.value, {_VALUE_TEXT.format(j=j)}"
            f" FROM {w}, json_each({w}.v) AS {j} WHERE {w}.t IN ('object', 'array'))"
            f" SELECT 1 FROM {w} WHERE {w}.k != ''"
            f" AND ({w}.t NOT IN ('object', 'array') OR {w}.s IN ('{{}}', '[]'))"
            f" AND {where.text})"
        )
        return Sql(text, where.params)

    def _adaptive_feedback(self, conditions: list[tuple[Comparison, str]], a: str) -> Sql:
        """Feedback on run ``a`` passing ``conditions``, for a listing: probe the feedback index
        per run walked, or list the ids of every run with such feedback (``Choice``, settled
        by the planner from how many there are)."""

        def test(f: str) -> Sql:
            columns = {"feedback_key": f"{f}.key", "feedback_score": f"{f}.score"}
            return self._pair_tests(conditions, columns)

        g, f = self.fresh("g"), self.fresh("f")
        probe, listed, recent = test(g), test(f), test("s")
        choice = Choice(
            index=len(self.choices),
            table="feedback",
            key="run_id",
            recent=Sql(f"s.run_id IS NOT NULL AND {recent.text}", recent.params),
            probe=Sql(
                f"EXISTS (SELECT 1 FROM feedback AS {g} WHERE {probe.text} AND {g}.run_id = {a}.id)",
                probe.params,
            ),
            listed=Sql(
                f"{a}.id IN (SELECT {f}.run_id FROM feedback AS {f}"
                f" WHERE {f}.run_id IS NOT NULL AND {listed.text})",
                listed.params,
            ),
            run=a,
        )
        self.choices.append(choice)
        return Sql(choice.token)

    def _pair_tests(self, conditions: list[tuple[Comparison, str]], columns: dict[str, str]) -> Sql:
        parts = []
        for condition, op in conditions:
            attribute = ATTRIBUTES[condition.attribute]
            column = columns[attribute.name]
            if op == "in":
                tests = [self._pair_test(attribute, column, "eq", o) for o in condition.operands]
                parts.append(_join("OR", tests))
            else:
                parts.append(self._pair_test(attribute, column, op, condition.operand))
        return _join("AND", parts)

    def _pair_test(self, attribute: Attribute, col: str, op: str, operand: Operand) -> Sql:
        value = operand.value
        if op == "search":
            if attribute.kind == "feedback_value":
                text = (
                    f"CASE WHEN json_valid({col}) THEN CASE WHEN json_type({col}) = 'text'"
                    f" THEN json_extract({col}, '$') ELSE {col} END ELSE {col} END"
                )
                return Sql(f"({_fb_present(col)} AND instr(lower({text}), lower(?)) > 0)", [value])
            return Sql(f"instr(lower({col}), lower(?)) > 0", [value])
        if attribute.kind == "pair_key":
            return Sql(f"{col} {OPERATORS[op].sql} ?", [value])
        if attribute.kind == "feedback_score":
            if value is None:
                return Sql(f"{col} IS NULL" if op == "eq" else f"{col} IS NOT NULL")
            return Sql(f"{col} {OPERATORS[op].sql} ?", [_number_param(value)])
        if attribute.kind == "feedback_value":
            return _feedback_value_test(col, op, value)
        return _text_value_test(col, op, value)


_VALUE_TEXT = (
    "CASE {j}.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' WHEN 'null' THEN 'null'"
    " ELSE CAST({j}.value AS TEXT) END"
)
"""A JSON node as _flatten writes it: strings verbatim, everything else its JSON text."""


def _json_number_test(col: str, sql_op: str, value: Value) -> Sql:
    """``col`` holds JSON text of a number that compares ``sql_op`` with ``value``."""
    return Sql(
        f"(CASE WHEN json_valid({col}) THEN json_type({col}) IN ('integer', 'real')"
        f" AND json_extract({col}, '$') {sql_op} ? ELSE 0 END)",
        [_number_param(value)],
    )


def _text_value_test(col: str, op: str, value: Value) -> Sql:
    """Metadata / input / output values: text, except that a number literal matches a value
    whose text is a JSON number equal to it ('3', '3.0' for 3)."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        if op == "neq":
            equal = _json_number_test(col, "=", value)
            return Sql(f"({col} IS NOT NULL AND NOT {equal.text})", equal.params)
        return _json_number_test(col, OPERATORS[op].sql, value)
    if value is None or isinstance(value, bool):
        value = "null" if value is None else "true" if value else "false"
    return Sql(f"{col} {OPERATORS[op].sql} ?", [value])


def _fb_null(col: str) -> str:
    is_json_null = f"CASE WHEN json_valid({col}) THEN json_type({col}) = 'null' ELSE 0 END"
    return f"({col} IS NULL OR ({is_json_null}))"


def _fb_present(col: str) -> str:
    return f"NOT {_fb_null(col)}"


def _feedback_value_test(col: str, op: str, value: Value) -> Sql:
    """Feedback values are JSON: a string literal matches a JSON string, a number a number,
    true/false a boolean; null (or no value) only eq/neq null."""
    if value is None:
        return Sql(_fb_null(col) if op == "eq" else _fb_present(col))
    if isinstance(value, bool):
        test = Sql(
            f"(CASE WHEN json_valid({col}) THEN json_type({col}) = ? ELSE 0 END)",
            ["true" if value else "false"],
        )
    elif isinstance(value, str):
        sql_op = "=" if op == "neq" else OPERATORS[op].sql
        test = Sql(
            f"(CASE WHEN json_valid({col}) THEN json_type({col}) = 'text'"
            f" AND json_extract({col}, '$') {sql_op} ? ELSE 0 END)",
            [value],
        )
    else:
        test = _json_number_test(col, "=" if op == "neq" else OPERATORS[op].sql, value)
    if op == "neq":
        return Sql(f"({_fb_present(col)} AND NOT {test.text})", test.params)
    return test


def _kv_test(key: str, value: str | None) -> Callable[[str], Sql]:
    """``key = ? AND value = ?`` (``value IS NULL`` for a JSON null) over a ``run_metadata`` alias."""

    def test(m: str) -> Sql:
        if value is None:
            return Sql(f"{m}.key = ? AND {m}.value IS NULL", [key])
        return Sql(f"{m}.key = ? AND {m}.value = ?", [key, value])

    return test


def _exact_pair(conditions: list[tuple[Comparison, str]]) -> bool:
    """One ``eq`` on the key and one ``eq`` on a text value: a (key, value) index lookup."""
    ops = sorted((ATTRIBUTES[c.attribute].role or "", op) for c, op in conditions)
    return ops == [("key", "eq"), ("value", "eq")] and all(
        isinstance(c.operand.value, str) for c, _ in conditions
    )


def _indexed_feedback(conditions: list[tuple[Comparison, str]]) -> bool:
    """Only the key (one ``eq``) and the score are tested: ``feedback_key_score`` answers the
    test, the planner's count and the probe alone (a value test reads each feedback row)."""
    names = [ATTRIBUTES[c.attribute].name for c, _ in conditions]
    keys = [op for (c, op), name in zip(conditions, names, strict=True) if name == "feedback_key"]
    return keys == ["eq"] and set(names) <= {"feedback_key", "feedback_score"}


def compile_node(
    node: Node,
    alias: str = "r",
    scope: str = "filter",
    text: str = "",
    listing: bool = False,
    queued: bool = False,
) -> Sql:
    """The SQL fragment for ``node`` over ``runs AS alias`` in the given scope.

    ``listing`` shapes it for a statement that walks runs in time order and stops after a page
    (``list_runs``): side-table tests become open ``Choice``s (settle them with ``Sql.render``).
    Leave it out for statements that read every match (stats): they always list.
    ``queued``: ``search("...")`` also matches the runs still queued for the full-text index,
    with the ``localtrace_search`` function every connection the store opens has.
    """
    if not _ALIAS_RE.match(alias):
        raise ValueError(f"alias {alias!r} is not a plain SQL identifier")
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    compiler = Compiler(alias, listing, queued)
    if scope == "filter":
        sql = compiler.node(node, alias)
    else:
        t = compiler.fresh("t")
        body = compiler.node(node, t)
        link = (
            f"{t}.id = {alias}.trace_id" if scope == "trace" else f"{t}.trace_id = {alias}.trace_id"
        )
        # body first: it is the nested part (see _join)
        sql = Sql(f"EXISTS (SELECT 1 FROM runs AS {t} WHERE {body.text} AND {link})", body.params)
    sql.choices = tuple(compiler.choices)
    needed = len(sql.params) + sum(
        max(len(c.probe.params), len(c.listed.params))
        + (len(c.inner.params) + 2 if c.inner is not None else 0)
        for c in sql.choices
    )
    if needed > MAX_PARAMS:
        raise FilterSyntaxError(
            f"filter too large: it needs {needed} parameters (at most {MAX_PARAMS});"
            " split it into smaller filters",
            text,
            0,
            max(1, len(text)),
        )
    return sql
