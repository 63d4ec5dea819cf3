"""Emoji shortcodes (``:boom:``) as characters for the sandbox page, from the maintained ``emoji``
package: its English names and its aliases, which are Slack's and GitHub's names."""

from __future__ import annotations

import emoji


def emoji_table() -> dict[str, str]:
    """Shortcode without colons -> the emoji. The first name that claims a code wins."""
    table: dict[str, str] = {}
    for char, data in emoji.EMOJI_DATA.items():
        for name in (data.get("en", ""), *data.get("alias", ())):
            code = str(name).strip(":")
            if code:
                table.setdefault(code, char)
    return table
