"""Formatting: HTML-escaped, split under Telegram's limit without breaking tags or entities."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from handlers import formatting
from tests.fakes.fake_botapi.html_check import html_problem
from trader.services.dto import ControlResult


@given(st.text(max_size=300))
def test_error_text_is_always_valid_html(text: str) -> None:
    assert html_problem(formatting.error(text)) is None


@given(st.lists(st.text(max_size=2000), max_size=40))
def test_log_blocks_are_valid_html_and_under_the_limit(lines: list[str]) -> None:
    for part in formatting.split_pre(tuple(lines)):
        assert len(part) <= 4096
        assert html_problem(part) is None


def test_split_keeps_every_line_and_the_limit() -> None:
    text = "\n".join(f"<b>row {i}</b> " + "x" * 100 for i in range(200))
    parts = formatting.split(text)
    assert all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text
    assert all(html_problem(p) is None for p in parts)


def test_result_escapes_service_text() -> None:
    text = formatting.result(ControlResult(False, "No <b>", "a & b"))
    assert text == "⚠️ No &lt;b&gt; (a &amp; b)"


def test_numbers_are_formatted_for_reading() -> None:
    assert formatting.price(Decimal("60000")) == "60,000.00"
    assert formatting.price(Decimal("0.00012345")) == "0.00012345"
    assert formatting.qty(Decimal("0.12340000")) == "0.1234"
    assert formatting.pct(Decimal("-0.0123")) == "-1.23%"
    assert formatting.signed(Decimal("10"), "USDT") == "+10.00 USDT"
