"""The OpenAPI document: request bodies the routes read themselves, the one error shape, and
the schema of ``/openapi.json``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from ._schemas import BatchIn, RunIn


def json_body_doc(model: type, description: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    }


MULTIPART_DOC = {
    "requestBody": {
        "required": True,
        "description": (
            "multipart/form-data, optionally Content-Encoding: zstd (or gzip). Parts: "
            "post.<run id> / patch.<run id> (run JSON), post.<run id>.<field> for field in "
            "inputs, outputs, events, extra, error, serialized (JSON), "
            "attachment.<run id>.<name> (raw bytes, Content-Type = the file's type), "
            "feedback.<feedback id> (feedback JSON)."
        ),
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "additionalProperties": {"type": "string", "format": "binary"},
                }
            }
        },
    }
}

ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Every part was accepted",
        "content": {
            "application/json": {
                "example": {"posts": 2, "patches": 0, "feedback": 1, "attachments": 0}
            }
        },
    }
}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["type", "status", "message", "details"],
            "properties": {
                "type": {"type": "string"},
                "status": {"type": "integer"},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "loc": {"type": "string"},
                            "run_id": {"type": ["string", "null"]},
                            "field": {"type": ["string", "null"]},
                            "message": {"type": "string"},
                            "fix": {"type": ["string", "null"]},
                        },
                    },
                },
            },
        }
    },
}


def errors_doc(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {
        status: {
            "description": "Error (one shape for every error)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for status in statuses
    }


def model_doc(model: Any, *errors: int) -> dict[int | str, dict[str, Any]]:
    doc: dict[int | str, dict[str, Any]] = {200: {"model": model}}
    doc.update(errors_doc(*errors))
    return doc


def openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (BatchIn, RunIn):
            extra = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, sub in extra.pop("$defs", {}).items():
                components.setdefault(name, sub)
            components[model.__name__] = extra
        components["Error"] = ERROR_SCHEMA
        app.openapi_schema = schema
        return schema

    return build


__all__ = [
    "ACCEPTED",
    "ERROR_SCHEMA",
    "MULTIPART_DOC",
    "errors_doc",
    "json_body_doc",
    "model_doc",
    "openapi",
]
