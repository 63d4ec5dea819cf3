"""Read-only questions: one request's status, and someone's open work."""

from __future__ import annotations

from dataclasses import dataclass

from bot.domain.errors import UnknownRequest
from bot.domain.models import ChangeRequest, format_ref
from bot.services.deps import Deps
from bot.store import requests as store

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
    req = await store.read(deps.db, request_id)
    if req is None:
        raise UnknownRequest(format_ref(request_id))
    return req


async def pending_for(deps: Deps, user: str) -> Pending:
    mine_where = "requester = ? AND status = 'pending'"
    reviews_where = (
        "status = 'pending' AND id IN (SELECT request_id FROM assignments WHERE reviewer = ? AND active = 1)"
    )
    return Pending(
        mine=Listing(
            await store.list_where(deps.db, mine_where, (user,), LIST_LIMIT),
            await store.count_where(deps.db, mine_where, (user,)),
        ),
        reviews=Listing(
            await store.list_where(deps.db, reviews_where, (user,), LIST_LIMIT),
            await store.count_where(deps.db, reviews_where, (user,)),
        ),
    )
