"""Share links: LangSmith's public links to a run or a dataset, which have no local meaning.

A local store publishes nothing, so the SDK's questions get LangSmith's answers for "not
shared" (``run_is_shared`` is False, ``read_run_shared_link`` None, unsharing does nothing)
and asking for a link is refused, saying how to get one: push the runs to a LangSmith server
(``localtrace push``) and share them there. The in-process ``Client`` answers here; the
server (``server/_sharing.py``) answers the same over HTTP, so code written for
``langsmith.Client`` behaves alike with either.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any, NoReturn

from ._args import sdk_keywords
from ._ids import argument_id
from .errors import NotFoundError, SharingUnavailableError

if TYPE_CHECKING:
    from .models import Dataset, Run

PUSH_HINT = (
    "push the runs to LangSmith with `localtrace push --endpoint https://api.smith.langchain.com` "
    "and share them there"
)
"""What to do instead, in every refusal (the Client's and the server's)."""


def refusal(what: str) -> str:
    """The message of a refused share link for ``what`` ("run <id>", "dataset <id>")."""
    return (
        f"cannot share {what}: share links need a LangSmith server, and a local localtrace "
        f"store publishes nothing; {PUSH_HINT}"
    )


class SharingMethods:
    """The langsmith SDK's share-link methods on the in-process ``Client``."""

    if TYPE_CHECKING:

        def read_run(self, run_id: uuid.UUID | str, load_child_runs: bool = False) -> Run: ...

        def read_dataset(
            self, *, dataset_name: str | None = None, dataset_id: uuid.UUID | str | None = None
        ) -> Dataset: ...

        def _committed(self) -> None: ...

    def _shareable_run(self, run_id: uuid.UUID | str) -> str:
        """The run's id, once it is known to be here (``RunNotFoundError`` otherwise, as
        LangSmith answers 404): what this Client queued is committed first, since callers
        ask about a run they have just traced (another run's refusal stays for ``flush()``)."""
        rid = argument_id(run_id, "run_id")
        self._committed()
        self.read_run(rid)
        return rid

    @sdk_keywords()
    def share_run(self, run_id: uuid.UUID | str, *, share_id: Any = None) -> NoReturn:
        """Refused with ``SharingUnavailableError``: nothing is published locally."""
        raise SharingUnavailableError(refusal(f"run {self._shareable_run(run_id)}"))

    @sdk_keywords()
    def unshare_run(self, run_id: uuid.UUID | str) -> None:
        """Nothing to do: no run is shared locally."""
        self._shareable_run(run_id)

    @sdk_keywords()
    def read_run_shared_link(self, run_id: uuid.UUID | str) -> str | None:
        """``None``: no run has a share link locally."""
        self._shareable_run(run_id)
        return None

    @sdk_keywords()
    def run_is_shared(self, run_id: uuid.UUID | str) -> bool:
        """``False``: no run is shared locally."""
        self._shareable_run(run_id)
        return False

    @sdk_keywords()
    def share_dataset(
        self, dataset_id: uuid.UUID | str | None = None, *, dataset_name: str | None = None
    ) -> NoReturn:
        """Refused with ``SharingUnavailableError``: nothing is published locally."""
        found = self.read_dataset(dataset_id=dataset_id, dataset_name=dataset_name)
        raise SharingUnavailableError(refusal(f"dataset {found.name!r} ({found.id})"))

    @sdk_keywords()
    def unshare_dataset(self, dataset_id: uuid.UUID | str) -> None:
        """Nothing to do: no dataset is shared locally."""
        self.read_dataset(dataset_id=dataset_id)

    @sdk_keywords()
    def read_dataset_shared_schema(
        self, dataset_id: uuid.UUID | str | None = None, *, dataset_name: str | None = None
    ) -> NoReturn:
        """``NotFoundError``, as LangSmith answers for a dataset that is not shared."""
        found = self.read_dataset(dataset_id=dataset_id, dataset_name=dataset_name)
        raise NotFoundError(
            f"dataset {found.name!r} ({found.id}) is not shared: a local store has no public "
            "links; share it from a LangSmith server"
        )


__all__ = ["PUSH_HINT", "SharingMethods", "refusal"]
