"""The notifier's live figures for Prometheus: what reached Slack, what failed and how, what it rode out.

`tocsin notify --metrics-port 9109` serves them at http://HOST:9109/metrics.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

from detector.metrics import Metrics


class NotifierMetrics(Metrics):
    """One notifier's metrics.

    >>> metrics = NotifierMetrics()
    >>> metrics.delivered("firing")
    >>> metrics.failed("undeliverable")
    >>> metrics.value("tocsin_slack_posts_total", {"state": "firing"}), metrics.value(
    ...     "tocsin_slack_failures_total", {"kind": "undeliverable"})
    (1.0, 1.0)
    """

    def __init__(self) -> None:
        super().__init__()
        registry = self.registry
        self.posts = Counter("tocsin_slack_posts", "Alert transitions delivered to Slack (posted, or replied "
                             "and edited for a resolve)", ["state"], registry=registry)
        self.failures = Counter("tocsin_slack_failures", "Deliveries that failed: `transient` ones wait for a "
                                "later claim, `undeliverable` ones are parked on tocsin:alerts:undeliverable",
                                ["kind"], registry=registry)
        self.last_delivery = Gauge("tocsin_slack_last_delivery_timestamp_seconds", "When the last alert reached "
                                   "Slack (Unix time)", registry=registry)
        self.outages = Counter("tocsin_notifier_redis_outages", "Redis outages the notifier waited out",
                               registry=registry)

    def delivered(self, state: str) -> None:
        """An alert transition reached Slack."""
        self.posts.labels(state).inc()
        self.last_delivery.set_to_current_time()

    def failed(self, kind: str) -> None:
        """A delivery failed: `transient` or `undeliverable`."""
        self.failures.labels(kind).inc()
