"""The pytest plugin, exercised through pytester: isolation, routing, helpers, --localtrace-db."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
from pathlib import Path

import pytest

import localtrace

pytest_plugins = ["pytester"]

# In-process pytester runs drop the modules they imported first; numpy (imported by the plugin's
# statistics) cannot be imported twice in one process, so it is imported before any of them.
np = pytest.importorskip("numpy")
pytest.importorskip("langsmith")

SRC = str(Path(localtrace.__file__).resolve().parent.parent)
README = Path(__file__).resolve().parents[1] / "README.md"


def _plugin_args() -> list[str]:
    """``-p localtrace.pytest_plugin`` unless the installed entry point already loads it."""
    installed = any(
        ep.value == "localtrace.pytest_plugin"
        for ep in importlib.metadata.entry_points(group="pytest11")
    )
    return [] if installed else ["-p", "localtrace.pytest_plugin"]


@pytest.fixture
def tester(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose runs (also in subprocesses) import this checkout's localtrace."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))
    )
    for name in ("LANGSMITH_TRACING", "LANGCHAIN_TRACING_V2", "LANGSMITH_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    return pytester


AGENT = '''
import socket
import threading

import langsmith
import pytest
from langsmith import traceable


@pytest.fixture
def no_network(monkeypatch):
    """Any connection to something else than this machine fails the test."""
    real = socket.socket.connect

    def connect(self, address, *args):
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "::1", "localhost"):
            raise AssertionError(f"network access to {address}")
        return real(self, address, *args)

    monkeypatch.setattr(socket.socket, "connect", connect)


@traceable(run_type="retriever")
def retrieve(question):
    return {"docs": ["one", "two"]}


@traceable(run_type="llm")
def generate(question, docs):
    usage = {"input_tokens": 20, "output_tokens": 10, "total_tokens": 30}
    return {"content": docs[0], "usage_metadata": usage}


@traceable
def agent(question):
    docs = retrieve(question)["docs"]
    return generate(question, docs)["content"]
'''


def test_fixture_isolates_each_test_and_restores_langsmith(tester: pytest.Pytester) -> None:
    tester.makeconftest(AGENT)
    tester.makepyfile(
        test_isolation="""
        import langsmith
        import langsmith.client
        import langsmith.run_trees
        from langsmith._internal import _context
        from langsmith.utils import tracing_is_enabled

        from conftest import agent, retrieve

        ORIGINAL_INIT = langsmith.client.Client.__init__
        ORIGINAL_CREATE = langsmith.client.Client.create_run
        BEFORE = (
            langsmith.run_trees._CLIENT,
            _context._GLOBAL_TRACING_ENABLED,
            _context._GLOBAL_PROJECT_NAME,
            _context._CLIENT.get(),
            tracing_is_enabled(),
        )


        def test_first(traces):
            agent("q")
            assert traces.names() == ["agent", "retrieve", "generate"]
            assert tracing_is_enabled() is True


        def test_second_starts_empty(traces):
            assert len(traces) == 0
            retrieve("q")
            assert traces.names() == ["retrieve"]
            assert traces.one().run_type == "retriever"


        def test_everything_restored_after():
            after = (
                langsmith.run_trees._CLIENT,
                _context._GLOBAL_TRACING_ENABLED,
                _context._GLOBAL_PROJECT_NAME,
                _context._CLIENT.get(),
                tracing_is_enabled(),
            )
            assert after == BEFORE
            assert langsmith.client.Client.__init__ is ORIGINAL_INIT
            assert langsmith.client.Client.create_run is ORIGINAL_CREATE
        """,
    )
    result = tester.runpytest_inprocess(*_plugin_args())
    result.assert_outcomes(passed=3)


def test_everything_the_sdk_traces_is_captured_without_network(tester: pytest.Pytester) -> None:
    tester.makeconftest(AGENT)
    tester.makepyfile(
        test_routing="""
        import threading

        import langsmith
        from langsmith import Client, traceable

        from conftest import agent

        BEFORE = Client(api_key="made-at-import", auto_batch_tracing=False)


        def test_own_client_thread_trace_and_langchain(traces, no_network):
            client = Client()                     # inside the code under test
            assert isinstance(client, Client)

            @traceable(client=client)
            def with_own_client(x):
                return x + 1

            with_own_client(1)
            traceable(name="with_early_client", client=BEFORE)(lambda x: x)(2)
            worker = threading.Thread(target=agent, args=("from a thread",))
            worker.start()
            worker.join()
            with langsmith.trace("manual", inputs={"a": 1}) as run:
                run.end(outputs={"b": 2})
            from langchain_core.runnables import RunnableLambda
            RunnableLambda(lambda x: x * 2).invoke(3)
            client.create_feedback(traces.one(name="with_own_client").id, key="ok", score=1)
            client.flush()

            assert traces.names() == [
                "with_own_client", "with_early_client", "agent", "retrieve", "generate",
                "manual", "RunnableLambda",
            ]
            assert traces.feedback("ok")[0].score == 1
            # The SDK client reads back from the same store.
            assert [r.name for r in client.list_runs(run_type="llm")] == ["generate"]
            projects = {p.name for p in traces.client.list_projects()}
            assert projects == {traces.project}


        def test_a_client_aimed_at_a_local_server_is_left_alone(traces):
            local = Client(api_url="http://127.0.0.1:1984", api_key="x", auto_batch_tracing=False)
            assert local.api_url == "http://127.0.0.1:1984"
        """,
    )
    result = tester.runpytest_inprocess(*_plugin_args())
    result.assert_outcomes(passed=2)


def test_helpers_and_their_failure_messages(tester: pytest.Pytester) -> None:
    tester.makeconftest(AGENT)
    tester.makepyfile(
        test_helpers="""
        from conftest import agent, retrieve


        def test_helpers_pass(traces):
            agent("q")
            agent("again")
            assert traces.first("retrieve").inputs == {"question": "q"}
            assert traces.last("retrieve").inputs == {"question": "again"}
            assert len(traces.runs("generate")) == 2
            assert traces.runs(run_type="llm", error=False)[0].name == "generate"
            assert [r.name for r in traces.runs(root=True)] == ["agent", "agent"]
            traces.assert_called_before("retrieve", "generate")
            stats = traces.stats()
            assert stats.run_count == 2 and stats.total_tokens == 60
            assert traces.stats("generate").run_count == 2
            assert traces.stats(name="nothing").run_count == 0
            assert traces.last_trace().inputs == {"question": "again"}
            tree = traces.tree()
            assert "agent" in tree and "└─ generate" in tree


        def test_one_with_nothing_matching(traces):
            agent("q")
            traces.one(name="retreive")


        def test_one_with_two_matching(traces):
            agent("q")
            agent("q")
            traces.one(name="generate")


        def test_called_in_the_wrong_order(traces):
            agent("q")
            traces.assert_called_before("generate", "retrieve")


        def test_called_before_with_a_missing_name(traces):
            retrieve("q")
            traces.assert_called_before("search", "retrieve")


        def test_one_when_nothing_was_traced(traces):
            traces.one(name="anything")
        """,
    )
    result = tester.runpytest_inprocess(*_plugin_args())
    result.assert_outcomes(passed=1, failed=5)
    text = result.stdout.str()
    assert (
        "traces.one(name='retreive'): expected exactly 1 matching run, found 0. "
        "Runs traced in this test (3): agent [chain], retrieve [retriever], generate [llm]"
    ) in text
    assert "traces.one(name='generate'): expected exactly 1 matching run, found 2:" in text
    assert (
        "expected 'generate' to be called before 'retrieve', but 'retrieve' started first" in text
    )
    assert "call order: agent, retrieve, generate" in text
    assert "no run named 'search'" in text
    assert "No run was traced in this test" in text
    # A failing test shows the trees it traced.
    assert "Captured traces (localtrace)" in text
    assert re.search(r"└─ generate\s+llm\s+✓ success", text)
    # The helpers' own frames are hidden from the traceback.
    assert "def one(" not in text


def test_filter_strings_in_helpers(tester: pytest.Pytester) -> None:
    pytest.importorskip("localtrace.filters")
    tester.makeconftest(AGENT)
    tester.makepyfile(
        test_filters="""
        from conftest import agent


        def test_filter(traces):
            agent("q")
            assert traces.one(filter='eq(run_type, "llm")').name == "generate"
            assert traces.stats(filter="gt(total_tokens, 0)").run_count == 2
        """,
    )
    tester.runpytest_inprocess(*_plugin_args()).assert_outcomes(passed=1)


def test_a_bad_filter_or_id_in_a_helper_fails_at_the_test_line(tester: pytest.Pytester) -> None:
    """A typo in a helper's filter names itself at the test's line; the traceback does not wind
    through the store's query compiler (a dozen frames of localtrace internals)."""
    tester.makeconftest(AGENT)
    tester.makepyfile(
        test_typos="""
        import uuid

        from conftest import agent


        def test_filter_typo(traces):
            agent("q")
            traces.runs(filter='eq(nme, "agent")')


        def test_stats_filter_typo(traces):
            agent("q")
            traces.stats(filter="gt(latncy, 1)")


        def test_unknown_trace(traces):
            agent("q")
            traces.tree(uuid.UUID(int=5))
        """,
    )
    result = tester.runpytest_inprocess(*_plugin_args())
    result.assert_outcomes(failed=3)
    text = result.stdout.str()
    assert "unknown attribute 'nme' at 3..6 in eq(nme, \"agent\"): did you mean 'name'?" in text
    assert "did you mean 'latency'?" in text
    assert "00000000-0000-0000-0000-000000000005" in text
    assert ">       traces.runs(filter='eq(nme, \"agent\")')" in text
    assert "_resolve.py" not in text and "where.py" not in text and "client.py" not in text


