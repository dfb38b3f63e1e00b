"""Live figures for Prometheus; the detector's: what it read and raised, how fast, how far behind, what it rode out.

`tocsin detect --metrics-port 9108` serves them at http://HOST:9108/metrics. The driver feeds them: each
finished micro-batch's progress (Spark's own report), each batch report (alerts, dead letters), the
bus's newest entry, and the outages and restarts of the query.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from detector.sink import BatchReport
from detector.stream_offsets import NOTHING_READ, parse_entry_id

# Where the metrics server listens unless told: every interface, so a Prometheus elsewhere (another container) can
# scrape it, as exporters do; `--metrics-host 127.0.0.1` keeps it on this machine.
METRICS_HOST = "0.0.0.0"
BATCH_SECONDS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0)


class Metrics:
    """A process's metrics in a registry of their own, served over HTTP for Prometheus to scrape."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()

    def value(self, name: str, labels: dict[str, str] | None = None) -> float | None:
        """One sample's value, by its exposed name (for tests and people at a prompt)."""
        return self.registry.get_sample_value(name, labels or {})

    def serve(self, port: int, addr: str = METRICS_HOST):
        """Serve /metrics on `port` in a background thread; returns the server (shutdown() stops it)."""
        server, _thread = start_http_server(port, addr=addr, registry=self.registry)
        return server


class DetectorMetrics(Metrics):
    """One job's metrics.

    >>> metrics = DetectorMetrics()
    >>> metrics.on_progress([{"batchId": 3, "timestamp": "2026-11-24T04:00:00.000Z", "numInputRows": 501,
    ...                       "durationMs": {"triggerExecution": 850}}])
    >>> metrics.value("tocsin_input_rows_total"), metrics.value("tocsin_batches_total")
    (501.0, 1.0)
    """

    def __init__(self) -> None:
        super().__init__()
        registry = self.registry
        self.batches = Counter("tocsin_batches", "Micro-batches that read something", registry=registry)
        self.input_rows = Counter("tocsin_input_rows", "Rows the source read: stream entries, and one clock tick "
                                  "per micro-batch", registry=registry)
        self.batch_seconds = Histogram("tocsin_batch_duration_seconds", "Wall time of a micro-batch, read to sink",
                                       buckets=BATCH_SECONDS, registry=registry)
        self.last_batch = Gauge("tocsin_last_batch_timestamp_seconds", "When the last micro-batch that read "
                                "something finished (Unix time)", registry=registry)
        self.alerts = Counter("tocsin_alert_transitions", "Alert transitions written (new ones only)",
                              ["rule", "state"], registry=registry)
        self.dead_letters = Counter("tocsin_dead_letters", "Entries refused by the event contract (new ones only)",
                                    registry=registry)
        self.lag = Gauge("tocsin_lag_seconds", "Arrival time of the newest entry on the streams minus that of "
                         "the newest entry the job has read", registry=registry)
        self.outages = Counter("tocsin_redis_outages", "Redis outages the job waited out", registry=registry)
        self.restarts = Counter("tocsin_query_restarts", "Restarts of the streaming query from its checkpoint",
                                ["why"], registry=registry)
        self._seen = ""  # the timestamp of the last progress report taken in

    def on_batch(self, report: BatchReport) -> None:
        """Count a batch report's new alerts and dead letters (or the driver's, between batches)."""
        for alert in report.new_alerts:
            self.alerts.labels(alert.rule, alert.state).inc()
        if report.new_dead_letters:
            self.dead_letters.inc(len(report.new_dead_letters))

    def is_new(self, progress: dict | None) -> bool:
        """Whether a progress report is later than every one taken in so far."""
        return bool(progress) and (progress.get("timestamp") or "") > self._seen

    def on_progress(self, reports: list[dict]) -> None:
        """Take in the query's recent progress reports, each once (an idle trigger reads nothing: no batch).

        Spark keeps the last hundred; the driver looks every half second, so none is missed between looks.
        """
        for progress in reports:
            if not self.is_new(progress):  # ISO-8601 in UTC, one format: the text orders as the time does
                continue
            self._seen = progress["timestamp"]
            rows = progress.get("numInputRows") or 0
            if not rows:
                continue
            self.batches.inc()
            self.input_rows.inc(rows)
            self.batch_seconds.observe((progress.get("durationMs") or {}).get("triggerExecution", 0) / 1000.0)
            self.last_batch.set_to_current_time()

    def on_lag(self, newest: dict[str, str | None], read: dict[str, str] | None) -> None:
        """The lag: the most any stream's newest entry arrived after the newest one read from it.

        Both are entry ids by stream (arrival milliseconds first); a stream with nothing on it has no lag.
        """
        if read is None:
            return
        lags = [parse_entry_id(last)[0] - parse_entry_id(read.get(stream) or NOTHING_READ)[0]
                for stream, last in newest.items() if last]
        self.lag.set(max([0, *lags]) / 1000.0)
