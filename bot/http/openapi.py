"""The OpenAPI description of the pipeline API, served at /api/v1/openapi.json.

Tests validate real responses against these schemas, so this stays true.
"""

from __future__ import annotations

from typing import Any

from bot import __version__
from bot.domain.request_fields import FIELDS, Field, Kind

STATUSES = ["pending", "approved", "denied", "cancelled", "not_required", "expired"]
_TS = {"type": ["string", "null"], "format": "date-time"}
_STR_OR_NULL = {"type": ["string", "null"]}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _stored_schema(field: Field) -> dict[str, Any]:
    """A field as a request carries it in responses."""
    if field.kind is Kind.YES_NO:
        return {"type": "boolean"}
    if field.kind is Kind.PEOPLE:
        return {"type": "array", "items": {"type": "string"}}
    schema: dict[str, Any] = {"type": "string"}
    if field.kind is Kind.URL:
        schema["format"] = "uri"
    return schema


def _input_schema(field: Field) -> dict[str, Any]:
    """A field as a pipeline sends it, with the limits validation enforces."""
    schema = _stored_schema(field)
    if field.kind is Kind.PEOPLE:
        schema["maxItems"] = field.max_length
    elif field.kind is not Kind.YES_NO:
        schema["maxLength"] = field.max_length
    if field.required and field.kind is Kind.TEXT:
        schema["minLength"] = 1
    if field.kind is Kind.COMMIT:
        schema["pattern"] = "^[0-9a-fA-F]*$"
    if field.default:
        schema["default"] = field.default
    if field.api_description:
        schema["description"] = field.api_description
    return schema


def document() -> dict[str, Any]:
    request_schema = {
        "type": "object",
        "required": [
            "id",
            "status",
            "sign_off_required",
            "policy_reason",
            "requester",
            *(f.name for f in FIELDS),
            "source",
            "pipeline",
            "reviewer",
            "reviewers",
            "approvals_needed",
            "decided_by",
            "reason",
            "created_at",
            "updated_at",
            "assigned_at",
            "decided_at",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": "^CR-[0-9]+$", "examples": ["CR-42"]},
            "status": {"type": "string", "enum": STATUSES},
            "sign_off_required": {"type": "boolean"},
            "policy_reason": {"type": "string"},
            "requester": {"type": "string", "description": "Slack user ID"},
            **{f.name: _stored_schema(f) for f in FIELDS},
            "source": {"type": "string", "enum": ["slack", "api"]},
            "pipeline": _STR_OR_NULL,
            "reviewer": {**_STR_OR_NULL, "description": "the current reviewer; null while unclaimed"},
            "reviewers": {"type": "array", "items": {"type": "string"}, "description": "everyone ever assigned"},
            "approvals_needed": {"type": "integer", "minimum": 1},
            "decided_by": _STR_OR_NULL,
            "reason": {**_STR_OR_NULL, "description": "the reason given with a denial"},
            "created_at": {"type": "string", "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "assigned_at": _TS,
            "decided_at": _TS,
        },
    }
    new_request = {
        "type": "object",
        "required": ["requester", *(f.name for f in FIELDS if f.required)],
        "additionalProperties": False,
        "properties": {
            "requester": {"type": "string", "description": "Slack user ID (U…) or email"},
            **{f.name: _input_schema(f) for f in FIELDS},
        },
    }
    error = {
        "type": "object",
        "required": ["error", "message"],
        "properties": {
            "error": {"type": "string"},
            "message": {"type": "string"},
            "code": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }
    request_response = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Request"}}}}
    common_errors = {
        "401": _error_response("Missing, wrong or revoked token"),
        "405": _error_response("Wrong method"),
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "signoff pipeline API", "version": __version__},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Request": request_schema, "NewRequest": new_request, "Error": error},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/requests": {
                "post": {
                    "summary": "Ask for sign-off",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 200},
                            "description": "Same key and body: the same request (200). Same key, other body: 422.",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewRequest"}}},
                    },
                    "responses": {
                        "201": {"description": "Created", **request_response},
                        "200": {"description": "An idempotent repeat", **request_response},
                        "400": _error_response("Malformed JSON"),
                        "413": _error_response("Body over 64 KiB"),
                        "422": _error_response("Field errors, naming each field"),
                        "503": _error_response("Slack could not resolve an email; retry"),
                        **common_errors,
                    },
                }
            },
            "/api/v1/requests/{id}": {
                "get": {
                    "summary": "The state of a request; optionally wait for a decision",
                    "parameters": [
                        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {
                            "name": "wait",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "number", "minimum": 0, "maximum": 60},
                            "description": "Long-poll up to this many seconds while the request is pending.",
                        },
                    ],
                    "responses": {
                        "200": {"description": "The request", **request_response},
                        "404": _error_response("Unknown id"),
                        "422": _error_response("Bad id or wait"),
                        **common_errors,
                    },
                }
            },
        },
    }
