"""The report groups denial reasons whatever their case and outer spaces, and shows each as a
person wrote it (the form written most often), never lower-cased."""

from __future__ import annotations

from bot.slack import ids
from tests.fakes.driver import reason_values
from tests.harness import Harness


async def deny(h: Harness, reason: str, title: str) -> None:
    ref = await h.ask(title=title)
    await h.driver.submit("U0SENIOR1", ids.DENY_FORM, reason_values(reason), private_metadata=ref.removeprefix("CR-"))
    await h.settle()


async def test_denial_reasons_are_shown_as_written(h: Harness) -> None:
    await deny(h, "BGSAVE blocks the primary", "One")
    await deny(h, "  BGSAVE blocks the primary ", "Two")
    await deny(h, "bgsave blocks the primary", "Three")
    await deny(h, "Not during the freeze", "Four")
    report = await h.report()
    assert "BGSAVE blocks the primary (3)" in report, report
    assert "bgsave blocks" not in report
