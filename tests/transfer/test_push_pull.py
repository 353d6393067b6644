"""Push and pull through the unmodified langsmith SDK, against ``localtrace serve`` standing in
for LangSmith (a real uvicorn server on 127.0.0.1, backed by a second file)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("langsmith")

sys.path.insert(0, str(Path(__file__).parent.parent / "server"))

from proxy import FaultProxy
from server_support import LiveServer, start_server
from stores import fill, rows, snapshot

import localtrace
from localtrace.errors import TransferError
from runs_factory import make_run

KEY = "push-key"


@pytest.fixture
def remote(tmp_path: Path) -> Iterator[LiveServer]:
    """A server (standing in for LangSmith) over its own file, with an API key."""
    store = localtrace.Client(tmp_path / "remote.db")
    running = start_server(store, api_key=KEY)
    yield running
    running.stop()
    store.close()


@pytest.fixture
def proxy(remote: LiveServer) -> Iterator[FaultProxy]:
    running = FaultProxy(remote.url)
    yield running
    running.stop()


def _remote_snapshot(remote: LiveServer) -> dict[str, dict[str, Any]]:
    remote.store.flush()
    return snapshot(remote.store)


def test_push_replays_every_run_feedback_and_attachment(
    client: localtrace.Client, remote: LiveServer
) -> None:
    traces = fill(client, range(0, 30))
    client.update_project(
        client.read_project(project_name="shard").id,
        description="pushed",
        metadata={"team": "x"},
    )
    result = client.push(remote.url, api_key=KEY)
    assert (result.runs, result.feedback, result.refused) == (90, 10, [])
    assert result.attachments == len([i for i in range(30) if i % 4 == 0])
    assert _remote_snapshot(remote) == snapshot(client)
    there = remote.store
    assert sorted(str(f.id) for f in there.list_feedback()) == sorted(
        str(f.id) for f in client.list_feedback()
    )
    tool = traces[8][2]
    assert there.read_attachment(tool["id"], "page") == ("text/plain", b"page 8")
    project = there.read_project(project_name="shard")
    assert project.description == "pushed"
    assert (project.extra or {}).get("metadata") == {"team": "x"}


def test_pushing_again_sends_only_what_is_new(
    client: localtrace.Client, remote: LiveServer, proxy: FaultProxy
) -> None:
    fill(client, range(0, 10))
    assert client.push(proxy.url, api_key=KEY).runs == 30
    assert client.push(proxy.url, api_key=KEY).runs == 0
    fill(client, range(10, 14))
    second = client.push(proxy.url, api_key=KEY)
    assert (second.runs, second.feedback) == (12, 1)
    assert len(proxy.posted) == len(set(proxy.posted)) == 42  # nothing was sent twice
    assert _remote_snapshot(remote) == snapshot(client)


def test_a_run_pushed_while_running_is_sent_again_when_finished(
    client: localtrace.Client, remote: LiveServer
) -> None:
    root = make_run("slow agent", seconds=None, project="live")
    client.batch_ingest_runs(create=[root])
    client.flush()
    client.push(remote.url, api_key=KEY)
    remote.store.flush()
    assert remote.store.read_run(root["id"]).end_time is None
    client.update_run(
        root["id"], end_time=root["start_time"] + dt.timedelta(seconds=9), outputs={"a": 1}
    )
    client.flush()
    result = client.push(remote.url, api_key=KEY)
    assert (result.runs, result.updates) == (0, 1)
    remote.store.flush()
    there = remote.store.read_run(root["id"])
    assert there.end_time == root["start_time"] + dt.timedelta(seconds=9)
    assert there.outputs == {"a": 1}


def test_to_project_and_project_scope(client: localtrace.Client, remote: LiveServer) -> None:
    fill(client, range(0, 3), project="a", feedback=False)
    fill(client, range(0, 2), project="b", feedback=False)
    result = client.push(remote.url, api_key=KEY, project_name="b", to_project="from-laptop")
    assert result.runs == 6
    remote.store.flush()
    names = {r.name for r in remote.store.list_runs(project_name="from-laptop", is_root=True)}
    assert names == {"agent 0", "agent 1"}
    assert not remote.store.has_project("a")


def test_refused_runs_are_reported_and_the_rest_is_kept(
    client: localtrace.Client, remote: LiveServer, proxy: FaultProxy
) -> None:
    traces = fill(client, range(0, 6), feedback=False)
    bad = str(traces[2][1]["id"])
    proxy.refuse = {bad}
    result = client.push(proxy.url, api_key=KEY)
    assert [(r.id, r.kind) for r in result.refused] == [(bad, "run")]
    assert result.runs == 17
    remote.store.flush()
    assert {str(r.id) for r in remote.store.list_runs()} == set(snapshot(client)) - {bad}
    # refused runs are not sent again: the server already said no
    proxy.refuse = set()
    assert client.push(proxy.url, api_key=KEY).runs == 0


@pytest.mark.parametrize("status", [429, 503])
def test_a_server_that_keeps_failing_stops_the_push_and_it_resumes_later(
    client: localtrace.Client,
    remote: LiveServer,
    proxy: FaultProxy,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
) -> None:
    from localtrace._transfer import push as _push

    monkeypatch.setattr(_push, "BATCH_RUNS", 9)
    fill(client, range(0, 12), feedback=False)  # 36 runs: 4 batches
    proxy.drop_after = None
    proxy.status_for = []
    sent_before_failure = 2
    original = proxy.handle

    def failing_after_two(handler: Any, body: bytes) -> None:
        if proxy.ingests >= sent_before_failure and handler.path.startswith("/runs/multipart"):
            proxy.status_for = [status] * 50
        original(handler, body)

    proxy.handle = failing_after_two  # type: ignore[method-assign]
    with pytest.raises(TransferError, match=f"answered {status}") as caught:
        client.push(proxy.url, api_key=KEY, max_retries=0)
    stopped = caught.value.result
    assert isinstance(stopped, _push.PushResult) and stopped.runs == 18
    proxy.handle = original  # type: ignore[method-assign]
    proxy.status_for = []
    resumed = client.push(proxy.url, api_key=KEY, max_retries=0)
    assert resumed.runs == 18
    assert sorted(proxy.posted) == sorted(set(proxy.posted))
    assert _remote_snapshot(remote) == snapshot(client)


def test_a_server_that_disappears_mid_push(
    client: localtrace.Client,
    remote: LiveServer,
    proxy: FaultProxy,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from localtrace._transfer import push as _push

    monkeypatch.setattr(_push, "BATCH_RUNS", 9)
    fill(client, range(0, 12), feedback=False)
    proxy.drop_after = 1
    with pytest.raises(TransferError, match="could not be reached"):
        client.push(proxy.url, api_key=KEY, max_retries=0)
    proxy.drop_after = None
    assert client.push(proxy.url, api_key=KEY, max_retries=0).runs == 27
    assert _remote_snapshot(remote) == snapshot(client)


def test_a_wrong_api_key_stops_the_push_with_a_clear_error(
    client: localtrace.Client, remote: LiveServer
) -> None:
    fill(client, range(0, 2), feedback=False)
    with pytest.raises(TransferError, match="answered 401"):
        client.push(remote.url, api_key="wrong", max_retries=0)
    assert client.push(remote.url, api_key=KEY).runs == 6


_PUSH_SCRIPT = textwrap.dedent(
    """
    import sys, time
    import localtrace
    from localtrace._transfer import push

    push.BATCH_RUNS = 6
    send = push.Pusher._send

    def slow_send(self, create, update):
        done = send(self, create, update)
        print("batch", flush=True)
        time.sleep(0.2)
        return done

    push.Pusher._send = slow_send
    with localtrace.Client(sys.argv[1], writer="thread") as client:
        client.push(sys.argv[2], api_key=sys.argv[3])
    """
)


def test_sigkill_mid_push_resumes_without_sending_runs_twice(
    tmp_path: Path, remote: LiveServer, proxy: FaultProxy
) -> None:
    path = tmp_path / "local.db"
    with localtrace.Client(path) as client:
        fill(client, range(0, 20), feedback=False)  # 60 runs: 10 batches of 6
    proc = subprocess.Popen(
        [sys.executable, "-c", _PUSH_SCRIPT, str(path), proxy.url, KEY],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout is not None
    for _ in range(3):
        assert proc.stdout.readline().strip() == b"batch"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    sent_before = len(proxy.posted)
    assert 18 <= sent_before < 60
    with localtrace.Client(path) as client:
        result = client.push(proxy.url, api_key=KEY)
        assert result.runs + sent_before - 6 <= 60  # at most the one unacknowledged batch again
        assert len(proxy.posted) - len(set(proxy.posted)) <= 6
        assert _remote_snapshot(remote) == snapshot(client)
    assert rows(path, "PRAGMA integrity_check") == [("ok",)]


# -- pull ----------------------------------------------------------------------------------


def test_pull_downloads_a_project_with_its_feedback(
    client: localtrace.Client, remote: LiveServer
) -> None:
    fill(remote.store, range(0, 25), project="team")
    fill(remote.store, range(0, 3), project="other")
    result = client.pull(remote.url, api_key=KEY, project_name="team")
    assert (result.runs, result.feedback) == (75, 9)
    expected = {k: v for k, v in snapshot(remote.store).items()}
    got = snapshot(client)
    assert got == {k: expected[k] for k in got}
    assert set(got) == {str(r.id) for r in remote.store.list_runs(project_name="team")}
    assert sorted(str(f.id) for f in client.list_feedback()) == sorted(
        str(f.id)
        for f in remote.store.list_feedback(
            run_ids=[r.id for r in remote.store.list_runs(project_name="team")]
        )
    )


def test_pull_shows_no_sdk_deprecation_warning(
    client: localtrace.Client, remote: LiveServer
) -> None:
    """`localtrace pull` users never called the SDK: its warnings are not theirs to act on."""
    import warnings

    fill(remote.store, range(0, 2), project="team", feedback=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert client.pull(remote.url, api_key=KEY, project_name="team").runs == 6
    assert [str(w.message) for w in caught if issubclass(w.category, DeprecationWarning)] == []


def test_pull_resumes_after_the_last_pull(client: localtrace.Client, remote: LiveServer) -> None:
    fill(remote.store, range(0, 10), project="team", feedback=False)
    assert client.pull(remote.url, api_key=KEY, project_name="team").runs == 30
    before = snapshot(client)
    again = client.pull(remote.url, api_key=KEY, project_name="team")
    assert again.runs <= 3  # only the newest start is read again (it may have grown)
    assert snapshot(client) == before
    fill(remote.store, range(10, 14), project="team", feedback=False)
    third = client.pull(remote.url, api_key=KEY, project_name="team")
    assert 12 <= third.runs <= 15
    assert len(snapshot(client)) == 42


def test_pull_with_a_filter_and_another_local_name(
    client: localtrace.Client, remote: LiveServer
) -> None:
    fill(remote.store, range(0, 6), project="team", feedback=False)
    result = client.pull(
        remote.url,
        api_key=KEY,
        project_name="team",
        filter='eq(run_type, "llm")',
        to_project="offline",
    )
    assert result.runs == 6
    assert {r.run_type for r in client.list_runs(project_name="offline")} == {"llm"}


def test_pull_brings_the_project_description_and_metadata(
    client: localtrace.Client, remote: LiveServer
) -> None:
    """What the runs cannot carry: the project's description and metadata; what is already set
    locally is kept."""
    fill(remote.store, range(0, 2), project="team", feedback=False)
    team = remote.store.read_project(project_name="team")
    remote.store.update_project(team.id, description="nightly evals", metadata={"owner": "ana"})
    client.pull(remote.url, api_key=KEY, project_name="team")
    pulled = client.read_project(project_name="team")
    assert (pulled.description, (pulled.extra or {}).get("metadata")) == (
        "nightly evals",
        {"owner": "ana"},
    )
    mine = client.create_project("mine", description="my copy")
    client.pull(remote.url, api_key=KEY, project_name="team", to_project="mine")
    again = client.read_project(project_id=mine.id)
    assert (again.description, (again.extra or {}).get("metadata")) == (
        "my copy",
        {"owner": "ana"},
    )


def test_pull_of_a_missing_project_and_an_unreachable_server(
    client: localtrace.Client, remote: LiveServer
) -> None:
    with pytest.raises(localtrace.ProjectNotFoundError, match="nope"):
        client.pull(remote.url, api_key=KEY, project_name="nope", max_retries=0)
    with pytest.raises(TransferError, match="could not be reached"):
        client.pull("http://127.0.0.1:9", api_key=KEY, project_name="team", max_retries=0)


def test_feedback_given_in_the_ui_is_pushed_and_pulled_back_as_it_was(
    client: localtrace.Client, remote: LiveServer, tmp_path: Path
) -> None:
    """The UI records feedback as source type "app" (as LangSmith's own UI does), which the
    SDK's create_feedback refuses: it is pushed as "api" with the original type kept in its
    source metadata, and a pull gives "app" back."""
    fill(client, range(0, 1), project="shard", feedback=False)
    root = next(client.list_runs(project_name="shard", is_root=True))
    given = client.commit_feedback(
        root.id, "helpful", score=1, feedback_source_type="app", source_info={"via": "ui"}
    )
    result = client.push(remote.url, api_key=KEY)
    assert (result.feedback, result.refused) == (1, [])
    remote.store.flush()
    there = remote.store.read_feedback(given.id)
    assert there.score == 1 and there.feedback_source is not None
    with localtrace.Client(tmp_path / "back.db") as back:
        back.pull(remote.url, api_key=KEY, project_name="shard")
        source = back.read_feedback(given.id).feedback_source
        assert source is not None and (source.type, source.metadata) == ("app", {"via": "ui"})


def test_project_feedback_is_pushed_with_its_project(
    client: localtrace.Client, remote: LiveServer
) -> None:
    """Feedback about a project (no run: a summary evaluator's score of an experiment) goes to
    the pushed project on the server, once, like feedback about a run."""
    fill(client, range(0, 2), project="experiment-1", feedback=False)
    fill(client, range(0, 1), project="not-pushed", feedback=False)
    experiment = client.read_project(project_name="experiment-1")
    root = next(client.list_runs(project_name="experiment-1", is_root=True))
    about_run = client.create_feedback(root.id, "correct", score=1)
    about_project = client.create_feedback(
        key="accuracy", score=0.5, project_id=experiment.id, comment="1 of 2"
    )
    client.create_feedback(
        key="accuracy", score=1, project_id=client.read_project(project_name="not-pushed").id
    )
    client.flush()
    result = client.push(remote.url, api_key=KEY, project_name="experiment-1")
    assert (result.feedback, result.refused) == (2, [])
    there = remote.store
    there.flush()
    assert sorted(str(f.id) for f in there.list_feedback()) == sorted(
        [str(about_run.id), str(about_project.id)]
    )
    pushed = there.read_feedback(about_project.id)
    assert pushed.run_id is None
    assert pushed.session_id == there.read_project(project_name="experiment-1").id
    assert (pushed.key, pushed.score, pushed.comment) == ("accuracy", 0.5, "1 of 2")
    again = client.push(remote.url, api_key=KEY, project_name="experiment-1")
    assert (again.runs, again.feedback) == (0, 0)


def test_what_the_sdk_refuses_before_sending_is_a_refusal_not_an_unreachable_server() -> None:
    """A ValueError the SDK raises for an item is about that item: the push reports it and
    goes on (it used to stop, saying the server could not be reached)."""
    from localtrace._transfer import remote as _remote

    refused = _remote.classify(ValueError("'x' is not a valid FeedbackSourceType"))
    assert refused.refusal and "the langsmith SDK refused it" in refused.message
    assert not _remote.classify(ConnectionError("connection refused")).refusal


def test_runs_traced_to_an_agent_address_are_pushed_to_that_address(
    client: localtrace.Client, remote: LiveServer, proxy: FaultProxy
) -> None:
    """A run traced to ``agent_address(id, environment)`` is filed locally under a project named
    by the address; pushed, it goes back to the address (``address``, no ``session_name``), so
    LangSmith files it under the agent's environment rather than creating a project called
    ``lrn:agents/...``. Feedback about that project reaches the same project on the server."""
    import langsmith
    from langsmith import traceable, tracing_context

    @traceable
    def helpdesk(question: str) -> str:
        return question.upper()

    address = langsmith.agent_address("support-agent", "staging")
    with tracing_context(client=client, enabled=True, address=address):
        helpdesk("where is my parcel?")
    client.flush()
    lrn = "lrn:agents/support-agent/environments/staging"
    local = client.read_project(project_name=lrn)
    about_project = client.create_feedback(key="resolved", score=1, project_id=local.id)
    client.flush()

    result = client.push(proxy.url, api_key=KEY)
    assert (result.runs, result.feedback, result.refused) == (1, 1, [])
    sent = b"".join(proxy.bodies)
    assert b'"address":"' + lrn.encode() + b'"' in sent
    assert b'"session_name"' not in sent
    there = remote.store
    there.flush()
    project = there.read_project(project_name=lrn)  # where the server filed the address
    [run] = there.list_runs(project_id=project.id)
    assert run.name == "helpdesk"
    assert there.read_feedback(about_project.id).session_id == project.id


def test_a_push_to_a_named_project_takes_agent_runs_there_too(
    client: localtrace.Client, remote: LiveServer, proxy: FaultProxy
) -> None:
    """``--to`` names the project every pushed run goes to, agent-addressed ones included (a
    project a run names wins over its address, as in the SDK)."""
    import langsmith
    from langsmith import traceable, tracing_context

    @traceable
    def helpdesk(question: str) -> str:
        return question.upper()

    with tracing_context(
        client=client, enabled=True, address=langsmith.agent_address("support-agent", "local")
    ):
        helpdesk("hello")
    client.flush()
    result = client.push(proxy.url, api_key=KEY, to_project="copied")
    assert (result.runs, result.refused) == (1, [])
    assert b'"address"' not in b"".join(proxy.bodies)
    remote.store.flush()
    assert [r.name for r in remote.store.list_runs(project_name="copied")] == ["helpdesk"]
