"""Allow-list roles and the stranger rate limit."""

from __future__ import annotations

from handlers.access import AccessList, StrangerGate
from trader.config.sections import TelegramUser
from trader.services.dto import Role

ACCESS = AccessList(
    [TelegramUser(id=1, role="admin"), TelegramUser(id=2, role="viewer"), TelegramUser(id=-50, role="trader")]
)


def test_private_chat_uses_the_chat_role() -> None:
    assert ACCESS.role_for(1, "private", 1) is Role.ADMIN
    assert ACCESS.role_for(3, "private", 3) is None


def test_group_needs_both_ids_and_takes_the_lower_role() -> None:
    assert ACCESS.role_for(-50, "group", 1) is Role.TRADER
    assert ACCESS.role_for(-50, "supergroup", 2) is Role.VIEWER
    assert ACCESS.role_for(-50, "group", 3) is None
    assert ACCESS.role_for(-51, "group", 1) is None


def test_roles_are_ordered_viewer_trader_admin() -> None:
    assert Role.ADMIN.can(Role.TRADER) and Role.TRADER.can(Role.VIEWER) and not Role.VIEWER.can(Role.TRADER)


def test_gate_admits_each_stranger_once_per_period() -> None:
    gate = StrangerGate(per_id_seconds=60, max_per_window=100)
    assert gate.admit(7, 0.0)
    assert not gate.admit(7, 59.0)
    assert gate.admit(7, 60.0)
    assert gate.take_dropped() == 1 and gate.take_dropped() == 0


def test_gate_caps_the_total_per_window() -> None:
    gate = StrangerGate(per_id_seconds=60, max_per_window=3, window_seconds=10)
    assert [gate.admit(i, 0.0) for i in range(5)] == [True, True, True, False, False]
    assert gate.admit(99, 10.0)


def test_gate_memory_is_bounded_under_a_flood_of_new_ids() -> None:
    gate = StrangerGate(per_id_seconds=1, max_per_window=10**9, max_tracked=100)
    for i in range(10_000):
        gate.admit(i, float(i))
    assert len(gate._last_seen) <= 100
