"""``Run.attachments`` in process, as the SDK's ``Run`` has it over HTTP: every run read from
the store carries the field, and runs that have files get ``{presigned_url, mime_type,
reader}`` per file from ``read_run``, ``list_runs`` and trees."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import langsmith
from langsmith import traceable, tracing_context
from langsmith.schemas import Attachment

import localtrace
from localtrace.render import run_record


def _traced(client: localtrace.Client) -> uuid.UUID:
    """A root with no file and a child that sends two files through the SDK."""

    @traceable(run_type="tool", name="look")
    def look(image: Attachment, note: Attachment) -> str:
        return "a cat"

    @traceable(name="agent")
    def agent() -> str:
        return look(
            Attachment(mime_type="image/png", data=b"\x89PNG..."),
            Attachment(mime_type="text/plain", data=b"hello"),
        )

    with tracing_context(client=client, enabled=True, project_name="files"):
        agent()
    client.flush()
    (root,) = client.list_runs(project_name="files", is_root=True)
    return root.id


def test_every_run_has_attachments_and_files_come_with_their_bytes(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "t.db")
    root_id = _traced(client)
    (child,) = client.list_runs(project_name="files", filter='eq(name, "look")')
    assert sorted(child.attachments) == ["image", "note"]
    note = child.attachments["note"]
    assert note["mime_type"] == "text/plain"
    assert note["reader"].read() == b"hello"
    assert note["presigned_url"] == f"/attachments/{child.id}/note"
    assert client.read_run(child.id).attachments["image"]["reader"].read() == b"\x89PNG..."
    root = client.read_run(root_id, load_child_runs=True)
    assert root.attachments == {}
    assert sorted(root.child_runs[0].attachments) == ["image", "note"]
    assert sorted(client.read_trace(root_id).child_runs[0].attachments) == ["image", "note"]
    # a narrow select that leaves them out reads no files
    (narrow,) = client.list_runs(project_name="files", filter='eq(name, "look")', select=["name"])
    assert narrow.attachments == {}
    client.close()


def test_the_field_is_the_sdks_and_json_dumps_leave_the_bytes_out(tmp_path: Path) -> None:
    client = localtrace.Client(tmp_path / "t.db")
    _traced(client)
    (child,) = client.list_runs(project_name="files", filter='eq(name, "look")')
    assert "attachments" in langsmith.schemas.Run.model_fields
    assert set(langsmith.schemas.Run.model_fields) <= set(localtrace.Run.model_fields)
    dumped = json.loads(child.model_dump_json())
    assert dumped["attachments"]["note"] == {
        "presigned_url": f"/attachments/{child.id}/note",
        "mime_type": "text/plain",
    }
    assert run_record(child)["attachments"]["image"]["mime_type"] == "image/png"
    client.close()
