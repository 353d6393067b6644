"""localtrace: a local trace store for LLM applications, speaking LangSmith.

Runs traced with the langsmith SDK go into one SQLite file; read them back with the same
``list_runs`` / ``read_run`` / ``get_run_stats`` calls, the same filter language and the same
shapes as LangSmith.
"""

from .client import Client, default_project_name
from .errors import (
    DatasetExistsError,
    DatasetNotFoundError,
    ExampleExistsError,
    ExampleNotFoundError,
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
    StoreBusyError,
    StoreError,
)
from .models import (
    Dataset,
    Example,
    Feedback,
    ModelPrice,
    Project,
    RecomputeResult,
    Run,
    RunStats,
    TracerSession,
    TracerSessionResult,
    UnpricedModel,
)

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
    "FeedbackNotFoundError",
    "FilterError",
    "FilterFieldError",
    "FilterSyntaxError",
    "InvalidArgumentError",
    "InvalidRunError",
    "LocaltraceError",
    "ModelPrice",
    "ModelPriceNotFoundError",
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
    "StoreBusyError",
    "StoreError",
    "TracerSession",
    "TracerSessionResult",
    "UnpricedModel",
    "__version__",
    "default_project_name",
]
