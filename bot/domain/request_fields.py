"""The one list of what a request is made of: every field a person or a pipeline gives.

Validation, the Slack form, its error labels, the OpenAPI description, the API's JSON and the
store's columns are all built from ``FIELDS``, so a field is added or changed in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class FieldKind(Enum):
    TEXT = "text"
    URL = "url"
    YES_NO = "yes_no"
    PEOPLE = "people"  # Slack user IDs or emails
    COMMIT = "commit"  # a hexadecimal SHA
    MAYBE = "maybe"  # yes, no, or not known (absent or null)
    PLAN_SUMMARY = "plan"  # a plan summary (bot/domain/plan_summary.py) with the plans' SHA-256
    REF = "ref"  # another request, as CR-42
    CHOICE = "choice"  # one of ``Field.choices``


@dataclass(frozen=True)
class Field:
    name: str  # the API's key, the form's block id, and the Draft attribute
    kind: FieldKind
    label: str  # the form's label
    error_label: str  # how an error message starts: "The link must be ..."
    api_description: str = ""
    max_length: int = 80
    required: bool = False
    form_required: bool = False  # the form insists on an answer the API may leave out
    default: str = ""
    in_form: bool = True
    multiline: bool = False
    placeholder: str = ""
    column: str = ""  # the store's column, when it is not ``name``
    choices: tuple[str, ...] = ()  # for CHOICE: the values taken ("" too, for not given)

    @property
    def stored_as(self) -> str:
        return self.column or self.name


TITLE_MAX = 150
URL_MAX = 2000
DESCRIPTION_MAX = 3000
SHORT_MAX = 80
AUTHORS_MAX = 50
COMMIT_MAX = 80
REASON_MAX = 1000
COMMAND_MAX = 4000
WORKDIR_MAX = 1000

# Who answered whether a change destroys: the person, a line of the agent hook's patterns file,
# or signoff reading the command itself (``signoff guard`` under an AI agent).
BY_REQUESTER, BY_HOOK_PATTERN, BY_COMMAND = "requester", "hook-pattern", "command"
JUDGES = (BY_REQUESTER, BY_HOOK_PATTERN, BY_COMMAND)

FIELDS: tuple[Field, ...] = (
    Field("title", FieldKind.TEXT, "Title", "The title", max_length=TITLE_MAX, required=True,
          placeholder="What is changing, in one line"),
    Field("url", FieldKind.URL, "Link to the change", "The link", "http(s) link to the PR, MR or diff",
          max_length=URL_MAX, required=True, placeholder="https://github.com/org/repo/pull/123"),
    Field("description", FieldKind.TEXT, "Description", "The description", max_length=DESCRIPTION_MAX, multiline=True,
          placeholder="What and why; how it was tested"),
    Field("service", FieldKind.TEXT, "Service", "The service"),
    Field("environment", FieldKind.TEXT, "Environment", "The environment", default="production"),
    Field("ai_assisted", FieldKind.YES_NO, "Did AI assist with this change?", "This answer", required=True),
    Field("ai_tool", FieldKind.TEXT, "Which AI tool?", "The AI tool", placeholder="e.g. Copilot, Claude Code"),
    Field("destructive", FieldKind.MAYBE, "Does this change delete or replace existing resources?", "This answer",
          "true when the change deletes or replaces existing resources; leave it out when not known (an AI-assisted"
          " change then counts as destructive)", form_required=True),
    Field("authors", FieldKind.PEOPLE, "Authors", "The authors",
          "Slack user IDs or emails of everyone who wrote the change", max_length=AUTHORS_MAX, in_form=False),
    Field("commit", FieldKind.COMMIT, "Commit", "The commit", max_length=COMMIT_MAX, in_form=False,
          column="commit_sha"),
    Field("plan", FieldKind.PLAN_SUMMARY, "Plan", "The plan summary",
          "what the plan destroys and each plan file's SHA-256, as `signoff request --plan` sends it",
          in_form=False, column="plan_summary"),
    Field("command", FieldKind.TEXT, "Command", "The command",
          "the exact command that runs once approved, as `signoff guard` and the agent hook send it; the approval "
          "is for this command only, and it is always shown to the reviewers", max_length=COMMAND_MAX,
          in_form=False, multiline=True),
    Field("workdir", FieldKind.TEXT, "Directory", "The directory",
          "the directory the command runs in; the approval is for this directory only", max_length=WORKDIR_MAX,
          in_form=False),
    Field("destructive_by", FieldKind.CHOICE, "Who said whether it destroys", "The answer's source",
          "who answered `destructive`: `requester` (the default), `hook-pattern` (a line of the agent hook's "
          "patterns file matched the command) or `command` (signoff read the command); shown to the reviewers",
          max_length=20, in_form=False, choices=JUDGES),
    Field("asked_again_after", FieldKind.REF, "Asked again after", "The earlier request",
          "the earlier request this one asks again for, after it ended without an approval that can be used "
          "(e.g. CR-41)", max_length=20, in_form=False),
)  # fmt: skip

BY_NAME = {f.name: f for f in FIELDS}
FORM_FIELDS = tuple(f.name for f in FIELDS if f.in_form)
# What a pipeline may send: the requester, then every field.
API_FIELDS = ("requester", *BY_NAME)
