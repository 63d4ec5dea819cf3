"""Every kind of outbox row has exactly one renderer, so no notice a service queues can reach
Slack as "unknown"; and a row of a kind this version does not know fails once, plainly."""

from __future__ import annotations

from bot.domain.outbox import Kind
from bot.slack.renderers import RENDERERS


def test_every_kind_has_a_renderer() -> None:
    assert set(RENDERERS) == set(Kind)
    assert len(set(RENDERERS.values())) == len(Kind)  # one each, none shared by accident
