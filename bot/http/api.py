"""The pipeline API: POST /api/v1/requests and GET /api/v1/requests/{id}.

Thin: authenticate, parse, call the same services as /signoff, render JSON. Every
error is JSON with a message a person can act on, and none of them writes a request.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from aiohttp import web

from bot import deadlines, log_context
from bot.admission import BUDGET, Admission
from bot.domain.errors import (
    Busy,
    InvalidInput,
    MalformedPayload,
    NotThisPipeline,
    SignoffError,
    Unauthenticated,
    Unavailable,
)
from bot.domain.json_input import parse_json_object
from bot.domain.models import ChangeRequest, Status, format_ref, parse_ref
from bot.domain.outcomes import outcome_words
from bot.domain.plan_summary import DIGESTS_WANTED, valid_digests
from bot.domain.request_fields import API_FIELDS, COMMAND_MAX, FIELDS, WORKDIR_MAX, FieldKind
from bot.domain.timestamps import utc_text
from bot.domain.validation import validate_break_glass, validate_draft
from bot.errors_map import http_body, http_status
from bot.http.auth import ApiTokens
from bot.http.long_poll import ChangeFeed
from bot.http.oidc import OidcVerifier, PipelineIdentity, looks_like_jwt
from bot.http.openapi import document
from bot.http.resolve_people import USER_ID, Directory, resolve_authors, resolve_requester
from bot.services import queries
from bot.services.bad_tokens import BadTokenLog
from bot.services.create_request import Submission, create_request
from bot.services.deps import Deps
from bot.services.expire_request import give_up
from bot.services.guarded_commands import record_command
from bot.services.names import NameBook
from bot.services.verify_plan import BoundCommand, valid_until, verify_plan

log = logging.getLogger(__name__)
MAX_BODY = 512 * 1024  # a plan summary lists up to 300 resources by address
MAX_WAIT_SECONDS = 60
MAX_WAITERS = 20_000  # long-polls held at once; beyond it a GET answers at once instead of holding a socket
BODY_READ_SECONDS = 10.0  # a slow client cannot hold a handler longer
IDEMPOTENCY_KEY_MAX = 200
RUN_MAX = 200  # a CI run's id, for single-use approvals
ACCEPTED = frozenset((*API_FIELDS, "break_glass"))


def _iso(value: Any) -> str | None:
    return utc_text(value) if value is not None else None


def _field_json(req: ChangeRequest, kind: FieldKind, value: Any) -> Any:
    if kind is FieldKind.PEOPLE:
        return list(value)
    if kind is FieldKind.PLAN_SUMMARY:
        return value.to_json() if value is not None else None
    return value


def people_in(req: ChangeRequest, reviewers: list[str]) -> list[str]:
    """Every Slack user a request's answer names (authors given as emails are not users)."""
    ids = [req.requester, *reviewers, req.decided_by or "", *req.draft.authors]
    if req.break_glass is not None and req.break_glass.reviewed_by:
        ids.append(req.break_glass.reviewed_by)
    return [i for i in dict.fromkeys(ids) if USER_ID.match(i)]


def request_json(
    req: ChangeRequest,
    reviewers: list[str],
    approvers: list[str],
    usable_until: datetime | None,
    names: dict[str, str],
    now: datetime,
) -> dict[str, Any]:
    d = req.draft
    glass = req.break_glass
    return {
        "id": req.ref,
        "status": req.status.value,
        "final_reason": req.final_reason.value if req.final_reason is not None else None,
        "outcome": outcome_words(req, lambda user: names.get(user or "", "a senior reviewer"), approvers),
        "names": names,
        "valid_until": _iso(usable_until),
        "approval_expired": usable_until is not None and now >= usable_until,
        "used_by_run": req.used_by_run,
        "sign_off_required": req.sign_off_required,
        "policy_reason": req.policy_reason,
        "requester": req.requester,
        **{f.name: _field_json(req, f.kind, getattr(d, f.name)) for f in FIELDS},
        "destroys": d.destroys,
        "source": req.source,
        "pipeline": req.pipeline,
        "reviewer": req.reviewer,
        "reviewers": reviewers,
        "approvers": approvers,
        "approvals_needed": req.approvals_needed,
        "approvals": req.approvals,
        "break_glass": None
        if glass is None
        else {
            "reason": glass.reason,
            "review": glass.verdict.value,
            "reviewed_by": glass.reviewed_by,
            "note": glass.note,
            "reviewed_at": _iso(glass.reviewed_at),
        },
        "decided_by": req.decided_by,
        "reason": req.reason,
        "created_at": _iso(req.created_at),
        "updated_at": _iso(req.updated_at),
        "assigned_at": _iso(req.assigned_at),
        "decided_at": _iso(req.decided_at),
    }


