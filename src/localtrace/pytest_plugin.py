"""pytest plugin: every langsmith trace made during a test lands in a fresh localtrace store.

Request the ``traces`` fixture and assert on what the code under test traced::

    def test_answer(traces):
        answer("what is 6 times 7?")                 # @traceable, trace(), LangChain, ...
        assert traces.one(name="retrieve").outputs["docs"]
        assert traces.stats().total_tokens < 2000
        traces.assert_called_before("search", "answer")
        print(traces.tree())                         # the last trace, as a tree

For the duration of the test, tracing is on (whatever ``LANGSMITH_TRACING`` says) and goes to
an in-memory store: ``@traceable`` and ``trace()`` through ``tracing_context(client=...)``,
LangChain through the SDK's cached client, and every ``langsmith.Client`` — one the code under
test creates, or one it created earlier — is routed to the store too, so nothing reaches the
network. A ``langsmith.Client`` aimed explicitly at a loopback server (``api_url=
"http://127.0.0.1:..."``) is left alone. Everything is restored when the test ends.

``pytest --localtrace-db traces.db`` does this for every test and copies each test's runs into
that one file, tagged ``test:<node id>`` (metadata ``test`` and ``test_outcome``, project named
after the test). Several pytest-xdist workers may write the same file.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import sys
import uuid
from collections import Counter
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any, TypeVar, cast
from urllib.parse import urlparse

import pytest

from . import render
from .client import Client
from .errors import (
    DatasetExistsError,
    ExampleExistsError,
    LocaltraceError,
    NotFoundError,
    ProjectExistsError,
)
from .models import Feedback, Run, RunStats

__all__ = ["Traces"]

_T = TypeVar("_T")

_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
_NOWHERE = "http://127.0.0.1:9"
"""Where a routed ``langsmith.Client`` points for anything localtrace does not implement
(port 9, discard: refused at once, never the network); it also marks a client as routed."""

_FORWARDED = (
    "create_run",
    "update_run",
    "batch_ingest_runs",
    "multipart_ingest",
    "flush",
    "read_run",
    "list_runs",
    "get_run_stats",
    "get_run_url",
    "create_project",
    "read_project",
    "has_project",
    "list_projects",
    "update_project",
    "delete_project",
    "create_feedback",
    "read_feedback",
    "update_feedback",
    "delete_feedback",
    "list_feedback",
)
"""``langsmith.Client`` methods answered by the test's store while a test runs."""

_TRACES = pytest.StashKey["Traces"]()
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()
_SHARED = pytest.StashKey[Client]()
_SUITES = pytest.StashKey["_EvaluationSuites"]()


