"""The positions table must follow the Position dataclass field for field."""

from __future__ import annotations

import dataclasses

from trader.adapters.store.orm import PositionRow, RiskStateRow
from trader.core.positions.state import Position
from trader.core.risk.state import RiskState


def test_positions_table_has_one_column_per_position_field() -> None:
    fields = {f.name for f in dataclasses.fields(Position)}
    columns = set(PositionRow.__table__.columns.keys())
    assert fields == columns, f"missing columns {fields - columns}, extra columns {columns - fields}"


def test_every_optional_position_field_is_nullable_and_no_other() -> None:
    optional = {f.name for f in dataclasses.fields(Position) if "None" in str(f.type)}
    nullable = {c.name for c in PositionRow.__table__.columns if c.nullable}
    assert optional == nullable


def test_risk_state_table_follows_risk_state_and_cooldowns_have_their_own_table() -> None:
    fields = {f.name for f in dataclasses.fields(RiskState)} - {"cooldowns"}
    columns = set(RiskStateRow.__table__.columns.keys()) - {"id"}
    assert fields == columns, f"missing columns {fields - columns}, extra columns {columns - fields}"
    optional = {f.name for f in dataclasses.fields(RiskState) if "None" in str(f.type)}
    assert optional == {c.name for c in RiskStateRow.__table__.columns if c.nullable}