def _error(err: SignoffError) -> web.Response:
    headers = {"Retry-After": str(getattr(err, "retry_after", 5))} if isinstance(err, Unavailable) else None
    return web.json_response(http_body(err), status=http_status(err), headers=headers)


def _busy(admission: Admission, what: str) -> None:
    """Shed at the door when a queue stands (see bot/admission.py): nothing is read or stored."""
    if admission.busy():
        admission.refuse(what)
        raise Busy()


@dataclass
class PipelineApi:
    deps: Deps
    tokens: ApiTokens
    directory: Directory
    feed: ChangeFeed
    bad_tokens: BadTokenLog
    admission: Admission
    names: NameBook
    oidc: OidcVerifier | None = None
    max_waiters: int = MAX_WAITERS

    def register(self, app: web.Application) -> None:
        app.router.add_post("/api/v1/requests", self.create)
        app.router.add_get("/api/v1/requests/{ref}", self.get)
        app.router.add_post("/api/v1/requests/{ref}/verify", self.verify)
        app.router.add_post("/api/v1/requests/{ref}/give-up", self.give_up)
        app.router.add_post("/api/v1/requests/{ref}/command", self.command)
        app.router.add_get("/api/v1/openapi.json", self.openapi)

    async def _pipeline(self, request: web.Request) -> str:
        return (await self._identity(request)).pipeline

    async def _identity(self, request: web.Request) -> PipelineIdentity:
        """Who asks: a static API token's pipeline, or a pipeline verified by its OIDC ID token.
        Every refusal is audited (bad tokens at a bounded rate)."""
        header = request.headers.get("Authorization")
        given = header.removeprefix("Bearer ").strip() if header and header.startswith("Bearer ") else ""
        try:
            if self.oidc is not None and self.oidc.enabled and looks_like_jwt(given):
                return await self.oidc.identity(given)
            return PipelineIdentity(self.tokens.pipeline_for(header))
        except (Unauthenticated, NotThisPipeline) as err:
            remote = request.remote or "unknown"
            await self.bad_tokens.refuse(f"api:{remote}", f"{request.method} {request.path[:200]}", err)
            raise

    async def _body(self, request: web.Request) -> dict[str, Any]:
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise _TooLarge()
        try:
            async with asyncio.timeout(BODY_READ_SECONDS):
                raw = await request.content.read(MAX_BODY + 1)
        except TimeoutError:
            raise MalformedPayload(f"The body did not arrive within {BODY_READ_SECONDS:.0f} seconds.") from None
        if len(raw) > MAX_BODY:
            raise _TooLarge()
        body = parse_json_object(raw)
        return body

    async def create(self, request: web.Request) -> web.Response:
        try:
            _busy(self.admission, "api_create")
            with deadlines.within(BUDGET):
                return await self._create(request)
        except SignoffError as err:
            return _error(err)

    async def _create(self, request: web.Request) -> web.Response:
        try:
            identity = await self._identity(request)
            pipeline = identity.pipeline
            body = await self._body(request)
            if identity.kind == "oidc":
                body = _from_claims(identity, body)
            key = request.headers.get("Idempotency-Key")
            if key is not None and not 0 < len(key) <= IDEMPOTENCY_KEY_MAX:
                raise InvalidInput({"Idempotency-Key": f"must be 1..{IDEMPOTENCY_KEY_MAX} characters"})
            unknown = sorted(set(body) - ACCEPTED)
            errors = {name: "is not a field of a request" for name in unknown}
            requester_raw = body.get("requester")
            if identity.kind != "oidc" and (not isinstance(requester_raw, str) or not requester_raw.strip()):
                errors["requester"] = "is required: a Slack user ID or an email"
            glass = body.get("break_glass")
            if glass is not None:
                try:
                    glass = validate_break_glass(glass)
                except InvalidInput as err:
                    errors.update(err.fields)
            draft = validate_draft(body, errors)
            roster = self.deps.roster()
            if identity.kind == "oidc":
                requester = await self._human(request, identity, requester_raw)
            else:
                requester = await resolve_requester(self.directory, roster, str(requester_raw))
            authors = await resolve_authors(self.directory, roster, draft.authors)
            sub = Submission(
                requester=requester,
                draft=replace(draft, authors=authors),
                source="api",
                pipeline=pipeline,
                idempotency_key=f"api:{pipeline}:{key}" if key else None,
                break_glass=glass,
                identity=identity.kind,
            )
            created = await create_request(self.deps, sub)
            req = created.request
            log_context.request_id.set(req.ref)
            payload = await self._json(req)  # a failure here answers an error; a retry finds the stored request
        except _TooLarge:
            return _too_large()
        except SignoffError as err:
            return _error(err)
        status = 201 if created.created else 200
        headers = {"Location": f"/api/v1/requests/{req.ref}"}
        return web.json_response(payload, status=status, headers=headers)

    async def _human(self, request: web.Request, identity: PipelineIdentity, said: Any) -> str:
        """The person behind a verified pipeline, from the token's claim through the roster; a body
        ``requester`` naming somebody else is refused (403, audited)."""
        roster = self.deps.roster()
        site = "GitLab" if identity.platform == "gitlab" else "GitHub"
        engineer = (
            roster.by_gitlab(identity.human) if identity.platform == "gitlab" else roster.by_github(identity.human)
        )
        try:
            if engineer is None:
                raise NotThisPipeline(
                    f"signoff does not know the {site} user {identity.human or '(none)'} who ran this pipeline: add "
                    f"`{site.lower()}: {identity.human or 'LOGIN'}` to their roster entry."
                )
            if isinstance(said, str) and said.strip():
                named = await resolve_requester(self.directory, roster, said)
                if named != engineer.user:
                    raise NotThisPipeline(
                        f"The requester must be the person who ran this pipeline ({site} user {identity.human})."
                    )
        except NotThisPipeline as err:
            await self.bad_tokens.refuse(f"api:{request.remote or 'unknown'}", f"POST {request.path[:200]}", err)
            raise
        return engineer.user

    async def get(self, request: web.Request) -> web.Response:
        try:
            _busy(self.admission, "api_get")
            with deadlines.within(BUDGET):
                await self._pipeline(request)
            ref = request.match_info["ref"]
            request_id = parse_ref(ref)
            wait = _wait_seconds(request.query.get("wait"))
            if request_id is None:
                raise InvalidInput({"id": f"{ref!r} is not a request id like CR-42"})
            log_context.request_id.set(format_ref(request_id))
            with deadlines.within(BUDGET):
                req = await queries.get_request(self.deps, request_id)
            loop_time = asyncio.get_running_loop().time
            if self.feed.waiting >= self.max_waiters:
                wait = 0.0  # so many already wait that this one is answered now; the pipeline asks again
            deadline = loop_time() + wait
            while req.status is Status.PENDING and loop_time() < deadline and not self.feed.closed:
                await self.feed.wait(request_id, deadline - loop_time())
                with deadlines.within(BUDGET):
                    req = await queries.get_request(self.deps, request_id)
            payload = await self._json(req)
        except SignoffError as err:
            return _error(err)
        return web.json_response(payload)

    async def verify(self, request: web.Request) -> web.Response:
        """Is this plan (by SHA-256) the approved one? Audited whatever the answer."""
        try:
            _busy(self.admission, "api_verify")
            with deadlines.within(BUDGET):
                return await self._verify(request)
        except SignoffError as err:
            return _error(err)

    async def _verify(self, request: web.Request) -> web.Response:
        try:
            pipeline = await self._pipeline(request)
            ref = request.match_info["ref"]
            request_id = parse_ref(ref)
            body = await self._body(request)
            digests = body.get("sha256")
            fields = {"sha256", "once", "command", "workdir"}
            errors = {name: "is not a field of a verification" for name in sorted(set(body) - fields)}
            once = body.get("once")
            if once is not None and not (isinstance(once, str) and 0 < len(once) <= RUN_MAX and once.isprintable()):
                errors["once"] = f"must be the CI run's id: 1 to {RUN_MAX} printable characters"
            if request_id is None:
                errors["id"] = f"{str(ref)[:40]!r} is not a request id like CR-42"
            bound = _bound_command(body, errors)
            given = digests if valid_digests(digests) else [] if digests is None and bound is not None else None
            if given is None:
                errors["sha256"] = DIGESTS_WANTED
            if errors or request_id is None or given is None:
                raise InvalidInput(errors)
            log_context.request_id.set(format_ref(request_id))
            checked = await verify_plan(
                self.deps, request_id, tuple(given), pipeline, once if isinstance(once, str) else None, bound
            )
        except _TooLarge:
            return _too_large()
        except SignoffError as err:
            return _error(err)
        req = checked.request
        return web.json_response(
            {
                "id": req.ref,
                "result": checked.result.value,
                "status": req.status.value,
                "approved_sha256": list(checked.approved),
                "unknown_sha256": list(checked.unknown),
                "valid_until": _iso(checked.valid_until),
                "used_by_run": checked.used_by_run,
                "decided_by": req.decided_by,
                "break_glass": req.break_glass is not None,
            }
        )

    async def give_up(self, request: web.Request) -> web.Response:
        """The pipeline stopped waiting: a request still pending expires (only the pipeline that asked)."""
        try:
            _busy(self.admission, "api_give_up")
            with deadlines.within(BUDGET):
                pipeline = await self._pipeline(request)
                request_id = self._ref(request)
                req = await give_up(self.deps, request_id, pipeline)
            payload = await self._json(req)
        except SignoffError as err:
            return _error(err)
        return web.json_response(payload)

    async def command(self, request: web.Request) -> web.Response:
        """`signoff guard` says the guarded command started, or how it ended: audited."""
        try:
            _busy(self.admission, "api_command")
            with deadlines.within(BUDGET):
                pipeline = await self._pipeline(request)
                request_id = self._ref(request)
                body = await self._body(request)
                report = _command_report(body)
                req = await record_command(self.deps, request_id, pipeline, *report)
        except _TooLarge:
            return _too_large()
        except SignoffError as err:
            return _error(err)
        return web.json_response({"id": req.ref, "recorded": report[0]})

    @staticmethod
    def _ref(request: web.Request) -> int:
        ref = request.match_info["ref"]
        request_id = parse_ref(ref)
        if request_id is None:
            raise InvalidInput({"id": f"{str(ref)[:40]!r} is not a request id like CR-42"})
        log_context.request_id.set(format_ref(request_id))
        return request_id

    async def _json(self, req: ChangeRequest) -> dict[str, Any]:
        with deadlines.within(BUDGET):
            async with self.deps.store.read() as r:
                reviewers = await r.assignments.everyone(req.id)
                approvers = await r.decisions.approvers(req.id)
                names = await self.names.kept(r, people_in(req, reviewers))
        now = self.deps.clock.now()
        return request_json(req, reviewers, approvers, valid_until(req, self.deps), names, now)

    async def openapi(self, _: web.Request) -> web.Response:
        return web.json_response(document())


