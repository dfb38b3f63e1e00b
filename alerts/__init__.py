"""tocsin's alert path: rules, alert transitions, the Redis sink and the Slack notifier."""
