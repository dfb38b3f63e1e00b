"""The detector job: Redis Streams source -> per-sensor state -> Redis sink, as one streaming query."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from alerts.rules import RuleSet
from detector.registry import SensorRegistry
from detector.sink import BatchReport, RedisBatchSink
from detector.stateful import OUTPUT_SCHEMA, STATE_SCHEMA, SensorStep
from detector.stream_entries import CLOCK_STREAM
from models.model_config import ModelConfig

TRIGGER = re.compile(r"^\s*(\d+(\.\d+)?)\s*(ms|milliseconds?|s|seconds?|m|minutes?)\s*$")


class BadOption(ValueError):
    """A detector option with a value it cannot take; the message names the option."""


@dataclass(frozen=True)
class DetectorConfig:
    """Everything the job needs to start, validated by the CLI."""

    redis_url: str = field(repr=False)  # may carry a password
    streams: list[str]
    checkpoint: str
    trigger: str = "0 seconds"
    max_records_per_trigger: int | None = None
    starting_offsets: str = "earliest"
    model: ModelConfig = field(default_factory=ModelConfig)  # new sensors' models; those in state keep theirs
    state_buckets: int = 64  # groups of sensors in Spark state; fixed for the life of a checkpoint
    query_name: str = "tocsin-detector"
    # How often the driver looks for changes to the sensor registry (a change restarts the query with it).
    registry_check_s: float = 30.0


def trigger_args(trigger: str) -> dict:
    """Keyword arguments for DataStreamWriter.trigger: an interval such as '2 seconds', or 'availableNow'.

    >>> trigger_args("500ms")
    {'processingTime': '500 milliseconds'}
    >>> trigger_args("availableNow")
    {'availableNow': True}
    """
    if trigger.strip().lower() in ("availablenow", "available-now", "once"):
        return {"availableNow": True}
    match = TRIGGER.match(trigger)
    if not match:
        raise BadOption(f"--trigger: {trigger!r} is not an interval like '2 seconds', '500ms' or 'availableNow'")
    amount, unit = float(match.group(1)), match.group(3)
    millis = amount * (1 if unit == "ms" or unit.startswith("milli") else 1000 if unit.startswith("s") else 60_000)
    return {"processingTime": f"{int(millis)} milliseconds"}


CHECKPOINT_LAYOUT = "tocsin-layout.json"


def check_layout(config: DetectorConfig) -> None:
    """Refuse a checkpoint made with another state-bucket count: its per-sensor state would be lost.

    Only local checkpoint folders are checked (a cluster's hdfs:// or s3a:// is Spark's to read).
    """
    if "://" in config.checkpoint and not config.checkpoint.startswith("file://"):
        return
    folder = Path(config.checkpoint.removeprefix("file://"))
    layout = folder / CHECKPOINT_LAYOUT
    if layout.exists():
        made = json.loads(layout.read_text()).get("state_buckets")
        if made != config.state_buckets:
            raise BadOption(f"--state-buckets: the checkpoint {folder} was made with {made}, not "
                            f"{config.state_buckets}; keep {made} or start a new checkpoint")
        return
    folder.mkdir(parents=True, exist_ok=True)
    layout.write_text(json.dumps({"state_buckets": config.state_buckets}))


def start_detector(spark, config: DetectorConfig, rules: RuleSet, registry: SensorRegistry, client,
                   on_batch: Callable[[BatchReport], None] | None = None):
    """Start the streaming query; returns the StreamingQuery (the caller awaits or stops it)."""
    from pyspark.sql import functions as F
    from pyspark.sql.streaming.state import GroupStateTimeout

    from detector.source import read_events

    check_layout(config)
    events = read_events(spark, config.redis_url, config.streams,
                         max_records_per_trigger=config.max_records_per_trigger,
                         starting_offsets=config.starting_offsets)
    step = SensorStep(rules=rules, registry=registry, model=config.model)
    # One state per bucket of sensors, not per sensor: see detector/sensor_group.py. A clock tick goes to
    # every bucket, so one whose sensors all went quiet still judges their silence.
    bucket = F.crc32(F.coalesce(F.trim("sensor_id"), F.lit("")).cast("binary")) % config.state_buckets
    every = F.sequence(F.lit(0).cast("long"), F.lit(config.state_buckets - 1).cast("long"))
    buckets = F.when(F.col("stream") == F.lit(CLOCK_STREAM), every).otherwise(F.array(bucket))
    scored = (
        events.withColumn("bucket", F.explode(buckets))
        .groupBy("bucket")
        .applyInPandasWithState(step, OUTPUT_SCHEMA, STATE_SCHEMA, "update", GroupStateTimeout.NoTimeout)
    )
    return (
        scored.writeStream.queryName(config.query_name)
        .option("checkpointLocation", config.checkpoint)
        .outputMode("update")
        .foreachBatch(RedisBatchSink(client, on_batch))
        .trigger(**trigger_args(config.trigger))
        .start()
    )
