"""Models pickled by an earlier release (Spark checkpoints keep them), restored with what was added since."""

from __future__ import annotations


def restore(obj: object, state: object, added: dict) -> None:
    """Set `obj`'s slots from its pickled `state`; a slot the state lacks takes its value in `added`.

    The values in `added` are the ones that keep an older model behaving as it did (a test added
    since stays off), so a checkpoint carries on across an upgrade instead of failing the job.

    >>> class Meter:
    ...     __slots__ = ("count", "limit")
    ...     def __setstate__(self, state):
    ...         restore(self, state, {"limit": None})
    >>> meter = Meter.__new__(Meter)
    >>> meter.__setstate__((None, {"count": 3}))
    >>> meter.count, meter.limit
    (3, None)
    """
    slots = state[1] if isinstance(state, tuple) else state
    for name, value in added.items():
        if name not in slots:
            setattr(obj, name, value)
    for name, value in slots.items():
        setattr(obj, name, value)