# -- the helpers a test uses --------------------------------------------------------------------
class Traces:
    """The runs traced during one test, with helpers that keep assertions short.

    Selections (``runs``, ``one``, ``stats``) take the same conditions: ``name`` (exact),
    ``run_type``, ``filter`` (LangSmith filter language), ``error`` (True/False) and ``root``.
    Runs come oldest first, i.e. in the order they were called.
    """

    def __init__(self, client: Client, *, test_id: str, project: str) -> None:
        self.client = client
        """The test's ``localtrace.Client`` (in memory)."""
        self.test_id = test_id
        """The pytest node id of the test."""
        self.project = project
        """Project the test's runs go to unless the code names another one."""

    # selection ------------------------------------------------------------------------------
    def runs(
        self,
        name: str | None = None,
        *,
        run_type: str | None = None,
        filter: str | None = None,
        error: bool | None = None,
        root: bool | None = None,
    ) -> list[Run]:
        """The matching runs, in call order (everything traced so far is flushed first)."""
        __tracebackhide__ = True

        def matching() -> list[Run]:
            self.client.flush()
            found = self.client.list_runs(
                order="asc", run_type=run_type, filter=filter, error=error, is_root=root
            )
            return [run for run in found if name is None or run.name == name]

        return _asked(matching)

    def one(
        self,
        name: str | None = None,
        *,
        run_type: str | None = None,
        filter: str | None = None,
        error: bool | None = None,
        root: bool | None = None,
    ) -> Run:
        """The single matching run; fails saying how many matched and which runs exist."""
        __tracebackhide__ = True
        found = self.runs(name, run_type=run_type, filter=filter, error=error, root=root)
        if len(found) == 1:
            return found[0]
        asked = _describe(name=name, run_type=run_type, filter=filter, error=error, root=root)
        if found:
            matched = ", ".join(f"{run.name} {run.id}" for run in found[:10])
            detail = f"found {len(found)}: {matched}; use traces.runs(...) to get them all"
        else:
            detail = f"found 0. {self._inventory()}"
        raise AssertionError(f"traces.one({asked}): expected exactly 1 matching run, {detail}")

    def first(self, name: str | None = None, **conditions: Any) -> Run:
        """The first matching run (fails if there is none)."""
        __tracebackhide__ = True
        return self._some(name, conditions, 0)

    def last(self, name: str | None = None, **conditions: Any) -> Run:
        """The last matching run (fails if there is none)."""
        __tracebackhide__ = True
        return self._some(name, conditions, -1)

    def _some(self, name: str | None, conditions: dict[str, Any], index: int) -> Run:
        __tracebackhide__ = True
        found = self.runs(name, **conditions)
        if not found:
            asked = _describe(name=name, **conditions)
            raise AssertionError(f"no run matches {asked}. {self._inventory()}")
        return found[index]

    def names(self) -> list[str]:
        """Names of every run, in call order."""
        return [run.name for run in self.runs()]

    def __len__(self) -> int:
        return len(self.runs())

    def __iter__(self) -> Iterator[Run]:
        return iter(self.runs())

    def __repr__(self) -> str:
        return f"<Traces of {self.test_id}: {len(self)} runs>"

    # trees ----------------------------------------------------------------------------------
    def last_trace(self) -> Run:
        """The root of the most recent trace, with its whole tree in ``child_runs``."""
        __tracebackhide__ = True
        roots = self.runs(root=True)
        if not roots:
            everything = self.runs()
            if not everything:
                raise AssertionError("no run was traced in this test")
            return _asked(lambda: self.client.read_trace(everything[-1].trace_id))
        return _asked(lambda: self.client.read_trace(roots[-1].id))

    def tree(self, trace: Run | uuid.UUID | str | None = None, *, width: int = 110) -> str:
        """A trace (default: the last one) drawn as text: one line per run, with a waterfall."""
        __tracebackhide__ = True
        if trace is None:
            root = self.last_trace()
        else:
            some_id = trace.trace_id if isinstance(trace, Run) else trace
            root = _asked(lambda: self.client.read_trace(some_id))
        drawing = render.trace_tree(root, console_width=width)
        return render.to_text(drawing, width=width).rstrip() + "\n"

    # numbers --------------------------------------------------------------------------------
    def stats(
        self,
        name: str | None = None,
        *,
        run_type: str | None = None,
        filter: str | None = None,
        error: bool | None = None,
        root: bool | None = None,
    ) -> RunStats:
        """Statistics (tokens, cost, latency percentiles, error rate) of the test's runs.

        With no condition they cover the traces (root runs, whose totals include every child),
        so ``total_tokens`` is what the test spent; with conditions, the matching runs.
        """
        __tracebackhide__ = True
        conditions = (name, run_type, filter, error, root)
        if all(value is None for value in conditions):
            self.client.flush()
            result = _asked(lambda: self.client.get_run_stats(is_root=True))
        else:
            ids = [
                run.id
                for run in self.runs(name, run_type=run_type, filter=filter, error=error, root=root)
            ]
            if not ids:
                return RunStats()
            result = _asked(lambda: self.client.get_run_stats(id=ids))
        assert isinstance(result, RunStats)
        return result

    def feedback(self, key: str | None = None) -> list[Feedback]:
        """Feedback given during the test (newest first)."""
        __tracebackhide__ = True
        self.client.flush()
        return _asked(lambda: list(self.client.list_feedback(feedback_key=[key] if key else None)))

    # ordering -------------------------------------------------------------------------------
    def assert_called_before(self, first: str, then: str) -> None:
        """Fail unless the first run named ``first`` started before the first named ``then``."""
        __tracebackhide__ = True
        names = self.names()
        missing = [name for name in (first, then) if name not in names]
        if missing:
            raise AssertionError(
                f"assert_called_before({first!r}, {then!r}): no run named "
                f"{' or '.join(map(repr, missing))}. {self._inventory()}"
            )
        if names.index(first) > names.index(then):
            raise AssertionError(
                f"expected {first!r} to be called before {then!r}, but {then!r} started first; "
                f"call order: {', '.join(names)}"
            )

    def _inventory(self) -> str:
        runs = self.runs()
        if not runs:
            return "No run was traced in this test (is the code under test @traceable?)."
        counts: Counter[tuple[str, str, bool]] = Counter(
            (run.name, run.run_type, run.status == "error") for run in runs
        )
        parts = []
        for (name, run_type, failed), n in counts.items():
            label = f"{name} [{run_type}{', error' if failed else ''}]"
            parts.append(f"{label} x{n}" if n > 1 else label)
        return f"Runs traced in this test ({len(runs)}): {', '.join(parts)}"


