"""Deployments GitHub holds for signoff: stored once, claimed with a lease, answered once."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain.deployments import Answer, Deployment, HeldDeployment
from bot.domain.timestamps import utc_text
from bot.store.executor import Executor, Row

_COLUMNS = "deployment_id, installation_id, repository, environment, sha, ref, creator, run_url, callback_url, via"


def _held(r: Row) -> HeldDeployment:
    deployment = Deployment(
        deployment_id=int(r["deployment_id"]),
        installation_id=int(r["installation_id"]),
        repository=str(r["repository"]),
        environment=str(r["environment"]),
        sha=str(r["sha"]),
        ref=str(r["ref"]),
        creator=str(r["creator"]),
        run_url=str(r["run_url"]),
        callback_url=str(r["callback_url"]),
        via=str(r["via"]),
    )
    request_id = r["request_id"]
    return HeldDeployment(
        deployment, int(request_id) if request_id is not None else None, str(r["progress"]), int(r["reports"]),
        int(r["attempts"]),
    )  # fmt: skip


class GithubDeployments:
    def __init__(self, ex: Executor) -> None:
        self._ex = ex

    async def receive(self, d: Deployment, now: datetime) -> bool:
        """Store a deployment GitHub holds; False when it was stored already (a redelivery, a replay)."""
        changed = await self._ex.run(
            f"INSERT INTO github_deployments ({_COLUMNS}, received_at, next_try_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (deployment_id) DO NOTHING",
            (d.deployment_id, d.installation_id, d.repository, d.environment, d.sha, d.ref, d.creator, d.run_url,
             d.callback_url, d.via, utc_text(now), utc_text(now)),
        )  # fmt: skip
        return changed == 1

    async def known(self, deployment_ids: list[int]) -> set[int]:
        if not deployment_ids:
            return set()
        marks = ", ".join("?" * len(deployment_ids))
        rows = await self._ex.many(
            f"SELECT deployment_id FROM github_deployments WHERE deployment_id IN ({marks})", deployment_ids
        )
        return {int(r["deployment_id"]) for r in rows}

    async def claim(self, owner: str, now: datetime, lease: timedelta, limit: int) -> list[HeldDeployment]:
        """Claim up to ``limit`` open deployments that are due (their time came, or their request
        ended and no try has failed yet: a failed one waits out its backoff), not claimed by a
        live lease. Claims are compare-and-sets: two replicas never hold one row."""
        at, until = utc_text(now), utc_text(now + lease)
        rows = await self._ex.many(
            "SELECT d.deployment_id FROM github_deployments d LEFT JOIN requests r ON r.id = d.request_id "
            "WHERE d.answer IS NULL AND d.failure IS NULL "
            "AND (d.claim_expires_at IS NULL OR d.claim_expires_at < ?) "
            "AND (d.next_try_at <= ? OR (d.attempts = 0 AND r.status IS NOT NULL AND r.status <> 'pending')) "
            "ORDER BY d.next_try_at LIMIT ?",
            (at, at, limit),
        )
        claimed: list[HeldDeployment] = []
        for row in rows:
            got = await self._ex.one(
                "UPDATE github_deployments SET claimed_by = ?, claim_expires_at = ? "
                "WHERE deployment_id = ? AND answer IS NULL AND failure IS NULL "
                "AND (claim_expires_at IS NULL OR claim_expires_at < ?) "
                f"RETURNING {_COLUMNS}, request_id, progress, reports, attempts",
                (owner, until, row["deployment_id"], at),
            )
            if got is not None:
                claimed.append(_held(got))
        return claimed

    async def link(self, deployment_id: int, request_id: int, owner: str) -> bool:
        changed = await self._ex.run(
            "UPDATE github_deployments SET request_id = ? "
            "WHERE deployment_id = ? AND request_id IS NULL AND claimed_by = ?",
            (request_id, deployment_id, owner),
        )
        return changed == 1

    async def answered(self, deployment_id: int, answer: Answer, owner: str, now: datetime) -> bool:
        """Record GitHub's acceptance of the answer, fenced by the claim."""
        changed = await self._ex.run(
            "UPDATE github_deployments SET answer = ?, answered_at = ?, claimed_by = NULL, claim_expires_at = NULL "
            "WHERE deployment_id = ? AND answer IS NULL AND claimed_by = ?",
            (answer.value, utc_text(now), deployment_id, owner),
        )
        return changed == 1

    async def reported(self, deployment_id: int, progress: str, owner: str) -> None:
        await self._ex.send(
            "UPDATE github_deployments SET progress = ?, reports = reports + 1 "
            "WHERE deployment_id = ? AND claimed_by = ?",
            (progress, deployment_id, owner),
        )

    async def release(
        self, deployment_id: int, owner: str, next_try: datetime, failed: bool = False, failure: str | None = None
    ) -> None:
        """Hand the row back: try again at ``next_try`` (``failed`` counts an attempt), or, with
        ``failure``, give up on it for good (GitHub refused it permanently)."""
        await self._ex.send(
            "UPDATE github_deployments SET claimed_by = NULL, claim_expires_at = NULL, next_try_at = ?, "
            "attempts = attempts + ?, failure = ? WHERE deployment_id = ? AND claimed_by = ?",
            (utc_text(next_try), 1 if failed else 0, failure, deployment_id, owner),
        )

    async def for_request(self, request_id: int) -> tuple[int, str | None, str | None] | None:
        """(deployment id, answer, failure) of the deployment a request was made for, if any."""
        row = await self._ex.one(
            "SELECT deployment_id, answer, failure FROM github_deployments WHERE request_id = ?", (request_id,)
        )
        if row is None:
            return None
        return int(row["deployment_id"]), row["answer"], row["failure"]
