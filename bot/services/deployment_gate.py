"""Deployments GitHub holds for signoff: a request for each, and GitHub's answer when it ends.

The rules, knowing nothing of HTTP or GitHub's API:
  * a deployment is stored once, however often GitHub (or the sweep) tells us of it;
  * its request is asked by the person who started the deployment, found by their GitHub login
    in the roster; somebody signoff does not know is refused (the deployment is rejected, with a
    comment saying whom to add), never asked for as somebody else;
  * it is AI-assisted when any commit it brings carries an AI marker, or when the commits could
    not be read (fail closed); everyone who wrote a commit and is on the roster is an author, so
    they cannot review it;
  * the request is made with the deployment as its idempotency key, so a retry after a crash, or
    two replicas at once, make one request.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.ai_markers import detect, detect_identity
from bot.domain.audit import AuditEntry
from bot.domain.deployments import Answer, Deployment, answer_for
from bot.domain.models import ChangeRequest, Draft, Status
from bot.services.create_request import Submission, create_request
from bot.services.deps import Deps
from bot.services.names import NameBook
from bot.store.unit_of_work import Repos, Tx

EVIDENCE_SHOWN = 5


@dataclass(frozen=True)
class CommitFacts:
    """What the commits a deployment brings say, as read by the caller (None: could not be read)."""

    messages: list[tuple[str, str, list[tuple[str, str, str]]]]  # (sha, message, people)
    author_logins: list[str]
    more: bool = False


async def receive(deps: Deps, deployment: Deployment) -> bool:
    """Store a deployment GitHub holds; audited once. False when it was known already."""
    now = deps.clock.now()

    async def store(tx: Tx) -> bool:
        fresh = await tx.deployments.receive(deployment, now)
        if fresh:
            details = {
                "deployment": deployment.deployment_id,
                "repository": deployment.repository,
                "environment": deployment.environment,
                "sha": deployment.sha,
                "via": deployment.via,
            }
            await tx.audit.append(
                now, AuditEntry(f"github:{deployment.creator}", "deployment_held", None, None, details)
            )
        return fresh

    return await deps.store.transact(store)


class Unknown(Exception):
    """The person who started the deployment is not on the roster: rejected with this comment."""


def idempotency_key(d: Deployment) -> str:
    return f"github-deployment-{d.deployment_id}"


async def made_before(deps: Deps, d: Deployment) -> ChangeRequest | None:
    """The request made for ``d`` before (a crash between making it and linking it), if any."""
    async with deps.store.read() as r:
        found = await r.requests.by_idempotency_key(idempotency_key(d))
    return found[0] if found is not None else None


async def open_request(deps: Deps, d: Deployment, facts: CommitFacts | None) -> ChangeRequest:
    """The request for ``d``, or Unknown."""
    roster = deps.roster()
    engineer = roster.by_github(d.creator) if d.creator else None
    if engineer is None:
        raise Unknown(
            f"signoff does not know the GitHub user {d.creator or '(none)'} who started this deployment: add "
            f"`github: {d.creator or 'LOGIN'}` to their entry in signoff's roster, then re-run the job."
        )
    evidence: list[str] = []
    tool = ""
    authors: list[str] = []
    if facts is not None:
        for sha, message, people in facts.messages:
            found, _humans, named = detect(sha, message)
            by_identity, identity_tool = detect_identity(sha, message.splitlines()[0] if message else "", people)
            evidence += found + by_identity
            tool = tool or named or identity_tool
        for login in facts.author_logins:
            person = roster.by_github(login)
            if person is not None and person.user != engineer.user:
                authors.append(person.user)
    ai_assisted = facts is None or bool(evidence)
    if facts is None:
        why = "signoff could not read the commits this deployment brings, so it counts as AI-assisted."
    elif evidence:
        shown = "; ".join(evidence[:EVIDENCE_SHOWN]) + (f"; and {len(evidence) - EVIDENCE_SHOWN} more" if len(
            evidence) > EVIDENCE_SHOWN else "")  # fmt: skip
        why = f"AI assistance in its commits: {shown}."
    else:
        count = len(facts.messages)
        why = (
            f"No AI markers in the {count} commit{'s' if count != 1 else ''} it brings"
            + (" (the first page of them)" if facts.more else "")
            + "."
        )
    draft = Draft(
        title=f"Deploy {d.repository} to {d.environment}"[:150],
        url=d.run_url,
        ai_assisted=ai_assisted,
        description=f"GitHub holds this deployment of {d.ref or 'a commit'} ({d.sha[:7]}) until signoff answers. {why}"[
            :3000
        ],
        service=d.repository[:80],
        environment=d.environment[:80] or "production",
        ai_tool=(tool or ("unknown" if facts is None and ai_assisted else ""))[:80],
        authors=tuple(dict.fromkeys(authors))[:50],
        commit=d.sha.lower()[:80],
    )
    created = await create_request(
        deps,
        Submission(
            requester=engineer.user,
            draft=draft,
            source="github",
            pipeline=f"github:{d.repository}"[:200],
            idempotency_key=idempotency_key(d),
        ),
    )
    return created.request


async def answer_of(deps: Deps, request_id: int, book: NameBook) -> tuple[ChangeRequest, tuple[Answer, str] | None]:
    """The request and GitHub's answer for it once it ended (None while it waits), naming people."""
    async with deps.store.read() as r:
        req, approvers = await _request_and_approvers(r, request_id)
        names = await book.kept(r, [p for p in (req.decided_by, *approvers) if p])
    plan = req.draft.plan.sha256 if req.draft.plan is not None else ()
    return req, answer_for(req, lambda user: names.get(user or "", "a senior reviewer"), approvers, plan)


async def _request_and_approvers(r: Repos, request_id: int) -> tuple[ChangeRequest, list[str]]:
    req = await r.requests.get(request_id)
    if req is None:
        raise LookupError(f"request {request_id} not found")
    approvers = await r.decisions.approvers(request_id) if req.status is Status.APPROVED else []
    return req, approvers
