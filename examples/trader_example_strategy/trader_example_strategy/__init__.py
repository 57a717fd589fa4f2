"""Example tradebot strategy plugin: install it and the registry finds ``sma_cross``."""

from trader_example_strategy.sma_cross import SmaCrossStrategy

__all__ = ["SmaCrossStrategy"]
