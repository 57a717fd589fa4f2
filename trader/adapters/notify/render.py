"""Pure rendering of an Alert into the plain text and title every channel sends."""

from __future__ import annotations

from typing import Final

from trader.core.domain.alerts import Alert, Severity

_ICON: Final = {
    Severity.INFO: "ℹ️",
    Severity.WARNING: "⚠️",
    Severity.ERROR: "❗",
    Severity.CRITICAL: "🚨",
}
_KIND_LABEL: Final = {
    "entry": "Entry",
    "exit": "Exit",
    "stop_moved": "Stop moved",
    "rejected": "Order rejected",
    "guard": "Risk guard",
    "halt": "Trading halted",
    "reconcile": "Reconciliation",
    "error": "Error",
    "summary": "Summary",
}


def kind_label(kind: str) -> str:
    """Return the human label of an alert kind ("stop_moved" → "Stop moved"); unknown kinds are prettified."""
    return _KIND_LABEL.get(kind) or kind.replace("_", " ").strip().capitalize() or "Alert"


def render_title(alert: Alert) -> str:
    """Return a one-line title: icon and label, with the severity for warnings and worse."""
    label = kind_label(alert.kind)
    if alert.severity is Severity.INFO:
        return f"{_ICON[alert.severity]} {label}"
    return f"{_ICON[alert.severity]} {label} ({alert.severity.value.upper()})"


def render_text(alert: Alert) -> str:
    """Return the title line followed by the alert's text."""
    body = alert.text.strip()
    return f"{render_title(alert)}\n{body}" if body else render_title(alert)


def repeat_note(suppressed: int) -> str:
    """Return the line telling how many identical alerts were held back since the last one."""
    return f"(repeated {suppressed} more time{'s' if suppressed != 1 else ''} since the last message)"
