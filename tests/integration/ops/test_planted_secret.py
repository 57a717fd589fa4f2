"""A planted secret never appears in any log line, alert, stored error, audit entry or HTTP answer.

Secrets come from both places the service knows them: SecretStr settings and the encrypted secret
store. The test drives the real pieces (JSON file log, SQLite store, router, console channel, outbox,
audit, health server) with texts and exceptions that contain the secrets, then scans every output.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from trader.adapters.notify.console_channel import ConsoleNotifier
from trader.adapters.notify.router import AlertRouter, Route
from trader.adapters.ops.health import READY_PATH, HealthServer, Metrics
from trader.adapters.ops.log_setup import REDACTED, configure_logging, secret_values
from trader.adapters.ops.secret_store import (
    SecretStore,
    build_cipher,
    generate_key,
    load_secrets,
    overlay_settings,
)
from trader.adapters.store.migrate import upgrade_async
from trader.adapters.store.sql.uow import Database
from trader.config import LoggingConfig, OpsConfig, load_settings
from trader.core.domain.alerts import Alert, Severity
from trader.live.alerts import AlertService
from trader.runtime.clock import SimClock
from trader.services.audit import AuditService

TOKEN = "987654:planted-TOKEN-from-settings-Qx"
DB_PASSWORD = "planted-db-password-77"
STORED = "planted-exchange-secret-from-store-Zz"
T0 = datetime(2026, 6, 1, tzinfo=UTC)


class LeakyChannel:
    """Fails the way an HTTP client does: the error quotes the request URL with the token."""

    async def send(self, alert: Alert) -> None:
        raise ConnectionError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage failed")


@pytest.fixture(autouse=True)
def _restore_root_logging(restore_root_logging: None) -> None:
    """Every test here configures the root logger; undo it afterwards."""


async def test_planted_secrets_never_leave_the_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db_file = tmp_path / "trader.db"
    url = f"sqlite+aiosqlite:///{db_file}"
    await upgrade_async(url)
    key = generate_key()
    db = Database.from_url(url)
    clock = SimClock(T0)
    await SecretStore(db.uow, build_cipher([key]), clock).set("exchange.api_secret", STORED)

    settings = load_settings(
        telegram={"token": TOKEN}, ops={"secrets_key": key},
        notify={"apprise_urls": [f"json://user:{DB_PASSWORD}@127.0.0.1:9/x"]},
    )
    log_file = tmp_path / "logs" / "trader.log"
    redactor = configure_logging(LoggingConfig(json_format=True, file=str(log_file), level="DEBUG"),
                                 secret_values(settings))
    stored = await load_secrets(settings, db.uow, clock)
    redactor.add(*stored.values())
    settings = overlay_settings(settings, stored)

    console = io.StringIO()
    router = AlertRouter([Route("console", ConsoleNotifier(console)), Route("telegram", LeakyChannel())],
                         clock, redact=redactor.redact)
    alerts = AlertService(db.uow, router, clock, redact=redactor.redact)
    audit = AuditService(db.uow, clock, redact=redactor.redact)
    await alerts.publish(Alert(kind="error", text=f"auth failed for key {STORED}", severity=Severity.ERROR))
    await alerts.dispatch_once()
    await audit.record("telegram:1", "command", f"/settings exchange.api_secret {STORED}", "refused")

    log = logging.getLogger("trader.test")
    log.info("settings: %s", settings)  # pydantic masks SecretStr in repr; the redactor catches the rest
    log.warning("telegram token %s, exchange secret %s", TOKEN, STORED)
    try:
        raise RuntimeError(f"exchange said: invalid signature for {STORED}")
    except RuntimeError:
        log.exception("tick failed")

    server = HealthServer(OpsConfig(health_port=0), Metrics())

    async def exchange_down() -> bool:
        raise ConnectionError(f"https://user:{DB_PASSWORD}@exchange/ refused")

    server.add_check("exchange", exchange_down)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{server.port}{READY_PATH}") as resp:
                ready_body = await resp.text()
    finally:
        await server.stop()

    async with db.uow() as uow:
        errors = [r.last_error or "" for r in await uow.alerts.pending()]
        entries = await uow.audit.recent(10)
    await db.dispose()
    for h in logging.getLogger().handlers:
        h.flush()

    captured = capsys.readouterr()
    outputs = {
        "log file": log_file.read_text(),
        "console channel": console.getvalue(),
        "stored alert errors": "\n".join(errors),
        "audit": "\n".join(f"{e.detail} {e.result}" for e in entries),
        "ready answer": ready_body,
        "stdout/stderr": captured.out + captured.err,
        "database file": db_file.read_bytes().decode("latin-1"),
    }
    for where, text in outputs.items():
        for secret in (TOKEN, DB_PASSWORD, STORED):
            assert secret not in text, f"{secret} leaked into the {where}"
    assert REDACTED in outputs["console channel"]
    assert REDACTED in outputs["stored alert errors"]
    assert REDACTED in outputs["audit"]
    assert outputs["log file"].count(REDACTED) >= 4
