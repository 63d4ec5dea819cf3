"""Bad form or API input is refused with a message per field; good input is trimmed."""

from __future__ import annotations

from typing import Any

import pytest

from bot.domain.errors import InvalidInput
from bot.domain.validation import validate_draft, validate_reason

GOOD: dict[str, Any] = {"title": "Ship it", "url": "https://git.example.com/pr/1", "ai_assisted": True}


def errors_for(**changes: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as info:
        validate_draft({**GOOD, **changes})
    return info.value.fields


def test_good_input_is_trimmed_and_defaults_to_production() -> None:
    draft = validate_draft({**GOOD, "title": "  Ship it  ", "environment": ""})
    assert draft.title == "Ship it"
    assert draft.environment == "production"


@pytest.mark.parametrize("title", ["", "   ", None])
def test_title_is_required(title: str | None) -> None:
    assert errors_for(title=title) == {"title": "is required"}


def test_title_at_most_150() -> None:
    validate_draft({**GOOD, "title": "x" * 150})
    assert "at most 150" in errors_for(title="x" * 151)["title"]


@pytest.mark.parametrize(
    "url", ["ftp://example.com/x", "javascript:alert(1)", "example.com/pr/1", "https://", "https://a b.com/x", ""]
)
def test_url_must_be_http_or_https(url: str) -> None:
    assert "url" in errors_for(url=url)


def test_ten_thousand_characters_are_refused_not_truncated() -> None:
    fields = errors_for(description="d" * 10_000, service="s" * 10_000)
    assert "at most 3000" in fields["description"]
    assert "at most 80" in fields["service"]


def test_ai_assisted_has_no_default() -> None:
    assert errors_for(ai_assisted=None) == {"ai_assisted": "is required: say yes or no"}
    assert errors_for(ai_assisted="yes") == {"ai_assisted": "must be true or false"}


def test_every_bad_field_is_named_at_once() -> None:
    assert set(errors_for(title="", url="nope", ai_assisted=None)) == {"title", "url", "ai_assisted"}


def test_denial_reason_is_required() -> None:
    with pytest.raises(InvalidInput) as info:
        validate_reason("   ")
    assert "reason" in info.value.fields
    assert validate_reason("  needs a rollback plan ") == "needs a rollback plan"


def test_every_field_error_starts_the_same_way() -> None:
    """ "The title is required", "The link is required": one voice for every field on the form."""
    from bot.domain.request_fields import FIELDS

    labels = {f.name: f.error_label for f in FIELDS}
    assert labels["title"] == "The title" and labels["url"] == "The link"
    odd = {name: label for name, label in labels.items() if not label.startswith(("The ", "This "))}
    assert odd == {}
