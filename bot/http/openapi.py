"""The OpenAPI description of the pipeline API, served at /api/v1/openapi.json.

Tests validate real responses against these schemas, so this stays true.
"""

from __future__ import annotations

from typing import Any

from bot import __version__
from bot.domain.models import FinalReason, Status
from bot.domain.plan_summary import ADDRESS_MAX, FORMAT_NAMES, MAX_PLANS, MAX_RESOURCES, REASON_MAX
from bot.domain.request_fields import COMMAND_MAX, FIELDS, WORKDIR_MAX, Field, FieldKind
from bot.domain.verification import Verified

STATUSES = [s.value for s in Status]
FINAL_REASONS = [r.value for r in FinalReason]
_TS = {"type": ["string", "null"], "format": "date-time"}
_STR_OR_NULL = {"type": ["string", "null"]}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


_PLAN = {
    "type": ["object", "null"],
    "required": ["sha256"],
    "additionalProperties": False,
    "properties": {
        "sha256": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_PLANS,
            "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        },
        "formats": {"type": "array", "items": {"type": "string", "enum": list(FORMAT_NAMES)}},
        **{n: {"type": "integer", "minimum": 0} for n in ("creates", "updates", "deletes", "replaces")},
        "resources": {
            "type": "array",
            "maxItems": MAX_RESOURCES,
            "items": {
                "type": "object",
                "required": ["address", "action"],
                "additionalProperties": False,
                "properties": {
                    "address": {"type": "string", "minLength": 1, "maxLength": ADDRESS_MAX},
                    "action": {"type": "string", "enum": ["delete", "replace"]},
                    "reason": {"type": "string", "maxLength": REASON_MAX},
                },
            },
        },
    },
}


def _stored_schema(field: Field) -> dict[str, Any]:
    """A field as a request carries it in responses."""
    if field.kind is FieldKind.YES_NO:
        return {"type": "boolean"}
    if field.kind is FieldKind.MAYBE:
        return {"type": ["boolean", "null"]}
    if field.kind is FieldKind.PLAN_SUMMARY:
        return dict(_PLAN)
    if field.kind is FieldKind.PEOPLE:
        return {"type": "array", "items": {"type": "string"}}
    schema: dict[str, Any] = {"type": "string"}
    if field.kind is FieldKind.URL:
        schema["format"] = "uri"
    return schema


