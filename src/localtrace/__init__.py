"""localtrace: a local trace store for LLM applications, speaking LangSmith.

Runs traced with the langsmith SDK go into one SQLite file; read them back with the same
``list_runs`` / ``read_run`` / ``get_run_stats`` calls, the same filter language and the same
shapes as LangSmith.
"""

from typing import TYPE_CHECKING, Any

from .errors import (
    DatasetExistsError,
    DatasetNotFoundError,
    ExampleExistsError,
    ExampleNotFoundError,
    FeedbackExistsError,
    FeedbackNotFoundError,
    FilterError,
    FilterFieldError,
    FilterSyntaxError,
    InvalidArgumentError,
    InvalidRunError,
    LocaltraceError,
    ModelPriceNotFoundError,
    NotFoundError,
    ProjectExistsError,
    ProjectNotFoundError,
    RunNotFoundError,
    RunProblem,
    SchemaVersionError,
    ServerConfigError,
    SharingUnavailableError,
    StoreBusyError,
    StoreError,
)

if TYPE_CHECKING:
    from ._unpriced_usage import UnpricedUsage
    from .client import Client, default_project_name
    from .models import (
        Dataset,
        Example,
        Feedback,
        ModelPrice,
        ModelPriceTier,
        Project,
        RecomputeResult,
        Run,
        RunStats,
        TracerSession,
        TracerSessionResult,
        UnpricedModel,
    )

_LAZY = {
    "Client": "client",
    "default_project_name": "client",
    "Dataset": "models",
    "Example": "models",
    "Feedback": "models",
    "ModelPrice": "models",
    "ModelPriceTier": "models",
    "Project": "models",
    "RecomputeResult": "models",
    "Run": "models",
    "RunStats": "models",
    "TracerSession": "models",
    "TracerSessionResult": "models",
    "UnpricedModel": "models",
    "UnpricedUsage": "_unpriced_usage",
}
"""Names imported on first use: ``import localtrace._ingest...`` (the writer process) or
``localtrace.errors`` need neither the client nor pydantic, and start in a fraction of the
time."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'localtrace' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__version__ = "0.1.0"

__all__ = [
    "Client",
    "Dataset",
    "DatasetExistsError",
    "DatasetNotFoundError",
    "Example",
    "ExampleExistsError",
    "ExampleNotFoundError",
    "Feedback",
    "FeedbackExistsError",
    "FeedbackNotFoundError",
    "FilterError",
    "FilterFieldError",
    "FilterSyntaxError",
    "InvalidArgumentError",
    "InvalidRunError",
    "LocaltraceError",
    "ModelPrice",
    "ModelPriceNotFoundError",
    "ModelPriceTier",
    "NotFoundError",
    "Project",
    "ProjectExistsError",
    "ProjectNotFoundError",
    "RecomputeResult",
    "Run",
    "RunNotFoundError",
    "RunProblem",
    "RunStats",
    "SchemaVersionError",
    "ServerConfigError",
    "SharingUnavailableError",
    "StoreBusyError",
    "StoreError",
    "TracerSession",
    "TracerSessionResult",
    "UnpricedModel",
    "UnpricedUsage",
    "__version__",
    "default_project_name",
]
