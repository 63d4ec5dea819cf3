"""What Prometheus scrapes from ``GET /metrics``, with prometheus-client on a registry of our own.

Counters and histograms are recorded where things happen; the outbox backlog and the
policy's days left are read from the store at each scrape, so every replica reports the
shared truth. Labels are fixed sets (sources, kinds, Slack method names), never user input.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST
_ACK_BUCKETS = (0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
_DECISION_BUCKETS = (60, 300, 900, 1800, 3600, 4 * 3600, 8 * 3600, 86400, 3 * 86400, 7 * 86400)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "signoff_requests", "Requests for sign-off, by source and outcome", ["source", "outcome"], registry=r
        )
        self.decisions = Counter("signoff_decisions", "Final decisions, by outcome", ["outcome"], registry=r)
        self.time_to_decision = Histogram(
            "signoff_time_to_decision_seconds",
            "From the request to its final decision",
            buckets=_DECISION_BUCKETS,
            registry=r,
        )
        self.ack = Histogram(
            "signoff_slack_ack_seconds",
            "Time to answer Slack, by kind of interaction",
            ["kind"],
            buckets=_ACK_BUCKETS,
            registry=r,
        )
        self.slack_calls = Counter(
            "signoff_slack_api_calls", "Slack Web API calls, by method and result", ["method", "result"], registry=r
        )
        self.outbox_backlog = Gauge("signoff_outbox_backlog", "Messages waiting to go to Slack", registry=r)
        self.outbox_oldest = Gauge(
            "signoff_outbox_oldest_age_seconds", "Age of the oldest message waiting to go to Slack", registry=r
        )
        self.audit_unsealed = Gauge(
            "signoff_audit_unsealed_seconds",
            "Age of the oldest audit row not yet sealed into the hash chain (sealed within a second normally)",
            registry=r,
        )
        self.long_polls = Gauge(
            "signoff_api_long_polls", "Pipelines waiting on GET /api/v1/requests/{id}?wait= now", registry=r
        )
        self.repairs = Counter(
            "signoff_repairs",
            "States that must never exist, found and repaired by the consistency check (each one is a bug)",
            ["kind"],
            registry=r,
        )
        self.store_retries = Counter(
            "signoff_store_retries",
            "Transactions run again after the database broke them off (deadlock, serialization)",
            ["reason"],
            registry=r,
        )
        self.loop_lag = Histogram(
            "signoff_event_loop_lag_seconds",
            "How late a 100 ms timer fires: how long ready work waits for the event loop",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=r,
        )
        self.loop_lag_max = Gauge(
            "signoff_event_loop_lag_max_seconds", "The worst event loop lag of the last 10 seconds", registry=r
        )
        self.shed = Counter(
            "signoff_busy_answers",
            "Requests answered busy (nothing done, nothing stored) because a queue stood too long",
            ["kind"],
            registry=r,
        )
        self.policy_days_left = Gauge(
            "signoff_policy_days_left", "Days until the sign-off policy ends (0 once it has)", registry=r
        )

    def requested(self, source: str, outcome: str) -> None:
        self.requests.labels(source=source, outcome=outcome).inc()

    def decided(self, outcome: str, requested_at: datetime, decided_at: datetime) -> None:
        self.decisions.labels(outcome=outcome).inc()
        self.time_to_decision.observe(max(0.0, (decided_at - requested_at).total_seconds()))

    def render(self) -> bytes:
        return generate_latest(self.registry)
