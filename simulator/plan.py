"""A scenario resolved into what the generator runs: sensors, and each injection's targets and window.

`resolve` is the one place where cross-references are checked, so a scenario that loads also runs.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from simulator.anomalies import Anomaly, Episode
from simulator.faults import Fault
from simulator.fleet import Loc, ScenarioInvalid, SensorSpec, sensor_specs, type_problems
from simulator.schema import Scenario

# Kinds whose window, when no duration is given, is one sample rather than the rest of the run.
POINT_KINDS = ("spike", "dip")


@dataclass(frozen=True, slots=True)
class Injection:
    """One anomaly or data fault, bound to the sensors it hits and its event-time window [start, end)."""

    episode: Anomaly | Fault
    sensor_ids: tuple[str, ...]
    start_ms: int
    end_ms: int

    @property
    def kind(self) -> str:
        """The anomaly or fault kind, e.g. `spike` or `late`."""
        return self.episode.kind


@dataclass(frozen=True, slots=True)
class Plan:
    """A runnable scenario: its sensors in fleet order, and its anomalies and faults in file order."""

    scenario: Scenario
    sensors: tuple[SensorSpec, ...]
    anomalies: tuple[Injection, ...]
    faults: tuple[Injection, ...]


def resolve(scenario: Scenario) -> Plan:
    """Resolve sensors and injections; raise `ScenarioInvalid` listing every problem found."""
    problems = type_problems(scenario)
    specs = sensor_specs(scenario, problems)
    anomalies = [_inject(scenario, specs, ep, ("anomalies", i), problems) for i, ep in enumerate(scenario.anomalies)]
    faults = [_inject(scenario, specs, ep, ("faults", i), problems) for i, ep in enumerate(scenario.faults)]
    if problems:
        raise ScenarioInvalid(scenario.name, problems)
    return Plan(scenario, tuple(specs), tuple(anomalies), tuple(faults))


def _inject(scenario: Scenario, specs: list[SensorSpec], episode: Episode, loc: Loc, problems: list) -> Injection:
    targets = _targets(specs, episode, loc, problems)
    if episode.at >= scenario.duration:
        problems.append((loc + ("at",), f"starts at {episode.at} ms, past the end of the scenario "
                                        f"({scenario.duration} ms)"))
    start = scenario.start_time + episode.at
    duration = episode.duration
    slowest = max((s.interval_ms for s in specs if s.sensor_id in targets), default=0)
    if duration is None and episode.kind in POINT_KINDS:
        duration = slowest
    elif episode.kind in POINT_KINDS and duration < slowest:
        problems.append((loc + ("duration",), f"shorter than the sampling interval of its sensors ({slowest} ms), "
                                              "so it could fall between two readings"))
    end = scenario.end_ms if duration is None else min(start + duration, scenario.end_ms)
    return Injection(episode, targets, start, end)


def _targets(specs: list[SensorSpec], episode: Episode, loc: Loc, problems: list) -> tuple[str, ...]:
    hit: set[str] = set()
    for i, pattern in enumerate(episode.sensors):
        matched = {s.sensor_id for s in specs if fnmatch.fnmatchcase(s.sensor_id, pattern)}
        if not matched:
            problems.append((loc + ("sensors", i), f"no sensor matches {pattern!r}"))
        hit |= matched
    for i, pattern in enumerate(episode.devices):
        matched = {s.sensor_id for s in specs if fnmatch.fnmatchcase(s.device_id, pattern)}
        if not matched:
            problems.append((loc + ("devices", i), f"no device matches {pattern!r}"))
        hit |= matched
    return tuple(s.sensor_id for s in specs if s.sensor_id in hit)
