"""The static sensor registry: type, site, device, unit and owner channel of each known sensor."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from alerts.rules import SensorInfo

REGISTRY_HASH = "tocsin:sensors"


@dataclass(frozen=True)
class SensorRegistry:
    """Registry metadata by sensor id; sensors it does not know are described by their events alone.

    A sensor whose entry says `"retired": true` has been taken out of service: the job resolves its
    firing alerts, forgets its model and state, and dead-letters anything it still sends.
    """

    sensors: dict[str, SensorInfo] = field(default_factory=dict)
    retired: frozenset[str] = frozenset()

    def info(self, sensor_id: str, *, site: str | None = None, device_id: str | None = None,
             unit: str | None = None) -> SensorInfo:
        """The sensor's registry entry, or one built from what its event carries."""
        known = self.sensors.get(sensor_id)
        if known is not None:
            return known
        return SensorInfo(sensor_id=sensor_id, site=site or "", device_id=device_id or "", unit=unit or "")

    def __len__(self) -> int:
        return len(self.sensors)

    @classmethod
    def from_hash(cls, raw: dict) -> "SensorRegistry":
        """Parse the `tocsin:sensors` hash (sensor_id -> JSON object); malformed entries are skipped.

        >>> registry = SensorRegistry.from_hash({b"p1": b'{"type": "pump", "site": "a"}', "p2": '{"retired": true}'})
        >>> registry.info("p1").type, sorted(registry.retired)
        ('pump', ['p2'])
        """
        sensors: dict[str, SensorInfo] = {}
        retired = set()
        for key, value in raw.items():
            sensor_id = key.decode() if isinstance(key, bytes) else key
            try:
                meta = json.loads(value)
            except ValueError:
                continue
            if not isinstance(meta, dict):
                continue
            sensors[sensor_id] = SensorInfo(
                sensor_id=sensor_id,
                **{name: str(meta.get(name) or "") for name in ("type", "site", "device_id", "unit", "channel")},
            )
            if meta.get("retired") is True:
                retired.add(sensor_id)
        return cls(sensors, frozenset(retired))


def load_registry(client) -> SensorRegistry:
    """Read the registry hash from Redis (when the job starts, and at each of its registry checks)."""
    return SensorRegistry.from_hash(client.hgetall(REGISTRY_HASH))


def write_entries(client, entries: dict[str, dict]) -> list[str]:
    """Write registry entries (sensor id -> metadata), keeping any retired mark; returns the sensors kept retired.

    A publisher rewrites its fleet's entries on every run; a sensor an operator took out of service
    (`tocsin retire`) stays out until `tocsin retire --undo`. The hash is written under WATCH, so a
    `tocsin retire` racing with it is not lost either.
    """
    if not entries:
        return []
    ids = list(entries)

    def write(pipe) -> list[str]:
        kept = [sensor_id for sensor_id, raw in zip(ids, pipe.hmget(REGISTRY_HASH, ids), strict=True)
                if _entry(raw).get("retired") is True]
        mapping = {sensor_id: {**meta, "retired": True} if sensor_id in kept else meta
                   for sensor_id, meta in entries.items()}
        pipe.multi()
        pipe.hset(REGISTRY_HASH, mapping={k: json.dumps(v, ensure_ascii=False) for k, v in mapping.items()})
        return kept

    return client.transaction(write, REGISTRY_HASH, value_from_callable=True)


def _entry(raw) -> dict:
    """A raw registry entry (JSON, or None) as a dict; {} when missing or malformed."""
    try:
        meta = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


def set_retired(client, sensor_ids: list[str], retired: bool = True) -> list[str]:
    """Mark sensors retired in the registry (or not, with `retired=False`); returns those whose entry changed.

    A sensor with no entry gets one that only says it is retired; undoing that removes the entry. Each
    entry is rewritten under WATCH, so a registry write racing with this one is not lost.
    """
    return [sensor_id for sensor_id in sensor_ids
            if client.transaction(lambda pipe, sensor_id=sensor_id: _mark(pipe, sensor_id, retired), REGISTRY_HASH,
                                  value_from_callable=True)]


def _mark(pipe, sensor_id: str, retired: bool) -> bool:
    """One entry's change, inside `client.transaction`: read while watched, then MULTI; whether it changed."""
    meta = _entry(pipe.hget(REGISTRY_HASH, sensor_id))
    if (meta.get("retired") is True) == retired:
        return False
    if retired:
        meta["retired"] = True
    else:
        meta.pop("retired", None)
    pipe.multi()
    if meta:
        pipe.hset(REGISTRY_HASH, sensor_id, json.dumps(meta, ensure_ascii=False))
    else:
        pipe.hdel(REGISTRY_HASH, sensor_id)
    return True
