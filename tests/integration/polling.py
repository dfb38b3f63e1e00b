"""Waiting in integration tests for something a background process or thread will do."""

from __future__ import annotations

import time

import pytest


def wait_for(condition, what: str, timeout_s: float = 180.0) -> None:
    """Poll `condition` until it is true; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)
