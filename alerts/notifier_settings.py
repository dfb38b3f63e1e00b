"""The Slack notifier's settings, read once from the environment; the bot token is a SecretStr."""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from alerts.alert_groups import GROUP_JOIN_MS, GROUP_MIN, GROUP_WAIT_MS

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class SettingsError(ValueError):
    """The notifier's settings are missing or wrong; the message names each variable and what to do."""


class NotifierSettings(BaseModel):
    """Where the notifier reads alerts (Redis) and where it posts them (Slack)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    slack_bot_token: SecretStr
    slack_channel: str = Field(min_length=1)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    # A Redis URL can carry a password: keep it out of the repr.
    redis_url: str = Field(min_length=1, repr=False)
    consumer: str = Field(default_factory=socket.gethostname, min_length=1)
    claim_idle_s: float = Field(default=60.0, gt=0)
    group_min: int = Field(default=GROUP_MIN, ge=0)  # firings of one rule read together that share a message; 0: never
    group_wait_s: float = Field(default=GROUP_WAIT_MS / 1000, ge=0)
    group_join_s: float = Field(default=GROUP_JOIN_MS / 1000, ge=0)  # a storm's message takes later firings; 0: never

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, url: str) -> str:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"{url!r} is not an http(s) URL")
        # WebClient appends the method name to base_url as is.
        return url if url.endswith("/") else url + "/"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> "NotifierSettings":
        """Settings from SLACK_BOT_TOKEN(_FILE), SLACK_CHANNEL, SLACK_API_URL, REDIS_URL; `overrides` win."""
        env = os.environ if env is None else env
        problems: list[str] = []
        values: dict[str, object] = {}
        token = read_token(env, problems)
        if token:
            values["slack_bot_token"] = token
        for name, variable, hint in _REQUIRED:
            if env.get(variable, "").strip():
                values[name] = env[variable].strip()
            elif overrides.get(name) is None:
                problems.append(f"{variable} is not set: {hint}")
        if env.get("SLACK_API_URL", "").strip():
            values["slack_api_url"] = env["SLACK_API_URL"].strip()
        values.update({name: value for name, value in overrides.items() if value is not None})
        if problems:
            raise SettingsError("the Slack notifier cannot start:\n  " + "\n  ".join(problems))
        try:
            return cls(**values)
        except ValidationError as exc:
            lines = [f"{_VARIABLES.get(str(e['loc'][0]), e['loc'][0])}: {e['msg']}" for e in exc.errors()]
            raise SettingsError("the Slack notifier cannot start:\n  " + "\n  ".join(lines)) from None


_REQUIRED = (
    ("slack_channel", "SLACK_CHANNEL", "the default channel for alerts whose rule names none (e.g. #alerts)"),
    ("redis_url", "REDIS_URL", "the notifier reads alerts from a running Redis; `tocsin detect` and "
                               "`tocsin demo` start an embedded one and print its URL"),
)
_VARIABLES = {"slack_bot_token": "SLACK_BOT_TOKEN", "slack_channel": "SLACK_CHANNEL",
              "slack_api_url": "SLACK_API_URL", "redis_url": "REDIS_URL",
              "consumer": "consumer name", "claim_idle_s": "claim idle seconds", "group_min": "--group-min",
              "group_wait_s": "--group-wait", "group_join_s": "--group-join"}


def read_token(env: Mapping[str, str], problems: list[str]) -> str:
    """The bot token from SLACK_BOT_TOKEN or the file SLACK_BOT_TOKEN_FILE names; "" and a problem if neither."""
    direct = env.get("SLACK_BOT_TOKEN", "").strip()
    path = env.get("SLACK_BOT_TOKEN_FILE", "").strip()
    if direct and path:
        problems.append("SLACK_BOT_TOKEN and SLACK_BOT_TOKEN_FILE are both set: set only one")
        return ""
    if direct:
        return direct
    if not path:
        problems.append("no Slack token: the notifier is off. Set SLACK_BOT_TOKEN (xoxb-...) or "
                        "SLACK_BOT_TOKEN_FILE (a file holding it)")
        return ""
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        problems.append(f"SLACK_BOT_TOKEN_FILE {path!r} cannot be read: {exc.strerror or exc}")
        return ""
    if not token:
        problems.append(f"SLACK_BOT_TOKEN_FILE {path!r} is empty")
    return token
