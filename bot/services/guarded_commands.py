"""`signoff guard` runs a command once its request is approved, and says so: that the command
started, and how it ended (its exit code). Both are audit rows (``command_started``,
``command_ran``), so the trail shows what an approval was used for; the report counts them."""

from __future__ import annotations

from bot.domain.audit import AuditEntry
from bot.domain.errors import NotRequester
from bot.domain.models import ChangeRequest
from bot.services import who_may_decide
from bot.services.deps import Deps
from bot.store.unit_of_work import Tx

COMMAND_SHOWN = 1000  # characters of the command kept in the audit row


async def record_command(
    deps: Deps, request_id: int, pipeline: str, event: str, command: str, exit_code: int | None
) -> ChangeRequest:
    """Audit that the guarded command ``event``\\ed (started | finished, with its exit code). Only
    the pipeline that asked for the request reports on it."""
    now = deps.clock.now()

    async def record(tx: Tx) -> ChangeRequest:
        req = await who_may_decide.load(tx, request_id)
        actor = f"api:{pipeline}"
        if req.source != "api" or req.pipeline != pipeline:
            refusal = NotRequester(f"Only the pipeline that asked for {req.ref} can report on its command.")
            await tx.refuse(refusal, actor, request_id, "command", now)
        details: dict[str, object] = {"command": command[:COMMAND_SHOWN]}
        if event == "finished":
            details["exit_code"] = exit_code
        action = "command_started" if event == "started" else "command_ran"
        reason = str(exit_code) if event == "finished" else None  # the exit code, for the report to count
        await tx.audit.append(now, AuditEntry(actor, action, request_id, reason, details))
        return req

    return await deps.store.transact(record)
