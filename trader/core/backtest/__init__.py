"""Backtest runner over candle arrays."""
