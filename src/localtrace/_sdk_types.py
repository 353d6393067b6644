"""Projects, datasets and examples that are also the langsmith SDK's own, once it is imported.

The SDK's evaluation runner tells an experiment from a target function, and a dataset from a
list of examples, by type alone: ``langsmith.evaluate("my-experiment", client=client)`` reads
the project with ``client.read_project`` and goes on only with a ``schemas.TracerSession``;
``data=dataset`` is read as a dataset only if it is a ``schemas.Dataset``; the SDK's own
examples of comparative evaluators assert ``isinstance(example, schemas.Example)``. Our models
have the SDK's fields, properties and methods, and more; they must not need the SDK.

So, when the SDK is imported, ``read_project``, ``read_dataset``, ``read_example`` and the
matching ``list_*``/``create_*`` return an instance of a subclass of both: of ours first (our
fields, validation, properties, ``repr``, equality, hashing and JSON dumps are unchanged) and of
the SDK's model. ``isinstance(x, localtrace.Project)`` stays true. Virtual subclasses
(``ABCMeta.register``) would be lighter, but pydantic's models ignore them in ``isinstance``.
Importing the SDK here would add half a second to every ``import localtrace``, so nothing is
converted without it.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, TypeVar

from pydantic import BaseModel

from .models import Dataset, Example, Project

_M = TypeVar("_M", bound=BaseModel)

_SDK_NAMES: dict[type[BaseModel], str] = {
    Project: "TracerSessionResult",  # so a TracerSession too
    Dataset: "Dataset",
    Example: "Example",
}
"""Our model -> the ``langsmith.schemas`` model its instances also are (not its subclasses:
an ``ExampleWithRuns`` stays as it is)."""

_BOTH: dict[type[BaseModel], type[BaseModel] | None] = {}
_MAKING = threading.Lock()


def _plain(cls: type[_M], values: dict[str, Any], fields_set: set[str]) -> _M:
    """Unpickle as our own model: the other side may not have the SDK."""
    return cls.model_construct(_fields_set=fields_set, **values)


def _both(ours: type[BaseModel]) -> type[BaseModel] | None:
    """The subclass of ``ours`` and of its SDK model (made once), or ``None``."""
    if ours in _BOTH:
        return _BOTH[ours]
    with _MAKING:
        if ours in _BOTH:
            return _BOTH[ours]
        from langsmith import schemas

        theirs = getattr(schemas, _SDK_NAMES[ours], None)
        made: type[BaseModel] | None = None
        if isinstance(theirs, type) and issubclass(theirs, BaseModel):

            def __eq__(self: BaseModel, other: object) -> bool:
                if not isinstance(other, ours):
                    return NotImplemented
                return self.__dict__ == other.__dict__

            def __reduce__(self: BaseModel) -> Any:
                return (_plain, (ours, dict(self.__dict__), set(self.model_fields_set)))

            namespace: dict[str, Any] = {
                "__module__": ours.__module__,
                "__qualname__": ours.__qualname__,
                "__doc__": ours.__doc__,
                # ours, not the SDK's ``frozen`` (a key ours leaves out would be the SDK's)
                "model_config": {"frozen": False, **ours.model_config},
                # ours, not the SDK's overrides (its ``__init__`` sets private URLs)
                "__init__": ours.__init__,
                "__repr__": ours.__repr__,
                "__str__": ours.__str__,
                "__hash__": ours.__hash__,
                "__eq__": __eq__,
                "__reduce__": __reduce__,
            }
            made = type(ours.__name__, (ours, theirs), namespace)
            # our fields in our order (the SDK's came first), dumped by our serializer
            made.__pydantic_fields__ = ours.__pydantic_fields__
            made.__pydantic_serializer__ = ours.__pydantic_serializer__
        _BOTH[ours] = made
        return made


def also_sdk(model: _M) -> _M:
    """``model`` as an instance of its class and of the SDK's, if the SDK is imported."""
    if type(model) not in _SDK_NAMES or "langsmith.schemas" not in sys.modules:
        return model  # not one of ours to convert (or already converted), or no SDK
    cls = _both(type(model))
    if cls is None:
        return model
    made = cls.model_construct(_fields_set=set(model.model_fields_set), **model.__dict__)
    return made  # type: ignore[return-value]
