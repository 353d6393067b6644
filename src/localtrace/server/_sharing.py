"""Share links: LangSmith's public links to a run or a dataset, which have no local meaning.

A local server publishes nothing, so the SDK's questions get LangSmith's answers for "not
shared" (``run_is_shared`` is False, ``read_run_shared_link`` None, unsharing succeeds) and
asking for a link is refused with a 403 that no SDK retries, saying how to get one: push the
runs to a LangSmith server (``localtrace push``) and share them there. Public reads by share
token answer 404 naming the token. Without these routes every call was a bare "no route" 404,
which the SDK reports as a missing run.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import Response

from .._sharing import PUSH_HINT, refusal
from ._docs import errors_doc
from ._encode import JSONBytes
from ._errors import DO_NOT_RETRY, ApiError
from ._routing import add_read_routes, new_router
from ._state import State


def sharing_refused(what: str) -> ApiError:
    """The answer to a request for a share link (403: the server will not, retrying cannot
    help)."""
    return ApiError(403, "sharing_unavailable", refusal(what), headers=DO_NOT_RETRY)


def _no_share_token(token: str) -> ApiError:
    return ApiError(
        404,
        "not_found",
        f"nothing is shared with token {token}: a local localtrace server has no public "
        f"links; open a link of a LangSmith server there, or {PUSH_HINT}",
        headers=DO_NOT_RETRY,
    )


def _public_read(share_token: Annotated[str, Path()], rest: str) -> Response:
    """Any read by share token (run, runs, dataset, examples, projects, feedback)."""
    raise _no_share_token(share_token)


def _both(checked: APIRouter, public: APIRouter) -> APIRouter:
    """One router of both (a router included in a checked one would inherit its checks)."""
    outer = APIRouter()
    outer.include_router(checked)
    outer.include_router(public)
    return outer


def _share_routes(
    router: APIRouter,
    path: str,
    kind: str,
    *,
    share: str,
    unshared: Callable[[], Response],
    summaries: tuple[str, str],
) -> None:
    """Sharing one ``kind`` of thing at ``path`` (its id the one path parameter): ``share``
    (the method) is refused with a 403, ``DELETE`` (unsharing) succeeds with ``unshared()``,
    nothing being shared locally. ``summaries``: of the two, for /openapi.json."""
    param = path[path.index("{") + 1 : path.index("}")]
    noun = "run" if param == "run_id" else kind

    def refuse(target: uuid.UUID) -> Response:
        raise sharing_refused(f"{noun} {target}")

    def nothing_to_do(target: uuid.UUID) -> Response:
        return unshared()

    # the id under the path's own name (``run_id``...), as a route written for it would take it
    # (set here: the name is only known now, and string annotations cannot see it)
    for endpoint in (refuse, nothing_to_do):
        endpoint.__annotations__ = {
            "target": Annotated[uuid.UUID, Path(alias=param)],
            "return": Response,
        }

    router.add_api_route(
        path,
        refuse,
        methods=[share],
        name=f"share_{kind}",
        tags=["sharing"],
        summary=summaries[0],
        responses=errors_doc(403, 422),
    )
    router.add_api_route(
        path,
        nothing_to_do,
        methods=["DELETE"],
        name=f"unshare_{kind}",
        tags=["sharing"],
        summary=summaries[1],
        responses=errors_doc(422),
    )


def _null() -> Response:
    return JSONBytes(None)


def _no_content() -> Response:
    return Response(status_code=204)


def build_sharing_router(state: State) -> APIRouter:
    """The v1 share routes (``/runs/{id}/share``, ``/datasets/{id}/share``, ``/public/...``)."""
    client = state.client
    router = new_router(state)

    @router.get(
        "/runs/{run_id}/share",
        tags=["sharing"],
        summary="A run's share link: always null (nothing is shared locally)",
        responses=errors_doc(404, 422),
    )
    def read_run_share(run_id: Annotated[uuid.UUID, Path()]) -> Response:
        state.settle()
        client.read_run(run_id)  # 404 for a run that is not in the store
        return JSONBytes(None)

    _share_routes(
        router,
        "/runs/{run_id}/share",
        "run",
        share="PUT",
        unshared=_null,
        summaries=(
            "Share a run: refused (403), share links need LangSmith",
            "Unshare a run: nothing to do (nothing is shared locally)",
        ),
    )

    @router.get(
        "/datasets/{dataset_id}/share",
        tags=["sharing"],
        summary="A dataset's share schema: 404, nothing is shared locally",
        responses=errors_doc(404, 422),
    )
    def read_dataset_share(dataset_id: Annotated[uuid.UUID, Path()]) -> Response:
        client.read_dataset(dataset_id=dataset_id)  # 404 naming a dataset that is not here
        raise ApiError(
            404,
            "not_found",
            f"dataset {dataset_id} is not shared: a local localtrace server has no public "
            "links; share it from a LangSmith server",
            headers=DO_NOT_RETRY,
        )

    _share_routes(
        router,
        "/datasets/{dataset_id}/share",
        "dataset",
        share="PUT",
        unshared=_null,
        summaries=(
            "Share a dataset: refused (403), share links need LangSmith",
            "Unshare a dataset: nothing to do (nothing is shared locally)",
        ),
    )

    public = APIRouter()  # any query: the SDK pages these reads with limit and offset
    add_read_routes(
        public,
        "/public/{share_token}/{rest:path}",
        _public_read,
        name="public",
        tag="sharing",
        summary="Public reads by share token: 404, nothing is shared locally",
        responses=errors_doc(404),
    )
    return _both(router, public)


def build_sharing_v2_router(state: State) -> APIRouter:
    """The v2 share routes (``client.runs.share``, ``client.threads.share``,
    ``client.public.runs``)."""
    router = new_router(state)
    public = APIRouter()
    _share_routes(
        router,
        "/api/v2/runs/{run_id}/share",
        "trace",
        share="POST",
        unshared=_no_content,
        summaries=(
            "Share a trace: refused (403), share links need LangSmith",
            "Unshare a trace: nothing to do (204)",
        ),
    )

    thread_path = "/api/v2/threads/{thread_id:path}/share"

    @router.post(
        thread_path,
        tags=["sharing"],
        summary="Share a thread: refused (403), share links need LangSmith",
        responses=errors_doc(403, 422),
    )
    def share_thread(thread_id: Annotated[str, Path()]) -> Response:
        raise sharing_refused(f"thread {thread_id!r}")

    @router.get(
        thread_path,
        tags=["sharing"],
        summary="A thread's share token: none (nothing is shared locally)",
        responses=errors_doc(422),
    )
    def read_thread_share(
        thread_id: Annotated[str, Path()], project_id: uuid.UUID | None = None
    ) -> Response:
        return JSONBytes({})  # the token is left out when the thread is not shared

    @router.delete(
        thread_path,
        tags=["sharing"],
        summary="Unshare a thread: nothing to do (204)",
        responses=errors_doc(422),
    )
    def unshare_thread(
        thread_id: Annotated[str, Path()], project_id: uuid.UUID | None = None
    ) -> Response:
        return _no_content()

    add_read_routes(
        public,
        "/api/v2/public/{share_token}/{rest:path}",
        _public_read,
        name="public_v2",
        tag="sharing",
        summary="Public v2 reads by share token: 404, nothing is shared locally",
        responses=errors_doc(404),
    )
    return _both(router, public)


__all__ = ["build_sharing_router", "build_sharing_v2_router", "sharing_refused"]