def _bound_command(body: dict[str, Any], errors: dict[str, str]) -> BoundCommand | None:
    """The command and directory a verify checks against the approved ones, when given."""
    command, workdir = body.get("command"), body.get("workdir")
    if command is None and workdir is None:
        return None
    if not isinstance(command, str) or not command.strip() or len(command) > COMMAND_MAX or "\x00" in command:
        errors["command"] = f"must be the command about to run, 1 to {COMMAND_MAX} characters"
    if not isinstance(workdir, str) or len(workdir) > WORKDIR_MAX or "\x00" in workdir:
        errors["workdir"] = f"must be the directory it runs in, at most {WORKDIR_MAX} characters"
    if "command" in errors or "workdir" in errors:
        return None
    return BoundCommand(str(command).strip(), str(workdir).strip())


def _from_claims(identity: PipelineIdentity, body: dict[str, Any]) -> dict[str, Any]:
    """What the verified token says of the pipeline wins over the body: its commit, environment
    and service (from OIDC_ALLOW)."""
    claimed: dict[str, Any] = {"service": identity.service}
    if identity.sha and all(c in "0123456789abcdefABCDEF" for c in identity.sha):
        claimed["commit"] = identity.sha
    if identity.environment:
        claimed["environment"] = identity.environment
    return {**body, **claimed}


