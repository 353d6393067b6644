"""``AsyncClient``: the same methods as ``Client``, awaitable, never blocking the event loop.

Every call that touches the file runs in a worker thread (``asyncio.to_thread``); listings are
async iterators that fetch one page per thread hop.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any

from .client import Client
from .types import Page

_PAGE = 100


def _blocking(name: str, positional: tuple[str, ...] = ()) -> Callable[..., Any]:
    """``Client.<name>`` run in a worker thread. ``positional``: the arguments langsmith's
    ``AsyncClient`` takes by position where ``Client`` (as the sync SDK) takes them by name."""
    target = getattr(Client, name)

    @functools.wraps(target)
    async def method(self: AsyncClient, *args: Any, **kwargs: Any) -> Any:
        if positional:
            args, kwargs = _by_name(name, positional, args, kwargs)
        return await asyncio.to_thread(getattr(self.sync, name), *args, **kwargs)

    if positional:
        method.__signature__ = _reordered(target, positional)  # type: ignore[attr-defined]
    return method


def _by_name(
    name: str, positional: tuple[str, ...], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``args`` given in ``positional``'s order, as keywords."""
    if len(args) > len(positional):
        raise TypeError(f"{name}() takes at most {len(positional)} positional arguments")
    for key, value in zip(positional, args, strict=False):
        if key in kwargs:
            raise TypeError(f"{name}() got multiple values for argument {key!r}")
        kwargs[key] = value
    return (), kwargs


def _reordered(target: Callable[..., Any], positional: tuple[str, ...]) -> inspect.Signature:
    """``target``'s signature with ``positional`` first, in that order, the rest by name."""
    signature = inspect.signature(target)
    params = dict(signature.parameters)
    first = [params.pop("self")]
    first += [
        params.pop(key).replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) for key in positional
    ]
    rest = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
        else p
        for p in params.values()
    ]
    return signature.replace(parameters=[*first, *rest])


async def _pages(iterator: Iterator[Any]) -> AsyncIterator[Any]:
    """A sync iterator's items, fetched a page at a time in a worker thread."""

    def page() -> list[Any]:
        out = []
        for item in iterator:
            out.append(item)
            if len(out) == _PAGE:
                break
        return out

    while True:
        items = await asyncio.to_thread(page)
        for item in items:
            yield item
        if len(items) < _PAGE:
            return


def _iterating(name: str) -> Callable[..., AsyncIterator[Any]]:
    target = getattr(Client, name)

    @functools.wraps(target)
    async def method(self: AsyncClient, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        iterator: Iterator[Any] = await asyncio.to_thread(
            lambda: iter(getattr(self.sync, name)(*args, **kwargs))
        )
        async for item in _pages(iterator):
            yield item

    return method


class AsyncPage:
    """A v2 page, awaited: ``items``, ``next_cursor``, ``await get_next_page()``, and
    ``async for`` over the page follows the cursors to the end."""

    def __init__(self, page: Page[Any]) -> None:
        self._page = page
        self.items = page.items
        self.next_cursor = page.next_cursor

    def has_next_page(self) -> bool:
        """Whether ``next_cursor`` leads somewhere."""
        return self._page.has_next_page()

    async def get_next_page(self) -> AsyncPage:
        """The next page (read in a worker thread)."""
        return AsyncPage(await asyncio.to_thread(self._page.get_next_page))

    async def iter_pages(self) -> AsyncIterator[AsyncPage]:
        """This page and every following one."""
        page = self
        while True:
            yield page
            if not page.has_next_page():
                return
            page = await page.get_next_page()

    async def __aiter__(self) -> AsyncIterator[Any]:
        async for page in self.iter_pages():
            for item in page.items:
                yield item


class _PendingPage:
    """What a paged v2 call returns, as in the SDK: await it for the first page, or
    ``async for`` over it for every item."""

    def __init__(self, start: Callable[[], Page[Any]]) -> None:
        self._start = start

    async def _first(self) -> AsyncPage:
        return AsyncPage(await asyncio.to_thread(self._start))

    def __await__(self) -> Any:
        return self._first().__await__()

    async def __aiter__(self) -> AsyncIterator[Any]:
        async for item in await self._first():
            yield item


class _AsyncResource:
    """An async twin of a v2 resource (``runs``, ``traces``, ``threads``): paged calls return a
    ``_PendingPage``, the others are awaitable."""

    def __init__(self, resource: Any, paged: frozenset[str]) -> None:
        self._resource = resource
        self._paged = paged

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._resource, name)
        if name in self._paged:

            def paged(*args: Any, **kwargs: Any) -> _PendingPage:
                return _PendingPage(functools.partial(target, *args, **kwargs))

            return paged

        async def call(*args: Any, **kwargs: Any) -> Any:
            return await asyncio.to_thread(target, *args, **kwargs)

        return call


