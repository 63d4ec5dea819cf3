"""A long list in one Slack section (the roster of a 2,000-member group) is cut between lines,
never in the middle of one, and always ends by saying how many more there are; counts read as
English ("1 engineer", "3 engineers"), never "engineer(s)"."""

from __future__ import annotations

from bot.domain.words import count
from bot.slack.blocks import SECTION_MAX, fit_lines


def test_a_long_list_is_cut_between_lines_and_says_how_many_more() -> None:
    lines = [f"• <@U{i:08d}>: senior, payments-and-checkout-platform (from the user group @payments-seniors)"
             for i in range(2000)]  # fmt: skip
    text = fit_lines(lines[:40], 2000)
    assert len(text) <= SECTION_MAX
    shown = text.splitlines()
    assert all(line in lines for line in shown[:-1])  # whole lines only
    assert shown[-1] == f"…and {2000 - (len(shown) - 1)} more"


def test_a_short_list_is_shown_whole() -> None:
    assert fit_lines(["a", "b"], 2) == "a\nb"
    assert fit_lines(["a", "b"], 5) == "a\nb\n…and 3 more"


def test_counts_read_as_english() -> None:
    assert (count(1, "engineer"), count(3, "engineer"), count(0, "pending request")) == (
        "1 engineer", "3 engineers", "0 pending requests",
    )  # fmt: skip
