"""Rendering alerts into plain text."""

from __future__ import annotations

from trader.adapters.notify.render import kind_label, render_text, render_title, repeat_note
from trader.core.domain.alerts import Alert, Severity


def test_info_title_has_icon_and_label_without_severity() -> None:
    assert render_title(Alert(kind="entry", text="x")) == "ℹ️ Entry"


def test_error_title_names_severity() -> None:
    title = render_title(Alert(kind="rejected", text="x", severity=Severity.ERROR))
    assert title == "❗ Order rejected (ERROR)"


def test_unknown_kind_is_prettified() -> None:
    assert kind_label("daily_report") == "Daily report"
    assert kind_label("") == "Alert"


def test_text_is_title_then_body_trimmed() -> None:
    alert = Alert(kind="halt", text="  Daily loss limit hit\n", severity=Severity.CRITICAL)
    assert render_text(alert) == "🚨 Trading halted (CRITICAL)\nDaily loss limit hit"


def test_empty_body_gives_title_only() -> None:
    assert render_text(Alert(kind="summary", text="   ")) == "ℹ️ Summary"


def test_repeat_note_pluralises() -> None:
    assert repeat_note(1) == "(repeated 1 more time since the last message)"
    assert repeat_note(3) == "(repeated 3 more times since the last message)"
