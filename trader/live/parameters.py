"""ParameterBook: the parameters /settings may change (risk section, strategy params), validated, persisted.

Keys are dotted: ``risk.<field>``, ``risk.trailing.<field>`` and ``<strategy>.<param>``. A value is
validated by the pydantic section (``RiskConfig``) or the strategy's ``Param`` spec; the book keeps the
changes as overrides (key -> text) in the store, so they survive restarts and are applied on top of
the configuration at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from pydantic import BaseModel, ValidationError

from trader.config.sections import RiskConfig, StrategyEntry, TrailingConfig
from trader.core.errors import InputError, StrategyError
from trader.core.strategies.base import Param
from trader.core.strategies.registry import StrategyRegistry
from trader.ports.store import OpsUnitOfWork

logger = logging.getLogger(__name__)



@dataclass(frozen=True, slots=True)
class ParamView:
    """One tunable parameter: its dotted key (``risk.risk_per_trade``, ``breakout.period``), value, doc."""

    key: str
    value: str
    default: str = ""
    bounds: str = ""  # human text, e.g. "0 < x <= 1"
    doc: str = ""


@dataclass(frozen=True, slots=True)
class SettingChange:
    """A validated change waiting for confirmation; ``new`` is already coerced and in bounds."""

    key: str
    old: str
    new: str


def _bounds(model: type[BaseModel], name: str) -> str:
    parts: list[str] = []
    for item in model.model_fields[name].metadata:
        if isinstance(item, Gt):
            parts.append(f"> {item.gt}")
        elif isinstance(item, Ge):
            parts.append(f">= {item.ge}")
        elif isinstance(item, Lt):
            parts.append(f"< {item.lt}")
        elif isinstance(item, Le):
            parts.append(f"<= {item.le}")
    return "x " + " and ".join(parts) if parts else ""


def param_bounds(spec: Param) -> str:
    """Return a strategy parameter's allowed values as text: '5 <= x <= 200', 'one of rsi, reentry'."""
    if spec.choices is not None:
        return "one of " + ", ".join(str(c) for c in spec.choices)
    low = "" if spec.low is None else f"{spec.low:g} <= "
    high = "" if spec.high is None else f" <= {spec.high:g}"
    return f"{low}x{high}" if low or high else ""


def _text(value: object) -> str:
    return "" if value is None else str(value)


