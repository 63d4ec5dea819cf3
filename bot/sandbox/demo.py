"""The sandbox's built-in people: a roster to try every path with, and the names the page shows."""

from __future__ import annotations

from dataclasses import dataclass

SUMMARY_CHANNEL = "C0SIGNOFF"


@dataclass(frozen=True)
class Person:
    user: str
    name: str
    role: str  # what the page says about them
    email: str | None = None
    github: str | None = None  # their GitHub login, for the "deploy to production" button


PEOPLE = (
    Person("U0JUNE", "June", "junior, payments", "june@demo.example", "june-demo"),
    Person("U0MIKA", "Mika", "mid-level, platform", "mika@demo.example", "mika-demo"),
    Person("U0SARA", "Sara", "senior, payments", "sara@demo.example", "sara-demo"),
    Person("U0SEAN", "Sean", "senior, platform", "sean@demo.example", "sean-demo"),
    Person("U0STEL", "Stella", "staff, platform, admin", "stella@demo.example", "stella-demo"),
    Person("U0GUS", "Gus", "not on the roster", "gus@demo.example", "gus-demo"),
)

ROSTER = """\
# The sandbox's demo roster. Pass --roster FILE to try your own.
admins: [U0STEL]
engineers:
  - {user: U0JUNE, level: junior, team: payments, email: june@demo.example, github: june-demo}
  - {user: U0MIKA, level: mid, team: platform, email: mika@demo.example, github: mika-demo}
  - {user: U0SARA, level: senior, team: payments, email: sara@demo.example, github: sara-demo}
  - {user: U0SEAN, level: senior, team: platform, email: sean@demo.example, github: sean-demo}
  - {user: U0STEL, level: staff, team: platform, email: stella@demo.example, github: stella-demo}
"""