def _command_report(body: dict[str, Any]) -> tuple[str, str, int | None]:
    """(started | finished, the command, its exit code) from a guard's report, or InvalidInput."""
    errors = {
        name: "is not a field of a command report" for name in sorted(set(body) - {"event", "command", "exit_code"})
    }
    event, command, code = body.get("event"), body.get("command"), body.get("exit_code")
    if event not in ("started", "finished"):
        errors["event"] = "must be started or finished"
    if not isinstance(command, str) or not command.strip() or len(command) > COMMAND_MAX or "\x00" in command:
        errors["command"] = f"must be the command as run, 1 to {COMMAND_MAX} characters"
    if event == "finished" and (not isinstance(code, int) or isinstance(code, bool) or not -255 <= code <= 255):
        errors["exit_code"] = "must be the command's exit code, a whole number from -255 to 255"
    if errors:
        raise InvalidInput(errors)
    return str(event), str(command), code if event == "finished" else None


class _TooLarge(Exception):
    pass


def _too_large() -> web.Response:
    return web.json_response(
        {"error": "body_too_large", "message": f"The body is larger than {MAX_BODY} bytes."}, status=413
    )


_SECONDS = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3})?", re.ASCII)


def _wait_seconds(raw: str | None) -> float:
    if raw is None or raw == "":
        return 0.0
    if not _SECONDS.fullmatch(raw) or not 0 <= float(raw) <= MAX_WAIT_SECONDS:
        raise InvalidInput({"wait": f"must be a number of seconds from 0 to {MAX_WAIT_SECONDS}"})
    return float(raw)