def test_readme_example_test_passes(tester: pytest.Pytester) -> None:
    text = README.read_text(encoding="utf-8")
    block = text[text.index("<!-- cli:start -->") : text.index("<!-- cli:end -->")]
    (example,) = re.findall(r"```python\n(# test_agent\.py\n.*?)```", block, re.S)
    tester.makepyfile(test_agent=example)
    tester.runpytest_inprocess(*_plugin_args(), "-s").assert_outcomes(passed=1)


def _shared_run(tester: pytest.Pytester, *extra: str) -> Path:
    tester.makeconftest(AGENT)
    tester.makepyfile(
        test_shared="""
        from conftest import agent, retrieve


        def test_uses_the_fixture(traces):
            agent("a")
            assert len(traces) == 3


        def test_without_the_fixture_is_captured_too():
            retrieve("b")


        def test_that_fails(traces):
            agent("c")
            assert False


        def test_traces_nothing():
            pass
        """,
    )
    db = tester.path / "all-tests.db"
    # Unrelated plugins of this environment only slow down each (xdist) process's start.
    quiet = [f"-pno:{name}" for name in ("schemathesis", "hypothesispytest", "anyio")]
    result = tester.runpytest_subprocess(
        *_plugin_args(), *quiet, "--localtrace-db", str(db), *extra
    )
    result.assert_outcomes(passed=3, failed=1)
    return db