def _asked(call: Callable[[], _T]) -> _T:
    """``call()``; a refusal (a bad filter, an unknown trace id) fails the test with its message
    and the test's own line, not a traceback through the store's query compiler."""
    __tracebackhide__ = True
    try:
        return call()
    except LocaltraceError as exc:
        raise exc.with_traceback(None) from None


def _describe(**conditions: Any) -> str:
    return ", ".join(f"{key}={value!r}" for key, value in conditions.items() if value is not None)


# -- routing every langsmith client to the store ---------------------------------------------
def _is_loopback(url: Any) -> bool:
    if not url:
        return False
    try:
        host = urlparse(str(url).strip().strip("'\"")).hostname
    except ValueError:
        return False
    return host in _LOOPBACK


def _aimed_at_loopback(args: Sequence[Any], kwargs: dict[str, Any]) -> bool:
    """Whether a new ``langsmith.Client`` is meant to talk to a local server on purpose."""
    url = kwargs.get("api_url") or (args[0] if args else None)
    url = url or os.environ.get("LANGSMITH_ENDPOINT") or os.environ.get("LANGCHAIN_ENDPOINT")
    return _is_loopback(url)


class _Routing:
    """Sends all of langsmith's tracing to ``store`` until ``stop``; restores everything."""

    def __init__(self, store: Client, project: str) -> None:
        self.store = store
        self.project = project
        self._patch = pytest.MonkeyPatch()
        self._context: Any = None

    def start(self) -> None:
        import langsmith
        import langsmith.client as ls_client
        import langsmith.run_trees as ls_run_trees
        from langsmith._internal import _context

        patch = self._patch
        # LangChain's tracer and wrappers use the SDK's cached client.
        patch.setattr(ls_run_trees, "_CLIENT", self.store)
        # Threads the test starts do not inherit context variables: set the globals too.
        patch.setattr(_context, "_GLOBAL_TRACING_ENABLED", True)
        patch.setattr(_context, "_GLOBAL_PROJECT_NAME", self.project)
        cls = ls_client.Client
        patch.setattr(cls, "__init__", _routed_init(cls.__init__))
        for name in _FORWARDED:
            original = cls.__dict__.get(name)
            if original is not None:
                patch.setattr(cls, name, _forwarded(name, original, self.store))
        self._context = langsmith.tracing_context(
            client=cast(Any, self.store), enabled=True, project_name=self.project
        )
        self._context.__enter__()

    def stop(self) -> None:
        try:
            if self._context is not None:
                self._context.__exit__(None, None, None)
        finally:
            self._patch.undo()


def _routed_init(original: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(original)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if _aimed_at_loopback(args, kwargs):
            original(self, *args, **kwargs)
            return
        # A real client that cannot reach anything: no background thread, no GET /info.
        original(
            self,
            api_url=_NOWHERE,
            api_key="localtrace-test",
            auto_batch_tracing=False,
            info={"version": ""},
        )

    return __init__


class _SdkFacing:
    """A ``Client`` that raises the langsmith SDK's own errors where the SDK catches them.

    ``langsmith.testing`` reads an example and creates it on ``LangSmithNotFoundError``, and
    reads it again on ``LangSmithConflictError`` (another xdist worker made it first).
    """

    def __init__(self, client: Client) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.client, name)
        if not callable(attribute):
            return attribute

        @functools.wraps(attribute)
        def call(*args: Any, **kwargs: Any) -> Any:
            from langsmith import utils as ls_utils

            try:
                return attribute(*args, **kwargs)
            except NotFoundError as exc:
                raise ls_utils.LangSmithNotFoundError(str(exc)) from exc
            except (DatasetExistsError, ProjectExistsError, ExampleExistsError) as exc:
                raise ls_utils.LangSmithConflictError(str(exc)) from exc

        return call


def _routed(client: Any) -> bool:
    """Whether a ``langsmith.Client`` was redirected to the test's store (see ``_routed_init``)."""
    return getattr(client, "api_url", None) == _NOWHERE


