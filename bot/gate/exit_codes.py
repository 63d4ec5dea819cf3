"""What the gate's commands exit with, and how they say a line on standard error.

0 approved or not required; 1 denied (or, for verify and guard, not the approved plan or
command); 2 timed out, expired, cancelled, given up, or still pending without --wait; 3 usage,
configuration, auth or network error. `signoff guard` exits with the command's own code once it
ran, and 127 when the command does not exist.
"""

from __future__ import annotations

import sys

APPROVED, DENIED, UNDECIDED, ERROR = 0, 1, 2, 3
NOT_FOUND = 127  # as a shell says a command does not exist


def err(message: str) -> None:
    print(f"signoff: {message}", file=sys.stderr)