def _check_shared(db: Path) -> None:
    with localtrace.Client(db) as client:
        runs = list(client.list_runs())
        by_test: dict[str, list[str]] = {}
        for run in runs:
            (tag,) = [t for t in run.tags or [] if t.startswith("test:")]
            assert run.metadata["test"] == tag.removeprefix("test:")
            by_test.setdefault(run.metadata["test"], []).append(run.name)
        assert {k: sorted(v) for k, v in by_test.items()} == {
            "test_shared.py::test_uses_the_fixture": ["agent", "generate", "retrieve"],
            "test_shared.py::test_without_the_fixture_is_captured_too": ["retrieve"],
            "test_shared.py::test_that_fails": ["agent", "generate", "retrieve"],
        }
        outcomes = {run.metadata["test"]: run.metadata["test_outcome"] for run in runs}
        assert outcomes["test_shared.py::test_that_fails"] == "failed"
        assert outcomes["test_shared.py::test_uses_the_fixture"] == "passed"
        projects = {p.name for p in client.list_projects()}
        assert projects == set(by_test)
        root = next(run for run in runs if run.name == "agent")
        assert client.read_trace(root.id).walk()[-1].total_tokens == 30


def test_localtrace_db_keeps_every_tests_traces(tester: pytest.Pytester) -> None:
    _check_shared(_shared_run(tester))


