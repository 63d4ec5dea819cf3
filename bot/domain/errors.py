"""The one error tree of signoff.

Domain errors know nothing of Slack or HTTP; ``bot/errors_map.py`` maps them,
in one place, to ephemeral Slack replies and HTTP statuses.

    SignoffError
    ├── InvalidInput            field errors, keyed by field name      -> 422, modal field errors
    ├── MalformedPayload        the body could not be parsed at all    -> 400
    ├── UnknownRequest          no request with that id                -> 404
    ├── Refused                 the actor may not do this (audited)    -> 403
    │   ├── SelfReview          requester or author of the change
    │   ├── NotReviewer         not the assigned reviewer
    │   ├── NotEligible         not (or no longer) a senior on the roster
    │   ├── NotRequester        only the requester may cancel
    │   ├── NotAdmin            admin-only command
    │   ├── NotOnRoster         only people on the roster may do this
    │   ├── BreakGlassLimit     broke glass too often in 24 hours
    │   └── NotThisPipeline     a verified pipeline identity that may not ask this
    ├── Conflict                the state moved on                     -> 409
    │   ├── AlreadyDecided      first decision won; carries who and what
    │   ├── AlreadyVoted        this person already approved; more approvals are needed
    │   ├── AlreadyClaimed      somebody else claimed it first
    │   ├── TooSoon             asked again within the rate limit       -> 429
    │   └── IdempotencyMismatch same key, different body               -> 422
    ├── Unauthenticated         missing, wrong or revoked API token     -> 401
    ├── Unavailable             a dependency (Slack) could not answer  -> 503
    │   ├── StorageFailure      the database refused the write (disk full, I/O); nothing was stored
    │   └── Busy                too much at once to answer in time; nothing was stored
    ├── RepeatedDelivery        this Slack delivery was already done   -> an empty ack, nothing more
    └── ConfigurationError      a setting or the roster is wrong; names the setting
"""

from __future__ import annotations


class SignoffError(Exception):
    """Base of every error signoff raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(SignoffError):
    """One or more fields are invalid; ``fields`` maps field name to a message."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = dict(fields)
        summary = "; ".join(f"{k}: {v}" for k, v in sorted(self.fields.items()))
        super().__init__(f"Invalid input. {summary}")


class MalformedPayload(SignoffError):
    """The request body is not something we can parse."""


class UnknownRequest(SignoffError):
    def __init__(self, ref: str) -> None:
        super().__init__(f"There is no sign-off request {ref}. Check the id, e.g. CR-42.")
        self.ref = ref


class Refused(SignoffError):
    """The actor is not allowed to do this. Every refusal is audited with ``code``."""

    code = "refused"


class SelfReview(Refused):
    code = "self_review"


class NotReviewer(Refused):
    code = "not_reviewer"


class NotEligible(Refused):
    code = "not_eligible"


class NotRequester(Refused):
    code = "not_requester"


class NotAdmin(Refused):
    code = "not_admin"


class NotOnRoster(Refused):
    code = "not_on_roster"


class BreakGlassLimit(Refused):
    code = "break_glass_limit"


class NotThisPipeline(Refused):
    """A verified pipeline (OIDC) from outside the allow-list, or asking for somebody else."""

    code = "not_this_pipeline"


class Conflict(SignoffError):
    code = "conflict"


class AlreadyDecided(Conflict):
    code = "already_decided"

    def __init__(self, ref: str, status: str, decided_by: str | None) -> None:
        by = f" by <@{decided_by}>" if decided_by else ""
        super().__init__(f"{ref} is already {status}{by}.")
        self.ref = ref
        self.status = status
        self.decided_by = decided_by


class AlreadyVoted(Conflict):
    code = "already_voted"


class AlreadyClaimed(Conflict):
    code = "already_claimed"


class TooSoon(Conflict):
    """Done a moment ago; ``last`` is (channel, ts) of the earlier post when known."""

    code = "too_soon"

    def __init__(self, message: str, last: tuple[str, str] | None = None) -> None:
        super().__init__(message)
        self.last = last


class IdempotencyMismatch(Conflict):
    code = "idempotency_mismatch"


class Unauthenticated(SignoffError):
    code = "bad_token"


class Unavailable(SignoffError):
    """Something signoff depends on did not answer; the same call may work later."""


class StorageFailure(Unavailable):
    """The database could not store the work; the transaction was rolled back, so a retry is safe."""

    code = "storage_failure"

    def __init__(self, detail: str, conflict: str | None = None) -> None:
        super().__init__(
            f"signoff could not save this ({detail}). Nothing was recorded; try again in a moment, "
            "and tell the bot's operators if it keeps failing."
        )
        self.detail = detail
        self.conflict = conflict  # "deadlock" | "serialization": the store runs the work again


class Busy(Unavailable):
    """More work arrived than signoff can answer in time: this was not started, nothing was stored."""

    code = "busy"
    retry_after = 5  # seconds

    def __init__(self) -> None:
        super().__init__(
            "signoff is busy right now and did not do this; nothing was saved. Try again in a few seconds."
        )


class RepeatedDelivery(SignoffError):
    """Slack delivered this request before and its work is already stored: acknowledge, do nothing."""

    def __init__(self, key: str) -> None:
        super().__init__(f"delivery {key.split(':', 1)[0]} already handled")
        self.key = key


class ConfigurationError(SignoffError):
    """A setting (or the roster file) is missing or wrong. ``setting`` names it."""

    def __init__(self, setting: str, message: str, also: tuple[str, ...] = ()) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting
        self.also = also  # further settings named in the same message
