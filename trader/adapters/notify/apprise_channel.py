"""AppriseNotifier: email, Slack, Discord, webhooks and the rest through the ``apprise`` library.

URLs come from ``NotifyConfig.apprise_urls`` (secrets: they carry passwords and tokens). Apprise does the
sending; this adapter only maps our Alert onto its call and turns a failed delivery into NotifyError.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Final

import apprise
from apprise.attachment.memory import AttachMemory

from trader.adapters.notify.render import render_title
from trader.core.domain.alerts import Alert, Severity
from trader.core.errors import ConfigError, NotifyError

logger = logging.getLogger(__name__)

_TYPE: Final = {
    Severity.INFO: apprise.NotifyType.INFO,
    Severity.WARNING: apprise.NotifyType.WARNING,
    Severity.ERROR: apprise.NotifyType.FAILURE,
    Severity.CRITICAL: apprise.NotifyType.FAILURE,
}


class AppriseNotifier:
    """Deliver alerts to every configured apprise URL; raise NotifyError when any of them fails."""

    def __init__(self, urls: Sequence[str]) -> None:
        self._apprise = apprise.Apprise()
        bad = [i for i, url in enumerate(urls, 1) if not self._apprise.add(url)]
        if bad:
            # Never echo the URL: it holds credentials.
            raise ConfigError([f"notify.apprise_urls[{i}]: not a URL apprise understands" for i in bad])
        if not urls:
            raise ConfigError(["notify.apprise_urls: at least one URL is needed for the apprise channel"])

    async def send(self, alert: Alert) -> None:
        """Send the alert (with its image attached, where the service supports attachments)."""
        attach = None
        if alert.image is not None:
            attach = AttachMemory(  # type: ignore[no-untyped-call]
                content=alert.image, name="chart.png", mimetype="image/png"
            )
        result = await self._apprise.async_notify(
            body=alert.text.strip() or render_title(alert),
            title=render_title(alert),
            notify_type=_TYPE[alert.severity],
            attach=attach,
        )
        if not result:
            raise NotifyError(f"apprise delivery failed for a {alert.kind} alert ({_describe(result)})")


def _describe(result: object) -> str:
    failed = getattr(result, "failed_count", None)
    total = len(getattr(result, "results", ()) or ())
    return f"{failed} of {total} services failed" if failed is not None else "delivery failed"
