"""The RUN_ID argument of ``run`` and ``trace``: a whole run id, or a part of one that a single
run has (a ``runs`` listing too narrow for whole ids shows the end of each id, ``…5dcc9276``)."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

import click

from ..client import Client
from ..errors import InvalidArgumentError, RunNotFoundError

MIN_PART = 4
"""The fewest hex digits of an id taken as a part of one: fewer name too many runs."""
_PART = re.compile(r"[0-9a-f-]+")
_SHOWN = 3
"""The ids an ambiguous part lists."""


class IdPart(str):
    """A part of a run id (lowercase hex and dashes, as ids are stored), still to resolve."""


if TYPE_CHECKING:
    _IdParam = click.ParamType[uuid.UUID | IdPart]
else:
    _IdParam = click.ParamType  # generic only in newer click


class RunIdParam(_IdParam):
    """A UUID in any spelling ``uuid.UUID`` takes, else an ``IdPart`` (a leading ``…``, as the
    listing shows it, is dropped); anything else is a usage error naming the argument."""

    name = "run_id"

    def convert(self, value: Any, param: Any, ctx: Any) -> uuid.UUID | IdPart:
        if isinstance(value, (uuid.UUID, IdPart)):
            return value
        text = str(value).strip()
        try:
            return uuid.UUID(text)
        except ValueError:
            pass
        part = text.lstrip("….").lower()
        if len(part.replace("-", "")) >= MIN_PART and _PART.fullmatch(part):
            return IdPart(part)
        self.fail(
            f"{text!r} is not a valid UUID nor a part of a run id ({MIN_PART} or more hex "
            "digits, e.g. the end of an id as `localtrace runs` shows it)",
            param,
            ctx,
        )


def resolve(client: Client, value: uuid.UUID | IdPart, argument: str) -> uuid.UUID:
    """The run id ``value`` names: itself, or the one run id that holds the part."""
    if isinstance(value, uuid.UUID):
        return value
    found = [str(rid) for rid in client.find_run_ids(value, limit=_SHOWN + 1)]
    if not found:
        raise RunNotFoundError(f"no run id contains {value!r}; check it against `localtrace runs`")
    if len(found) > 1:
        listed = ", ".join(found[:_SHOWN]) + (", ..." if len(found) > _SHOWN else "")
        raise InvalidArgumentError(
            argument,
            str(value),
            f"is part of several run ids ({listed})",
            "give more characters of the id",
        )
    return uuid.UUID(found[0])
