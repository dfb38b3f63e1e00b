"""The static sensor registry: type, site, device, unit and owner channel of each known sensor."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from alerts.rules import SensorInfo

REGISTRY_HASH = "tocsin:sensors"


@dataclass(frozen=True)
class SensorRegistry:
    """Registry metadata by sensor id; sensors it does not know are described by their events alone."""

    sensors: dict[str, SensorInfo] = field(default_factory=dict)

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
        """Parse the `tocsin:sensors` hash (sensor_id -> JSON object); malformed entries are skipped."""
        sensors: dict[str, SensorInfo] = {}
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
        return cls(sensors)


def load_registry(client) -> SensorRegistry:
    """Read the registry hash from Redis once, at job start."""
    return SensorRegistry.from_hash(client.hgetall(REGISTRY_HASH))
