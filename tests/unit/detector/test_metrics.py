"""The detector's Prometheus figures, fed by hand as the driver feeds them."""

from __future__ import annotations

import math
import socket
import urllib.request

import pytest

from alerts.cli import serve_metrics
from alerts.notifier_metrics import NotifierMetrics
from alerts.notifier_settings import SettingsError
from alerts.transition import AlertTransition
from detector.metrics import DetectorMetrics
from detector.sink import BatchReport


def alert(rule: str, state: str, event_id: str) -> AlertTransition:
    return AlertTransition.create(rule=rule, sensor_id="s1", state=state, event_id=event_id, severity="warning",
                                  value=1.0, score=1.0, ts=0, summary="")


def progress(batch: int, rows: int, ms: int = 400, at: str = "2026-11-24T04:00:00.000Z") -> dict:
    return {"batchId": batch, "timestamp": at, "numInputRows": rows, "durationMs": {"triggerExecution": ms}}


def test_alerts_and_dead_letters_are_counted_by_rule_and_state_batch_reports_and_the_drivers_alike():
    metrics = DetectorMetrics()
    metrics.on_batch(BatchReport(1, [alert("anomaly", "firing", "1-0")], [{"reason": "no value"}] * 2))
    metrics.on_batch(BatchReport(None, [alert("silence", "firing", "2-0"), alert("anomaly", "resolved", "3-0")]))
    assert metrics.value("tocsin_alert_transitions_total", {"rule": "anomaly", "state": "firing"}) == 1.0
    assert metrics.value("tocsin_alert_transitions_total", {"rule": "anomaly", "state": "resolved"}) == 1.0
    assert metrics.value("tocsin_alert_transitions_total", {"rule": "silence", "state": "firing"}) == 1.0
    assert metrics.value("tocsin_dead_letters_total") == 2.0


def test_each_batch_that_read_something_counts_once_however_often_its_progress_is_seen():
    metrics = DetectorMetrics()
    first, idle = progress(0, 501), progress(1, 0, at="2026-11-24T04:00:10.000Z")
    metrics.on_progress([first])
    metrics.on_progress([first, idle, progress(1, 200, ms=2_500, at="2026-11-24T04:00:11.000Z")])
    metrics.on_progress([])
    assert metrics.value("tocsin_batches_total") == 2.0 and metrics.value("tocsin_input_rows_total") == 701.0
    assert metrics.value("tocsin_batch_duration_seconds_count") == 2.0
    assert metrics.value("tocsin_batch_duration_seconds_sum") == 2.9
    assert metrics.value("tocsin_batch_duration_seconds_bucket", {"le": "0.5"}) == 1.0
    assert metrics.value("tocsin_last_batch_timestamp_seconds") > 0


def test_the_lag_is_how_far_the_newest_entry_read_trails_the_newest_on_its_stream_the_worst_stream():
    metrics = DetectorMetrics()
    metrics.on_lag({"e:0": "65500-0", "e:1": "65500-3"}, None)
    assert metrics.value("tocsin_lag_seconds") == 0.0, "nothing read yet: no figure"
    metrics.on_lag({"e:0": "65500-0", "e:1": "9000-0"}, {"e:0": "5000-7", "e:1": "9000-0"})
    assert math.isclose(metrics.value("tocsin_lag_seconds"), 60.5)
    metrics.on_lag({"e:0": "65500-0", "e:1": "70000-0"}, {"e:0": "65500-0", "e:1": "9000-0"})
    assert math.isclose(metrics.value("tocsin_lag_seconds"), 61.0), "one stream caught up does not hide another"
    metrics.on_lag({"e:0": "65500-0", "e:1": None, "e:2": "1-0"}, {"e:0": "65500-0", "e:2": "0-0"})
    assert metrics.value("tocsin_lag_seconds") == 0.001, "an empty stream has no lag; one never read lags fully"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_metrics_are_served_over_http_on_the_address_asked_for():
    metrics = DetectorMetrics()
    metrics.on_batch(BatchReport(1, [alert("anomaly", "firing", "1-0")], []))
    port = _free_port()
    server = metrics.serve(port, "127.0.0.1")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            page = response.read().decode()
    finally:
        server.shutdown()
    assert 'tocsin_alert_transitions_total{rule="anomaly",state="firing"} 1.0' in page


def test_an_address_the_notifier_cannot_listen_on_is_a_setting_error_that_names_it():
    with pytest.raises(SettingsError, match=r"--metrics-host no-such-host\.invalid --metrics-port \d+: cannot serve"):
        serve_metrics(NotifierMetrics(), _free_port(), "no-such-host.invalid")