def _forwarded(name: str, original: Callable[..., Any], store: Client) -> Callable[..., Any]:
    target = getattr(store, name)

    @functools.wraps(original)
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        url = getattr(self, "api_url", None)
        if url != _NOWHERE and _is_loopback(url):  # a local server, on purpose
            return original(self, *args, **kwargs)
        return target(*args, **kwargs)

    return method


# -- pytest hooks and fixtures ------------------------------------------------------------------
def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("localtrace", "localtrace trace capture")
    group.addoption(
        "--localtrace-db",
        dest="localtrace_db",
        metavar="PATH",
        default=None,
        help="Capture the langsmith traces of every test and keep them in this localtrace "
        "file, tagged test:<node id> (safe with pytest-xdist).",
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    path = config.getoption("localtrace_db", None)
    return f"localtrace: keeping every test's traces in {path}" if path else None


def pytest_configure(config: pytest.Config) -> None:
    """Open the ``--localtrace-db`` store now: a path that cannot be one (another program's
    file, a missing folder, a newer schema) stops the session with one line, before any test
    runs, instead of an error with a traceback at the end of every test."""
    path = config.getoption("localtrace_db", None)
    if not path:
        return
    try:
        _shared_store(config)
    except LocaltraceError as exc:
        raise pytest.UsageError(f"--localtrace-db {path}: {exc}") from None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """The first ``@pytest.mark.langsmith`` test of a session sends its suite to the file."""
    config = item.config
    if (
        _SUITES not in config.stash
        and item.get_closest_marker("langsmith") is not None
        and config.getoption("localtrace_db", None)
    ):
        _EvaluationSuites(config).start()


def pytest_unconfigure(config: pytest.Config) -> None:
    suites = config.stash.get(_SUITES, None)
    try:
        if suites is not None:
            suites.finish()
    except LocaltraceError as exc:
        _say_at_the_end(config, exc)
    finally:
        shared = config.stash.get(_SHARED, None)
        if shared is not None:
            try:
                shared.close()
            except LocaltraceError as exc:
                _say_at_the_end(config, exc)


def _say_at_the_end(config: pytest.Config, exc: LocaltraceError) -> None:
    """What the file refused as the session closes: one line, not an INTERNALERROR with a
    traceback (the session's outcome is already reported; the file is the user's to fix)."""
    path = config.getoption("localtrace_db", None)
    sys.stderr.write(f"localtrace: --localtrace-db {path}: {exc}\n")


class _EvaluationSuites:
    """The langsmith pytest plugin's datasets and experiments, kept in localtrace, offline.

    Tests marked ``@pytest.mark.langsmith`` (``langsmith.testing``) make a dataset per test
    file, an example per test case, an experiment per session and feedback per
    ``log_feedback``. With ``--localtrace-db`` they are written to that file, and nothing
    reaches the network (without the option the SDK works as it always does). The SDK
    finishes its experiments in an ``atexit`` hook; here they are finished before the file is
    closed.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.store: Client | None = None
        self.facing: _SdkFacing | None = None
        self._patch = pytest.MonkeyPatch()

    def start(self) -> None:
        try:
            from langsmith.testing import _internal
        except ImportError:  # an SDK without the testing module
            return
        self.config.stash[_SUITES] = self
        original = _internal._LangSmithTestSuite.from_test.__func__  # type: ignore[attr-defined]

        def from_test(cls: Any, client: Any, *args: Any, **kwargs: Any) -> Any:
            # The SDK hands over the cached client: during a test that is the test's own
            # store (or a routed langsmith.Client); the suite outlives the test, so it
            # writes to the session's store instead. A client aimed at a local server on
            # purpose keeps its own way.
            if client is None or isinstance(client, Client) or _routed(client):
                client = self.client()
            return original(cls, client, *args, **kwargs)

        self._patch.setattr(_internal._LangSmithTestSuite, "from_test", classmethod(from_test))

    def client(self) -> _SdkFacing:
        """Where suites without a client of their own write: the file, else memory."""
        if self.facing is None:
            self.store = _shared_store(self.config) or Client(":memory:")
            self.facing = _SdkFacing(self.store)
        return self.facing

    def drain(self) -> None:
        """Wait for the work the SDK queued for this test (ending its run with the example's
        id, its feedback), so it lands in the test's store before that is copied and closed."""
        from langsmith import utils as ls_utils
        from langsmith.testing import _internal

        for suite in (_internal._LangSmithTestSuite._instances or {}).values():
            if suite.client is self.facing:
                suite._executor.shutdown(wait=True)
                suite._executor = ls_utils.ContextThreadPoolExecutor()

    def finish(self) -> None:
        import atexit

        from langsmith.testing import _internal

        try:
            suites = _internal._LangSmithTestSuite._instances or {}
            ours = {name: s for name, s in suites.items() if s.client is self.facing}
            if ours:
                atexit.unregister(_internal._end_tests)
                for suite in suites.values():
                    if suite.client is self.facing:
                        _internal._end_tests(suite)
                    else:  # a suite with a real client of its own: the SDK finishes it
                        atexit.register(_internal._end_tests, suite)
                for name in ours:
                    del suites[name]
                if self.store is not None:
                    self.store.flush()
        finally:
            self._patch.undo()
            if self.store is not None and self.store is not self.config.stash.get(_SHARED, None):
                self.store.close()


def _shared_store(config: pytest.Config) -> Client | None:
    path = config.getoption("localtrace_db", None)
    if not path:
        return None
    shared = config.stash.get(_SHARED, None)
    if shared is None:
        # One writer thread per pytest process (xdist worker); the file takes several.
        shared = config.stash[_SHARED] = Client(path, writer="thread")
    return shared


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    traces = item.stash.get(_TRACES, None)
    if traces is not None and report.when == "call" and report.failed:
        report.sections.append(("Captured traces (localtrace)", _failure_section(traces)))
    return report


def _failure_section(traces: Traces, max_traces: int = 3) -> str:
    try:
        roots = traces.runs(root=True)
        if not roots:
            return "no run was traced in this test\n"
        shown = roots[-max_traces:]
        text = "".join(traces.tree(root) for root in shown)
        if len(roots) > len(shown):
            text = f"(the last {len(shown)} of {len(roots)} traces)\n" + text
        return text
    except (LocaltraceError, AssertionError) as exc:
        return f"could not show the traces: {exc}\n"


def _outcome(item: pytest.Item) -> str:
    reports = item.stash.get(_REPORTS, {})
    for when in ("setup", "call"):
        report = reports.get(when)
        if report is not None and not report.passed:
            return "error" if when == "setup" and report.failed else report.outcome
    return "passed" if "call" in reports else "not run"


@pytest.fixture
def traces(request: pytest.FixtureRequest) -> Iterator[Traces]:
    """Route all langsmith tracing of this test to a fresh store; assert on it with helpers.

    See ``localtrace.pytest_plugin.Traces`` for the helpers.
    """
    pytest.importorskip("langsmith", reason="the traces fixture needs the langsmith SDK")
    node_id = request.node.nodeid
    store = Client(":memory:", project_name=node_id)
    helper = Traces(store, test_id=node_id, project=node_id)
    routing = _Routing(store, node_id)
    routing.start()
    request.node.stash[_TRACES] = helper
    try:
        yield helper
    finally:
        suites = request.config.stash.get(_SUITES, None)
        try:
            if suites is not None:
                suites.drain()  # the SDK ends the test's run in the background
        finally:
            routing.stop()
        try:
            shared = _shared_store(request.config)
            if shared is not None:
                _keep(request.config, store, shared, node_id, _outcome(request.node))
        finally:
            del request.node.stash[_TRACES]
            store.close()


def _keep(config: pytest.Config, store: Client, shared: Client, node_id: str, outcome: str) -> None:
    """Copy a test's runs into the ``--localtrace-db`` file (durable when this returns). A file
    that refuses them (a full disk, a read-only folder) fails the test's teardown with the
    cause and the fix in one line: the runs are not kept, and a traceback through the writer
    would only hide why."""
    try:
        store.copy_into(
            shared, tags=[f"test:{node_id}"], metadata={"test": node_id, "test_outcome": outcome}
        )
    except LocaltraceError as exc:
        refused = f"--localtrace-db {config.getoption('localtrace_db', None)}: {exc}"
    else:
        return
    pytest.fail(refused, pytrace=False)  # (outside the except: no chain of causes shown)


@pytest.fixture(autouse=True)
def _localtrace_every_test(request: pytest.FixtureRequest) -> None:
    """With ``--localtrace-db``, capture the traces of tests that do not ask for ``traces``."""
    if (
        request.config.getoption("localtrace_db", None)
        and "traces" not in request.fixturenames
        and importlib.util.find_spec("langsmith") is not None
    ):
        request.getfixturevalue("traces")
