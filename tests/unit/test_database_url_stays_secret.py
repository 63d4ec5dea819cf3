"""A PostgreSQL URL's password never shows: not in the settings' repr, not in the store's, not in
the one-line error a failed start prints."""

from __future__ import annotations

import pytest

from bot.config import load_settings
from bot.domain.errors import ConfigurationError
from bot.store import store_for

PASSWORD = "s3cret-Pa55word"
URL = f"postgresql://signoff:{PASSWORD}@127.0.0.1:1/signoff"  # nothing listens on port 1


def test_settings_and_store_reprs_hide_the_password() -> None:
    settings = load_settings(
        _env_file=None,
        SLACK_BOT_TOKEN="xoxb-1-2-abc",
        SLACK_SIGNING_SECRET="0123456789abcdef",
        ROSTER_FILE="roster.yml",
        SUMMARY_CHANNEL="C0SIGNOFF",
        DATABASE_URL=URL,
    )
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings)
    assert settings.database == URL
    assert PASSWORD not in repr(store_for(URL))


async def test_a_database_that_cannot_be_reached_is_named_without_its_password() -> None:
    store = store_for(URL)
    with pytest.raises(ConfigurationError) as info:
        await store.open()
    assert info.value.setting == "DATABASE_URL"
    assert "postgresql://signoff@127.0.0.1:1/signoff" in info.value.message
    assert PASSWORD not in info.value.message
