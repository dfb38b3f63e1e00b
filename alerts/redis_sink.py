"""Idempotent writes to Redis streams: a replayed micro-batch adds nothing, publishes nothing twice."""

from __future__ import annotations

import json
from collections.abc import Sequence

from alerts.transition import ACTIVE_HASH, ALERT_STREAM, FIRING, LIVE_CHANNEL, RESOLVED, AlertTransition

ALERT_SEEN_PREFIX = "tocsin:alerts:seen:"
DEFAULT_TTL_S = 7 * 86400
DEFAULT_MAXLEN = 100_000

# One script for every once-only append, so the dedup marker, the stream entry and the side effects
# (active hash, live channel) are written together: a crash between them cannot leave half a write.
# KEYS: dedup marker, stream[, hash]. ARGV: ttl, maxlen, hash op ("", HSET, HDEL), hash field,
# payload (hash value and published message), publish channel ("" for none), stream field/value pairs...
APPEND_ONCE_LUA = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  return 0
end
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[2], '*', unpack(ARGV, 7))
if ARGV[3] == 'HSET' then
  redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
elseif ARGV[3] == 'HDEL' then
  redis.call('HDEL', KEYS[3], ARGV[4])
end
if ARGV[6] ~= '' then
  redis.call('PUBLISH', ARGV[6], ARGV[5])
end
return 1
"""


def append_once(client, stream: str, entries: Sequence[tuple[str, dict[str, str]]], *, dedup_prefix: str,
                ttl_s: int = DEFAULT_TTL_S, maxlen: int = DEFAULT_MAXLEN) -> list[bool]:
    """XADD each (dedup_id, fields) to `stream` unless that dedup_id was added within `ttl_s`; which were new."""
    calls = [([dedup_prefix + dedup_id, stream], ["", "", "", ""], fields) for dedup_id, fields in entries]
    return _run(client, calls, ttl_s=ttl_s, maxlen=maxlen)


class AlertSink:
    """Writes alert transitions once: stream entry, active-alert hash and live publish, keyed by transition id."""

    def __init__(self, client, *, ttl_s: int = DEFAULT_TTL_S, maxlen: int = DEFAULT_MAXLEN) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self.maxlen = maxlen

    def write(self, transitions: Sequence[AlertTransition]) -> list[AlertTransition]:
        """Write the transitions in order; returns the ones that were new (a replay returns [])."""
        calls = []
        for transition in transitions:
            if transition.state not in (FIRING, RESOLVED):
                raise ValueError(f"alert transition {transition.id}: state {transition.state!r} is neither "
                                 f"{FIRING!r} nor {RESOLVED!r}")
            fields = transition.to_fields()
            payload = json.dumps(fields, sort_keys=True)
            hash_op = "HSET" if transition.state == FIRING else "HDEL"
            keys = [ALERT_SEEN_PREFIX + transition.id, ALERT_STREAM, ACTIVE_HASH]
            calls.append((keys, [hash_op, transition.key, payload, LIVE_CHANNEL], fields))
        added = _run(self.client, calls, ttl_s=self.ttl_s, maxlen=self.maxlen)
        return [transition for transition, is_new in zip(transitions, added) if is_new]


def _run(client, calls: list[tuple[list[str], list[str], dict[str, str]]], *, ttl_s: int, maxlen: int) -> list[bool]:
    """Run the script once per call in one pipeline round trip."""
    if not calls:
        return []
    if ttl_s <= 0 or maxlen <= 0:
        raise ValueError(f"append_once: ttl_s ({ttl_s}) and maxlen ({maxlen}) must be positive")
    script = client.register_script(APPEND_ONCE_LUA)
    pipe = client.pipeline(transaction=False)
    for keys, effects, fields in calls:
        if not fields:
            raise ValueError(f"append_once: entry {keys[0]!r} has no fields (a stream entry needs at least one)")
        pairs = [part for name, value in fields.items() for part in (name, value)]
        script(keys=keys, args=[ttl_s, maxlen, *effects, *pairs], client=pipe)
    return [bool(result) for result in pipe.execute()]
