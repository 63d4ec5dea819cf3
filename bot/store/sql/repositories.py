"""Every repository, for ``bot.store.unit_of_work.Repos``."""

from bot.store.sql.audit import AuditTrail
from bot.store.sql.copying import Copying
from bot.store.sql.deployments import GithubDeployments
from bot.store.sql.facts import Facts, Receipts, WorkflowSteps
from bot.store.sql.outbox import Outbox, SlackMessages
from bot.store.sql.people import Availability, HomeViewers, PeopleNames
from bot.store.sql.report import ReportReads
from bot.store.sql.requests import Requests
from bot.store.sql.reviews import Assignments, Decisions
from bot.store.sql.roster import GroupMembers, Replicas

__all__ = [
    "Assignments",
    "AuditTrail",
    "Availability",
    "Copying",
    "Decisions",
    "Facts",
    "GithubDeployments",
    "GroupMembers",
    "HomeViewers",
    "Outbox",
    "PeopleNames",
    "Receipts",
    "Replicas",
    "ReportReads",
    "Requests",
    "SlackMessages",
    "WorkflowSteps",
]
