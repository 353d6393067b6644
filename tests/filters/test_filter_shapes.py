"""Every way the planner may settle a listing's choices selects exactly the oracle's runs.

A listing's tag, metadata-pair and feedback tests are left open by the compiler (probe the index
per run walked, list every match, or, for a tag or a pair, list the matches beyond a run
position and probe the rest). Each shape must be exact whatever the data, so here every choice
is settled each way, the window at every interesting position and in both directions, on stores
whose arrival order (``pk``) is shuffled against start time.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from localtrace.filters import Choice, Window, compile_listing, parse

from .oracle import matching_ids
from .store import Run, empty_store, insert_runs, select_ids
from .strategies import filters, populations
from .test_filter_property import PROFILE


def _shapes(stored: int) -> list[object]:
    """Probe, list, and windows before, inside and after the stored positions."""
    bounds = sorted({0, 1, stored // 2, stored - 1, stored, stored + 5})
    return [True, False] + [Window(b, descending) for b in bounds for descending in (True, False)]


def _settle(shape: object):  # type: ignore[no-untyped-def]
    def decide(choice: Choice) -> object:
        if isinstance(shape, Window) and not choice.ordered:
            return False  # only ordered choices can be windowed
        return shape

    return decide


@PROFILE
@given(populations(), st.lists(filters, min_size=1, max_size=3), st.randoms())
def test_every_settlement_matches_oracle(runs: list[Run], texts: list[str], rng) -> None:  # type: ignore[no-untyped-def]
    rng.shuffle(runs)  # arrival order unrelated to start time
    conn = empty_store()
    insert_runs(conn, runs)
    for text in texts:
        node = parse(text)
        for scope in ("filter", "trace", "tree"):
            want = matching_ids(node, runs, scope)
            sql = compile_listing(node, scope=scope)
            for shape in _shapes(len(runs)):
                text_, params = sql.render(_settle(shape))
                got = select_ids(conn, text_, params)
                assert got == want, f"{scope} {shape}: {text}\nSQL: {text_}\n{params}"


def test_each_open_test_is_a_choice_of_its_kind() -> None:
    """One tag and one metadata pair can be windowed; a tag list cannot; feedback on its key
    and score is a choice keyed by run id; a feedback value test is not a choice."""
    cases = {
        'has(tags, "x")': [("run_tags", True)],
        'in(tags, ["x", "y"])': [("run_tags", False)],
        'and(eq(metadata_key, "k"), eq(metadata_value, "v"))': [("run_metadata", True)],
        'has(metadata, \'{"k": "v", "n": "m"}\')': [("run_metadata", True)] * 2,
        'and(eq(feedback_key, "c"), eq(feedback_score, 1))': [("feedback", False)],
        'eq(feedback_key, "c")': [("feedback", False)],
        'and(eq(feedback_key, "c"), eq(feedback_value, "x"))': [],
        'in(feedback_key, ["c", "d"])': [],
        'neq(feedback_key, "c")': [],
    }
    for text, kinds in cases.items():
        choices = compile_listing(text).choices
        assert [(c.table, c.ordered) for c in choices] == kinds, text
        assert all((c.key == "run_id") == (c.table == "feedback") for c in choices), text


def test_windows_hold_on_a_store_of_many_runs() -> None:
    """Past the tiny populations: 600 runs, tags and pairs on every third, feedback on every
    fifth, arrival order reversed for half of them."""
    from .store import make_run

    runs = []
    for i in range(600):
        runs.append(
            make_run(
                start_time=1_700_000_000_000_000 + i * 1_000_000,
                tags=["x"] if i % 3 == 0 else ["y"],
                metadata={"k": "v" if i % 3 == 1 else "w"},
                feedback=[{"key": "c", "score": float(i % 2), "value": None}] if i % 5 == 0 else [],
            )
        )
    runs = runs[:300] + runs[300:][::-1]
    conn = empty_store()
    insert_runs(conn, runs)
    for text in (
        'has(tags, "x")',
        'not(has(tags, "x"))',
        'and(eq(metadata_key, "k"), eq(metadata_value, "v"))',
        'or(has(tags, "x"), and(eq(feedback_key, "c"), eq(feedback_score, 1)))',
    ):
        node = parse(text)
        want = matching_ids(node, runs, "filter")
        sql = compile_listing(node)
        for shape in _shapes(len(runs)) + [
            Window(b, d) for b in range(0, 600, 37) for d in (True, False)
        ]:
            text_, params = sql.render(_settle(shape))
            assert select_ids(conn, text_, params) == want, (text, shape)
