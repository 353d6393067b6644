"""The public surface is pinned, and imports only point down the layers of the design."""

from __future__ import annotations

import ast
from pathlib import Path

import localtrace

PACKAGE = Path(localtrace.__file__).parent

PUBLIC = {
    "Dataset",
    "DatasetExistsError",
    "DatasetNotFoundError",
    "Example",
    "ExampleExistsError",
    "ExampleNotFoundError",
    "Client",
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
    "ModelPriceTier",
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
    "SharingUnavailableError",
    "StoreBusyError",
    "StoreError",
    "TracerSession",
    "TracerSessionResult",
    "UnpricedModel",
    "UnpricedUsage",
    "__version__",
    "default_project_name",
}


def test_public_names_are_pinned() -> None:
    assert set(localtrace.__all__) == PUBLIC
    for name in PUBLIC:
        assert hasattr(localtrace, name)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = path.parent.relative_to(PACKAGE).parts[
                : len(path.parent.relative_to(PACKAGE).parts) - (node.level - 1)
            ]
            module = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found.add(module or (node.names[0].name if node.names else ""))
            if node.module is None:
                found.update(".".join([*base, alias.name]) for alias in node.names)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = (
                [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            )
            for name in names:
                if name and name.startswith("localtrace"):
                    found.add(name.removeprefix("localtrace").lstrip("."))
    return found


# A module may not import anything listed against it: the arrows point one way. Each folder
# names a side: the store, the write side, the read side, statistics, the pure filter language.
FACES = {"server", "cli", "pytest_plugin", "mcp", "ui"}
FORBIDDEN = {
    "filters": {"_store", "_ingest", "_query", "_stats", "_transfer", "client", "aio", *FACES},
    "_store": {"_ingest", "_query", "_stats", "_transfer", "filters", "client", "aio", *FACES},
    "_ingest": {"_query", "_stats", "_transfer", "filters", "client", "aio", *FACES},
    "_query": {"_ingest", "_transfer", "client", "aio", *FACES},
    "_stats": {"_ingest", "_transfer", "client", "aio", *FACES},
    "_dotted": {"_store", "_ingest", "_query", "_stats", "client", *FACES},
    "models": {"_store", "_ingest", "_query", "_stats", "filters", "client", *FACES},
    "client": FACES,
    "aio": FACES,
    # digests are pure: a run tree in, Markdown out
    "_digest": {
        "_store",
        "_ingest",
        "_query",
        "_stats",
        "_transfer",
        "filters",
        "client",
        "aio",
        *FACES,
    },
    # the MCP server is a face over the public Client
    "mcp": {"_store", "_ingest", "_query", "_stats", "_transfer", "server", "cli", "pytest_plugin"},
    # OTLP <-> runs: maps only, and writes through the public Client
    "otel": {"_store", "_ingest", "_query", "_stats", "_transfer", "filters", "aio", *FACES},
    # the web UI is a face over the public Client: no store, no SQL, no other face
    "ui": {"_store", "_ingest", "_query", "_stats", "_transfer", *(FACES - {"ui"})},
}


def test_imports_only_point_down() -> None:
    problems = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE).with_suffix("")
        owner = relative.parts[0]
        rules = FORBIDDEN.get(owner)
        if not rules:
            continue
        for imported in _imports(path):
            top = imported.split(".")[0]
            if top in rules:
                problems.append(f"{'/'.join(relative.parts)} imports {imported}")
    assert problems == []


def test_filters_never_touch_sqlite_or_eval() -> None:
    for path in (PACKAGE / "filters").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "import sqlite3" not in text, path
        assert "eval(" not in text, path


def test_client_holds_no_sql() -> None:
    text = (PACKAGE / "client.py").read_text(encoding="utf-8")
    for keyword in ("SELECT ", "INSERT ", "DELETE FROM"):
        assert keyword not in text, keyword