class ParameterBook:
    """The current risk section and strategy entries, with the overrides applied."""

    def __init__(self, risk: RiskConfig, strategies: Sequence[StrategyEntry], registry: StrategyRegistry,
                 overrides: Mapping[str, str] | None = None) -> None:
        self._base_risk = risk
        self._base_strategies = tuple(strategies)
        self._registry = registry
        self._overrides: dict[str, str] = {}
        self.risk = risk
        self.strategies = self._base_strategies
        for key, value in (overrides or {}).items():
            try:
                self._set(key, value)
            except InputError as exc:  # the configuration changed since: the stored change no longer fits
                logger.warning("stored setting %s=%s ignored: %s", key, value, exc.user_message)

    @property
    def registry(self) -> StrategyRegistry:
        """Return the strategy registry the book validates against."""
        return self._registry

    def use_registry(self, registry: StrategyRegistry) -> None:
        """Validate against ``registry`` from now on (after plugins were discovered again)."""
        self._registry = registry

    @property
    def overrides(self) -> Mapping[str, str]:
        """Return the persisted changes (key -> value text)."""
        return dict(self._overrides)

    # ── reading ────────────────────────────────────────────────────────────────────────────
    def views(self) -> tuple[ParamView, ...]:
        """Return every tunable parameter with its value, default and bounds."""
        out = [self._risk_view(f"risk.{name}", RiskConfig, self.risk, self._base_risk, name)
               for name in self._risk_fields(RiskConfig)]
        out += [self._risk_view(f"risk.trailing.{name}", TrailingConfig, self.risk.trailing,
                                self._base_risk.trailing, name) for name in self._risk_fields(TrailingConfig)]
        for entry in self.strategies:
            for name, spec in self._spec(entry.name).items():
                value = entry.params.get(name, spec.default)
                out.append(ParamView(f"{entry.name}.{name}", _text(value), _text(spec.default),
                                     param_bounds(spec), spec.doc))
        return tuple(out)

    @staticmethod
    def _risk_fields(model: type[BaseModel]) -> list[str]:
        return [name for name in model.model_fields if name != "trailing"]

    @staticmethod
    def _risk_view(key: str, model: type[BaseModel], current: BaseModel, base: BaseModel,
                   name: str) -> ParamView:
        configured = _text(getattr(base, name))  # the configuration's value is what a reset returns to
        return ParamView(key, _text(getattr(current, name)), configured, _bounds(model, name),
                         model.model_fields[name].description or "")

    def _spec(self, strategy: str) -> Mapping[str, Param]:
        try:
            return self._registry.get(strategy).params_spec
        except StrategyError:
            return {}

    def value(self, key: str) -> str:
        """Return the current value of ``key`` as text; InputError for an unknown key."""
        for view in self.views():
            if view.key == key:
                return view.value
        head = key.partition(".")[0]
        if head in self._registry.names() and head not in {e.name for e in self.strategies}:
            raise InputError(f"strategy {head} is not enabled",
                             user_message=f"Strategy {head} is not enabled; enable it in the configuration "
                                          "(strategies) to tune it.")
        raise InputError(f"unknown setting {key}", user_message=f"Unknown setting {key}; see /settings.")

    def entry(self, name: str) -> StrategyEntry:
        """Return the enabled strategy ``name``; InputError if it is not enabled."""
        for entry in self.strategies:
            if entry.name == name:
                return entry
        raise InputError(f"strategy {name} is not enabled", user_message=f"Strategy {name} is not enabled.")

    # ── changing ───────────────────────────────────────────────────────────────────────────
    def preview(self, key: str, value: str) -> SettingChange:
        """Validate ``value`` for ``key`` without changing anything; InputError names the problem."""
        old = self.value(key)
        risk, strategies = self._validated(key, value.strip())
        probe = ParameterBook(risk, strategies, self._registry)
        return SettingChange(key, old, probe.value(key))

    def apply(self, change: SettingChange) -> None:
        """Apply a previewed change (validated again) and remember it as an override."""
        self._set(change.key, change.new)

    def _set(self, key: str, value: str) -> None:
        self.risk, self.strategies = self._validated(key, value)
        self._overrides[key] = value

    def _validated(self, key: str, value: str) -> tuple[RiskConfig, tuple[StrategyEntry, ...]]:
        head, _, rest = key.partition(".")
        if head == "risk" and rest:
            return self._risk_with(rest, value), self.strategies
        entry = self.entry(head) if rest else None
        spec = self._spec(head).get(rest) if entry is not None else None
        if entry is None or spec is None:
            raise InputError(f"unknown setting {key}", user_message=f"Unknown setting {key}; see /settings.")
        try:
            coerced = spec.validate(rest, value)
        except StrategyError as exc:
            raise InputError(str(exc), user_message=f"{key}: {exc}; allowed: {param_bounds(spec)}") from None
        params = {**entry.params, rest: coerced}
        updated = tuple(e.model_copy(update={"params": params}) if e.name == head else e
                        for e in self.strategies)
        return self.risk, updated

    def _risk_with(self, field: str, value: str) -> RiskConfig:
        data: dict[str, Any] = self.risk.model_dump()
        section, name = (data["trailing"], field.removeprefix("trailing.")) if field.startswith("trailing.") \
            else (data, field)
        model = TrailingConfig if section is not data else RiskConfig
        if name not in self._risk_fields(model):
            raise InputError(f"unknown setting risk.{field}",
                             user_message=f"Unknown setting risk.{field}; see /settings.")
        section[name] = None if value.lower() in ("none", "off") and name == "breakeven_at" else value
        try:
            return RiskConfig.model_validate(data)
        except ValidationError as exc:
            why = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
            bounds = _bounds(model, name)
            hint = f" (allowed: {bounds})" if bounds else ""
            raise InputError(f"risk.{field}={value!r}: {why}",
                             user_message=f"risk.{field}: {why}{hint}") from None

    # ── persistence ────────────────────────────────────────────────────────────────────────
    async def save(self, uow: OpsUnitOfWork, now: datetime) -> None:
        """Write the overrides inside the caller's transaction."""
        await uow.settings.save_overrides(self._overrides, now)


async def stored_overrides(uow: OpsUnitOfWork) -> dict[str, str]:
    """Return the persisted overrides (empty before the first change)."""
    return await uow.settings.overrides()


def enabled_names(entries: Iterable[StrategyEntry]) -> list[str]:
    """Return the names of the enabled strategies, in configuration order."""
    return [e.name for e in entries]
