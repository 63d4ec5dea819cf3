"""Read-only questions: one request's status, and someone's open work."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.errors import UnknownRequest
from bot.domain.models import ChangeRequest, format_ref
from bot.services.deps import Deps

LIST_LIMIT = 20


@dataclass(frozen=True)
class Listing:
    items: list[ChangeRequest]
    total: int


@dataclass(frozen=True)
class Pending:
    mine: Listing
    reviews: Listing


async def get_request(deps: Deps, request_id: int) -> ChangeRequest:
    async with deps.store.read() as r:
        req = await r.requests.get(request_id)
    if req is None:
        raise UnknownRequest(format_ref(request_id))
    return req


async def pending_for(deps: Deps, user: str) -> Pending:
    async with deps.store.read() as r:
        return Pending(
            mine=Listing(
                await r.requests.asked_by(user, LIST_LIMIT, pending_only=True),
                await r.requests.count_asked_by(user, pending_only=True),
            ),
            reviews=Listing(await r.requests.queue_of(user, LIST_LIMIT), await r.requests.count_queue_of(user)),
        )
