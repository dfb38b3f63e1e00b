"""The sensor registry: parsed from the tocsin:sensors hash, falling back on what events carry."""

from detector.registry import SensorRegistry


def test_known_sensors_come_from_the_hash_and_bad_entries_are_skipped():
    registry = SensorRegistry.from_hash({
        b"p1": b'{"type": "pressure", "site": "east", "channel": "#ops", "range": [0, 10]}',
        b"broken": b"{not json",
        b"list": b"[1, 2]",
    })
    assert len(registry) == 1
    info = registry.info("p1", site="ignored")
    assert (info.type, info.site, info.channel) == ("pressure", "east", "#ops")


def test_an_unknown_sensor_is_described_by_its_event():
    info = SensorRegistry().info("t9", site="west", device_id="d1", unit="C")
    assert (info.sensor_id, info.site, info.device_id, info.unit, info.type) == ("t9", "west", "d1", "C", "")
