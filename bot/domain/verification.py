"""What a verify answers: whether the plan or command about to run is the one approved."""

from __future__ import annotations

from enum import StrEnum


class Verified(StrEnum):
    MATCH = "match"  # approved (or not required), and every file is an approved plan
    MISMATCH = "mismatch"  # a file is not a plan that was approved, or no plan was
    NOT_APPROVED = "not_approved"  # pending, denied, cancelled or expired
    EXPIRED = "expired"  # approved, but longer ago than APPROVAL_VALID_FOR
    USED = "used"  # approved for one CI run (`--once`), and that was another run
    OTHER_COMMAND = "other_command"  # the command or its directory is not the one approved