@pytest.mark.skipif(importlib.util.find_spec("xdist") is None, reason="needs pytest-xdist")
def test_localtrace_db_with_two_xdist_workers(tester: pytest.Pytester) -> None:
    db = _shared_run(tester, "-n", "2")
    _check_shared(db)
    with localtrace.Client(db) as client:
        roots = [run for run in client.list_runs(is_root=True)]
    assert len(roots) == 3


def test_report_header_names_the_file(tester: pytest.Pytester) -> None:
    tester.makepyfile(test_empty="def test_nothing():\n    pass\n")
    result = tester.runpytest_inprocess(*_plugin_args(), "--localtrace-db", "x.db")
    result.stdout.fnmatch_lines(["localtrace: keeping every test's traces in x.db"])


@pytest.mark.parametrize("kind", ["a text file", "a missing folder"])
def test_a_localtrace_db_that_cannot_be_a_store_stops_pytest_before_any_test(
    tester: pytest.Pytester, kind: str
) -> None:
    tester.makepyfile(test_one="def test_one():\n    pass\n")
    db = tester.path / "notes.db"
    if kind == "a text file":
        db.write_text("my notes\n")
    else:
        db = tester.path / "missing" / "t.db"
    result = tester.runpytest_subprocess(*_plugin_args(), "--localtrace-db", str(db))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    said = "\n".join(result.stderr.lines)
    assert f"--localtrace-db {db}" in said and "Traceback" not in said, said
    assert ("not a localtrace store" if kind == "a text file" else "create it first") in said
    assert "test_one" not in "\n".join(result.stdout.lines)
    if kind == "a text file":
        assert db.read_text() == "my notes\n"


FULL_DISK = """
import pytest
from localtrace.pytest_plugin import _SHARED

def pytest_sessionstart(session):
    # From now on the file cannot grow: SQLITE_FULL, exactly as on a full disk.
    conn = session.config.stash[_SHARED]._db._writer
    conn.execute(f"PRAGMA max_page_count = {conn.execute('PRAGMA page_count').fetchone()[0]}")
"""


def test_a_localtrace_db_on_a_full_disk_fails_each_test_with_one_line(
    tester: pytest.Pytester,
) -> None:
    tester.makeconftest(FULL_DISK)
    tester.makepyfile(
        test_big="""
        from langsmith import traceable

        @traceable
        def big():
            return "x" * 300_000

        def test_big():
            big()
        """
    )
    result = tester.runpytest_subprocess(*_plugin_args(), "--localtrace-db", "full.db")
    out = "\n".join(result.outlines + result.errlines)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, out
    result.assert_outcomes(passed=1, errors=1)
    assert "--localtrace-db full.db: cannot write full.db: the disk is full" in out, out
    assert "free disk space" in out
    for noise in (
        "Traceback",
        "INTERNALERROR",
        "OperationalError",
        "above exception",
        "site-packages",
    ):
        assert noise not in out, out
