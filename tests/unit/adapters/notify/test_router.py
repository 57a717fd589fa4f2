"""AlertRouter: severity routing, partial-failure retries, de-duplication with injected time."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from trader.adapters.notify.console_channel import ConsoleNotifier
from trader.adapters.notify.router import AlertRouter, Route, build_routes
from trader.config import NotifyConfig
from trader.core.domain.alerts import Alert, Severity
from trader.core.errors import ConfigError, NotifyError
from trader.runtime.clock import SimClock

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


class RecordingChannel:
    """A channel that keeps what it was sent and fails while ``failures_left`` > 0."""

    def __init__(self, failures: int = 0) -> None:
        self.sent: list[Alert] = []
        self.failures_left = failures

    async def send(self, alert: Alert) -> None:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise ConnectionError("channel down")
        self.sent.append(alert)


def _router(*routes: Route, window: timedelta = timedelta(minutes=10)) -> tuple[AlertRouter, SimClock]:
    clock = SimClock(T0)
    return AlertRouter(routes, clock, dedupe_window=window), clock


async def test_severity_decides_which_channels_get_an_alert() -> None:
    everything, errors_only = RecordingChannel(), RecordingChannel()
    router, _ = _router(Route("tg", everything), Route("mail", errors_only, Severity.ERROR))
    await router.send(Alert(kind="entry", text="bought"))
    await router.send(Alert(kind="error", text="boom", severity=Severity.ERROR))
    await router.send(Alert(kind="halt", text="halted", severity=Severity.CRITICAL))
    assert [a.kind for a in everything.sent] == ["entry", "error", "halt"]
    assert [a.kind for a in errors_only.sent] == ["error", "halt"]


async def test_no_subscribed_channel_is_not_an_error() -> None:
    mail = RecordingChannel()
    router, _ = _router(Route("mail", mail, Severity.CRITICAL))
    await router.send(Alert(kind="entry", text="bought"))
    assert mail.sent == []


async def test_partial_failure_raises_and_retry_reaches_only_the_failed_channel() -> None:
    ok, flaky = RecordingChannel(), RecordingChannel(failures=1)
    router, _ = _router(Route("tg", ok), Route("mail", flaky))
    alert = Alert(kind="exit", text="sold")
    with pytest.raises(NotifyError, match="mail"):
        await router.send(alert)
    assert len(ok.sent) == 1
    assert flaky.sent == []
    await router.send(alert)  # the outbox's retry
    assert len(ok.sent) == 1  # not sent twice
    assert flaky.sent == [alert]
    await router.send(alert)  # a new, identical alert after full success goes everywhere again
    assert len(ok.sent) == 2


async def test_repeats_inside_window_are_held_back_and_counted_in_the_next_message() -> None:
    tg = RecordingChannel()
    router, clock = _router(Route("tg", tg), window=timedelta(minutes=5))
    err = Alert(kind="error", text="exchange timeout", severity=Severity.ERROR, dedupe_key="exch-timeout")
    await router.send(err)
    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        await router.send(err)
    assert len(tg.sent) == 1
    clock.advance(timedelta(minutes=3))  # 6 minutes after the first send
    await router.send(err)
    assert len(tg.sent) == 2
    assert tg.sent[1].text == "exchange timeout\n(repeated 3 more times since the last message)"
    clock.advance(timedelta(minutes=10))
    await router.send(err)
    assert tg.sent[2].text == "exchange timeout"  # counter reset after it was reported


async def test_alerts_without_dedupe_key_are_never_held_back() -> None:
    tg = RecordingChannel()
    router, _ = _router(Route("tg", tg))
    for _ in range(3):
        await router.send(Alert(kind="entry", text="same"))
    assert len(tg.sent) == 3


async def test_failed_delivery_does_not_start_the_dedupe_window() -> None:
    tg = RecordingChannel(failures=1)
    router, _ = _router(Route("tg", tg))
    err = Alert(kind="error", text="db down", severity=Severity.ERROR, dedupe_key="db")
    with pytest.raises(NotifyError):
        await router.send(err)
    await router.send(err)
    assert tg.sent == [err]


def test_duplicate_route_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="unique"):
        _router(Route("tg", RecordingChannel()), Route("tg", RecordingChannel()))


def test_build_routes_without_telegram_always_has_console() -> None:
    routes = build_routes(NotifyConfig(console=False))
    assert [r.name for r in routes] == ["console"]
    assert isinstance(routes[0].channel, ConsoleNotifier)


def test_build_routes_with_telegram_and_apprise() -> None:
    tg = RecordingChannel()
    config = NotifyConfig(console=False, min_severity="error",
                          apprise_urls=(SecretStr("json://127.0.0.1:9/alerts"),))
    routes = build_routes(config, telegram=tg, console_stream=io.StringIO())
    assert [(r.name, r.min_severity) for r in routes] == [
        ("telegram", Severity.INFO), ("apprise", Severity.ERROR)
    ]


def test_bad_apprise_url_is_a_config_error_without_the_url() -> None:
    config = NotifyConfig(apprise_urls=(SecretStr("nonsense-with-password-hunter2"),))
    with pytest.raises(ConfigError) as info:
        build_routes(config)
    assert "hunter2" not in str(info.value)
    assert "apprise_urls[1]" in str(info.value)