class _AsyncSql:
    """``await client.sql(query)`` and ``await client.sql.query(project_ids=, query=)``."""

    def __init__(self, client: Client) -> None:
        self._sql = client.sql

    async def __call__(self, query: str, **kwargs: Any) -> Any:
        return await asyncio.to_thread(self._sql, query, **kwargs)

    async def query(self, **kwargs: Any) -> Any:
        return await asyncio.to_thread(self._sql.query, **kwargs)


class AsyncClient:
    """Async twin of ``Client`` (same names and arguments; awaitable / async iterators).

    Where langsmith's ``AsyncClient`` takes arguments by position and the sync SDK by name
    (``create_example(inputs, reference_outputs, dataset_id)``, ``read_dataset(name)``,
    ``read_project(name)``, ``delete_dataset(id)``), this takes them as the ``AsyncClient``
    does, so code written for it runs unchanged.

    >>> async def main():
    ...     async with AsyncClient(":memory:") as client:
    ...         await client.create_run("hello", {}, "chain")
    ...         await client.flush()
    ...         return [run.name async for run in client.list_runs()]
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, **kwargs: Any) -> None:
        self.sync = Client(path, **kwargs)
        """The underlying synchronous client (shares the same store)."""

    async def create_run(
        self, name: str, inputs: dict[str, Any], run_type: str, **kwargs: Any
    ) -> None:
        """Queue a run (see ``Client.create_run``), from a worker thread: queueing waits for
        room when ``max_pending`` runs are waiting, which must not stall the event loop."""
        await asyncio.to_thread(self.sync.create_run, name, inputs, run_type, **kwargs)

    async def update_run(self, run_id: uuid.UUID | str, **kwargs: Any) -> None:
        """Queue an update (see ``Client.update_run``), from a worker thread (as ``create_run``)."""
        await asyncio.to_thread(self.sync.update_run, run_id, **kwargs)

    async def info(self) -> Any:
        """What the store says about itself (``Client.info``), awaited as in the SDK's
        ``AsyncClient``."""
        return self.sync.info

    async def commit_runs(
        self, create: Sequence[Any] | None = None, update: Sequence[Any] | None = None
    ) -> list[Any]:
        """``Client.commit_runs``, awaited until committed: the runs refused (with field and
        fix), the rest are durable."""
        return await asyncio.wrap_future(self.sync.commit_runs(create, update))

    async def copy_into(self, target: Client | AsyncClient, **kwargs: Any) -> Any:
        """``Client.copy_into`` (``target`` a ``Client`` or an ``AsyncClient``)."""
        sync = target.sync if isinstance(target, AsyncClient) else target
        return await asyncio.to_thread(self.sync.copy_into, sync, **kwargs)

    def aevaluate(self, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        """``langsmith.aevaluate`` with this store (``Client.aevaluate``)."""
        return self.sync.aevaluate(*args, **kwargs)

    batch_ingest_runs = _blocking("batch_ingest_runs")
    multipart_ingest = _blocking("multipart_ingest")
    commit_feedback_batch = _blocking("commit_feedback_batch")
    flush = _blocking("flush")
    read_run = _blocking("read_run")
    list_attachments = _blocking("list_attachments")
    list_example_attachments = _blocking("list_example_attachments")
    read_attachment = _blocking("read_attachment")
    read_trace = _blocking("read_trace")
    find_run_ids = _blocking("find_run_ids")
    get_run_stats = _blocking("get_run_stats")
    get_run_url = _blocking("get_run_url")
    share_run = _blocking("share_run")
    unshare_run = _blocking("unshare_run")
    read_run_shared_link = _blocking("read_run_shared_link")
    run_is_shared = _blocking("run_is_shared")
    share_dataset = _blocking("share_dataset")
    unshare_dataset = _blocking("unshare_dataset")
    read_dataset_shared_schema = _blocking("read_dataset_shared_schema")
    search_index = _blocking("search_index")
    create_project = _blocking("create_project")
    read_project = _blocking("read_project", ("project_name", "project_id"))
    has_project = _blocking("has_project")
    update_project = _blocking("update_project")
    delete_project = _blocking("delete_project")
    create_feedback = _blocking("create_feedback")
    commit_feedback = _blocking("commit_feedback")
    read_feedback = _blocking("read_feedback")
    update_feedback = _blocking("update_feedback")
    delete_feedback = _blocking("delete_feedback")
    create_presigned_feedback_token = _blocking("create_presigned_feedback_token")
    create_presigned_feedback_tokens = _blocking("create_presigned_feedback_tokens")
    list_presigned_feedback_tokens = _iterating("list_presigned_feedback_tokens")
    read_feedback_token = _blocking("read_feedback_token")
    create_feedback_tokens = _blocking("create_feedback_tokens")
    create_feedback_from_token = _blocking("create_feedback_from_token")
    list_runs = _iterating("list_runs")
    list_projects = _iterating("list_projects")
    list_feedback = _iterating("list_feedback")
    search_traces = _blocking("search_traces")
    digest = _blocking("digest")
    digest_run = _blocking("digest_run")
    digest_thread = _blocking("digest_thread")
    thread_turns = _blocking("thread_turns")
    thread_messages = _blocking("thread_messages")
    create_model_price = _blocking("create_model_price")
    list_model_prices = _blocking("list_model_prices")
    delete_model_price = _blocking("delete_model_price")
    import_model_prices = _blocking("import_model_prices")
    recompute_costs = _blocking("recompute_costs")
    list_unpriced_models = _blocking("list_unpriced_models")
    list_unpriced_usage = _blocking("list_unpriced_usage")
    runs_after = _iterating("runs_after")
    export_otlp = _blocking("export_otlp")
    export_jsonl = _blocking("export_jsonl")
    export_parquet = _blocking("export_parquet")
    export_csv = _blocking("export_csv")
    import_jsonl = _blocking("import_jsonl")
    merge = _blocking("merge")
    prune = _blocking("prune")
    join_remote_parents = _blocking("join_remote_parents")
    set_retention = _blocking("set_retention")
    push = _blocking("push")
    pull = _blocking("pull")
    evaluate = _blocking("evaluate")
    time_series = _blocking("time_series")
    list_threads = _blocking("list_threads")
    read_thread = _iterating("read_thread")
    # datasets, examples and experiments (the SDK's AsyncClient: list_* are async iterators)
    create_dataset = _blocking("create_dataset")
    read_dataset = _blocking("read_dataset", ("dataset_name", "dataset_id"))
    has_dataset = _blocking("has_dataset")
    list_datasets = _iterating("list_datasets")
    delete_dataset = _blocking("delete_dataset", ("dataset_id",))
    update_dataset = _blocking("update_dataset")
    update_dataset_tag = _blocking("update_dataset_tag")
    list_dataset_versions = _iterating("list_dataset_versions")
    read_dataset_version = _blocking("read_dataset_version")
    list_dataset_splits = _blocking("list_dataset_splits")
    diff_dataset_versions = _blocking("diff_dataset_versions")
    update_dataset_splits = _blocking("update_dataset_splits")
    create_example = _blocking(
        "create_example", ("inputs", "reference_outputs", "dataset_id", "dataset_name")
    )
    create_examples = _blocking("create_examples")
    create_example_from_run = _blocking("create_example_from_run")
    upload_csv = _blocking("upload_csv")
    upload_dataframe = _blocking("upload_dataframe")
    create_llm_example = _blocking("create_llm_example")
    create_chat_example = _blocking("create_chat_example")
    upload_examples_multipart = _blocking("upload_examples_multipart")
    update_examples_multipart = _blocking("update_examples_multipart")
    upsert_examples_multipart = _blocking("upsert_examples_multipart")
    read_example = _blocking("read_example")
    list_examples = _iterating("list_examples")
    update_example = _blocking("update_example")
    update_examples = _blocking("update_examples")
    delete_example = _blocking("delete_example")
    delete_examples = _blocking("delete_examples")
    get_test_results = _blocking("get_test_results")
    list_experiments = _blocking("list_experiments")
    compare_experiments = _blocking("compare_experiments")
    create_comparative_experiment = _blocking("create_comparative_experiment")
    read_comparative_experiment = _blocking("read_comparative_experiment")
    evaluate_run = _blocking("evaluate_run")
    list_examples_with_runs = _iterating("list_examples_with_runs")

    async def get_experiment_results(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """``Client.get_experiment_results``, awaited; ``examples_with_runs`` is an async
        iterator (read a page at a time in a worker thread)."""
        results = await asyncio.to_thread(self.sync.get_experiment_results, *args, **kwargs)
        return {**results, "examples_with_runs": _pages(results["examples_with_runs"])}

    @functools.cached_property
    def runs(self) -> Any:
        """Async ``runs.query`` (await: first page; ``async for``: every run), ``retrieve``."""
        return _AsyncResource(self.sync.runs, frozenset({"query", "query_v2"}))

    @functools.cached_property
    def traces(self) -> Any:
        """Async ``traces.query`` / ``traces.list_runs``."""
        return _AsyncResource(self.sync.traces, frozenset({"query"}))

    @functools.cached_property
    def threads(self) -> Any:
        """Async ``threads.query``, ``list_traces``, ``stats``, ``aggregate_stats``."""
        return _AsyncResource(self.sync.threads, frozenset({"query", "list_traces"}))

    @functools.cached_property
    def sql(self) -> _AsyncSql:
        """``await client.sql("...")`` (see ``Client.sql``)."""
        return _AsyncSql(self.sync)

    async def aclose(self) -> None:
        """Drain the queue and close the file."""
        await asyncio.to_thread(self.sync.close)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
