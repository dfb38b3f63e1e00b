"""Notifier settings from the environment: the token source, clear refusals, no secret in a repr."""

from __future__ import annotations

import pytest

from alerts.notifier_settings import NotifierSettings, SettingsError

ENV = {"SLACK_BOT_TOKEN": "xoxb-very-secret", "SLACK_CHANNEL": "#alerts",
       "REDIS_URL": "redis://:hunter2@127.0.0.1:6379/0"}


def test_settings_from_the_environment():
    settings = NotifierSettings.from_env(ENV, consumer="n1")
    assert settings.slack_bot_token.get_secret_value() == "xoxb-very-secret"
    assert settings.slack_channel == "#alerts"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert (settings.redis_url, settings.consumer, settings.claim_idle_s) == (ENV["REDIS_URL"], "n1", 60.0)


def test_secrets_never_appear_in_repr_or_str():
    settings = NotifierSettings.from_env(ENV)
    for shown in (repr(settings), str(settings)):
        assert "xoxb-very-secret" not in shown and "hunter2" not in shown


def test_token_from_a_file_is_stripped(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("xoxb-from-file\n")
    env = {**ENV, "SLACK_BOT_TOKEN": "", "SLACK_BOT_TOKEN_FILE": str(token_file)}
    assert NotifierSettings.from_env(env).slack_bot_token.get_secret_value() == "xoxb-from-file"


@pytest.mark.parametrize(("changes", "message"), [
    ({"SLACK_BOT_TOKEN": ""}, "no Slack token: the notifier is off. Set SLACK_BOT_TOKEN"),
    ({"SLACK_BOT_TOKEN_FILE": "/x"}, "SLACK_BOT_TOKEN and SLACK_BOT_TOKEN_FILE are both set"),
    ({"SLACK_BOT_TOKEN": "", "SLACK_BOT_TOKEN_FILE": "/nonexistent/token"},
     "SLACK_BOT_TOKEN_FILE '/nonexistent/token' cannot be read: No such file or directory"),
    ({"SLACK_CHANNEL": " "}, "SLACK_CHANNEL is not set: the default channel"),
    ({"REDIS_URL": ""}, "REDIS_URL is not set: the notifier reads alerts from a running Redis; `tocsin detect`"),
    ({"SLACK_API_URL": "slack.example"}, "SLACK_API_URL: Value error, 'slack.example' is not an http(s) URL"),
])
def test_each_bad_setting_is_named(changes, message):
    with pytest.raises(SettingsError, match="the Slack notifier cannot start") as caught:
        NotifierSettings.from_env({**ENV, **changes})
    assert message in str(caught.value)


def test_an_empty_token_file_is_refused(tmp_path):
    (tmp_path / "token").write_text("  \n")
    env = {**ENV, "SLACK_BOT_TOKEN": "", "SLACK_BOT_TOKEN_FILE": str(tmp_path / "token")}
    with pytest.raises(SettingsError, match="is empty"):
        NotifierSettings.from_env(env)


def test_all_missing_settings_are_reported_at_once():
    with pytest.raises(SettingsError) as caught:
        NotifierSettings.from_env({})
    assert all(name in str(caught.value) for name in ("SLACK_BOT_TOKEN", "SLACK_CHANNEL", "REDIS_URL"))


def test_options_override_the_environment_and_the_api_url_gets_its_slash():
    env = {**ENV, "SLACK_API_URL": "http://127.0.0.1:9/api", "REDIS_URL": ""}
    settings = NotifierSettings.from_env(env, slack_channel="#ops", redis_url="redis://h:1/0")
    assert (settings.slack_channel, settings.redis_url) == ("#ops", "redis://h:1/0")
    assert settings.slack_api_url == "http://127.0.0.1:9/api/"