# Faces show what the public API gives: they import the public modules (client, aio, errors,
# models, types, filters, display, render, and the other faces they start) and their own
# package, nothing private of the library. A face needing more gets a public Client method.
FACE_MODULES = ("cli", "server", "ui", "mcp", "pytest_plugin", "otel/_exporter")
FACE_EXCEPTIONS = {
    # `db info` and `db vacuum` act on the file itself: a Client would migrate an older file
    # (and refuse a newer one) that `db info` must report as it is, and `require_store` keeps
    # a command from creating a file where none is.
    ("cli", "_store.info"): "file-level facts and compaction, without opening a Client",
    # --since/--before take the dates the Client takes, checked when the options are parsed
    # so that a bad date is a usage error naming the option.
    ("cli", "_time"): "the Client's date syntax, for a usage error at parse time",
    # The server checks each run's id before the batch is committed (so the refusal names the
    # multipart part) with the one id parser and the one internal refusal type.
    ("server", "_ids"): "run ids of a request checked where its parts are known",
    # Request bodies are parsed to the depth the store keeps, and too-deep JSON is a 400.
    ("server", "_json"): "the store's JSON depth limit, shared by the body parser",
    # /api/v2/sessions?dataset_version= compares the moment an experiment recorded with the
    # one asked for, both read with the store's one date syntax.
    ("server", "_time"): "dataset versions compared as moments, in the Client's date syntax",
    # An agent address resolves to the project ingest filed its runs under: one syntax.
    ("server", "_address"): "the agent address -> project name rule that ingest applies",
    # A share link is refused in the same words by the server (a 403) and the Client.
    ("server", "_sharing"): "the one wording of a refused share link and what to do instead",
    # The UI flattens 25,000-run trees in the server's threads while the writer's thread writes
    # batches: both hold the one counted pause of the process-wide cycle collector.
    ("ui", "_gc"): "the cycle collector's pause, counted across the process's threads",
}


def _is_private(module: str) -> bool:
    return any(part.startswith("_") and not part.startswith("__") for part in module.split("."))


def _modules_imported(path: Path) -> set[str]:
    """``_imports``, with ``from pkg import module`` counted as ``pkg.module`` alone."""
    found = _imports(path)
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level and node.module:
            base = path.parent.relative_to(PACKAGE).parts
            base = base[: len(base) - (node.level - 1)]
            module = ".".join([*base, *node.module.split(".")])
            folder = PACKAGE.joinpath(*module.split("."))
            subs = [a.name for a in node.names if (folder / f"{a.name}.py").exists()]
            if subs and len(subs) == len(node.names):
                found.discard(module)
            found.update(f"{module}.{sub}" for sub in subs)
    return found


def test_faces_import_only_the_public_api() -> None:
    problems = []
    used = set()
    for face in FACE_MODULES:
        root = PACKAGE / face
        paths = sorted(root.rglob("*.py")) if root.is_dir() else [root.with_suffix(".py")]
        own = face.replace("/", ".")
        package = own.split(".")[0]
        for path in paths:
            for imported in _modules_imported(path):
                if imported == own or imported.startswith(f"{package}."):
                    continue  # the face's own modules
                if not _is_private(imported):
                    continue
                if (package, imported) in FACE_EXCEPTIONS:
                    used.add((package, imported))
                    continue
                problems.append(f"{path.relative_to(PACKAGE)} imports {imported}")
    assert problems == []
    assert used == set(FACE_EXCEPTIONS), "an exception no face needs any more: remove it"


def test_one_place_inserts_project_rows() -> None:
    """Ingest and ``create_project`` write project rows through ``_store.projects`` alone."""
    sites = [
        path.relative_to(PACKAGE).as_posix()
        for path in PACKAGE.rglob("*.py")
        if "INTO projects" in path.read_text(encoding="utf-8")
    ]
    assert sites == ["_store/projects.py"]


def test_the_writer_process_starts_without_the_models() -> None:
    """The writer process every traced program starts imports the write side only: pydantic
    and the read models (a tenth of a second of start-up, on the core the program runs on)
    stay out of it."""
    import subprocess
    import sys

    code = (
        "import sys; from localtrace._ingest.writer_process import main; "
        "print(sorted(m for m in ('pydantic', 'numpy', 'localtrace.models') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "[]"