def _input_schema(field: Field) -> dict[str, Any]:
    """A field as a pipeline sends it, with the limits validation enforces."""
    schema = _stored_schema(field)
    if field.kind is FieldKind.PEOPLE:
        schema["maxItems"] = field.max_length
    elif field.kind not in (FieldKind.YES_NO, FieldKind.MAYBE, FieldKind.PLAN_SUMMARY):
        schema["maxLength"] = field.max_length
    if field.required and field.kind is FieldKind.TEXT:
        schema["minLength"] = 1
    if field.kind is FieldKind.COMMIT:
        schema["pattern"] = "^[0-9a-fA-F]*$"
    if field.kind is FieldKind.CHOICE:
        schema["enum"] = ["", *field.choices]
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
            "final_reason",
            "outcome",
            "names",
            "valid_until",
            "approval_expired",
            "used_by_run",
            "sign_off_required",
            "policy_reason",
            "requester",
            *(f.name for f in FIELDS),
            "source",
            "pipeline",
            "reviewer",
            "reviewers",
            "approvers",
            "destroys",
            "approvals_needed",
            "approvals",
            "break_glass",
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
            "final_reason": {
                "type": ["string", "null"],
                "enum": [*FINAL_REASONS, None],
                "description": "why it ended (null while pending): tells apart the ways a request can be expired",
            },
            "outcome": {"type": "string", "description": "how it ended (or where it stands), in words, with names"},
            "names": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "description": "display names of the Slack users the answer mentions, by user ID (as Slack gave them)",
            },
            "valid_until": {**_TS, "description": "an approval may be applied until then (APPROVAL_VALID_FOR)"},
            "approval_expired": {"type": "boolean", "description": "approved, but longer ago than APPROVAL_VALID_FOR"},
            "used_by_run": {**_STR_OR_NULL, "description": "the CI run that used the approval up (verify --once)"},
            "sign_off_required": {"type": "boolean"},
            "policy_reason": {"type": "string"},
            "requester": {"type": "string", "description": "Slack user ID"},
            **{f.name: _stored_schema(f) for f in FIELDS},
            "source": {"type": "string", "enum": ["slack", "api", "workflow", "github"]},
            "pipeline": _STR_OR_NULL,
            "reviewer": {**_STR_OR_NULL, "description": "the current reviewer; null while unclaimed"},
            "reviewers": {"type": "array", "items": {"type": "string"}, "description": "everyone ever assigned"},
            "approvers": {"type": "array", "items": {"type": "string"}, "description": "every senior who approved"},
            "destroys": {
                "type": ["boolean", "null"],
                "description": "the plan deletes or replaces something, or the requester said so; null: not known",
            },
            "approvals_needed": {"type": "integer", "minimum": 1},
            "approvals": {"type": "integer", "minimum": 0, "description": "distinct seniors who approved so far"},
            "break_glass": {
                "type": ["object", "null"],
                "required": ["reason", "review", "reviewed_by", "note", "reviewed_at"],
                "additionalProperties": False,
                "properties": {
                    "reason": {"type": "string"},
                    "review": {"type": "string", "enum": ["pending", "justified", "not_justified"]},
                    "reviewed_by": _STR_OR_NULL,
                    "note": _STR_OR_NULL,
                    "reviewed_at": _TS,
                },
            },
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
        "required": [f.name for f in FIELDS if f.required],
        "additionalProperties": False,
        "properties": {
            "requester": {
                "type": "string",
                "description": "Slack user ID (U…) or email; required with an API token. With an OIDC ID token the "
                "requester is the person behind the run (its actor or user_login, through the roster), and a "
                "requester naming somebody else is refused (403).",
            },
            **{f.name: _input_schema(f) for f in FIELDS},
            "break_glass": {
                "type": "string",
                "minLength": 1,
                "maxLength": 1000,
                "description": "the emergency's reason: approve at once and review after the fact (roster only)",
            },
        },
    }
    verification = {
        "type": "object",
        "required": [
            "id",
            "result",
            "status",
            "approved_sha256",
            "unknown_sha256",
            "valid_until",
            "used_by_run",
            "decided_by",
            "break_glass",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "string", "pattern": "^CR-[0-9]+$"},
            "result": {"type": "string", "enum": [v.value for v in Verified]},
            "valid_until": _TS,
            "used_by_run": _STR_OR_NULL,
            "status": {"type": "string", "enum": STATUSES},
            "approved_sha256": {"type": "array", "items": {"type": "string"}},
            "unknown_sha256": {"type": "array", "items": {"type": "string"}},
            "decided_by": _STR_OR_NULL,
            "break_glass": {"type": "boolean"},
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
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token from API_TOKENS, or an OIDC ID token from an issuer in OIDC_ISSUERS "
                    "for a repository in OIDC_ALLOW",
                }
            },
            "schemas": {
                "Request": request_schema,
                "NewRequest": new_request,
                "Verification": verification,
                "Error": error,
            },
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
                        "413": _error_response("Body over 512 KiB"),
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
            "/api/v1/requests/{id}/verify": {
                "post": {
                    "summary": "Is this plan (by SHA-256) the one that was approved? Audited.",
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "description": "sha256 is required unless command is given",
                                    "properties": {
                                        "sha256": _PLAN["properties"]["sha256"],  # type: ignore[index]
                                        "command": {
                                            "type": "string",
                                            "maxLength": COMMAND_MAX,
                                            "description": "the exact command about to run: other_command unless "
                                            "it and workdir are the approved ones",
                                        },
                                        "workdir": {"type": "string", "maxLength": WORKDIR_MAX},
                                        "once": {
                                            "type": "string",
                                            "maxLength": 200,
                                            "description": "the CI run's id: use the approval up for this run",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "The answer: match, mismatch, not_approved, expired, used or other_command",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Verification"}}},
                        },
                        "400": _error_response("Malformed JSON"),
                        "404": _error_response("Unknown id"),
                        "422": _error_response("Bad id or digests"),
                        **common_errors,
                    },
                }
            },
            "/api/v1/requests/{id}/give-up": {
                "post": {
                    "summary": "The pipeline that asked stopped waiting: a pending request expires",
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "The request, expired unless it was decided first", **request_response},
                        "403": _error_response("Another pipeline asked for this request"),
                        "404": _error_response("Unknown id"),
                        "422": _error_response("Bad id"),
                        **common_errors,
                    },
                }
            },
            "/api/v1/requests/{id}/command": {
                "post": {
                    "summary": "signoff guard reports that the approved command started, or how it ended. Audited.",
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["event", "command"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "event": {"type": "string", "enum": ["started", "finished"]},
                                        "command": {"type": "string", "minLength": 1, "maxLength": 4000},
                                        "exit_code": {"type": "integer", "minimum": -255, "maximum": 255},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Recorded",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "required": ["id", "recorded"],
                                        "properties": {"id": {"type": "string"}, "recorded": {"type": "string"}},
                                    }
                                }
                            },
                        },
                        "403": _error_response("Another pipeline asked for this request"),
                        "404": _error_response("Unknown id"),
                        "422": _error_response("Field errors"),
                        **common_errors,
                    },
                }
            },
        },
    }
