"""localtrace: a local trace store for LLM applications, speaking LangSmith.

Runs traced with the langsmith SDK go into one SQLite file; read them back with the same
``list_runs`` / ``read_run`` / ``get_run_stats`` calls, the same filter language and the same
shapes as LangSmith.
"""

from .client import Client, default_project_name
from .errors import (
    FeedbackNotFoundError,
    FilterError,
    FilterFieldError,
    FilterSyntaxError,
    InvalidArgumentError,
    InvalidRunError,
    LocaltraceError,
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
from .models import Feedback, Project, Run, RunStats, TracerSession, TracerSessionResult

__version__ = "0.1.0"

__all__ = [
    "Client",
    "Feedback",
    "FeedbackNotFoundError",
    "FilterError",
    "FilterFieldError",
    "FilterSyntaxError",
    "InvalidArgumentError",
    "InvalidRunError",
    "LocaltraceError",
    "NotFoundError",
    "Project",
    "ProjectExistsError",
    "ProjectNotFoundError",
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
    "__version__",
    "default_project_name",
]
