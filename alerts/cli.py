"""`tocsin notify`: run the Slack notifier until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import signal
import threading

import typer

from alerts.alert_groups import GROUP_JOIN_MS, GROUP_MIN, GROUP_WAIT_MS
from alerts.notifier import Notifier, NotifierRefused
from alerts.notifier_settings import NotifierSettings, SettingsError
from detector.metrics import METRICS_HOST
from detector.redis_outage import RedisRefused
from detector.redis_server import RedisUnavailable, redacted

app = typer.Typer(add_completion=False, help="The Slack notifier.")


@app.command()
def notify(
    channel: str = typer.Option(None, "--channel", help="Default Slack channel, for alerts whose rule names "
                                "none. Default: $SLACK_CHANNEL."),
    redis_url: str = typer.Option(None, "--redis-url", help="Redis holding the alert stream. Default: $REDIS_URL "
                                  "(`tocsin detect` / `tocsin demo` print the URL of their embedded Redis)."),
    consumer: str = typer.Option(None, "--consumer", help="Consumer name in the group tocsin-notifier; give "
                                 "each running notifier its own. Default: the host name."),
    claim_idle: float = typer.Option(60.0, "--claim-idle", min=0.001, help="Seconds an alert may sit unacked "
                                     "(a crashed or failing notifier) before this one takes it over."),
    max_idle: float = typer.Option(None, "--max-idle", min=0.0, help="Exit after this many seconds without "
                                   "alerts. Default: run until SIGTERM or Ctrl-C."),
    group_min: int = typer.Option(GROUP_MIN, "--group-min", min=0, help="Firings of one rule (same channel and "
                                  "severity) read together that share one Slack message; 0 posts each alone."),
    group_wait: float = typer.Option(GROUP_WAIT_MS / 1000, "--group-wait", min=0.0, help="Seconds to wait, after "
                                     "reading a firing, for the rest of a storm before posting."),
    group_join: float = typer.Option(GROUP_JOIN_MS / 1000, "--group-join", min=0.0, help="Seconds a storm's "
                                     "message takes in later firings of its rule at its sites, after the last one "
                                     "it took (edited in, and said in its thread); 0 never."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log every delivery."),
    metrics_port: int = typer.Option(None, "--metrics-port", min=1, max=65535, help="Serve Prometheus metrics "
                                     "at http://HOST:PORT/metrics (posts, failures, Redis outages)."),
    metrics_host: str = typer.Option(METRICS_HOST, "--metrics-host", help="The address the metrics server listens "
                                     "on (all interfaces by default, for a scraper elsewhere; 127.0.0.1: this "
                                     "machine only)."),
) -> None:
    """Deliver alerts from the Redis alert stream to Slack, each once, then XACK them.

    The bot token comes from SLACK_BOT_TOKEN or from the file SLACK_BOT_TOKEN_FILE names;
    SLACK_API_URL points at another Slack Web API (default https://slack.com/api/).
    Alerts Slack refuses for good (unknown channel, bot not in channel...) go to the stream
    tocsin:alerts:undeliverable. Exits with code 2 when a setting is missing or Slack rejects the token.
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = NotifierSettings.from_env(slack_channel=channel, redis_url=redis_url, consumer=consumer,
                                             claim_idle_s=claim_idle, group_min=group_min, group_wait_s=group_wait,
                                             group_join_s=group_join)
        notifier = Notifier.from_settings(settings)
        notifier.start()
        if metrics_port is not None:
            serve_metrics(notifier.metrics, metrics_port, metrics_host)
    except (SettingsError, NotifierRefused, RedisUnavailable) as exc:
        typer.echo(f"tocsin notify: {exc}", err=True)
        raise typer.Exit(2) from None
    stop = threading.Event()
    # SIGTERM (docker stop) and Ctrl-C end the loop between batches, so no alert is left half-delivered.
    previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGTERM, signal.SIGINT)}
    typer.echo(f"tocsin notify: consumer {settings.consumer} reading {redacted(settings.redis_url)}, "
               f"default channel {settings.slack_channel}; Ctrl-C to stop", err=True)
    try:
        total = notifier.run(stop_event=stop, max_idle_s=max_idle)
    except RedisRefused as exc:
        typer.echo(f"tocsin notify: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        notifier.client.close()
    typer.echo(f"tocsin notify: stopped after {total} alerts", err=True)


def serve_metrics(metrics, port: int, host: str = METRICS_HOST) -> None:
    """Serve the notifier's metrics on `host`:`port`; a port taken or an unknown address is a setting error."""
    try:
        metrics.serve(port, host)
    except OSError as exc:
        raise SettingsError(f"--metrics-host {host} --metrics-port {port}: cannot serve metrics there: {exc}") from None
    typer.echo(f"tocsin notify: metrics at http://{host}:{port}/metrics (Prometheus)", err=True)
