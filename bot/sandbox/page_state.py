"""What one person sees in one tab of the sandbox page, built from the Slack stand-in's record.

Slack keeps an ephemeral answer in the conversation where it was asked until the person
dismisses it, and a modal belongs to the client that opened it. The stand-in records what the
bot sent; this module adds what the page needs on top: where each private answer belongs, which
tab's trigger opened which form, and what each person dismissed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.slack_standin import Call, SlackStandIn

DM, CHANNEL, HOME = "dm", "channel", "home"
PLACES = (DM, CHANNEL, HOME)
ANYWHERE = "any"  # a refusal that belongs to no conversation shows in whichever one is open
SHOWN = 100  # items per conversation
# A miss in a lookup is an answer the bot handles (an unknown email is refused to the pipeline),
# not something Slack refused.
LOOKUPS = frozenset({"auth.test", "users.lookupByEmail", "users.info", "apps.connections.open"})


@dataclass
class Note:
    """The bot's immediate answer to a slash command, shown only to the person who typed it."""

    user: str
    place: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]


@dataclass
class PageBook:
    slack: SlackStandIn
    summary_channel: str
    places: dict[str, str] = field(default_factory=dict)  # response_url id -> where it was asked
    tabs: dict[str, str] = field(default_factory=dict)  # trigger_id -> the tab that caused it
    notes: list[Note] = field(default_factory=list)
    dismissed: dict[str, set[str]] = field(default_factory=dict)  # user -> item keys

    # --- recording what a person did, and where -------------------------
    def response_url(self, user: str, place: str) -> str:
        url_id, url = self.slack.response_url(user)
        self.places[url_id] = place if place in PLACES else DM
        return url

    def trigger(self, user: str, tab: str) -> str:
        trigger = self.slack.issue_trigger(owner=user)
        if tab:
            self.tabs[trigger] = tab
        return trigger

    def note(self, user: str, place: str, answer: Any) -> None:
        if not isinstance(answer, dict) or not (answer.get("text") or answer.get("blocks")):
            return
        where, text = place if place in PLACES else DM, str(answer.get("text") or "")
        self.notes.append(Note(user, where, self.slack.next_ts(), text, _blocks(answer)["blocks"]))

    def dismiss(self, user: str, key: str) -> None:
        self.dismissed.setdefault(user, set()).add(key)

    def place_of(self, channel: str) -> str:
        if channel.startswith("D"):
            return DM
        return CHANNEL if channel == self.summary_channel else HOME

    # --- what a person sees ----------------------------------------------
    def conversation(self, user: str, place: str) -> list[dict[str, Any]]:
        """Messages, private answers and refusals in one conversation, oldest first."""
        items: list[dict[str, Any]] = []
        channel = f"D{user}" if place == DM else self.summary_channel if place == CHANNEL else None
        if channel is not None:
            for (ch, ts), m in self.slack.messages.items():
                if ch == channel:
                    items.append(
                        {"key": f"m:{ts}", "kind": "message", "ts": ts, "channel": ch, "text": m.text}
                        | {"blocks": m.blocks, "edited": m.updates > 0}
                    )
        for i, e in enumerate(self.slack.ephemerals):
            if self.slack.response_owners.get(e.url_id) == user and self.places.get(e.url_id, DM) == place:
                items.append({"key": f"e:{i}", "kind": "ephemeral", "ts": e.ts, "text": e.text} | _blocks(e.body))
        for i, n in enumerate(self.notes):
            if n.user == user and n.place == place:
                items.append({"key": f"n:{i}", "kind": "ephemeral", "ts": n.ts, "text": n.text, "blocks": n.blocks})
        for i, call in enumerate(self.slack.calls):
            where = self._refused_where(call)
            if where is not None and where[0] in (None, user) and where[1] in (place, ANYWHERE):
                text = f"Slack refused {call.method}: {call.detail or call.error}"
                items.append({"key": f"r:{i}", "kind": "refused", "ts": f"{call.at:.6f}", "text": text, "blocks": []})
        gone = self.dismissed.get(user, set())
        shown = [i for i in items if i["key"] not in gone]
        shown.sort(key=lambda i: float(i["ts"] or 0))
        return shown[-SHOWN:]

    def modal(self, user: str, tab: str) -> dict[str, Any] | None:
        """The newest open form this tab opened for this person."""
        mine = [v for v in self.slack.opened_views if v.get("user") == user and not v.get("closed")]
        return next((v for v in reversed(mine) if self.tabs.get(str(v.get("trigger"))) == tab), None)

    def _refused_where(self, call: Call) -> tuple[str | None, str] | None:
        """(whose, which conversation) a refused call belongs to; None: not shown."""
        if call.ok or call.method in LOOKUPS:
            return None
        if call.method == "response_url" and call.url_id is not None:
            return self.slack.response_owners.get(call.url_id), self.places.get(call.url_id, DM)
        channel = str(call.args.get("channel") or call.args.get("channel_id") or "")
        if call.method.startswith("chat.") and channel:
            if channel[0] in "UW":  # a DM is posted to the person's ID
                return channel, DM
            return (channel[1:] if channel.startswith("D") else None), self.place_of(channel)
        if call.method == "views.publish":
            return str(call.args.get("user_id") or "") or None, HOME
        if call.method.startswith("files."):
            return None, CHANNEL
        if call.method.startswith("views."):
            trigger = str(call.args.get("trigger_id") or "")
            return self.slack.trigger_owner(trigger), ANYWHERE
        return None, ANYWHERE


def _blocks(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    blocks = body.get("blocks")
    return {"blocks": [b for b in blocks if isinstance(b, dict)] if isinstance(blocks, list) else []}
